"""Times are float seconds everywhere; these turn them into h:mm:ss for people and back."""

from __future__ import annotations

import math
import re

from archive.errors import InvalidInput

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def format_clock(seconds: float) -> str:
    """3733.4 → '1:02:13' (whole seconds, as people cite them)."""
    whole = int(max(seconds, 0))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def parse_clock(text: str) -> float:
    """'1:02:13', '62:13', '3733' or '3733.4' → seconds."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        match = _CLOCK.match(text)
        if not match:
            raise InvalidInput(f"{text!r} is not a time (use seconds or h:mm:ss)") from None
        hours, minutes, seconds = match.groups()
        value = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{text!r} is not a time (use seconds or h:mm:ss)")
    return value
