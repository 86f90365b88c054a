"""The API against its own OpenAPI description: schemathesis sends what the description allows (and what it does
not), and every answer must be one the description names, with a body that matches its schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from sqlalchemy import func, select

from archive.db.models import Job
from tests.factories.accounts import csrf_token, sign_in
from tests.factories.campaigns import add_campaign_site


def calls(credentials: tuple[dict[str, str], dict[str, str]] | None):  # type: ignore[no-untyped-def]
    """The test body for one operation: each case sent (with a session's cookie and headers, when given) and
    checked by every check schemathesis has."""

    @settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    def run(case) -> None:  # type: ignore[no-untyped-def]
        if credentials is None:
            case.call_and_validate()
            return
        cookies, headers = credentials  # every described upload is taken; without them, a 401 (schemathesis checks)
        case.cookies = {**(case.cookies or {}), **cookies}
        case.call_and_validate(headers=headers)

    return run


@pytest.mark.parametrize("database_url", [""])  # SQLite: the contract, not the dialect, is under test
def test_every_api_operation_keeps_to_the_openapi_description(sessions, runner, tmp_path, app) -> None:  # type: ignore[no-untyped-def]
    add_campaign_site(sessions, runner, tmp_path)
    # An address over the length limit is refused with 414 (documented), which schemathesis does not count among the
    # statuses that refuse bad input unless told.
    rejections = [400, 401, 403, 404, 405, 406, 409, 414, 415, 422, 428, 429, "5XX"]
    config = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": rejections}}})
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
    # POST /api/meetings is a curator's, as the upload form: a signed-in session and its CSRF token.
    curator = app.test_client()
    sign_in(curator, sessions, "curator")
    token = csrf_token(curator, "/admin/upload")  # first: it puts the CSRF secret in the session's cookie
    signed_in = {"session": curator.get_cookie("session").value}, {"X-CSRFToken": token}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        uploads = (operation.method.upper(), operation.path) == ("POST", "/api/meetings")
        if operation.method.upper() == "POST" and not uploads:
            continue  # needs the editor token: POST /api/excerpts has its own tests

        for mode in ("positive", "negative"):
            # Uploads' negative cases go without credentials (schemathesis removes them as one of its mutations:
            # added back, a valid upload would count as a forged one accepted); their refusals of bad fields, with
            # credentials, are tests/web/api/test_upload.py's.
            credentials = signed_in if uploads and mode == "positive" else None
            test = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))
            try:
                given(test)(calls(credentials))()
            except Unsatisfiable:  # nothing to send that breaks the description (no parameters, or only a path)
                assert mode == "negative", f"{operation.method.upper()} {operation.path}: no valid request"
            except (
                Exception,
                BaseExceptionGroup,
            ) as error:  # every operation is tried; the failures are reported together
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {str(error)[:600]}")
    assert not failures, "\n\n".join(failures)
    with sessions() as session:  # the described uploads were taken, each queued as the upload form's
        assert session.scalar(select(func.count(Job.id)).where(Job.created_by == "curator@example.org"))
