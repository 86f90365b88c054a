"""The hostile corpus (tests/mail/corpus.py) through the real path: the letter form over Flask's test client, the
emailed confirmation link, a running `testimony worker` process, and aiosmtpd on loopback.

Every entry is refused at the form with a message naming the field, or delivered: its confirmation to the
supporter and its letter to the legislator parse back with the name (cleaned as documented) and the address.
The worker never dies and nothing stays "sending".
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
import unicodedata
from html import unescape
from pathlib import Path

import pytest
from email_validator import validate_email
from sqlalchemy import func, select

from archive.db.models import OutboxMessage
from tests.factories.campaigns import add_campaign_site
from tests.factories.corpus import corpus
from tests.factories.mail import ARCHIVE_ADDRESS
from tests.factories.mail_server import MailServer

TESTIMONY = str(Path(sys.executable).with_name("testimony"))
PAGE = "/campaigns/safe-streets"
LEGISLATOR = "jkrowinski@leg.state.vt.us"
ERROR = re.compile(r'<p class="error" role="alert" id="letter-error">(.*?)</p>', re.S)
INPUT = re.compile(r'<input[^>]*? name="([^"]+)"[^>]*? value="([^"]*)"')


def documented_cleaning(name: str) -> str:
    """The cleaning the letter form documents, written out again here: NFC; control, format, surrogate and
    separator characters dropped, the white-space ones among them as a space; white-space runs one space."""
    text = "".join(
        (" " if c.isspace() else "") if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c
        for c in unicodedata.normalize("NFC", name)
    )
    return re.sub(r"\s{2,}", " ", text).strip()


def form_fields(html: str) -> dict[str, str]:
    form = html.split('<form class="letter"', 1)[1].split("</form>", 1)[0]
    fields = {name: unescape(value) for name, value in INPUT.findall(form)}
    fields["body"] = unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", form, re.S).group(1))  # type: ignore[union-attr]
    return fields


def outbox_waiting(sessions) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        waiting = OutboxMessage.status.in_(("pending", "sending"))
        return int(session.scalar(select(func.count(OutboxMessage.id)).where(waiting)) or 0)


def wait_until_delivered(sessions, worker: subprocess.Popen[bytes], log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 180
    while outbox_waiting(sessions):
        assert worker.poll() is None, f"the worker died:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, "the outbox was not delivered in 3 minutes"
        time.sleep(0.2)


@pytest.mark.parametrize("database_url", [""])  # SQLite: the headers, not the dialect, are under test here
def test_the_hostile_corpus_is_refused_at_the_form_or_delivered_as_written(  # type: ignore[no-untyped-def]
    settings, sessions, runner, tmp_path, app_for
) -> None:
    entries = corpus()
    assert len(entries) >= 200
    add_campaign_site(sessions, runner, tmp_path, target="list", recipients=[LEGISLATOR])
    site = dataclasses.replace(
        settings,
        min_fill_seconds=0,
        mail_from=ARCHIVE_ADDRESS,
        letters_per_address_hour=10_000,
        letters_per_email_day=10_000,
    )
    client = app_for(site).test_client()
    log = tmp_path / "worker.log"
    with MailServer() as server:
        env = {
            **os.environ,
            "TESTIMONY_HOME": str(settings.home),
            "TESTIMONY_DATABASE_URL": settings.database_url,
            "TESTIMONY_MAIL_FROM": ARCHIVE_ADDRESS,
            "TESTIMONY_SMTP_HOST": server.host,
            "TESTIMONY_SMTP_PORT": str(server.port),
        }
        with log.open("ab") as out:
            worker = subprocess.Popen([TESTIMONY, "worker", "--poll", "0.2"], env=env, stdout=out, stderr=out)
        try:
            # 1. The form: refused with the field named, or a letter and its confirmation email.
            refused: dict[int, str] = {}
            accepted: dict[int, tuple[str, str]] = {}  # entry → (name, address as it goes on the wire)
            for number, (name, email) in enumerate(entries):
                form = form_fields(client.get(PAGE).get_data(as_text=True))
                form.update(name=name, email=email, town="Burlington")
                response = client.post(PAGE + "/letters", data=form)
                if response.status_code == 303:
                    wire = validate_email(email.strip(), check_deliverability=False).ascii_email
                    assert wire is not None, f"{email!r} needs SMTPUTF8: the form should have refused it"
                    accepted[number] = (documented_cleaning(name), wire.lower())
                else:
                    html = response.get_data(as_text=True)
                    assert response.status_code == 400, (name, email, html[:500])
                    message = unescape(ERROR.search(html).group(1))  # type: ignore[union-attr]
                    assert message.startswith(("Your name: ", "Your email: ")), message
                    refused[number] = message
            assert len({address for _, address in accepted.values()}) == len(accepted)  # one mailbox each
            wait_until_delivered(sessions, worker, log)

            # 2. Each confirmation arrived at its address with its name; its link sends the letter.
            confirmations = {r.rcpt_tos: r.message for r in server.received}
            assert len(confirmations) == len(server.received) == len(accepted)
            for number, (name, address) in accepted.items():
                mail = confirmations[(address,)]
                (to,) = mail["To"].addresses
                assert (to.display_name, to.addr_spec) == (name, address), entries[number]
                link = re.search(r"http://localhost(/campaigns/\S+/confirm/\S+)", mail.get_content()).group(1)  # type: ignore[union-attr]
                token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(link).get_data(as_text=True))
                assert client.post(link, data={"csrf_token": token.group(1)}).status_code == 303  # type: ignore[union-attr]
            wait_until_delivered(sessions, worker, log)

            # 3. Each letter reached the legislator from the archive, in the supporter's name, replies to them.
            letters = {
                r.message["Reply-To"].addresses[0].addr_spec: r.message
                for r in server.received
                if r.rcpt_tos == (LEGISLATOR,)
            }
            assert len(letters) == len(accepted)
            for number, (name, address) in accepted.items():
                (sender,) = letters[address]["From"].addresses
                assert (sender.display_name, sender.addr_spec) == (name, ARCHIVE_ADDRESS), entries[number]
            assert all(r.accepted for r in server.received)
            assert worker.poll() is None, "the worker died"
        finally:
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(30)
    assert code == 0, log.read_text()[-3000:]
    with sessions() as session:
        grouped = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        statuses = {status: count for status, count in grouped}
    assert statuses == {"sent": 2 * len(accepted)}  # nothing failed, nothing left "sending"
    print(f"corpus {len(entries)}: refused at the form {len(refused)}, delivered {len(accepted)}, failed 0")
    # The two findings of the review, by name: the vertical tab is a space; a non-ASCII local part is refused.
    mallory = next(n for n, (name, _) in enumerate(entries) if name == "Mallory\x0bBcc: x")
    assert accepted[mallory][0] == "Mallory Bcc: x"
    refusals = [message for number, message in refused.items() if entries[number][1].startswith("josé")]
    assert refusals and refusals[0].startswith("Your email: the part before the @ has letters (é)")
