"""The Whoosh index on disk: derived and rebuildable, swapped atomically, one writer at a time."""

from __future__ import annotations

import multiprocessing
import shutil
import threading

import pytest
from click.testing import CliRunner

from archive.cli.main import main
from archive.errors import IndexMissing
from archive.search import SearchRequest
from archive.search.documents import all_documents
from archive.search.index import index_meeting, rebuild
from archive.search.whoosh.backend import WhooshBackend

QUERIES = ['"border patrol"', "safe", "jose", "comment OR council", "groc*", "tag:hot-mic", "border speaker:deputy"]


def answers(backend: WhooshBackend) -> list[list[tuple[int, float, str]]]:
    return [[(h.segment_id, h.start, h.highlight) for h in backend.search(SearchRequest(q=q)).hits] for q in QUERIES]


def test_delete_the_index_reindex_and_get_the_same_answers(whoosh_archive) -> None:  # type: ignore[no-untyped-def]
    settings, _, backend = whoosh_archive
    before = answers(backend)
    assert all(before)
    shutil.rmtree(settings.index_dir)
    with pytest.raises(IndexMissing):  # said, not an empty page (issue 17): the site answers 503 "run reindex"
        backend.search(SearchRequest(q="safe"))
    env = {"TESTIMONY_HOME": str(settings.home), "TESTIMONY_DATABASE_URL": settings.database_url}
    result = CliRunner(env=env).invoke(main, ["reindex"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "indexed 11 segments"
    assert answers(WhooshBackend(settings.index_dir)) == before
    assert answers(backend) == before  # a long-lived backend (the web process) follows the swap


@pytest.mark.parametrize(
    ("processes", "fail_at", "error"),
    [
        (1, 5, KeyboardInterrupt),  # the operator pressed Ctrl-C half-way
        (2, 7, ConnectionError),  # the database went away with two batches in the build processes
    ],
    ids=["one process", "build processes"],
)
def test_an_interrupted_rebuild_leaves_the_old_index_serving(whoosh_archive, processes, fail_at, error) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, backend = whoosh_archive
    before = answers(backend)
    live = (settings.index_dir / "current").resolve()

    def documents_then_failure():  # type: ignore[no-untyped-def]
        with sessions() as session:
            for n, document in enumerate(all_documents(session)):
                if n == fail_at:
                    raise error("interrupted")
                yield document

    with pytest.raises(error):
        WhooshBackend(settings.index_dir, processes=processes, batch_size=3).rebuild(documents_then_failure())
    assert (settings.index_dir / "current").resolve() == live
    assert sorted(p.name for p in settings.index_dir.glob("generation-*")) == [live.name]
    assert answers(backend) == before
    assert multiprocessing.active_children() == []


def test_a_rebuild_in_build_processes_gives_the_same_answers(whoosh_archive) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, backend = whoosh_archive
    before = answers(backend)
    parallel = WhooshBackend(settings.index_dir, processes=2, batch_size=3)  # 11 segments: four batches
    with sessions() as session:
        assert parallel.rebuild(all_documents(session)) == 11
    with parallel.searcher() as searcher:
        assert len(searcher.leaf_searchers()) == 4  # each batch became a segment
    assert answers(parallel) == before
    assert answers(backend) == before
    assert multiprocessing.active_children() == []  # the build processes are gone


def test_concurrent_writers_wait_for_each_other(whoosh_archive) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, _ = whoosh_archive
    errors: list[BaseException] = []

    def write(slug: str) -> None:
        try:
            backend = WhooshBackend(settings.index_dir)  # as if in another process
            for _ in range(5):
                with sessions() as session:
                    index_meeting(backend, session, slug)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    def full_rebuild() -> None:
        try:
            with sessions() as session:
                rebuild(WhooshBackend(settings.index_dir), session)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(slug,))
        for slug in ("2024-02-07-public-comment", "2023-05-10-regular-meeting", "2022-11-01-annual-meeting")
    ]
    threads.append(threading.Thread(target=full_rebuild))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    backend = WhooshBackend(settings.index_dir)
    assert len(backend.document_ids()) == 11
    assert backend.search(SearchRequest(q="border")).total == 3


def test_check_finds_segments_missing_from_the_index(whoosh_archive) -> None:  # type: ignore[no-untyped-def]
    settings, _, backend = whoosh_archive
    env = {"TESTIMONY_HOME": str(settings.home), "TESTIMONY_DATABASE_URL": settings.database_url}
    runner = CliRunner(env=env)
    backend.remove_meeting("2023-05-10-regular-meeting")
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1
    assert "2 segment(s) missing from the search index (run `testimony reindex`)" in result.stdout
    assert runner.invoke(main, ["reindex"]).exit_code == 0
    # (The factories' recordings have no media files, so check still lists those; the index is whole again.)
    assert "search index" not in runner.invoke(main, ["check"]).stdout


def test_a_word_with_a_date_range_on_a_larger_index(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Whoosh's block-quality skipping once tripped an assertion here (a word + a date range, 2,000 segments).
    import datetime as dt
    import random

    from archive.search.documents import SegmentDocument

    rng = random.Random(3)
    words = [f"w{n}" for n in range(300)]
    documents = [
        SegmentDocument(
            segment_id=n,
            meeting_slug=f"m{n // 20}",
            meeting_title="Meeting",
            meeting_date=dt.date(2015, 1, 1) + dt.timedelta(days=n * 2),
            body="Council",
            speaker_id=None,
            speaker_name=None,
            speaker_role=None,
            kind="testimony",
            tags=(),
            language="en",
            start=float(n),
            end=n + 5.0,
            text=" ".join(rng.choices(words, weights=[1 / (i + 1) for i in range(300)], k=rng.randint(10, 40))),
        )
        for n in range(2000)
    ]
    backend = WhooshBackend(tmp_path / "index")
    backend.rebuild(documents)
    request = SearchRequest(q="w3", date_from=dt.date(2018, 1, 1), date_to=dt.date(2018, 12, 31))
    page = backend.search(request)
    expected = [d for d in documents if "w3" in d.text.split() and d.meeting_date.year == 2018]
    assert page.total == len(expected) > 20
    assert all(hit.meeting_date.year == 2018 for hit in page.hits)


def test_an_anonymous_name_is_not_in_the_index_files(whoosh_archive) -> None:  # type: ignore[no-untyped-def]
    from tests.factories.search import ANONYMOUS_NAME

    settings, _, backend = whoosh_archive
    assert backend.search(SearchRequest(q="apples")).total == 1  # her words are indexed…
    files = [path for path in settings.index_dir.rglob("*") if path.is_file()]
    assert files
    for path in files:  # …her name is not, in any case or form
        data = path.read_bytes().lower()
        for part in ANONYMOUS_NAME.lower().split():
            assert part.encode() not in data, path


def test_an_index_from_an_earlier_version_asks_for_a_reindex(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, Schema

    from archive.errors import ArchiveError

    backend = WhooshBackend(tmp_path / "index")
    backend.rebuild([])
    generation = (tmp_path / "index" / "current").resolve()
    for path in generation.iterdir():
        path.unlink()
    whoosh_index.create_in(str(generation), Schema(segment_id=ID(stored=True), meeting=ID)).close()
    with pytest.raises(ArchiveError, match="testimony reindex"):
        WhooshBackend(tmp_path / "index").index_documents("m", [])


def test_field_lengths_held_in_memory_are_those_on_disk(whoosh_archive) -> None:  # type: ignore[no-untyped-def]
    """The length reader archive.search.whoosh.backend installs in Whoosh reads the column once: the same lengths."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
    from whoosh.util.numeric import byte_to_length

    _, _, backend = whoosh_archive
    with backend.searcher() as searcher:
        for leaf, _ in searcher.leaf_searchers():
            per_document = leaf.reader()._perdoc
            on_disk = per_document.column_reader(_lenfield("text"), LENGTHS_COLUMN)  # Whoosh's own, from the file
            count = leaf.reader().doc_count_all()
            held = [per_document.doc_field_length(n, "text") for n in range(count)]
            assert held == [byte_to_length(on_disk[n]) if on_disk[n] else None for n in range(count)]
            assert any(held)
            assert per_document.doc_field_length(0, "speaker", default=7) == 7  # a field without lengths


def test_each_threads_searcher_and_parser_follow_a_correction_and_a_reindex(whoosh_archive) -> None:  # type: ignore[no-untyped-def]
    """A server process keeps a searcher and a query parser per thread between searches: a segment corrected (the
    commit re-indexes its meeting) and then a rebuilt index (a new generation) are found at once in every thread."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import select

    from archive.curation.segments import edit_text
    from archive.db.models import Segment

    settings, sessions, _ = whoosh_archive
    server = WhooshBackend(settings.index_dir)  # another process's view of the index, as the site's

    def found(q: str) -> list[tuple[str, str]]:
        return [(h.text, h.highlight) for h in server.search(SearchRequest(q=q)).hits]

    grocery = "I want to feel safe driving to the grocery store with my children."
    pharmacy = "I want to feel safe driving to the pharmacy with my children."
    marked = "I want to feel safe driving to the <mark>pharmacy</mark> with my children."
    with ThreadPoolExecutor(1) as other_thread:
        for search in (found, lambda q: other_thread.submit(found, q).result()):
            assert [text for text, _ in search("grocery")] == [grocery]  # both threads now hold a searcher
            assert search("pharmacy") == []
        with sessions() as session, session.begin():
            segment = session.scalars(select(Segment.id).where(Segment.text == grocery)).one()
            edit_text(session, segment, pharmacy, actor="test")
        for search in (found, lambda q: other_thread.submit(found, q).result()):
            assert search("grocery") == []
            assert search("pharmacy") == [(pharmacy, marked)]
        before = server.version()
        with sessions() as session:
            assert rebuild(WhooshBackend(settings.index_dir), session) == 11
        assert server.version() != before  # a new generation: every thread's searcher is replaced
        for search in (found, lambda q: other_thread.submit(found, q).result()):
            assert search("grocery") == []
            assert search("pharmacy") == [(pharmacy, marked)]
            assert [text for text, _ in search("date:2024 pharmacy")] == [pharmacy]  # the date grammar, reused
