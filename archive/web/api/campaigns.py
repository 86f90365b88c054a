"""Campaigns in the API: GET /api/campaigns (the open ones) and GET /api/campaigns/<slug>, public fields only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, url_for
from flask.typing import ResponseReturnValue

from archive.campaigns.manage import is_open, open_campaigns, public_campaign, public_counts
from archive.db.models import Campaign
from archive.privacy.view import campaign_phrases, redact_phrases
from archive.web.context import absolute_url, db

campaigns_api = Blueprint("campaigns_api", __name__, url_prefix="/api")


def _counts(campaign: Campaign) -> dict[str, int]:
    counts = public_counts(db(), campaign)
    # letters_sent: the emails delivered to legislators (one per legislator a supporter wrote to), as before.
    return {
        "supporters": counts["supporters"],
        "letters_confirmed": counts["letters"],
        "emails_to_legislators": counts["emails"],
        "letters_sent": counts["delivered"],
    }


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    """Public fields only: never a supporter, never the organizers; texts as published (archive.privacy.view)."""
    phrases = campaign_phrases(db(), campaign.id)
    return {
        "slug": campaign.slug,
        "title": redact_phrases(campaign.title, phrases),
        "why": redact_phrases(campaign.why, phrases) if campaign.why else campaign.why,
        "target": campaign.target,
        "deadline": campaign.deadline.isoformat() if campaign.deadline else None,
        "open": is_open(campaign),
        **_counts(campaign),
        "url": absolute_url(url_for("campaigns.campaign", slug=campaign.slug)),
        "excerpts": [
            {
                "slug": row.excerpt.slug,
                "title": redact_phrases(row.excerpt.title, phrases),
                "url": absolute_url(f"/excerpts/{row.excerpt.slug}"),
            }
            for row in campaign.excerpts
        ],
    }


@campaigns_api.get("/campaigns")
def api_index() -> ResponseReturnValue:
    return jsonify(campaigns=[campaign_json(found) for found in open_campaigns(db())])


@campaigns_api.get("/campaigns/<slug>")
def api_campaign(slug: str) -> ResponseReturnValue:
    return jsonify(campaign_json(public_campaign(db(), slug)))
