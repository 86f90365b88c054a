"""Can the archive send mail now? A sending address and an SMTP server that takes a test connection.

Asked before a campaign opens (a campaign whose confirmations cannot go out would take letters that never
leave) and by the admin's banner. The answer is a sentence saying what is wrong and how to fix it, or None.
"""

from __future__ import annotations

import smtplib
import threading
import time

from archive.config import Settings
from archive.mail.delivery import connect, describe

PROBE_TIMEOUT = 5  # seconds: an admin page waits at most this for a server that does not answer
CACHE_SECONDS = 60.0  # the banner asks at most this often per process and settings
_cache: dict[tuple[object, ...], tuple[float, str | None]] = {}
_lock = threading.Lock()


def mail_problem(settings: Settings) -> str | None:
    """Why mail cannot be sent as configured, and how to fix it; None when the server took a test connection."""
    if not settings.mail_from:
        return (
            "Mail cannot be sent: no sending address is configured. Set TESTIMONY_MAIL_FROM=letters@your.domain"
            " (and TESTIMONY_SMTP_HOST, _PORT, _TLS, _USERNAME, _PASSWORD), restart the site and run"
            " `testimony worker`."
        )
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        smtp = connect(settings, timeout=min(settings.smtp_timeout, PROBE_TIMEOUT))
    except (OSError, smtplib.SMTPException) as error:
        return (
            f"Mail cannot be sent: the SMTP server {where} refused a test connection ({describe(error)})."
            " Start it, or correct TESTIMONY_SMTP_HOST, _PORT, _TLS, _USERNAME and _PASSWORD."
        )
    try:
        smtp.noop()
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
    return None


def cached_mail_problem(settings: Settings, now: float | None = None) -> str | None:
    """mail_problem, asked at most once a minute (the admin's banner is on every page)."""
    key = (settings.mail_from, settings.smtp_host, settings.smtp_port, settings.smtp_tls, settings.smtp_username)
    now = time.monotonic() if now is None else now
    with _lock:
        found = _cache.get(key)
        if found is not None and now - found[0] < CACHE_SECONDS:
            return found[1]
    problem = mail_problem(settings)
    with _lock:
        _cache[key] = (now, problem)
    return problem


def forget() -> None:
    """Ask again next time (after the settings were fixed, or when a campaign is about to open)."""
    with _lock:
        _cache.clear()
