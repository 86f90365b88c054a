"""Campaigns for supporters: the campaign page, writing and confirming a letter, the thank-you page."""

from __future__ import annotations

from flask import Blueprint

campaigns = Blueprint("campaigns", __name__)
