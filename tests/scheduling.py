"""The order `make test` hands modules to its xdist workers: the long ones first, and modules that share one costly
result on one worker (used by tests/conftest.py for `--dist loadscope`).

xdist's loadscope hands out modules with the most tests first, so a long module of two or three tests (a wheel
installed and its demo run, a transcription checked through the CLI) started near the end while the other worker
had nothing left to do. Handing the longest first leaves only short modules for the last minute (the classic
longest-processing-time rule). A module missing here only loses its place, never a test.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

# Seconds each module took on one worker in a whole run on 2026-12-08 (a busy hour: about twice a quiet one's);
# only the order matters. Modules under ~30 s follow in xdist's order.
LONGEST = {
    "spanish": 290,  # the two modules below, on one worker
    "tests/demo/test_demo.py": 193,
    "tests/worker/test_jobs.py": 119,
    "tests/search/test_interfaces.py": 112,
    "tests/web/test_every_page_browser.py": 92,
    "tests/web/test_redaction_canary.py": 77,
    "tests/search/test_search.py": 64,
    "tests/mail/test_hostile_letters.py": 64,
    "tests/ingest/test_mix.py": 57,
    "tests/test_architecture.py": 54,
    "tests/ingest/test_tracks.py": 40,
    "tests/web/api/test_openapi.py": 37,
    "tests/ingest/test_speakers.py": 35,
    "tests/web/public/test_browser.py": 34,
    "tests/transcribe/test_engines.py": 32,
    "tests/web/public/test_campaigns.py": 32,
    "tests/speakers/test_recluster.py": 31,
    "tests/web/public/test_excerpts.py": 30,
    "tests/web/admin/test_curation_browser.py": 30,
}

# Modules that read one session-scoped result (tests/conftest.py) run on one worker, so it is made once.
GROUPS = {
    "tests/cli/test_languages.py": "spanish",  # the Spanish fixtures transcribed by the multilingual model
    "tests/transcribe/test_multilingual.py": "spanish",
}


class LongestFirst(LoadScopeScheduling):
    """loadscope, with GROUPS as one scope each and the scopes in LONGEST handed out first, longest first."""

    def _split_scope(self, nodeid: str) -> str:
        scope = super()._split_scope(nodeid)
        return GROUPS.get(scope.split("::", 1)[0], scope)

    def _assign_work_unit(self, node) -> None:  # type: ignore[no-untyped-def]
        # min() keeps the queue's own order (most tests first) among the modules LONGEST does not name.
        scope = min(self.workqueue, key=lambda s: -LONGEST.get(s, 0))
        self.workqueue.move_to_end(scope, last=False)
        super()._assign_work_unit(node)
