"""The PostgreSQL backend: full-text search over the segments table (backend.py), queries as tsquery (tsquery.py)."""
