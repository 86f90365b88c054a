"""Testimony Archive: public-meeting testimony, transcribed, searchable and citable."""

__version__ = "0.1.0"
