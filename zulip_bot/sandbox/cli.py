"""`meetbot sandbox`: a sandbox seeded from a config, for trying the bot by hand.

It creates the config's streams, its roster's people (organizers as admins), and the bot, then
writes one zuliprc per account so that `meetbot run --zuliprc DIR/zuliprc-bot` runs the bot and
`zulip-send --config-file DIR/zuliprc-<email>` talks to it as a person.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from zulip_bot.config import BotConfig, load_config
from zulip_bot.sandbox.model import User
from zulip_bot.sandbox.sandbox import Sandbox


@dataclass(frozen=True)
class Seeded:
    bot: User
    people: tuple[User, ...]


def _name_from_email(email: str) -> str:
    return email.split("@", 1)[0].replace(".", " ").replace("-", " ").title()


def seed(sandbox: Sandbox, config: BotConfig) -> Seeded:
    """The roster's people, any organizer missing from it, the bot, and every meeting's stream."""
    organizers = {email for meeting in config.meetings for email in meeting.organizers}
    people: list[User] = []
    for person in config.roster.people:
        if person.email:
            role = "admin" if person.email in organizers else "member"
            people.append(
                sandbox.add_user(person.name, person.email, role=role, github=person.github or None)
            )
    known = {user.delivery_email for user in people}
    for email in sorted(organizers - known):
        people.append(sandbox.add_user(_name_from_email(email), email, role="admin"))
    owner = next((u for u in people if u.is_admin), None)
    bot = sandbox.add_bot(config.bot_name, short_name=config.bot_name.casefold(), owner=owner)
    for stream in dict.fromkeys(meeting.stream for meeting in config.meetings):
        sandbox.add_stream(
            stream,
            subscribers=[bot, *people],
            creator=owner,
            description="Seeded by meetbot sandbox",
        )
    return Seeded(bot, tuple(people))


def write_zuliprcs(sandbox: Sandbox, seeded: Seeded, directory: Path) -> list[Path]:
    written = [sandbox.zuliprc(directory / "zuliprc-bot", seeded.bot.delivery_email)]
    for person in seeded.people:
        written.append(
            sandbox.zuliprc(directory / f"zuliprc-{person.delivery_email}", person.delivery_email)
        )
    return written


def _wait_for_signal() -> None:
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, handle)
    while not stop.wait(0.5):
        pass


def run_sandbox(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    directory = Path(args.dir)
    sandbox = Sandbox.start(port=args.port, hide_emails=not args.show_emails)
    try:
        seeded = seed(sandbox, config)
        files = write_zuliprcs(sandbox, seeded, directory)
        print(f"Zulip sandbox running at {sandbox.url}", flush=True)
        print(f"  the bot:   {files[0]}  ({seeded.bot.delivery_email})")
        for path in files[1:]:
            print(f"  a person:  {path}")
        streams = ", ".join(sorted({f"#{m.stream}" for m in config.meetings}))
        print(f"  streams:   {streams}")
        print(f"Run the bot: meetbot run --config {config.path} --zuliprc {files[0]}")
        if len(files) > 1:
            first = config.meetings[0]
            print(
                f"Talk as a person: zulip-send --config-file {files[1]} --stream {first.stream!r}"
                f" --subject 'hello' --message '@**{config.bot_name}** help'"
            )
        print("Stop with Ctrl-C.", flush=True)
        _wait_for_signal()
    finally:
        sandbox.stop()
    print("sandbox stopped", file=sys.stderr)
    return 0
