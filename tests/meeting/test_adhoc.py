"""Ad hoc meetings through the service: `start meeting <title>` in any topic, the live
commands there, `end` and the summary, the time limit on the schedule's tick, who may start
one and where not, a restart in between, and the notes file's name made from chat text."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.meeting.conftest import Chat, make_chat
from zulip_bot.chat.roster import Wanted, wanted_people
from zulip_bot.config import ConfigError, load_config
from zulip_bot.meeting import adhoc
from zulip_bot.meeting import commands as c
from zulip_bot.meeting.effects import Effect, Incoming, Send
from zulip_bot.meeting.service import MeetingService
from zulip_bot.meeting.store import Store
from zulip_bot.notes import NotesDocument

NOW = dt.datetime(2024, 11, 8, 10, 0, tzinfo=dt.UTC)  # no scheduled meeting near
MIN = dt.timedelta(minutes=1)
STREAM, TOPIC = "packaging", "rattler release"
NAME = "2024-11-08_packaging_rattler-release.md"
SCHEDULED = "2024-11-06 Conda Community Meeting"


def say(
    chat: Chat,
    who: str,
    text: str,
    now: dt.datetime = NOW,
    stream: str | None = STREAM,
    topic: str | None = TOPIC,
) -> str:
    """What the bot answers, in `stream` > `topic` (a direct message without a stream)."""
    return "\n".join(r.content for r in effects(chat, who, text, now, stream, topic))


def effects(
    chat: Chat, who: str, text: str, now: dt.datetime, stream: str | None, topic: str | None
) -> list[Send]:
    number = next(chat._ids)
    message = Incoming(f"m{number}", number, chat.senders[who], text, stream, topic)
    return [r for r in chat.service.handle_message(message, now) if isinstance(r, Send)]


def sends(found: list[Effect]) -> list[Send]:
    return [r for r in found if isinstance(r, Send)]


def notes(chat: Chat, name: str = NAME) -> NotesDocument:
    return NotesDocument.load(chat.config.adhoc.notes_dir / name)


@pytest.fixture
def started(chat: Chat) -> Chat:
    """Wolf started one in #packaging > rattler release, with two items, the first open."""
    say(chat, "WV", "start meeting Rattler release")
    say(chat, "WV", "add item Version 1.0 blockers")
    say(chat, "BZ", "add item Docs")
    say(chat, "WV", "next")
    return chat


def test_start_to_summary_with_the_live_commands(started: Chat) -> None:
    chat = started
    assert say(chat, "BZ", "here") == "Welcome, Bas Zalmstra (BZ)! 1 person here so far."
    assert say(chat, "BZ", "note we ship on Friday") == "Noted under item 1."
    assert say(chat, "WV", "decided Release 1.0 next week") == "Decision recorded under item 1."
    assert say(chat, "WV", "action BZ write the changelog") == (
        "Action item A1 recorded under item 1."
    )
    assert say(chat, "WV", "next") == "Now on item 2: BZ: Docs"
    doc = notes(chat)
    text = (chat.config.adhoc.notes_dir / NAME).read_text(encoding="utf-8")
    assert text.startswith("---\ntags: [meeting-notes]\n---\n# 2024-11-08 Rattler release\n")
    assert "#packaging > rattler release" in text
    assert [(i.owners, i.text, i.checked) for i in doc.items("New Agenda Items")] == [
        (("WV",), "Version 1.0 blockers", True),
        (("BZ",), "Docs", True),
    ]
    assert [a.name for a in doc.attendees()] == ["Bas Zalmstra"]

    summary = say(chat, "WV", "end", NOW + 30 * MIN)
    assert summary.startswith("## Summary: Rattler release 2024-11-08\n")
    assert "- WV: Version 1.0 blockers\n  - Decision: Release 1.0 next week" in summary
    assert "A1: write the changelog" in summary
    assert "I ended this ad hoc meeting" not in summary
    assert "Next draft" not in summary  # it has no next occurrence

    # the action item joins the registry: `actions` and `done` work for it anywhere
    assert "A1: write the changelog" in say(chat, "BZ", "actions mine", stream=None, topic=None)
    assert say(chat, "BZ", "done A1", stream=None, topic=None) == ("Closed A1: write the changelog")
    # after `end` the topic is free: live commands no longer go to the ad hoc meeting
    assert "ad hoc" not in say(chat, "WV", "next", NOW + 31 * MIN)
    assert chat.service.store.open_adhoc() == []


def tick(chat: Chat, now: dt.datetime) -> list[Send]:
    return sends(chat.service.tick(now))


def test_refusals_say_what_would_work(chat: Chat) -> None:
    assert say(chat, "JRG", "start meeting Triage", stream="community", topic=SCHEDULED) == (
        f"#**community>{SCHEDULED}** is the topic of the scheduled Conda Community Meeting "
        "(`community`), so I will not start another meeting in it: send `start meeting "
        "<title>` in a topic of its own."
    )
    # any date's topic of the meeting, not only the next one's
    assert "scheduled Conda Community Meeting" in say(
        chat,
        "JRG",
        "start meeting Triage",
        stream="Community",
        topic="2031-01-01 Conda Community Meeting",
    )
    assert say(chat, "JRG", "start meeting Triage", stream=None, topic=None) == (
        "`start meeting <title>` holds the meeting in the topic you send it in: send it in a "
        "stream's topic, not a direct message."
    )
    assert say(chat, "WV", "start meeting Rattler release").startswith("**Rattler release** has")
    assert say(chat, "JRG", "start meeting Another", topic="Rattler Release") == (
        "**Rattler release** is already running in this topic (since "
        "<time:2024-11-08T10:00:00Z>): its chair ends it with `end`, or start yours in another "
        "topic."
    )
    assert say(chat, "JRG", "start meeting") == (
        "`start meeting` needs a title, like `start meeting Release planning`."
    )
    assert say(chat, "JRG", "start meting Triage", topic="other") == (
        "`start` takes nothing after it; you wrote `meting Triage`. Did you mean `start meeting`?"
    )
    assert [r.title for r in chat.service.store.open_adhoc()] == ["Rattler release"]


def test_who_may_start_one_is_the_configs_choice(tmp_path: Path) -> None:
    listed = make_chat(tmp_path, ('allowed = "anyone"', 'allowed = ["WolfV@example.org"]'))
    assert say(listed, "JRG", "start meeting Triage") == (
        "Only the people listed in my configuration under `[adhoc] allowed` (Wolf Vollprecht) "
        "may start an ad hoc meeting: ask one of them to start it, or whoever runs me to add you."
    )
    assert listed.service.store.open_adhoc() == []
    assert say(listed, "WV", "start meeting Triage").startswith("**Triage** has started here")

    # where a realm hides emails, the runner matches them to Zulip users as it does organizers
    assert Wanted("wolfv@example.org", "Wolf Vollprecht", "wolfv") in wanted_people(listed.config)
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    newcomer = make_chat(stranger, ('allowed = "anyone"', 'allowed = ["new@example.org"]'))
    assert Wanted("new@example.org") in wanted_people(newcomer.config)

    nobody = tmp_path / "nobody"
    nobody.mkdir()
    off = make_chat(nobody, ('allowed = "anyone"', "allowed = []"))
    assert say(off, "WV", "start meeting Triage") == (
        "Ad hoc meetings are turned off in my configuration (`[adhoc] allowed = []`); the "
        "scheduled meetings work as usual."
    )


def test_the_starter_chairs_it(started: Chat) -> None:
    chat = started
    assert (
        say(chat, "BZ", "next") == "Only organizers and co-chairs of Rattler release can do that."
    )
    assert say(chat, "BZ", "end") == "Only organizers and co-chairs of Rattler release can do that."
    say(chat, "WV", "chair @**Bas Zalmstra**")
    assert say(chat, "BZ", "next") == "Now on item 2: BZ: Docs"


def test_in_a_scheduled_meetings_stream_the_topic_is_the_ad_hoc_meetings(chat: Chat) -> None:
    """#community has one meeting, which any topic there used to mean; an ad hoc meeting's topic
    is its own while it runs, and the scheduled meeting's again after."""
    say(chat, "JRG", "start meeting Side call", stream="community", topic="side call")
    reply = say(chat, "DG", "add item Zulip CEP", stream="community", topic="side call")
    assert reply.startswith("Added item **1** to New Agenda Items: DG: Zulip CEP")
    doc = notes(chat, "2024-11-08_community_side-call.md")
    assert [i.text for i in doc.items("New Agenda Items")] == ["Zulip CEP"]
    assert not chat.notes_path(dt.date(2024, 11, 20)).exists()  # the community draft: untouched

    say(chat, "JRG", "end", stream="community", topic="side call")
    again = say(chat, "DG", "add item Zulip CEP", stream="community", topic="side call")
    assert again.startswith("Added item **1** to New Agenda Items: DG: Zulip CEP")
    community = NotesDocument.load(chat.notes_path(dt.date(2024, 11, 20)))
    assert [i.text for i in community.items("New Agenda Items")] == ["Zulip CEP"]


def test_it_survives_a_restart(started: Chat) -> None:
    config = started.config
    started.service.store.close()
    service = MeetingService(config, Store(config.state_path))
    restarted = Chat(service, started.senders, _ids=started._ids)
    assert say(restarted, "WV", "decided Ship it") == "Decision recorded under item 1."
    assert say(restarted, "WV", "end").startswith("## Summary: Rattler release 2024-11-08\n")


def test_the_transcript_is_kept_beside_the_notes(started: Chat) -> None:
    number = next(started._ids)
    said = "I can take docs"
    plain = Incoming(f"m{number}", number, started.senders["BZ"], said, STREAM, TOPIC, False)
    assert started.service.handle_message(plain, NOW) == []
    transcript = started.config.adhoc.notes_dir / NAME.replace(".md", ".transcript.txt")
    text = transcript.read_text(encoding="utf-8")
    assert "Wolf Vollprecht: start meeting Rattler release" in text
    assert "Bas Zalmstra: I can take docs" in text


def test_left_open_it_is_ended_by_the_limit_on_the_tick(started: Chat) -> None:
    chat = started
    say(chat, "WV", "action BZ write the changelog")
    limit = chat.config.adhoc.limit
    assert limit == dt.timedelta(hours=4)
    (timed,) = tick(chat, NOW + limit - MIN)  # item 1 is long past its planned time
    assert timed.content.startswith("⏱️ Item 1 (Version 1.0 blockers) has had its 10 min: 1 item")
    say(chat, "BZ", "add item Not today")
    ended = tick(chat, NOW + limit)
    assert [(s.stream, s.topic) for s in ended] == [(STREAM, TOPIC)]
    assert ended[0].content.startswith(
        "## Summary: Rattler release 2024-11-08\n_I ended this ad hoc meeting: it was still "
        "open 4 hours after it started, and nobody sent `end`._\nHeld <time:2024-11-08T10:00:00Z>"
    )
    assert "A1: write the changelog" in ended[0].content
    assert "**Not reached** (2):\n- Docs\n- Not today" in ended[0].content  # nothing carries
    assert tick(chat, NOW + limit + MIN) == []  # once
    assert chat.service.store.open_adhoc() == []
    # the topic is free again; the same day's second meeting there has a file of its own
    later = NOW + limit + 2 * MIN
    assert say(chat, "WV", "start meeting Round two", later).startswith("**Round two** has")
    assert (chat.config.adhoc.notes_dir / NAME.replace(".md", "_2.md")).is_file()


def test_its_open_item_is_warned_at_its_time_like_a_scheduled_one(chat: Chat) -> None:
    say(chat, "WV", "start meeting Rattler release")
    say(chat, "WV", "add item Version 1.0 blockers (10 min)")
    say(chat, "WV", "next")
    assert [s.content for s in sends(chat.service.tick(NOW + 9 * MIN))] == []
    (warning,) = sends(chat.service.tick(NOW + 10 * MIN))
    assert (warning.stream, warning.topic) == (STREAM, TOPIC)
    assert warning.content == "⏱️ Item 1 (Version 1.0 blockers) has had its 10 min: no items to go."
    assert sends(chat.service.tick(NOW + 11 * MIN)) == []
    say(chat, "WV", "end", NOW + 12 * MIN)
    assert sends(chat.service.tick(NOW + 30 * MIN)) == []  # ended: no more lines


def test_one_that_cannot_be_ended_is_reported_once_to_its_chair(started: Chat) -> None:
    chat = started
    (chat.config.adhoc.notes_dir / NAME).unlink()  # its items are in the store: never start over
    limit = chat.config.adhoc.limit
    reported = tick(chat, NOW + limit)
    assert len(reported) == 1
    assert reported[0].content.startswith(
        "@**Wolf Vollprecht|104**: **Rattler release** is past its time limit, but I could not end "
        "it: The notes draft `"
    )
    assert tick(chat, NOW + limit + MIN) == []
    assert [r.title for r in chat.service.store.open_adhoc()] == ["Rattler release"]


def test_the_chair_may_close_its_action_items(started: Chat) -> None:
    say(started, "WV", "action BZ write the changelog")
    assert say(started, "JRG", "done A1", stream=None, topic=None) == (
        "A1 belongs to BZ; they or an organizer can close it."
    )
    assert say(started, "WV", "done A1", stream=None, topic=None) == (
        "Closed A1: write the changelog"
    )


def test_start_meeting_is_parsed_and_in_the_help() -> None:
    assert c.parse("start meeting  Release\n planning") == c.StartMeeting("Release planning")
    assert c.parse("START MEETING x") == c.StartMeeting("x")
    assert c.parse("start") == c.Start()
    with pytest.raises(c.CommandError, match="the limit is 100"):
        c.parse("start meeting " + "x" * 101)
    live = c.help_for("live")
    assert live is not None
    assert "- `start meeting <title>`: start a meeting nobody scheduled" in live
    assert "`start`, `start meeting`, `here`" in c.overview()
    assert c.help_for("start meeting") is not None


# --- the notes file's name, from chat text ----------------------------------------------------


@given(st.text(max_size=80), st.text(max_size=80))
def test_a_notes_name_stays_in_its_folder_and_is_never_hidden(stream: str, topic: str) -> None:
    folder = Path("/nonexistent/adhoc")
    name = adhoc.notes_name(folder, stream, topic, dt.date(2026, 12, 6))
    assert name.startswith("2026-12-06_") and name.endswith(".md")
    assert "/" not in name and "\\" not in name and "\0" not in name and ".." not in name
    assert (folder / name).parent == folder
    assert len(name.encode("utf-8")) < 255
    assert all(ch.isprintable() for ch in name)


def test_a_notes_name_from_hostile_text_and_taken_names(tmp_path: Path) -> None:
    day = dt.date(2026, 12, 6)
    assert adhoc.notes_name(tmp_path, "../../etc", ".bashrc", day) == "2026-12-06_etc_bashrc.md"
    assert adhoc.notes_name(tmp_path, "☃", "%Y/%m", day) == "2026-12-06_stream_y-m.md"
    assert adhoc.notes_name(tmp_path, "Équipe", "Réunion  Été", day) == (
        "2026-12-06_équipe_réunion-été.md"
    )
    os.symlink("/etc/passwd", tmp_path / "2026-12-06_etc_bashrc.md")  # never followed
    (tmp_path / "2026-12-06_etc_bashrc_2.transcript.txt").write_text("", encoding="utf-8")
    assert adhoc.notes_name(tmp_path, "../../etc", ".bashrc", day) == ("2026-12-06_etc_bashrc_3.md")


def test_a_topic_with_percent_signs_is_its_own_name(chat: Chat) -> None:
    topic = "100% %Y uptime"
    assert say(chat, "WV", "start meeting Uptime", topic=topic).startswith("**Uptime** has")
    assert say(chat, "WV", "add item SLOs", topic=topic).startswith("Added item **1**")
    assert say(chat, "WV", "end", topic=topic).startswith("## Summary: Uptime 2024-11-08")
    assert "Uptime" in say(chat, "WV", "start meeting Uptime", topic=topic)


# --- the config -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            'allowed = "everyone"',
            "adhoc.allowed: 'everyone' is neither 'anyone' nor a list; write \"anyone\", or "
            'list Zulip emails like ["you@example.org"] ([] lets nobody)',
        ),
        (
            'allowed = ["wolfv@example.org", "jaime"]',
            "adhoc.allowed[1]: 'jaime' is not an email address; use the person's Zulip email",
        ),
        (
            "allowed = 3",
            'adhoc.allowed: got 3 (an integer); expected "anyone" or a list of Zulip emails like '
            '["you@example.org"]',
        ),
        (
            'limit = "0 minutes"',
            'adhoc.limit: 0 minutes is not between a minute and a day; write e.g. "4 hours"',
        ),
        (
            'limit = "soon"',
            "adhoc.limit: 'soon' is not a duration: it cannot read 'soon'; write whole numbers "
            'of weeks, days, hours or minutes, e.g. "4 hours" or "1 hour 30 minutes"',
        ),
        (
            'template = "missing.md"',
            "adhoc.template: {dir}/missing.md does not exist; create it or give a path relative "
            "to the config file",
        ),
        (
            'notes_dir = "people.example.toml"',
            "adhoc.notes_dir: {dir}/people.example.toml is not a folder; name a folder (made "
            "when the first one starts)",
        ),
        ('alowed = "anyone"', 'adhoc.alowed: unknown key; did you mean "allowed"?'),
    ],
)
def test_config_errors_name_the_key_and_the_fix(tmp_path: Path, line: str, error: str) -> None:
    make_chat(tmp_path)  # the example config, copied
    path = tmp_path / "meetbot.example.toml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("[adhoc]\n"), text.index("# Each [meetings")
    key = line.split(" ")[0]
    table = [old for old in text[start:end].splitlines() if not old.startswith(f"{key} ")]
    path.write_text(text[:start] + "\n".join([table[0], line, *table[1:]]) + "\n" + text[end:])
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: " + error.format(dir=tmp_path.resolve())


def test_config_defaults(tmp_path: Path) -> None:
    make_chat(tmp_path)
    path = tmp_path / "meetbot.example.toml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("[adhoc]"), text.index("# Each [meetings")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    config = load_config(path).adhoc
    assert config.allowed is None  # anyone
    assert config.limit == dt.timedelta(hours=4)
    assert config.notes_dir == tmp_path.resolve() / "adhoc-notes"  # beside the state
    assert config.template.read_text(encoding="utf-8").startswith(
        '---\ntags: [meeting-notes]\n---\n# {{ date.strftime("%Y-%m-%d") }} {{ title }}\n'
    )
