"""Public documents: a meeting and its excerpts as JSON (documents.py), captions and other formats (formats.py),
the bulk download (bulk.py) and Atom feeds (atom.py). Everything here reads the public view (archive.privacy)."""
