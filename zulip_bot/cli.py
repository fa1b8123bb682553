"""The `meetbot` command."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from zulip_bot.notes import NotesDocument, NotesError, new_draft
from zulip_bot.notes.report import as_json, as_text


def bundled(name: str) -> Path:
    """A file shipped in the package (the default template, the example draft)."""
    return Path(str(resources.files("zulip_bot") / "data" / name))


def _notes_show(args: argparse.Namespace) -> int:
    doc = NotesDocument.load(args.file)
    sys.stdout.write(as_json(doc) if args.json else as_text(doc))
    return 0


def _notes_check(args: argparse.Namespace) -> int:
    problems = 0
    for path in args.files:
        try:
            warnings = NotesDocument.load(path).warnings
        except NotesError as error:
            print(error)
            problems += 1
            continue
        for warning in warnings:
            print(f"{path}:{warning.line}: {warning.message}")
        problems += len(warnings)
        if not warnings:
            print(f"{path}: ok")
    return 1 if problems else 0


def _notes_new(args: argparse.Namespace) -> int:
    template = Path(args.template) if args.template else bundled("notes-template.md")
    draft = new_draft(template.read_text(encoding="utf-8"), args.date)
    draft.save(args.out)
    print(f"wrote {args.out}")
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a date like 2024-11-06") from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="meetbot", description="A Zulip bot for open meetings.")
    commands = top.add_subparsers(dest="command", required=True)
    notes = commands.add_parser("notes", help="read, check and create notes drafts")
    notes_commands = notes.add_subparsers(dest="notes_command", required=True)

    show = notes_commands.add_parser("show", help="what the bot understands of a notes file")
    show.add_argument("file", nargs="?", default=bundled("example-draft.md"), type=Path,
                      help="the notes file (default: the bundled example draft)")  # fmt: skip
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=_notes_show)

    check = notes_commands.add_parser("check", help="list problems; exit 1 if there are any")
    check.add_argument("files", nargs="+", type=Path)
    check.set_defaults(run=_notes_check)

    new = notes_commands.add_parser("new", help="write a new draft from a template")
    new.add_argument("--date", required=True, type=_date, help="the meeting date, 2024-11-06")
    new.add_argument("--template", help="a Jinja template (default: config/notes-template.md)")
    new.add_argument("out", type=Path, help="where to write the draft (must not exist)")
    new.set_defaults(run=_notes_new)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except NotesError as error:
        print(f"meetbot: {error}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
