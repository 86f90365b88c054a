"""Ingest: a recording stored, transcribed, diarized and saved as a meeting's segments (pipeline.py)."""
