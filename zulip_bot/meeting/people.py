"""Who is who: Zulip senders as the notes name them, organizers, and mentions.

A sender from the roster is the roster's person. Anyone else gets initials made from their
name, unique among everyone the bot knows, until they pick their own with `iam`. Everyone who
speaks is remembered with their Zulip id, because poll ballots carry only the id and a summary
mentions owners as `@**Name|id**`.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from zulip_bot.config import BotConfig, MeetingConfig, Person
from zulip_bot.meeting.commands import Mention
from zulip_bot.meeting.effects import Sender
from zulip_bot.meeting.mentions import silenced
from zulip_bot.meeting.refusal import Refused
from zulip_bot.meeting.store import PersonRow, Store
from zulip_bot.notes.extract import is_initials


def _latin_words(text: str) -> list[str]:
    """Upper-case ASCII letters of each word, accents dropped."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = ("".join(ch for ch in word if ch.isalpha()) for word in re.split(r"[\s._-]+", plain))
    return [word.upper() for word in words if word]


def _person(row: PersonRow) -> Person:
    return Person(row.name, row.initials, row.affiliation, row.github, row.email)


class People:
    def __init__(self, config: BotConfig, store: Store) -> None:
        self.config = config
        self.store = store

    def identify(self, sender: Sender) -> Person:
        known = self.config.roster.by_email(sender.email)
        stored = self.store.person(sender.email)
        if stored is not None and (stored.registered or known is None):
            if stored.user_id != sender.user_id:
                self.store.save_person(replace(stored, user_id=sender.user_id))
            return _person(stored)
        person = known or Person(
            sender.full_name,
            self.new_initials(sender.full_name, sender.email),
            email=sender.email.casefold(),
        )
        if stored is None or stored.user_id != sender.user_id:
            self.store.save_person(
                PersonRow(
                    sender.email.casefold(),
                    sender.user_id,
                    person.name,
                    person.initials,
                    person.affiliation,
                    person.github,
                    registered=False,
                )
            )
        return person

    def resolved(self, email: str, user_id: int) -> None:
        """The runner found this configured person's Zulip id at start-up: mentions of them
        notify (`@**Name|id**`) before they have ever spoken to the bot."""
        known = self.config.roster.by_email(email)
        if known is not None:
            self.identify(Sender(email, known.name, user_id))
            return
        stored = self.store.person(email.casefold())
        if stored is not None and stored.user_id != user_id:
            self.store.save_person(replace(stored, user_id=user_id))

    def find(self, mention: Mention) -> Person | None:
        """Whom `@**Name**` means: by Zulip id when the mention has one, else by name, the
        roster first, then the people who have spoken to the bot."""
        stored = self.store.person_by_id(mention.user_id) if mention.user_id else None
        if stored is None:
            named = self.config.roster.by_name(mention.name)
            if named is not None:
                return named
            stored = self.store.person_by_name(mention.name)
        if stored is None:
            return None
        known = self.config.roster.by_email(stored.email)
        return known if known is not None and not stored.registered else _person(stored)

    def known_initials(self, initials: str) -> bool:
        """Initials someone in the roster or among the people met goes by."""
        return (
            self.config.roster.by_initials(initials) is not None
            or self.store.person_by_initials(initials) is not None
        )

    def by_initials(self, initials: str) -> Person | None:
        found = self.config.roster.by_initials(initials)
        stored = self.store.person_by_initials(initials) if found is None else None
        return found or (_person(stored) if stored else None)

    def by_github(self, login: str) -> Person | None:
        """The roster person, else the person met, with this GitHub username."""
        wanted = login.casefold()
        found = next((p for p in self.config.roster.people if p.github.casefold() == wanted), None)
        stored = self.store.person_by_github(login) if found is None else None
        return found or (_person(stored) if stored else None)

    def new_initials(self, full_name: str, email: str = "") -> str:
        """Initials the notes read back as an owner, unique among everyone the bot knows:
        first and last initial (the first two letters of a one-word name), on a clash a third
        letter, from the last name first. Accents are dropped (`Émile Zola` is EZ); a name
        with no Latin letters takes them from the email."""
        words = _latin_words(full_name) or _latin_words(email.partition("@")[0]) or ["XX"]
        taken = {p.initials.upper() for p in self.config.roster.people}
        taken |= self.store.people_initials()
        first, last = words[0], words[-1]
        base = first[0] + (last[0] if len(words) > 1 else first[1:2] or "X")
        thirds = [*(last[1:] if len(words) > 1 else first[2:]), *string.ascii_uppercase]
        tries: list[str] = [base, *(base + letter for letter in thirds)]
        tries += [a + b + c for a in base[0] for b in string.ascii_uppercase for c in thirds]
        return next(t for t in tries if is_initials(t) and t not in taken)

    def register(self, sender: Sender, initials: str, affiliation: str, github: str) -> str:
        """`iam`: the sender's own initials, affiliation and GitHub handle."""
        email = sender.email.casefold()
        if self._taken(email, "initials", initials):
            raise Refused(f"The initials `{initials}` are taken by someone else; pick others.")
        if github and self._taken(email, "github", github):
            raise Refused(
                f"The GitHub handle @{github} is taken by someone else here. If it is yours, "
                "ask an organizer to set it right; nothing was changed."
            )
        if self._taken(email, "name", sender.full_name):
            raise Refused(
                f"The name {sender.full_name} is taken by someone else here, so I cannot note "
                "you under it: change your name in Zulip (Settings > Profile), or ask an "
                "organizer to add you to the roster; nothing was changed."
            )
        row = PersonRow(
            email, sender.user_id, sender.full_name, initials, affiliation, github, registered=True
        )
        self.store.save_person(row)
        return (
            f"Noted: {sender.full_name} is {initials}"
            + (f", {affiliation}" if affiliation else "")
            + (f", @{github}" if github else "")
            + "."
        )

    def _taken(self, email: str, field: str, value: str) -> bool:
        """Whether someone other than `email` goes by `value`: a roster person, or someone
        who registered it with `iam` (initials the bot gave someone count too, since the
        notes already name them so). Whose it is stays unsaid."""
        wanted = value.strip().casefold()
        others = [p for p in self.config.roster.people if p.email.casefold() != email]
        if any(str(getattr(p, field)).casefold() == wanted for p in others):
            return True
        return self.store.claimed(field, value, email, any_row=field == "initials")

    def is_organizer(self, meeting: MeetingConfig, sender: Sender) -> bool:
        """The configured organizers, the meeting's co-chairs, and Zulip admins and owners."""
        email = sender.email.casefold()
        return (
            sender.is_admin
            or email in meeting.organizers
            or email in self.store.chairs(meeting.key)
        )

    def mention(self, initials: str) -> str:
        """`@**Name|id**` notifies the person; the id is known once they have spoken."""
        if not initials:
            return "(no owner)"
        person = self.config.roster.by_initials(initials)
        if person is None:
            return silenced(initials)  # as written: it may be anything
        stored = self.store.person(person.email) if person.email else None
        if stored is not None and stored.user_id:
            return f"@**{person.name}|{stored.user_id}**"
        return f"@**{person.name}**"

    def mention_email(self, email: str) -> str:
        """`@**Name|id**` for someone configured by email (an organizer)."""
        person = self.config.roster.by_email(email)
        stored = self.store.person(email)
        name = person.name if person else stored.name if stored else email
        if stored is not None and stored.user_id:
            return f"@**{name}|{stored.user_id}**"
        return f"@**{name}**"

    def unknown(self, owners: Sequence[str]) -> list[str]:
        """Owners who are neither in the roster nor among the people the bot has met."""
        met = self.store.people_initials()
        return [
            o for o in owners if o.upper() not in met and self.config.roster.by_initials(o) is None
        ]


def is_named(person: Person, owner: str) -> bool:
    """Whether `owner`, as written, is this person: initials, name, first name or handle."""
    wanted = owner.removeprefix("@").removesuffix("?").casefold()
    first = person.name.split()[0] if person.name.split() else ""
    return wanted in {
        w.casefold() for w in (person.initials, person.name, first, person.github) if w
    }
