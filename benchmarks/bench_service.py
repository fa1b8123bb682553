"""How long `MeetingService` takes per chat command, with a big draft and a long history.

    python benchmarks/bench_service.py [--repeat N] [--dir PATH] [--no-settle]

Builds a world in a temporary directory (a copy of `config/`, its store and notes): the draft of
the 2024-11-06 community meeting holds 300 agenda items, and the store holds N past meetings
(ended, every other Wednesday back from 2024-11-06, each with items and action items) that
share 10,000 past votes. For N = 1 and N = 100 it times `--repeat` runs of each command through
`handle_message` / `handle_reaction` with `time.perf_counter_ns`, and prints p50, p99 and max
per command, how the two N compare, and which commands meet the goal of p99 <= 5 ms.

The world is built, then the heap is settled as the bot's handler does at start-up
(`zulip_bot.chat.process.settle_heap`); `--no-settle` leaves that out, to show what full
garbage collections cost the slowest commands.

Every timed call is a full event: store transaction, notes file read, parse, edit and atomic
save (with fsync, so `--dir` on another disk changes the figures). Commands that grow the draft
are undone, untimed, after each run, so every run sees the same 300-item draft. The commands
after `start` run in a live meeting, in the meeting's topic, so each is also transcribed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from zulip_bot.chat.process import settle_heap
from zulip_bot.config import MeetingConfig, load_config
from zulip_bot.meeting.effects import Incoming, Send, Sender
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store
from zulip_bot.notes import new_draft

CONFIG = Path(__file__).resolve().parents[1] / "config"
CONFIG_FILES = ("meetbot.example.toml", "people.example.toml", "notes-template.md")
NOW = dt.datetime(2024, 11, 6, 16, 30, tzinfo=dt.UTC)  # half an hour before: `start` may run
DAY = dt.date(2024, 11, 6)
STREAM, TOPIC = "community", "2024-11-06 Conda Community Meeting"  # transcribed once live
ORGANIZER = Sender("jaimergp@example.org", "Jaime Rodríguez-Guerra", 10)
DASHA = Sender("dashagurova@example.org", "Dasha Gurova", 11)
OWNERS = ("JRG", "DG", "BZ", "WV", "FF", "ME", "RA", "CHL")
DRAFT_ITEMS = 300
PAST_VOTES = 10_000
PAST_ITEMS = 10  # per past meeting
PAST_ACTIONS = 3  # per past meeting; the first of each is done
REACTED_MESSAGE = 900_001  # the bot's (pretend) reply to `add item` for item 1
GOAL_MS = 5.0
FIRST_NAMES = ("Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun")
LAST_NAMES = ("Quist", "Rowe", "Sato", "Tran", "Ueda", "Vance", "Wolff", "Xu", "Yang", "Zorn")


# --- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    service: MeetingService
    meeting: MeetingConfig
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def store(self) -> Store:
        return self.service.store

    @property
    def draft(self) -> Path:
        return self.meeting.notes_path_for(DAY)

    def message(self, who: Sender, text: str) -> Incoming:
        number = next(self._ids)
        return Incoming(f"m{number}", number, who, text, STREAM, TOPIC)

    def say(self, who: Sender, text: str, expect: str = "") -> str:
        """Untimed: one command, whose reply must contain `expect`."""
        return check(self.service.handle_message(self.message(who, text), NOW), text, expect)

    def timed(self, who: Sender, text: str, expect: str) -> int:
        """One command through `handle_message`, in nanoseconds; the reply is checked after."""
        message = self.message(who, text)
        start = time.perf_counter_ns()
        effects = self.service.handle_message(message, NOW)
        elapsed = time.perf_counter_ns() - start
        check(effects, text, expect)
        return elapsed


def check(effects: Sequence[Send], text: str, expect: str) -> str:
    """A benchmark of the wrong code path is worthless: stop when a reply is not the one meant."""
    content = "\n".join(e.content for e in effects)
    if expect not in content:
        raise SystemExit(f"`{text}` answered {content!r}; expected {expect!r} in it")
    return content


def build_world(root: Path, past_meetings: int) -> World:
    for name in CONFIG_FILES:
        shutil.copy(CONFIG / name, root / name)
    config = load_config(root / "meetbot.example.toml")
    world = World(MeetingService(config, Store(config.state_path)), config.meetings[0])
    seed_history(world, past_days(past_meetings))
    world.draft.parent.mkdir(parents=True, exist_ok=True)
    world.draft.write_text(draft_text(world.meeting, DRAFT_ITEMS), encoding="utf-8")
    world.say(DASHA, "agenda", f"| {DRAFT_ITEMS} |")  # the service numbers the 300 items
    world.service.message_sent(f"item:{world.meeting.key}:{DAY}:1", REACTED_MESSAGE)
    return world


def past_days(count: int) -> list[dt.date]:
    return [DAY - dt.timedelta(weeks=2 * back) for back in range(1, count + 1)]


def seed_history(world: World, days: list[dt.date]) -> None:
    """Ended meetings with items, action items and `PAST_VOTES` votes spread evenly over them."""
    store, key = world.store, world.meeting.key
    per_item = -(-PAST_VOTES // (len(days) * PAST_ITEMS))  # ceiling division
    votes = iter(range(PAST_VOTES))
    with store.transaction():
        for day in days:
            iso = day.isoformat()
            store.set_status(key, iso, "ended", None)
            for number in range(1, PAST_ITEMS + 1):
                text = f"Past topic {number} of {iso}"
                owner = OWNERS[number % len(OWNERS)]
                store.add_item(key, iso, "New Agenda Items", text, (owner,), None)
                for _voter in itertools.islice(votes, per_item):
                    store.vote(key, iso, number, f"voter{_voter % 2000}@example.org", True)
            for index in range(PAST_ACTIONS):
                owner = OWNERS[(index + day.toordinal()) % len(OWNERS)]
                action = store.add_action(key, iso, f"Past topic 1 of {iso}", owner, "follow up")
                if index == 0:
                    store.set_action(action, done=True)


def draft_text(meeting: MeetingConfig, items: int) -> str:
    """The template's draft with `items` agenda items, some with links, code and sub-bullets."""
    doc = new_draft(meeting.template.read_text(encoding="utf-8"), DAY)
    section = meeting.section("item")
    for number in range(items):
        text = f"topic {number}: see [CEP {number}](https://github.com/conda/ceps/pull/{number})"
        if number % 3 == 0:
            text += " and `conda install` **behaviour**"
        doc.add_item(section, text, owners=(OWNERS[number % len(OWNERS)],))
    return doc.render()


@contextmanager
def restored(path: Path) -> Iterator[None]:
    """Put the notes file back as it was (untimed), as someone editing it by hand would."""
    text = path.read_text(encoding="utf-8")
    yield
    path.write_text(text, encoding="utf-8")


# --- the commands -------------------------------------------------------------------------------

Run = Callable[[World, int], int]


def add_item(world: World, i: int) -> int:
    took = world.timed(DASHA, f"add item new topic {i} with a [link](https://example.org/{i})",
                       "Added item")  # fmt: skip
    world.say(DASHA, "undo", "Removed item")
    return took


def edit(world: World, i: int) -> int:
    return world.timed(ORGANIZER, f"edit 7 topic 7, revised {i}", "Item 7 now reads")


def vote(world: World, i: int) -> int:
    return world.timed(DASHA, f"vote {i % DRAFT_ITEMS + 1}", "Voted for")


def unvote(world: World, i: int) -> int:
    return world.timed(DASHA, f"unvote {i % DRAFT_ITEMS + 1}", "Took back your vote")


def agenda(world: World, i: int) -> int:
    return world.timed(DASHA, "agenda", "Conda Community Meeting")


def here(world: World, i: int) -> int:
    first, last = FIRST_NAMES[i % 10], LAST_NAMES[i // 10 % 10]
    guest = Sender(f"guest{i}@example.net", f"{first} {last}", 1000 + i)
    with restored(world.draft):
        return world.timed(guest, "here", "Welcome")


def note(world: World, i: int) -> int:
    took = world.timed(DASHA, f"note point {i} was raised", "Noted under item")
    world.say(DASHA, "undo", "Removed your note")
    return took


def decided(world: World, i: int) -> int:
    took = world.timed(ORGANIZER, f"decided we go with option {i}", "Decision recorded")
    world.say(ORGANIZER, "undo", "Removed your decision")
    return took


def action(world: World, i: int) -> int:
    took = world.timed(DASHA, f"action JRG open a PR for {i}", "Action item A")
    world.say(DASHA, "undo", "Removed your")  # the note and the registered action item
    return took


def next_item(world: World, i: int) -> int:
    with restored(world.draft):
        return world.timed(ORGANIZER, "next", "Now on item")


def actions(world: World, i: int) -> int:
    return world.timed(DASHA, "actions", "Open action items")


def help_(world: World, i: int) -> int:
    return world.timed(DASHA, "help", "Mention me")


def mistyped(world: World, i: int) -> int:
    return world.timed(DASHA, "agnda", "I don't know")


def reaction(world: World, i: int) -> int:
    start = time.perf_counter_ns()
    world.service.handle_reaction(f"r{i}", DASHA, REACTED_MESSAGE, "+1", i % 2 == 0, NOW)
    return time.perf_counter_ns() - start


def start_meeting(world: World) -> None:
    world.say(ORGANIZER, "start", "has started")
    world.say(ORGANIZER, "next", "Now on item")


BEFORE_START: tuple[tuple[str, Run], ...] = (
    ("add item", add_item), ("edit", edit), ("vote", vote), ("unvote", unvote),
    ("agenda", agenda), ("here", here), ("actions", actions), ("help", help_),
    ("mistyped", mistyped), ("reaction", reaction),
)  # fmt: skip
LIVE: tuple[tuple[str, Run], ...] = (
    ("note", note), ("action", action), ("decided", decided), ("next", next_item),
    ("help (live)", help_), ("mistyped (live)", mistyped),
)  # fmt: skip


# --- measuring and reporting --------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    p50: float
    p99: float
    max: float


def figures(samples_ns: list[int]) -> Figures:
    ms = [s / 1e6 for s in samples_ns]
    p99 = statistics.quantiles(ms, n=100, method="inclusive")[98]
    return Figures(statistics.median(ms), p99, max(ms))


def measure(world: World, repeat: int) -> dict[str, Figures]:
    """`repeat` timed runs of each command, after one untimed warm-up run of it."""
    results: dict[str, Figures] = {}
    for phase in (BEFORE_START, LIVE):
        if phase is LIVE:
            start_meeting(world)
        for name, run in phase:
            samples = [run(world, i) for i in range(repeat + 1)][1:]
            results[name] = figures(samples)
    return results


def print_table(title: str, results: dict[str, Figures]) -> None:
    print(title)
    print(f"  {'command':<16} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, f in results.items():
        print(f"  {name:<16} {f.p50:>8.2f} {f.p99:>8.2f} {f.max:>8.2f}")
    print()


def print_comparison(few: dict[str, Figures], many: dict[str, Figures], n: tuple[int, int]) -> None:
    ratios = ", ".join(f"{name} {many[name].p50 / few[name].p50:.2f}x" for name in few)
    print(f"p50 ratio, {n[1]} vs {n[0]} past meetings: {ratios}")
    worst = {name: max(few[name].p99, many[name].p99) for name in few}
    met = [name for name, p99 in worst.items() if p99 <= GOAL_MS]
    missed = [f"{name} ({p99:.1f} ms)" for name, p99 in worst.items() if p99 > GOAL_MS]
    print(f"p99 <= {GOAL_MS:g} ms goal (worse of both N): met by {', '.join(met) or 'none'}; "
          f"missed by {', '.join(missed) or 'none'}")  # fmt: skip


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--repeat", type=int, default=200, help="timed runs per command")
    options.add_argument("--dir", type=Path, default=None, help="where the temporary world goes")
    options.add_argument("--no-settle", action="store_true", help="skip the start-up heap freeze")
    args = options.parse_args()

    counts = (1, 100)
    results: dict[int, dict[str, Figures]] = {}
    for past in counts:
        with tempfile.TemporaryDirectory(dir=args.dir) as root:
            world = build_world(Path(root), past)
            if not args.no_settle:
                settle_heap()
            results[past] = measure(world, args.repeat)
            world.store.close()
        print_table(f"{past} past meeting(s), {DRAFT_ITEMS}-item draft, {PAST_VOTES:,} past "
                    f"votes, {args.repeat} runs per command", results[past])  # fmt: skip
    print_comparison(results[counts[0]], results[counts[1]], counts)


if __name__ == "__main__":
    main()
