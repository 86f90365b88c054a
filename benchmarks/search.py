"""Search speed on synthetic archives: Whoosh and PostgreSQL side by side, SQLite FTS5 as the baseline.

Builds corpora of --sizes segments (Zipf-distributed pseudo-words, 10–40 words each, ~2,000 meetings,
~5,000 speakers, dates 2015–2025, a planted phrase), then prints for each backend on the same corpus in
the same run: index build rate, index size on disk, and p50/p95 latency (20 highlighted hits, facets
included where the backend computes them) for seven query types, with each one's ratio to FTS5.

    .venv/bin/python benchmarks/search.py --sizes 100000            # the Whoosh target size
    .venv/bin/python benchmarks/search.py --sizes 1000000 --backends postgres,fts5
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import html
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.config import Settings  # noqa: E402
from archive.search import SearchRequest  # noqa: E402
from archive.search.documents import SegmentDocument  # noqa: E402

POSTGRES_URL = os.environ.get("TESTIMONY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
VOCABULARY = 20_000
MEETINGS = 2_000
SPEAKERS = 5_000
KINDS = ("testimony", "deliberation", "remark", "procedural")
PHRASE = ("border", "patrol")
PHRASE_RATE = 0.005


def pseudo_words(count: int, rng: random.Random) -> list[str]:
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["ing", "er", "tion", "ly", "ment"]
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(syllables) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))))
    return sorted(words, key=lambda w: (len(w), w))  # short words are the common ones, as in English


class Corpus:
    """Deterministic segments; the same seed gives the same corpus to every backend."""

    def __init__(self, size: int, seed: int = 7) -> None:
        self.size = size
        rng = random.Random(seed)
        self.words = pseudo_words(VOCABULARY, rng)
        weights = [1 / (rank + 1) ** 1.07 for rank in range(VOCABULARY)]  # Zipf, as in natural text
        self._cumulative = list(_accumulate(weights))
        self.speakers = [
            f"{rng.choice(self.words[200:3000]).title()} {rng.choice(self.words[200:3000]).title()}"
            for _ in range(SPEAKERS)
        ]
        start = dt.date(2015, 1, 1)
        self.meetings = [
            (f"meeting-{n:05d}", start + dt.timedelta(days=rng.randrange(11 * 365))) for n in range(MEETINGS)
        ]
        self.seed = seed

    @property
    def common(self) -> str:
        return self.words[3]

    @property
    def rare(self) -> str:
        return self.words[12_000]

    def documents(self) -> Iterator[SegmentDocument]:
        rng = random.Random(self.seed + 1)
        per_meeting = max(1, self.size // MEETINGS)
        for n in range(self.size):
            slug, date = self.meetings[min(n // per_meeting, MEETINGS - 1)]
            words = rng.choices(self.words, cum_weights=self._cumulative, k=rng.randint(10, 40))
            if rng.random() < PHRASE_RATE:
                at = rng.randrange(len(words))
                words[at : at + 2] = PHRASE
            speaker = rng.randrange(SPEAKERS)
            start = (n % per_meeting) * 20.0
            yield SegmentDocument(
                segment_id=n + 1,
                meeting_slug=slug,
                meeting_title=f"Meeting {slug}",
                meeting_date=date,
                body="Synthetic Council",
                speaker_id=speaker + 1,
                speaker_name=self.speakers[speaker],
                speaker_role="member",
                kind=KINDS[n % 4],
                tags=(),
                language="en",
                start=start,
                end=start + 15.0,
                text=" ".join(words).capitalize() + ".",
            )

    def queries(self) -> dict[str, SearchRequest]:
        phrase = f'"{PHRASE[0]} {PHRASE[1]}"'
        return {
            "common word": SearchRequest(q=self.common),
            "rare word": SearchRequest(q=self.rare),
            "two words": SearchRequest(q=f"{self.words[40]} {self.words[60]}"),
            "phrase": SearchRequest(q=phrase),
            "phrase + speaker": SearchRequest(q=phrase, speaker=self.speakers[1]),
            "date range": SearchRequest(q=self.words[40], date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 12, 31)),
            "facets, common word": SearchRequest(q=self.common, per_page=1),
        }


def _accumulate(weights: list[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


# --- backends ------------------------------------------------------------------------------------------


class WhooshRun:
    name = "whoosh"

    def __init__(self, corpus: Corpus, workdir: Path) -> None:
        from archive.search.whoosh.backend import WhooshBackend

        self.backend = WhooshBackend(workdir / "whoosh", processes=os.cpu_count() or 1)
        self.root = workdir / "whoosh"
        self.corpus = corpus

    def build(self) -> None:
        self.backend.rebuild(self.corpus.documents())

    def size(self) -> int:
        return _folder_size((self.root / "current").resolve())

    def search(self, request: SearchRequest) -> int:
        return len(self.backend.search(request).hits)

    def close(self) -> None:
        """Nothing to release: the index folder goes with the temporary directory."""


class PostgresRun:
    name = "postgres"

    def __init__(self, corpus: Corpus, workdir: Path) -> None:
        from sqlalchemy.engine import make_url

        self.corpus = corpus
        self.schema = f"bench_{uuid.uuid4().hex[:8]}"
        base = make_url(POSTGRES_URL)
        self.libpq = base.set(drivername="postgresql").render_as_string(hide_password=False)
        self.url = base.update_query_dict({"options": f"-csearch_path={self.schema}"}).render_as_string(
            hide_password=False
        )

    def build(self) -> None:
        import psycopg

        from archive.db.session import make_engine, migrate

        with psycopg.connect(self.libpq, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{self.schema}"')
        engine = make_engine(self.url)
        migrate(engine)
        engine.dispose()
        with psycopg.connect(self.libpq, options=f"-csearch_path={self.schema}") as connection:
            _copy_corpus(connection, self.corpus)
        # VACUUM flushes GIN's pending list (rows loaded by COPY wait there) and gathers statistics.
        with psycopg.connect(self.libpq, options=f"-csearch_path={self.schema}", autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE segments")
            connection.execute("ANALYZE")
        from archive.search.postgres.backend import PostgresBackend

        self.backend = PostgresBackend(self.url, window=Settings().search_window)
        self.broad: set[str] = set()  # queries past the window, whose total is a lower bound

    def size(self) -> int:
        import psycopg

        with psycopg.connect(self.libpq, options=f"-csearch_path={self.schema}") as connection:
            return int(
                connection.execute(
                    # This schema's table only ('segments'::regclass follows the search_path): other schemas in
                    # the database have a segments table too.
                    "SELECT sum(pg_relation_size(indexrelid)) FROM pg_index WHERE indrelid = 'segments'::regclass"
                ).fetchone()[0]
                or 0
            )

    def search(self, request: SearchRequest) -> int:
        page = self.backend.search(request)
        if not page.total_exact:
            self.broad.add(request.q)
        return len(page.hits)

    def close(self) -> None:
        import psycopg

        if self.broad:
            print(f"postgres: more matches than its window ({self.backend.window:,}) for {sorted(self.broad)}")

        getattr(self.backend, "close", lambda: None)()
        with psycopg.connect(self.libpq, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{self.schema}" CASCADE')


def _copy_corpus(connection, corpus: Corpus) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    connection.execute("INSERT INTO bodies (id, name, slug) VALUES (1, 'Synthetic Council', 'synthetic-council')")
    with connection.cursor().copy("COPY meetings (id, slug, body_id, title, date, created_at) FROM STDIN") as copy:
        for n, (slug, date) in enumerate(corpus.meetings, start=1):
            copy.write_row((n, slug, 1, f"Meeting {slug}", date, now))
    with connection.cursor().copy(
        'COPY recordings (id, sha256, meeting_id, position, "offset", suffix, original_name, size, container, '
        "duration, has_video, streams, created_at) FROM STDIN"
    ) as copy:
        for n in range(1, len(corpus.meetings) + 1):
            copy.write_row((n, f"{n:064x}", n, 0, 0.0, ".wav", "x.wav", 1, "wav", 1.0, False, "[]", now))
    with connection.cursor().copy(
        "COPY transcription_runs (id, recording_id, engine, model, engine_version, parameters, transcript_file, "
        "transcript_sha256, created_at) FROM STDIN"
    ) as copy:
        for n in range(1, len(corpus.meetings) + 1):
            copy.write_row((n, n, "whisper", "tiny.en", "bench", "{}", "x.json", "0" * 64, now))
    # One speaker row per (meeting, voice) pair that occurs, as ingest would make them. Two passes over the
    # (deterministic) corpus: one connection runs one COPY at a time.
    speaker_ids: dict[tuple[int, int], int] = {}
    meeting_number = {slug: n for n, (slug, _) in enumerate(corpus.meetings, start=1)}
    # The corpus's speaker ids are people: one row each, then the voices attributed to them.
    people: set[int] = set()
    with connection.cursor().copy("COPY people (id, name, role, consent, created_at) FROM STDIN") as copy:
        for document in corpus.documents():
            if document.speaker_id and document.speaker_id not in people:
                people.add(document.speaker_id)
                copy.write_row((document.speaker_id, document.speaker_name, document.speaker_role, "public", now))
    with connection.cursor().copy("COPY speakers (id, meeting_id, label, person_id, attribution) FROM STDIN") as copy:
        for document in corpus.documents():
            key = (meeting_number[document.meeting_slug], document.speaker_id or 0)
            if key not in speaker_ids:
                speaker_ids[key] = len(speaker_ids) + 1
                person = document.speaker_id or None
                copy.write_row(
                    (speaker_ids[key], key[0], f"SPEAKER_{len(speaker_ids):05d}", person, "curator" if person else None)
                )
    with connection.cursor().copy(
        'COPY segments (id, meeting_id, recording_id, run_id, speaker_id, start, "end", text, words, '
        "language, kind, tags, created_at) FROM STDIN"
    ) as copy:
        for document in corpus.documents():
            meeting = meeting_number[document.meeting_slug]
            copy.write_row(
                (
                    document.segment_id,
                    meeting,
                    meeting,
                    meeting,
                    speaker_ids[(meeting, document.speaker_id or 0)],
                    document.start,
                    document.end,
                    document.text,
                    "[]",
                    "en",
                    document.kind,
                    "[]",
                    now,
                )
            )
    connection.execute("SELECT setval(pg_get_serial_sequence('segments', 'id'), (SELECT max(id) FROM segments))")


class Fts5Run:
    """The baseline: SQLite FTS5 with BM25, snippet() highlights and GROUP BY facets."""

    name = "fts5"

    def __init__(self, corpus: Corpus, workdir: Path) -> None:
        self.corpus = corpus
        self.path = workdir / "fts5.db"

    def build(self) -> None:
        db = sqlite3.connect(self.path)
        db.executescript(
            "CREATE TABLE seg (id INTEGER PRIMARY KEY, meeting TEXT, date TEXT, speaker TEXT, kind TEXT, "
            "start REAL, text TEXT);"
            "CREATE VIRTUAL TABLE seg_fts USING fts5(text, content='seg', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2');"
            "CREATE INDEX seg_date ON seg(date); CREATE INDEX seg_speaker ON seg(speaker);"
        )
        db.executemany(
            "INSERT INTO seg VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (d.segment_id, d.meeting_slug, d.meeting_date.isoformat(), d.speaker_name, d.kind, d.start, d.text)
                for d in self.corpus.documents()
            ),
        )
        db.execute("INSERT INTO seg_fts(seg_fts) VALUES ('rebuild')")
        db.commit()
        db.close()
        self.db = sqlite3.connect(self.path, check_same_thread=False)

    def size(self) -> int:
        return self.path.stat().st_size

    def search(self, request: SearchRequest) -> int:
        where, params = ["seg_fts MATCH ?"], [self._match(request.q)]
        if request.speaker:
            where.append("seg.speaker = ?")
            params.append(request.speaker)
        if request.date_from:
            where.append("seg.date BETWEEN ? AND ?")
            params += [request.date_from.isoformat(), request.date_to.isoformat()]
        clause = " AND ".join(where)
        rows = self.db.execute(
            f"SELECT seg.id, snippet(seg_fts, 0, char(2), char(3), '…', 40) FROM seg_fts JOIN seg ON seg.id = "
            f"seg_fts.rowid WHERE {clause} ORDER BY bm25(seg_fts) LIMIT ?",
            [*params, request.per_page],
        ).fetchall()
        [html.escape(snippet).replace("\x02", "<mark>").replace("\x03", "</mark>") for _, snippet in rows]
        self.db.execute(f"SELECT count(*) FROM seg_fts JOIN seg ON seg.id = seg_fts.rowid WHERE {clause}", params)
        for column in ("speaker", "kind", "meeting", "substr(date, 1, 4)"):
            self.db.execute(
                f"SELECT {column}, count(*) FROM seg_fts JOIN seg ON seg.id = seg_fts.rowid WHERE {clause} "
                f"GROUP BY 1 ORDER BY 2 DESC LIMIT 20",
                params,
            ).fetchall()
        return len(rows)

    @staticmethod
    def _match(q: str) -> str:
        return q if q.startswith('"') else " ".join(f'"{w}"' for w in q.split())

    def close(self) -> None:
        self.db.close()


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --- measuring -----------------------------------------------------------------------------------------


def latencies(
    search: Callable[[SearchRequest], int], request: SearchRequest, repeat: int
) -> tuple[float, float, float]:
    """The first run (nothing of this query cached: Whoosh's postings cache, PostgreSQL's plans), then p50, p95."""
    began = time.perf_counter()
    search(request)
    first = (time.perf_counter() - began) * 1000
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        search(request)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return first, statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000", help="comma-separated corpus sizes (segments)")
    parser.add_argument("--backends", default="fts5,whoosh,postgres")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    kinds = {"whoosh": WhooshRun, "postgres": PostgresRun, "fts5": Fts5Run}
    names = args.backends.split(",")
    for size in (int(s) for s in args.sizes.split(",")):
        corpus = Corpus(size)
        print(f"\n== {size:,} segments ==")
        results: dict[str, dict[str, tuple[float, float, float]]] = {}
        with tempfile.TemporaryDirectory(prefix="testimony-bench-") as tmp:
            for name in names:
                run = kinds[name](corpus, Path(tmp))
                began = time.perf_counter()
                run.build()
                seconds = time.perf_counter() - began
                # As `testimony serve` does after loading: without it, the cycle collector's full passes over this
                # process (35 ms each here) fell on every sixteenth query or so and made up the p95.
                gc.freeze()
                print(
                    f"{name:<9} built in {seconds:7.1f} s = {size / seconds:8,.0f} segments/s; "
                    f"index size {run.size() / 2**20:8.1f} MiB"
                )
                results[name] = {
                    label: latencies(run.search, request, args.repeat) for label, request in corpus.queries().items()
                }
                run.close()
                gc.unfreeze()
        header = f"{'query':<22}" + "".join(f"{n + ' 1st':>13}{n + ' p50':>13}{n + ' p95':>13}" for n in names)
        if "fts5" in names:
            header += "".join(f"{n + '/fts5 p95':>18}" for n in names if n != "fts5")
        print(header)
        for label in corpus.queries():
            row = f"{label:<22}" + "".join(
                f"{results[n][label][0]:>11.1f}ms{results[n][label][1]:>11.1f}ms{results[n][label][2]:>11.1f}ms"
                for n in names
            )
            if "fts5" in names:
                row += "".join(
                    f"{results[n][label][2] / max(results['fts5'][label][2], 1e-6):>17.1f}×"
                    for n in names
                    if n != "fts5"
                )
            print(row)


if __name__ == "__main__":
    main()
