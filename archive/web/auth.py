"""Signing in and out, accounts and the audit log on the site (archive.accounts behind it)."""

from __future__ import annotations

from flask import Blueprint

auth = Blueprint("auth", __name__)
