"""Testimony Archive: public-meeting testimony, transcribed, searchable and citable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.7.0"


def create_app(settings: Any = None, pages_folder: Any = None) -> Flask:
    """The web application for one archive home (settings from TESTIMONY_* unless given); pages_folder: kept
    pages shared with other processes (archive.web.page_cache)."""
    from archive.web.app import build_app

    return build_app(settings, pages_folder)
