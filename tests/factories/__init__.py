"""Factories and helpers of the tests, in one place: meetings, accounts, campaigns, mail, media, voices, search
archives, databases and the browser. Test modules import these, never one another."""
