"""The schema: migrations on SQLite and PostgreSQL, SQLite's safety settings, relations."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select, text

from archive.config import Settings
from archive.db import version
from archive.db.models import Body, Meeting, Person, Recording, Segment, Speaker, TranscriptionRun
from archive.db.session import make_engine, migrate
from archive.home import init_home

TABLES = {"bodies", "meetings", "recordings", "transcription_runs", "segments", "speakers", "alembic_version"}


def test_init_creates_every_table_and_is_repeatable(settings: Settings) -> None:
    init_home(settings).kw["bind"].dispose()
    init_home(settings).kw["bind"].dispose()  # a second run changes nothing and does not fail
    engine = make_engine(settings.sqlalchemy_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()
    for folder in ("media", "transcripts", "search_index"):
        assert (settings.home / folder).is_dir()


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(home) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=home)
    init_home(settings).kw["bind"].dispose()
    engine = make_engine(settings.sqlalchemy_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    engine.dispose()


def test_rows_round_trip_with_words_as_json(sessions) -> None:  # type: ignore[no-untyped-def]
    words = [{"word": "You're", "start": 3721.4, "end": 3721.7, "probability": 0.93}]
    with sessions() as session, session.begin():
        meeting = Meeting(slug="m", body=Body(name="Council", slug="council"), title="T", date=dt.date(2024, 2, 7))
        recording = Recording(
            meeting=meeting,
            sha256="a" * 64,
            suffix=".wav",
            original_name="x.wav",
            size=1,
            container="wav",
            duration=3800.0,
            streams=[{"index": 0, "type": "audio", "codec": "pcm_s16le"}],
        )
        run = TranscriptionRun(
            recording=recording,
            engine="whisper",
            model="tiny.en",
            engine_version="1",
            parameters={"beam_size": 5},
            transcript_file="f.json",
            transcript_sha256="b" * 64,
        )
        speaker = Speaker(meeting=meeting, label="SPEAKER_01", person=Person(name="Deputy", role="member"))
        session.add_all([meeting, recording, run, speaker])
        session.flush()
        session.add(
            Segment(
                meeting_id=meeting.id,
                recording_id=recording.id,
                run_id=run.id,
                speaker_id=speaker.id,
                start=3721.4,
                end=3726.0,
                text="You're here illegally",
                words=words,
                language="en",
                kind="remark",
                tags=["hot-mic"],
            )
        )
    with sessions() as session:
        segment = session.scalars(select(Segment)).one()
        assert segment.words == words
        assert segment.tags == ["hot-mic"]
        assert segment.speaker.name == "Deputy"
        assert segment.meeting.body.name == "Council"
        assert segment.meeting.duration == 3800.0


def test_foreign_keys_are_enforced(sessions) -> None:  # type: ignore[no-untyped-def]
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), sessions() as session, session.begin():
        session.add(Speaker(meeting_id=12345, label="SPEAKER_00"))


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from archive.db.session import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_migrate_on_an_existing_schema_is_a_no_op(sessions) -> None:  # type: ignore[no-untyped-def]
    engine = sessions.kw["bind"]
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()


def test_the_migrations_build_exactly_the_models_schema(sessions) -> None:  # type: ignore[no-untyped-def]
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from archive.db.models import Base
    from archive.db.session import include_object

    with sessions.kw["bind"].connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        assert compare_metadata(context, Base.metadata) == []


def test_migration_0003_moves_speaker_names_to_people(settings: Settings) -> None:
    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine, "0002")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO bodies (id, name, slug) VALUES (1, 'Council', 'council')"))
        connection.execute(
            text(
                "INSERT INTO meetings (id, slug, body_id, title, date, created_at)"
                " VALUES (1, 'm', 1, 'T', '2024-02-07', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO speakers (meeting_id, label, name, role) VALUES"
                " (1, 'SPEAKER_00', 'Rosa', 'public commenter'), (1, 'SPEAKER_01', NULL, NULL)"
            )
        )
        # A segment that refers to a speaker: rebuilding `speakers` must keep it (and its reference).
        connection.execute(
            text(
                'INSERT INTO recordings (id, sha256, meeting_id, position, "offset", suffix, original_name, size,'
                " container, duration, has_video, streams, created_at) VALUES (1, :sha, 1, 0, 0, '.wav', 'x.wav',"
                " 1, 'wav', 10, false, '[]', CURRENT_TIMESTAMP)"
            ),
            {"sha": "a" * 64},
        )
        connection.execute(
            text(
                "INSERT INTO transcription_runs (id, recording_id, engine, model, engine_version, parameters,"
                " transcript_file, transcript_sha256, created_at)"
                " VALUES (1, 1, 'whisper', 'tiny.en', '1', '{}', 'f.json', 'b', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                'INSERT INTO segments (meeting_id, recording_id, run_id, speaker_id, start, "end", text, words,'
                " tags, created_at) SELECT 1, 1, 1, id, 0, 1, 'hello', '[]', '[]', CURRENT_TIMESTAMP"
                " FROM speakers WHERE label = 'SPEAKER_00'"
            )
        )
    migrate(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT s.label, p.name, p.role, s.attribution FROM speakers AS s"
                " LEFT JOIN people AS p ON p.id = s.person_id ORDER BY s.label"
            )
        ).all()
        history = connection.execute(text("SELECT method, made_by FROM attributions")).all()
        segment_speaker = connection.execute(
            text("SELECT s.label FROM segments JOIN speakers AS s ON s.id = segments.speaker_id")
        ).scalar_one()
    engine.dispose()
    assert segment_speaker == "SPEAKER_00"
    assert [tuple(row) for row in rows] == [
        ("SPEAKER_00", "Rosa", "public commenter", "curator"),
        ("SPEAKER_01", None, None, None),
    ]
    assert [tuple(row) for row in history] == [("curator", "migration 0003")]


def test_migration_0004_adds_and_removes_the_review_columns(settings: Settings) -> None:
    """Downgrading 0004 drops the meeting's review and keeps the meeting; upgrading again restores the columns."""
    from alembic import command
    from alembic.config import Config

    from archive.db.session import MIGRATIONS

    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO bodies (id, name, slug) VALUES (1, 'Council', 'council')"))
        connection.execute(
            text(
                "INSERT INTO meetings (id, slug, body_id, title, date, created_at, reviewed_at, reviewed_by)"
                " VALUES (1, 'm', 1, 'T', '2024-02-07', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'Ana')"
            )
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":  # as migrate() does: a table rebuild with foreign keys off
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
    columns = {column["name"] for column in inspect(engine).get_columns("meetings")}
    assert {"reviewed_at", "reviewed_by"}.isdisjoint(columns) and "excerpts" not in inspect(engine).get_table_names()
    migrate(engine)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT slug, reviewed_at, reviewed_by FROM meetings")).one()
    engine.dispose()
    assert tuple(row) == ("m", None, None)


def test_migration_0005_adds_and_removes_the_legislator_directory(settings: Settings) -> None:
    from alembic import command
    from alembic.config import Config

    from archive.db.session import MIGRATIONS

    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine)
    assert {"legislators", "district_towns"} <= set(inspect(engine).get_table_names())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert {"legislators", "district_towns"}.isdisjoint(inspect(engine).get_table_names())
    migrate(engine)
    assert {"legislators", "district_towns"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migration_0014_turns_automatic_voice_matches_into_suggestions(settings: Settings) -> None:
    """An attribution a machine made (similarity 0.81) becomes the curators' suggestion; people's stay; the
    database then refuses a "voice-match" attribution."""
    from sqlalchemy.exc import IntegrityError

    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine, "0011")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO bodies (id, name, slug) VALUES (1, 'Council', 'council')"))
        connection.execute(
            text(
                "INSERT INTO meetings (id, slug, body_id, title, date, created_at)"
                " VALUES (1, 'm', 1, 'T', '2024-02-07', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO people (id, name, role, consent, created_at) VALUES"
                " (1, 'Walter', 'Council chair', 'public', CURRENT_TIMESTAMP),"
                " (2, 'Rosa', 'public commenter', 'public', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO speakers (id, meeting_id, label, person_id, attribution, attribution_score, consent,"
                " speech_seconds, turns) VALUES"
                " (1, 1, 'SPEAKER_00', 1, 'voice-match', 0.81, 'public', 0, '[]'),"
                " (2, 1, 'SPEAKER_01', 2, 'self-identified', NULL, 'public', 0, '[]')"
            )
        )
    migrate(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT label, person_id, attribution, suggested_person_id, suggestion_score FROM speakers"
                " ORDER BY label"
            )
        ).all()
        history = connection.execute(text("SELECT speaker_id, method, score, made_by FROM attributions")).all()
    assert [tuple(row) for row in rows] == [
        ("SPEAKER_00", None, None, 1, 0.81),
        ("SPEAKER_01", 2, "self-identified", None, None),
    ]
    assert [tuple(row) for row in history] == [(1, "withdrawn", 0.81, "migration 0014")]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("UPDATE speakers SET person_id = 1, attribution = 'voice-match' WHERE id = 1"))
    engine.dispose()


def test_migration_0012_keys_runs_by_their_languages_and_goes_back(settings: Settings) -> None:
    """A run made before 0012 is a run for its one language; downgrading drops the new columns and table."""
    from alembic import command
    from alembic.config import Config

    from archive.db.session import MIGRATIONS

    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine, "0011")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO bodies (id, name, slug) VALUES (1, 'Council', 'council')"))
        connection.execute(
            text(
                "INSERT INTO meetings (id, slug, body_id, title, date, created_at)"
                " VALUES (1, 'm', 1, 'T', '2024-02-07', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                'INSERT INTO recordings (id, sha256, meeting_id, position, "offset", suffix, original_name, size,'
                " container, duration, has_video, streams, created_at) VALUES (1, 'ab', 1, 0, 0, '.wav', 'a.wav', 1,"
                " 'wav', 1.0, false, '[]', CURRENT_TIMESTAMP)"
            )
        )
        for run, (model, language) in enumerate([("tiny.en", None), ("base", "es")], start=1):
            connection.execute(
                text(
                    "INSERT INTO transcription_runs (id, recording_id, engine, model, engine_version, parameters,"
                    " transcript_file, transcript_sha256, language, created_at)"
                    " VALUES (:id, 1, 'whisper', :model, '1', '{}', 'f.json', 'cd', :language, CURRENT_TIMESTAMP)"
                ),
                {"id": run, "model": model, "language": language},
            )
    migrate(engine)
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT model, languages, gaps FROM transcription_runs ORDER BY id")).all()
        assert [(m, lang) for m, lang, _ in rows] == [("tiny.en", "en"), ("base", "es")]
        # The same engine and model for other languages is another run.
        connection.execute(
            text(
                "INSERT INTO transcription_runs (id, recording_id, engine, model, engine_version, parameters,"
                " transcript_file, transcript_sha256, languages, gaps, created_at)"
                " VALUES (3, 1, 'whisper', 'base', '1', '{}', 'g.json', 'ef', 'en,es', '[]', CURRENT_TIMESTAMP)"
            )
        )
    assert "interpretations" in inspect(engine).get_table_names()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()
        connection.info[version.PAUSED] = True
        with connection.begin():
            connection.execute(text("DELETE FROM transcription_runs WHERE id = 3"))
            config.attributes["connection"] = connection
            command.downgrade(config, "0011")
    assert "interpretations" not in inspect(engine).get_table_names()
    assert "languages" not in {c["name"] for c in inspect(engine).get_columns("transcription_runs")}
    migrate(engine)
    engine.dispose()
