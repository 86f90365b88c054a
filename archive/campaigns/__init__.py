"""Campaigns: letter-writing calls to action that carry excerpts to legislators (no HTTP here)."""
