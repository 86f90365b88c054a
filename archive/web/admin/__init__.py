"""The signed-in side: accounts and sign-in, curation, voices and people, privacy, campaigns, uploads."""
