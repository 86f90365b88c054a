"""The docs are tested like code: the site builds strictly, generated pages are current, and nothing they name
(a setting, a command, a path, a module) is missing from the code they describe."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import click
import pytest

import archive
from archive.cli.main import main
from archive.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
GENERATED = DOCS / "reference"
# Variables the docs may name that are not settings of the archive: the test suite's own.
OTHER_VARIABLES = {"TESTIMONY_TEST_POSTGRES_URL"}
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's notice about MkDocs 2.0, printed on every build
CSS_URL = re.compile(r"url\(['\"]?(https?://[^)'\"]+)")
REPO_PATH = re.compile(r"(?<![\w/<>.-])((?:archive|tests|benchmarks|docs|deploy|\.ci|media/demo)/[\w./-]*)")
DOTTED_NAME = re.compile(r"(?<![\w/.@])archive(?:\.[A-Za-z_]\w*)+")
COMMAND = re.compile(r"(?:^|[\s$(/])testimony((?: --home \S+)?(?: [a-z][a-z-]*\b(?![./]))+)")


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def written_by_hand() -> list[Path]:
    """The pages people write, and the README: everything but the generated references."""
    generated = {GENERATED / "cli.md", GENERATED / "settings.md", GENERATED / "packages.md"}
    return [README, *(page for page in pages() if page not in generated)]


def code_in(text: str) -> list[str]:
    """The code a Markdown text shows: fenced blocks and inline code spans."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    return fenced + [span.replace("\n", " ") for span in re.findall(r"`([^`]+)`", prose)]  # a span may wrap


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `mkdocs build --strict` makes it: a broken link or anchor, a page missing from the navigation
    or a warning of any kind fails the build."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


class _Requests(HTMLParser):
    """Every address a page makes the browser fetch by itself (scripts, styles, fonts, images, frames)."""

    FETCHED = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src", "video": "src"}

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in self.FETCHED and values.get(self.FETCHED[tag]):
            self.addresses.append(values[self.FETCHED[tag]] or "")
        rel = (values.get("rel") or "").lower()
        if tag == "link" and rel not in ("canonical", "alternate", "next", "prev") and values.get("href"):
            self.addresses.append(values["href"] or "")


def test_the_site_builds_and_makes_no_third_party_request(site: Path) -> None:
    assert (site / "index.html").exists()
    assert (site / "reference" / "settings" / "index.html").exists()
    offsite = []
    for page in site.rglob("*.html"):
        parser = _Requests()
        parser.feed(page.read_text(encoding="utf-8"))
        offsite += [f"{page.relative_to(site)}: {a}" for a in parser.addresses if re.match(r"(https?:)?//", a)]
    for sheet in site.rglob("*.css"):
        offsite += [f"{sheet.relative_to(site)}: {url}" for url in CSS_URL.findall(sheet.read_text())]
    assert offsite == [], "the docs must not fetch from other sites when read"


def test_the_readme_links_into_the_docs_land(site: Path) -> None:
    """The README is read on its own (GitHub, PyPI): each link to a docs page or anchor must land in the site."""
    broken = []
    for target, anchor in re.findall(r"\]\(((?:docs/)?[\w/.-]+\.md)(?:#([\w-]+))?\)", README.read_text()):
        if not target.startswith("docs/"):
            if not (ROOT / target).exists():
                broken.append(target)
            continue
        page = target.removeprefix("docs/").removesuffix(".md")
        built = site / ("index.html" if page == "index" else f"{page}/index.html")
        if not built.exists():
            broken.append(target)
        elif anchor and f'id="{anchor}"' not in built.read_text(encoding="utf-8"):
            broken.append(f"{target}#{anchor}")
    assert broken == []


def test_the_generated_pages_are_current() -> None:
    """The CLI, settings and package references equal what the code generates now."""
    with_cog = [str(page) for page in pages() if "[[[cog" in page.read_text(encoding="utf-8")]
    assert {Path(p).name for p in with_cog} >= {"cli.md", "settings.md", "packages.md"}
    done = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "--diff", "-I", str(GENERATED), *with_cog],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, "the generated docs are stale: run `make docs`\n" + done.stdout + done.stderr


@pytest.mark.parametrize("field", dataclasses.fields(Settings), ids=lambda field: field.name)
def test_every_setting_is_documented(field: dataclasses.Field) -> None:
    """Each setting has help for `testimony config` and the reference, and is explained where it matters."""
    variable = f"TESTIMONY_{field.name.upper()}"
    assert field.metadata.get("help", "").strip()
    assert f"`{variable}`" in (GENERATED / "settings.md").read_text(encoding="utf-8")
    assert any(variable in page.read_text(encoding="utf-8") for page in written_by_hand()), (
        f"{variable} is explained on no page beside the generated reference"
    )


def test_the_docs_name_only_real_settings() -> None:
    settings = {f"TESTIMONY_{field.name.upper()}" for field in dataclasses.fields(Settings)}
    unknown = set()
    for page in written_by_hand():
        for name in re.findall(r"TESTIMONY_[A-Z0-9_]*[A-Z0-9](?:_\*)?", page.read_text(encoding="utf-8")):
            if name.endswith("_*"):  # a family, e.g. TESTIMONY_SMTP_*
                if not any(s.startswith(name[:-1]) for s in settings):
                    unknown.add(f"{page.name}: {name}")
            elif name not in settings | OTHER_VARIABLES:
                unknown.add(f"{page.name}: {name}")
    assert unknown == set()


def _command_problem(words: list[str]) -> str | None:
    """None when `testimony WORDS…` starts with real commands, else what is wrong; words after a command that
    takes no subcommands are its arguments."""
    command: click.Command = main
    path = ["testimony"]
    for word in words:
        if not isinstance(command, click.Group):
            return None
        sub = command.commands.get(word)
        if sub is None:
            return f"`{' '.join(path)} {word}`: no such command"
        command, path = sub, [*path, word]
    return None


def test_the_docs_name_only_real_commands() -> None:
    problems = set()
    for page in written_by_hand():
        for code in code_in(page.read_text(encoding="utf-8")):
            for match in COMMAND.finditer(code):
                words = match.group(1).split()
                if words[0] == "--home":
                    words = words[2:]
                if problem := _command_problem(words):
                    problems.add(f"{page.name}: {problem}")
    assert problems == set()


def _dotted_name_exists(name: str) -> bool:
    """`archive.a.b.attr`: the longest prefix that is a module of the package, then names defined in it."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        source = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if source.exists():
            text = source.read_text(encoding="utf-8")
            return all(re.search(rf"^\s*(def|class) {attr}\b|^\s*{attr}\s*[:=]", text, re.M) for attr in parts[cut:])
    return False


def test_the_docs_name_only_real_paths_and_modules() -> None:
    """Paths into the repository and dotted names in the package, as the docs and the README show them."""
    missing = set()
    for page in written_by_hand():
        for code in code_in(page.read_text(encoding="utf-8")):
            for path in REPO_PATH.findall(code):
                if not (ROOT / path).exists():
                    missing.add(f"{page.name}: {path}")
            for name in DOTTED_NAME.findall(code):
                if name.endswith((".org", ".com", ".net")):  # a host name in an example, e.g. archive.example.org
                    continue
                if not _dotted_name_exists(name):
                    missing.add(f"{page.name}: {name}")
    assert missing == set()


def test_the_readme_is_short_and_tests_as_ci_does() -> None:
    assert README.stat().st_size <= 16 * 1024, "the README stays short: depth belongs in docs/"
    ci_steps = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert ci_steps[-1] == "make test"
    assert "make test" in "\n".join(code_in(README.read_text(encoding="utf-8")))


def test_the_version_is_the_newest_release() -> None:
    headings = re.findall(r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert headings[0] == "Unreleased"
    released = re.fullmatch(r"\[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})", headings[1])
    assert released, headings[1]
    assert archive.__version__ == released.group(1)
