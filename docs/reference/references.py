"""The reference pages' generated parts, written from the running code (never from file paths).

cog calls these from the pages' `[[[cog` blocks: `make docs` rewrites them, and tests/test_docs.py fails when a
page differs from what they return now. Everything is found by walking live objects (the click group behind the
`testimony` command, the fields of `archive.config.Settings`, the `archive` package on its import path), so a
command, a setting or a module moved or added by a later change shows up after one `make docs`.
"""

from __future__ import annotations

import ast
import dataclasses
import pkgutil
from pathlib import Path

import click

# Help text is wrapped by click; a fixed width keeps the pages the same on every terminal and machine.
HELP_WIDTH = 80

# Defaults worked out on the machine that imports the settings (its CPU count, its user cache folder): the page
# says what they mean rather than what they came to on the machine that last ran `make docs`.
MACHINE_DEFAULTS = {
    "index_processes": "one per CPU",
    "cache_dir": "the user cache folder's `testimony-archive` (`~/.cache/testimony-archive` on Linux)",
}


def _commands(group: click.Group, ctx: click.Context) -> list[tuple[click.Command, click.Context]]:
    """Every command under a group, depth first, in the order `--help` lists them, hidden ones left out."""
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub = click.Context(
            command, info_name=name, parent=ctx, terminal_width=HELP_WIDTH, max_content_width=HELP_WIDTH
        )
        found.append((command, sub))
        if isinstance(command, click.Group):
            found.extend(_commands(command, sub))
    return found


def cli_reference() -> str:
    """`testimony --help` and every subcommand's `--help`, each under a heading named after the command."""
    from archive.cli.main import main

    root = click.Context(main, info_name="testimony", terminal_width=HELP_WIDTH, max_content_width=HELP_WIDTH)
    parts = ["## testimony\n", "```text", main.get_help(root), "```\n"]
    for command, ctx in _commands(main, root):
        depth = ctx.command_path.count(" ")  # `testimony user add`: 2
        parts += [f"{'#' * (depth + 1)} {ctx.command_path}\n", "```text", command.get_help(ctx), "```\n"]
    return "\n".join(parts)


def _text(text: str) -> str:
    """Prose for a table cell: outside `code`, angle brackets shown as written (not taken for HTML tags) and pipes
    kept from splitting the cell."""
    pieces = text.split("`")
    for i in range(0, len(pieces), 2):  # the even pieces lie outside code spans
        pieces[i] = pieces[i].replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return "`".join(pieces)


def _default(field: dataclasses.Field) -> str:
    if field.name in MACHINE_DEFAULTS:
        return MACHINE_DEFAULTS[field.name]
    value = field.default
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return "*(empty)*"
    return f"`{value}`"


def setting_fields() -> list[dataclasses.Field]:
    from archive.config import Settings

    return list(dataclasses.fields(Settings))


def settings_reference() -> str:
    """A table of every setting: its variable, its default and its help, in the order Settings declares them."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for field in setting_fields():
        help_text = _text(field.metadata["help"])
        if field.metadata.get("secret"):
            help_text += " *Secret: `testimony config` masks it.*"
        rows.append(f"| `TESTIMONY_{field.name.upper()}` | {_default(field)} | {help_text} |")
    return "\n".join(rows) + "\n"


def _summary(path: Path) -> str:
    """A module's docstring up to its first blank line, on one line."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return _text(" ".join(docstring.split("\n\n")[0].split())) or "*(no docstring)*"


def package_map() -> str:
    """Each package of `archive` with its docstring's summary, then a list of its modules with theirs."""
    import archive

    root = Path(archive.__path__[0])
    parts = []

    def visit(folder: Path) -> None:
        relative = folder.relative_to(root.parent).as_posix()
        parts.append(f"### `{relative}/`\n\n{_summary(folder / '__init__.py')}\n")
        entries = sorted(pkgutil.iter_modules([str(folder)]), key=lambda entry: (entry.ispkg, entry.name))
        modules = [entry for entry in entries if not entry.ispkg]
        if modules:
            parts.extend(f"- `{entry.name}.py`: {_summary(folder / f'{entry.name}.py')}" for entry in modules)
            parts.append("")
        for entry in entries:
            if entry.ispkg:
                visit(folder / entry.name)

    visit(root)
    return "\n".join(parts)
