"""Running an archive: its integrity check (check.py)."""
