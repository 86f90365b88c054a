"""Consent and redaction: the append-only ledger (ledger.py), the public view of a meeting (view.py), the public
audio (audio.py) and purges (purge.py)."""
