"""`testimony campaign …` through click's runner against the test's home; both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from archive.campaigns.manage import find_campaign, supporters
from archive.cli.main import main
from archive.db.models import AuditEvent
from tests.factories.campaigns import HOUSE, add_directory, add_excerpts, add_letter, add_user
from tests.factories.mail import ARCHIVE_ADDRESS
from tests.factories.mail_server import free_port


@pytest.fixture
def runner(runner, smtp_server):  # type: ignore[no-untyped-def]
    """The CLI with mail that can be sent (a campaign opens only then): a real SMTP server on loopback."""
    runner.env.update(
        TESTIMONY_MAIL_FROM=ARCHIVE_ADDRESS,
        TESTIMONY_SMTP_HOST=smtp_server.host,
        TESTIMONY_SMTP_PORT=str(smtp_server.port),
    )
    return runner


@pytest.fixture
def excerpts(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    add_directory(sessions)
    return add_excerpts(sessions)


def run(runner, *args: str, code: int = 0):  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["campaign", *args])
    assert result.exit_code == code, result.output
    return result


def error(runner, *args: str) -> str:  # type: ignore[no-untyped-def]
    """The one line a refused command writes to stderr."""
    result = run(runner, *args, code=1)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("testimony: error: ")
    return result.stderr.strip()


def audit(sessions) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(event.action, event.actor, event.target) for event in events]


def test_create_prints_the_slug_and_open_close_show_list_follow(runner, sessions, excerpts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    template = tmp_path / "letter.txt"
    template.write_text("Please listen: {quote} ({excerpt_link}). {supporter_name}, {town}", encoding="utf-8")
    result = run(
        runner,
        "create",
        "--title",
        "Stop the stops",
        "--target",
        "house",
        "--excerpt",
        excerpts[0],
        "--excerpt",
        excerpts[1],
        "--why",
        "A deputy said it on a hot mic.",
        "--subject",
        "Please act on the stops",
        "--template-file",
        str(template),
        "--deadline",
        (dt.date.today() + dt.timedelta(days=30)).isoformat(),
    )
    assert result.stdout.strip().splitlines()[-1] == "stop-the-stops"
    with sessions() as session:
        made = find_campaign(session, "stop-the-stops")
        assert (made.status, made.target, made.subject, made.created_by) == (
            "draft",
            "house",
            "Please act on the stops",
            "cli",
        )
        assert made.letter_template == template.read_text(encoding="utf-8")
        assert [row.excerpt.slug for row in made.excerpts] == excerpts

    assert run(runner, "open", "stop-the-stops").stdout.strip() == "stop-the-stops: open"
    with sessions() as session, session.begin():
        add_letter(session, find_campaign(session, "stop-the-stops").id, "Ana", "ana@example.org", sent=2)
    shown = run(runner, "show", "stop-the-stops").stdout
    assert "status: open" in shown
    assert "letters: 1 written, 0 unconfirmed, 1 confirmed, 0 expired" in shown
    assert "emails to legislators: 2 sent, 0 pending, 0 failed" in shown
    assert "ana@example.org" not in shown  # supporters' data is not printed
    listed = run(runner, "list").stdout
    assert "stop-the-stops  open    house   1 letters, 2 sent  Stop the stops" in listed

    closed = run(runner, "close", "stop-the-stops").stdout
    assert closed.startswith("stop-the-stops: closed; supporters' data is deleted after ")
    assert [a for a, _, _ in audit(sessions)] == ["campaign-create", "campaign-open", "campaign-close"]
    assert {actor for _, actor, _ in audit(sessions)} == {"cli"}


def test_create_with_open_makes_nothing_when_it_cannot_open(runner, sessions) -> None:  # type: ignore[no-untyped-def]
    message = error(runner, "create", "--title", "Too soon", "--open")
    assert message == "testimony: error: campaign 'too-soon' cites no excerpt: add at least one before opening it"
    assert run(runner, "list").stderr.startswith("no campaigns yet")
    excerpt = add_excerpts(sessions)[0]
    add_directory(sessions)
    result = run(runner, "create", "--title", "Now", "--excerpt", excerpt, "--open")
    assert result.stdout.strip() == "now"
    assert "'now' made (open)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--title", "x" * 201], "title: 201 characters; the most is 200"),
        (["--title", "T", "--excerpt", "nosuch"], "excerpt: no excerpt 'nosuch'"),
        (["--title", "T", "--deadline", "next week"], "deadline 'next week' is not a date in the form YYYY-MM-DD"),
        (["--title", "T", "--target", "list"], "recipients: a campaign with target 'list' needs at least one"),
        (
            ["--title", "T", "--target", "list", "--recipient", "nobody@example.org"],
            "recipients: nobody@example.org is not the email of a legislator in the directory",
        ),
    ],
)
def test_create_refuses_bad_arguments_in_one_line(runner, sessions, excerpts, args, message) -> None:  # type: ignore[no-untyped-def]
    assert message in error(runner, "create", *args)
    assert run(runner, "list").stdout == ""


def test_a_template_file_with_an_unknown_placeholder_or_bad_bytes_is_named(runner, sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "letter.txt"
    bad.write_text("Dear {rep},", encoding="utf-8")
    assert "letter_template: the letter uses {rep}" in error(
        runner, "create", "--title", "T", "--template-file", str(bad)
    )
    bad.write_bytes(b"\xff\xfe caf\xe9")
    assert error(runner, "create", "--title", "T", "--template-file", str(bad)) == (
        f"testimony: error: --template-file {bad}: not UTF-8 text"
    )
    missing = run(runner, "create", "--title", "T", "--template-file", str(tmp_path / "none.txt"), code=2)
    assert "--template-file" in missing.stderr


def test_a_target_list_campaign_from_the_command_line(runner, sessions, excerpts) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, "create", "--title", "Two reps", "--target", "list", "--recipient", HOUSE[1].upper())
    assert result.stdout.strip() == "two-reps"
    assert f"target: list ({HOUSE[1]})" in run(runner, "show", "two-reps").stdout


def test_unknown_campaigns_and_wrong_states_are_errors(runner, sessions, excerpts) -> None:  # type: ignore[no-untyped-def]
    assert error(runner, "show", "nosuch") == "testimony: error: no campaign 'nosuch'"
    assert error(runner, "open", "nosuch") == "testimony: error: no campaign 'nosuch'"
    run(runner, "create", "--title", "Once")
    run(runner, "close", "once")
    assert error(runner, "close", "once") == "testimony: error: campaign 'once' is already closed"


def test_organizers_are_added_and_removed_by_email(runner, sessions, excerpts) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        add_user(session, "ana@example.org", "organizer")
        add_user(session, "cu@example.org", "curator")
    run(runner, "create", "--title", "Ours")
    assert run(runner, "organizer", "add", "ours", "Ana@Example.org").stdout.strip() == (
        "ours: ana@example.org now organises it"
    )
    assert "already organised it" in run(runner, "organizer", "add", "ours", "ana@example.org").stdout
    assert "organizers: ana@example.org" in run(runner, "show", "ours").stdout
    assert "cu@example.org is a curator" in error(runner, "organizer", "add", "ours", "cu@example.org")
    assert "EMAIL: no account 'who@example.org'" in error(runner, "organizer", "add", "ours", "who@example.org")
    assert "no longer organises it" in run(runner, "organizer", "remove", "ours", "ana@example.org").stdout
    assert "organizers: -" in run(runner, "show", "ours").stdout
    actions = [(a, t) for a, _, t in audit(sessions)]
    assert actions == [("campaign-create", "ours"), ("organizer-add", "ours"), ("organizer-remove", "ours")]


def test_purge_deletes_supporters_of_campaigns_closed_long_ago(runner, sessions, excerpts) -> None:  # type: ignore[no-untyped-def]
    run(runner, "create", "--title", "Old", "--excerpt", excerpts[0], "--open")
    with sessions() as session, session.begin():
        add_letter(session, find_campaign(session, "old").id, "Ana Alvarez", "ana@example.org")
    run(runner, "close", "old")
    assert run(runner, "purge").stdout.strip() == "nothing to purge"  # closed today: kept for 90 days
    short = runner.invoke(main, ["campaign", "purge"], env={"TESTIMONY_SUPPORTER_RETENTION_DAYS": "0"})
    assert short.exit_code == 0, short.output
    assert short.stdout.strip() == "1 campaign(s) purged (closed more than 0 days ago)"
    with sessions() as session:
        letter = supporters(session, find_campaign(session, "old"))[0]
        assert (letter.supporter_name, letter.supporter_email, letter.status) == ("", "", "confirmed")
    assert "supporters' data deleted: " in run(runner, "show", "old").stdout


def test_the_worker_purges_supporters_once_the_retention_period_is_over(runner, sessions, excerpts) -> None:  # type: ignore[no-untyped-def]
    run(runner, "create", "--title", "Old", "--excerpt", excerpts[0], "--open")
    with sessions() as session, session.begin():
        add_letter(session, find_campaign(session, "old").id, "Ana Alvarez", "ana@example.org")
    run(runner, "close", "old")
    env = {"TESTIMONY_SUPPORTER_RETENTION_DAYS": "0", "TESTIMONY_MAIL_FROM": "letters@archive.example"}
    worked = runner.invoke(main, ["worker", "--once"], env=env)
    assert worked.exit_code == 0, worked.output
    with sessions() as session:
        campaign = find_campaign(session, "old")
        assert campaign.purged_at is not None
        assert supporters(session, campaign)[0].supporter_email == ""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_campaign_does_not_open_while_mail_cannot_be_sent(runner, sessions, excerpts, smtp_server) -> None:  # type: ignore[no-untyped-def]
    """Without a sending address, or with the SMTP server down, `open` says why and how to fix it, and the
    campaign stays a draft; with the server up it opens."""
    slug = run(runner, "create", "--title", "Mail first", "--excerpt", excerpts[0]).stdout.strip()
    runner.env["TESTIMONY_MAIL_FROM"] = ""
    message = error(runner, "open", slug)
    assert f"campaign '{slug}' cannot open: Mail cannot be sent: no sending address is configured." in message
    assert "TESTIMONY_MAIL_FROM=" in message
    runner.env["TESTIMONY_MAIL_FROM"] = ARCHIVE_ADDRESS
    runner.env["TESTIMONY_SMTP_PORT"] = str(free_port())  # nothing listens there: the server is down
    message = error(runner, "open", slug)
    assert "refused a test connection (ConnectionRefusedError" in message and "TESTIMONY_SMTP_HOST" in message
    assert error(runner, "create", "--title", "Now", "--excerpt", excerpts[0], "--open").startswith(
        "testimony: error: campaign 'now' cannot open: Mail cannot be sent"
    )
    with sessions() as session:
        assert find_campaign(session, slug).status == "draft"
    runner.env["TESTIMONY_SMTP_PORT"] = str(smtp_server.port)
    assert run(runner, "open", slug).stdout.strip() == f"{slug}: open"
