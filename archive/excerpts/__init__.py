"""Excerpts: citable spans of meetings (manage.py), their citations (citations.py) and quote cards (cards.py)."""
