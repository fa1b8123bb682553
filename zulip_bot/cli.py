"""The `meetbot` command."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TextIO

from zulip_bot import ics, overrides, schedule
from zulip_bot.archive import importer
from zulip_bot.archive.read import read_archive
from zulip_bot.chat import runner as bot_runner
from zulip_bot.chat.client import StartupError
from zulip_bot.chat.process import sole_writer
from zulip_bot.chat.shell import Chat, Shell, run, sender_for
from zulip_bot.config import (
    AdhocConfig,
    BotConfig,
    ConfigError,
    MeetingConfig,
    default_config_path,
    format_duration,
    load_config,
)
from zulip_bot.demo.clock import FileClock
from zulip_bot.demo.network_shell import network_shell
from zulip_bot.demo.play import run_demo
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store
from zulip_bot.notes import NotesDocument, NotesError, new_draft
from zulip_bot.notes.report import as_json, as_text
from zulip_bot.sandbox.cli import run_sandbox


def bundled(name: str) -> Path:
    """A file shipped in the package (the default template, the example draft)."""
    return Path(str(resources.files("zulip_bot") / "data" / name))


def _notes_show(args: argparse.Namespace) -> int:
    doc = NotesDocument.load(args.file, follow_link=True)
    sys.stdout.write(as_json(doc) if args.json else as_text(doc))
    return 0


def _notes_check(args: argparse.Namespace) -> int:
    problems = 0
    for path in args.files:
        try:
            warnings = NotesDocument.load(path, follow_link=True).warnings
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
    """With `--meeting`, the draft is that meeting's: its template and its values (title,
    video link, start), as the bot makes it; without, the bundled template's own."""
    template = bundled("notes-template.md")
    values: dict[str, str] = {}
    if args.meeting is not None:
        meeting = _meeting_named(load_config(args.config), args.meeting)
        template, values = meeting.template, meeting.template_values(args.date)
    if args.template:
        template = Path(args.template)
    draft = new_draft(template.read_text(encoding="utf-8"), args.date, None, **values)
    draft.save(args.out)
    print(f"wrote {args.out}")
    return 0


def _meeting_named(config: BotConfig, key: str | None) -> MeetingConfig:
    """The meeting `key` (the first when None), or an error naming the ones there are."""
    meeting = config.meeting(key) if key else config.meetings[0]
    if meeting is None:
        known = ", ".join(m.key for m in config.meetings)
        raise ConfigError(
            config.path, "meetings", f"has no meeting {key!r}", f"pick one of: {known}"
        )
    return meeting


def _shell(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    meeting = _meeting_named(config, args.meeting)
    if args.sandbox:
        with network_shell(config, meeting, args.as_email, args.now) as through:
            return _converse(through, config, meeting, sys.stdin, args.echo)
    with sole_writer(config.state_path, 0):  # not beside a bot running on the same store
        shell = Shell(
            MeetingService(config, Store(config.state_path)),
            sender_for(config, args.as_email),
            meeting,
            pinned=args.now,
        )
        return _converse(shell, config, meeting, sys.stdin, args.echo)


def _converse(
    shell: Chat, config: BotConfig, meeting: MeetingConfig, lines: TextIO, echo: bool
) -> int:
    interactive = lines.isatty()
    if interactive:
        print(
            f"Talking to {config.bot_name} in #{meeting.stream} as {shell.sender.full_name}. "
            "/help lists the /commands; Ctrl-D ends."
        )
    for line in run(shell, lines, echo=echo or not interactive):
        print(line, flush=True)
    return 0


def _demo(args: argparse.Namespace) -> int:
    """A whole meeting cycle on the sandbox, the real runner and client, and a fast clock."""
    # The scratch folder stays: the paths printed at the end are there to be opened.
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="meetbot-demo-"))
    return run_demo(folder)


def _calendars(config: BotConfig) -> overrides.Calendars:
    """The config with chat's changes from the store on top, as the bot schedules by it. A
    store that does not exist yet holds none, and is not made here."""
    if not config.state_path.exists():
        return overrides.Calendars(config)
    store = Store(config.state_path)
    try:
        return overrides.Calendars.from_rows(config, store.calendar_changes())
    finally:
        store.close()


def _check_config(args: argparse.Namespace) -> int:
    calendars = _calendars(load_config(args.config))
    config = calendars.config
    now = args.now or dt.datetime.now(dt.UTC)
    print(f"{config.path}: ok, {len(config.roster.people)} people in the roster")
    for meeting in config.meetings:
        upcoming = schedule.next_occurrence(meeting, now)
        when = upcoming.isoformat() if upcoming else "no more meetings"
        print(
            f"- {meeting.key}: {meeting.title} in #{meeting.stream}, next {when}, "
            f"notes {meeting.notes_path_for(upcoming.date()) if upcoming else '-'}"
        )
        print(f"    {_item_time(meeting)}")
        calendar = calendars.of(meeting.key)
        for found in calendar.upcoming(now, 3):
            changed = overrides.describe(found, str, _local_time)
            print(
                f"    {_both_zones(found.start)}  > {meeting.topic_for(found.day)}"
                + (f"  ({changed})" if changed else "")
            )
        for change in calendar.stale:
            print(f"    ignored: chat's {change.kind} of {change.day} names no meeting any more")
    print(_adhoc(config.adhoc))
    due = schedule.due_jobs(config.meetings, now, ())
    print(f"Jobs due at {now.isoformat()} unless the runner has done them:{'' if due else ' none'}")
    for job in due:
        print(f"    {job.key}  due {_both_zones(job.due.astimezone(job.meeting.timezone))}")
    if args.zuliprc is not None or config.zuliprc is not None:
        _check_people(args.config, args.zuliprc)
        return _check_streams(config, args.zuliprc)
    return 0


def _item_time(meeting: MeetingConfig) -> str:
    shares = ", ".join(f"{share}%" for share in meeting.item_warn_at)
    warned = f"a ⏱️ line at {shares} of an item's time" if shares else "no ⏱️ lines"
    return f"items: {meeting.item_minutes} min each unless planned, {warned}"


def _adhoc(adhoc: AdhocConfig) -> str:
    """What `start meeting` will do, so a wrong folder or limit is seen before anyone tries."""
    if adhoc.allowed == ():
        return "Ad hoc meetings: off ([adhoc] allowed = [])"
    who = "anyone" if adhoc.allowed is None else ", ".join(adhoc.allowed)
    return (
        f"Ad hoc meetings: started by {who}; ended after {format_duration(adhoc.limit)} if "
        f"left open; notes in {adhoc.notes_dir}"
    )


def _ics(args: argparse.Namespace) -> int:
    config = _calendars(load_config(bot_runner.config_path(args.config))).config
    feed = ics.calendar(config, dt.datetime.now(dt.UTC)).to_ical()
    if args.out is None or str(args.out) == "-":
        sys.stdout.buffer.write(feed)
        return 0
    # Atomic, as a web server may be serving the file that people subscribe to.
    with tempfile.NamedTemporaryFile(dir=args.out.parent, prefix=".ics-", delete=False) as part:
        part.write(feed)
    Path(part.name).chmod(0o644)  # a temporary file is private; a feed is for everyone
    Path(part.name).replace(args.out)
    print(f"wrote {args.out}: {len(config.meetings)} meetings")
    return 0


def _import(args: argparse.Namespace) -> int:
    config = load_config(bot_runner.config_path(args.config))
    if not args.dir.is_dir():
        print(f"meetbot import: {args.dir} is not a folder; give a notes checkout", file=sys.stderr)
        return 2
    if args.meeting is not None and config.meeting(args.meeting) is None:
        known = ", ".join(m.key for m in config.meetings)
        raise ConfigError(config.path, "meetings", f"has no meeting {args.meeting!r}",
                          f"pick one of: {known}")  # fmt: skip
    bar = _progress if sys.stderr.isatty() else None
    archive = read_archive(args.dir, config.meetings, args.meeting, progress=bar)
    now = args.now or dt.datetime.now(dt.UTC)
    done: importer.Done | None = None
    if args.dry_run:
        with importer.snapshot(config.state_path) as scratch:
            plan = importer.plan(config, archive, scratch, now, args.since)
    else:
        store = Store(config.state_path)
        try:
            plan = importer.plan(config, archive, store, now, args.since)
            done = importer.apply(plan, store) if plan.changes else None
        finally:
            store.close()
    print("\n".join(importer.report(plan, dry_run=args.dry_run)))
    if done is not None:
        print(done)
    return 0


def _progress(done: int, total: int, path: Path) -> None:
    """A one-line bar on the terminal while a large archive is read."""
    filled = 30 * done // max(total, 1)
    end = "\n" if done == total else ""
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {path.name[:40]:<40}{end}"
    )
    sys.stderr.flush()


def _local_time(moment: dt.datetime) -> str:
    return f"{moment:%a %Y-%m-%d %H:%M} {moment.tzinfo}"


def _both_zones(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC).strftime("%a %Y-%m-%d %H:%M UTC")
    return f"{utc} = {_local_time(moment)}"


def _run(args: argparse.Namespace) -> int:
    bot_runner.setup_logging(args.log_json)
    config = load_config(bot_runner.config_path(args.config))
    zuliprc = bot_runner.zuliprc_for(config, args.zuliprc)
    if args.clock is None:
        return bot_runner.serve(
            config,
            zuliprc,
            health=args.health,
            linger=args.linger,
            store_wait=args.store_wait,
            new_store=args.new_store,
        )
    clock = FileClock(args.clock)
    try:
        clock.utc()
    except ValueError as error:
        raise StartupError(f"--clock: {error}") from None
    return bot_runner.serve(
        config,
        zuliprc,
        health=args.health,
        linger=args.linger,
        now=clock.utc,
        seconds_until=clock.seconds_until,
        tick_every=args.tick_every,
        store_wait=args.store_wait,
        new_store=args.new_store,
    )


def _check_people(config_path: Path, zuliprc: Path | None) -> None:
    config = load_config(config_path)
    print(f"people on {zuliprc}:")
    for found in bot_runner.resolve_people(config, bot_runner.zuliprc_for(config, zuliprc)):
        print(f"- {found.describe()}")


def _check_streams(config: BotConfig, zuliprc: Path | None) -> int:
    print("streams:")
    found = bot_runner.check_streams(config, bot_runner.zuliprc_for(config, zuliprc))
    for line, _ok in found:
        print(f"- {line}")
    return 0 if all(ok for _line, ok in found) else 1


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a time like 2024-11-06T17:05Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


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
    show.add_argument(
        "file",
        nargs="?",
        default=bundled("example-draft.md"),
        type=Path,
        help="the notes file (default: the bundled example draft)",
    )
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=_notes_show)

    check = notes_commands.add_parser("check", help="list problems; exit 1 if there are any")
    check.add_argument("files", nargs="+", type=Path)
    check.set_defaults(run=_notes_check)

    new = notes_commands.add_parser("new", help="write a new draft from a template")
    new.add_argument("--date", required=True, type=_date, help="the meeting date, 2024-11-06")
    new.add_argument(
        "--template",
        help="a Jinja template (default: the meeting's, else config/notes-template.md)",
    )
    new.add_argument("--meeting", help="whose draft: its template, title, video link and start")
    new.add_argument(
        "--config",
        type=Path,
        default=default_config_path(),
        help="the config --meeting is in (default: config/meetbot.example.toml)",
    )
    new.add_argument("out", type=Path, help="where to write the draft (must not exist)")
    new.set_defaults(run=_notes_new)

    shell = commands.add_parser("shell", help="chat with the bot in the terminal, no server")
    shell.add_argument(
        "--as",
        dest="as_email",
        required=True,
        metavar="EMAIL",
        help="who you are (a roster email, or any email)",
    )
    shell.add_argument(
        "--config",
        type=Path,
        default=default_config_path(),
        help="the bot's TOML config (default: config/meetbot.example.toml)",
    )
    shell.add_argument("--meeting", help="which meeting's stream to talk in (default: the first)")
    shell.add_argument("--now", type=_moment, help="pin the clock, e.g. 2024-11-06T17:05Z")
    shell.add_argument("--echo", action="store_true", help="print each input line too")
    shell.add_argument(
        "--sandbox",
        action="store_true",
        help="go through a local Zulip sandbox, the real runner and client (store and notes in "
        "a scratch folder; --now starts its clock there)",
    )
    shell.set_defaults(run=_shell)

    demo = commands.add_parser("demo", help="play a scripted meeting on the bundled config")
    demo.add_argument("--keep", metavar="DIR", help="use this folder instead of a new one in /tmp")
    demo.set_defaults(run=_demo)

    check_config = commands.add_parser("check-config", help="load the config, show the meetings")
    check_config.add_argument("config", nargs="?", type=Path, default=default_config_path())
    check_config.add_argument(
        "--zuliprc", type=Path, help="also match the roster and organizers to this Zulip's users"
    )
    check_config.add_argument("--now", type=_moment, help="pretend it is, e.g. 2024-11-06T17:05Z")
    check_config.set_defaults(run=_check_config)

    feed = commands.add_parser("ics", help="write the meetings as an iCalendar feed")
    feed.add_argument(
        "--config", type=Path, help="the TOML config (default: $MEETBOT_CONFIG, ./meetbot.toml)"
    )
    feed.add_argument("out", nargs="?", type=Path, help="the .ics file to write (default: stdout)")
    feed.set_defaults(run=_ics)

    run_bot = commands.add_parser("run", help="run the bot on Zulip until stopped")
    run_bot.add_argument(
        "--config", type=Path, help="the TOML config (default: $MEETBOT_CONFIG, ./meetbot.toml)"
    )
    run_bot.add_argument("--zuliprc", type=Path, help="the bot's zuliprc (default: the config's)")
    run_bot.add_argument("--log-json", action="store_true", help="log one JSON object a line")
    run_bot.add_argument("--health", type=Path, help="keep this file saying when it last worked")
    run_bot.add_argument(
        "--linger", type=float, default=2.0, help="under load, post at most once per this many s"
    )
    run_bot.add_argument(
        "--new-store",
        action="store_true",
        help="start on an empty store although the bot has posted before (it refuses to, "
        "without this: the old store is worth putting back)",
    )
    run_bot.add_argument(
        "--store-wait",
        type=float,
        default=30.0,
        metavar="S",
        help="if another meetbot holds the store, wait S seconds for it to exit, then give up "
        "(default 30: a restart may overlap the old process's last seconds)",
    )
    run_bot.add_argument(
        "--clock",
        type=Path,
        metavar="FILE",
        help="demos and tests only: take the time from this simulated-clock file "
        "(zulip_bot/demo/clock.py), as the sandbox does",
    )
    run_bot.add_argument(
        "--tick-every",
        type=float,
        default=30.0,
        metavar="S",
        help="look at the schedule every S real seconds (default 30; less with --clock)",
    )
    run_bot.set_defaults(run=_run)

    archive = commands.add_parser(
        "import",
        help="bring the roster, open action items and next draft up to date with past notes",
    )
    archive.add_argument("dir", type=Path, help="a notes checkout, or a meeting's notes folder")
    archive.add_argument(
        "--config", type=Path, help="the TOML config (default: $MEETBOT_CONFIG, ./meetbot.toml)"
    )
    archive.add_argument(
        "--since",
        type=_date,
        help="import the open action items of meetings from this date on (default: the three "
        "months before the archive's newest meeting)",
    )
    archive.add_argument(
        "--dry-run", action="store_true", help="print what it would do and write nothing"
    )
    archive.add_argument(
        "--meeting", help="put every file in this meeting (default: by the meetings' notes_path)"
    )
    archive.add_argument("--now", type=_moment, help="pretend it is, e.g. 2024-11-06T17:05Z")
    archive.set_defaults(run=_import)

    sandbox = commands.add_parser("sandbox", help="a Zulip-like server on 127.0.0.1 to try it")
    sandbox.add_argument(
        "--config",
        type=Path,
        default=default_config_path(),
        help="seed its streams and people (default: config/meetbot.example.toml)",
    )
    sandbox.add_argument(
        "--dir", default=".", help="where to write zuliprc-bot and zuliprc-<email> (default: .)"
    )
    sandbox.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    sandbox.add_argument(
        "--show-emails", action="store_true", help="let everyone see real emails (default: hidden)"
    )
    sandbox.set_defaults(run=run_sandbox)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except (NotesError, ConfigError, StartupError) as error:
        print(f"meetbot: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `meetbot demo | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
