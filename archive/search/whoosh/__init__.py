"""The Whoosh backend: an index on disk (backend.py), its query parser (query.py) and match evaluation (matches.py)."""
