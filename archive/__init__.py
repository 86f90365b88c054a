"""Testimony Archive: public-meeting testimony, transcribed, searchable and citable."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.7.0"

# PyTorch's oneDNN keeps compiled kernels for up to 1,024 input shapes. A speaker embedding's input has a new length
# for nearly every stretch of speech, so on a dense meeting that cache alone took diarization hundreds of MiB higher
# (8 minutes: +462 MiB against +205 with 64; docs/operations/limits.md, Memory), at no measurable gain in speed.
# oneDNN reads this when it first runs: set when the package is imported, before anything runs a network.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")


def create_app(settings: Any = None, pages_folder: Any = None) -> Flask:
    """The web application for one archive home (settings from TESTIMONY_* unless given); pages_folder: kept
    pages shared with other processes (archive.web.page_cache)."""
    from archive.web.app import build_app

    return build_app(settings, pages_folder)
