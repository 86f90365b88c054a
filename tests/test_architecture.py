"""The shape of the package, checked in CI: no import circles (deferred imports count), dependencies pointing one
way (the import-linter contracts in pyproject.toml), and types that a real checker passes (mypy on archive/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def _circles(graph: grimp.ImportGraph, entry: str) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), leaving out the package's entry point (its
    __init__: create_app and the version, not a room of the house)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module) - {entry}:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules - {entry}):
        if module not in index:
            visit(module)
    return found


def test_no_module_of_the_package_imports_itself_through_others() -> None:
    """A deferred import hides a circle, it does not remove it: imports inside functions count here too."""
    graph = grimp.build_graph("archive", exclude_type_checking_imports=True)
    assert len(graph.modules) > 100
    assert _circles(graph, "archive") == []


def test_dependencies_point_one_way() -> None:
    """cli and web over the product areas over ingest and search over the stores; only the web imports Flask."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_the_type_checker_passes() -> None:
    """mypy on archive/ with the settings in pyproject.toml (its cache makes a second run take seconds)."""
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found")
