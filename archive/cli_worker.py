"""`testimony worker`: runs background work (letter delivery from the outbox)."""

from __future__ import annotations
