"""Campaigns for their organizers: /admin/campaigns (create, edit, open, close, supporters, CSV export)."""

from __future__ import annotations

from flask import Blueprint

admin_campaigns = Blueprint("admin_campaigns", __name__)
