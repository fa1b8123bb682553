"""Who a Zulip sender is in meetbot's terms, in realms that hide emails as well as in those that
show them.

The service keys people by the email the config gives them. Many organisations show every
human as `userNN@<host>` instead, and a bot cannot look a real email up at all (recordings
#005, #014, #015, #058), so at start-up the configured people and organizers are matched to
Zulip user ids: by a roster `zulip_id`, by a visible email, by the organisation's GitHub
profile field against the roster's `github`, or by a unique full name. A sender whose id was
matched then carries the configured email, and the service recognises them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from zulip_bot.config import BotConfig, fold_name
from zulip_bot.meeting.effects import Sender

#: Zulip's role codes (#008): owners and administrators run the organisation's meetings too.
ORGANIZER_ROLES: Final = (100, 200)
#: Custom profile field type "external account" (#017); its subtype says which service.
EXTERNAL_ACCOUNT: Final = 7
#: Cross-realm system bots (Notification Bot, Welcome Bot) post from this realm.
SYSTEM_REALM: Final = "zulipinternal"


@dataclass(frozen=True)
class ZulipUser:
    user_id: int
    full_name: str
    email: str  # as the API shows it: the real one, or userNN@... where the realm hides it
    delivery_email: str | None  # the real one, when the bot may see it
    role: int = 400
    is_bot: bool = False
    is_active: bool = True
    github: str = ""

    @property
    def visible_emails(self) -> set[str]:
        return {e.casefold() for e in (self.email, self.delivery_email) if e}


def github_field(profile_fields: Iterable[Mapping[str, Any]]) -> int | None:
    """The id of the organisation's GitHub account field, if it has one."""
    for field in profile_fields:
        if field.get("type") != EXTERNAL_ACCOUNT:
            continue
        try:
            data = json.loads(field.get("field_data") or "{}")
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("subtype") == "github":
            return int(field["id"])
    return None


def zulip_user(member: Mapping[str, Any], github_id: int | None) -> ZulipUser:
    profile = member.get("profile_data") or {}
    github = ""
    if github_id is not None and isinstance(profile.get(str(github_id)), dict):
        github = str(profile[str(github_id)].get("value") or "")
    return ZulipUser(
        user_id=int(member["user_id"]),
        full_name=str(member.get("full_name", "")),
        email=str(member.get("email", "")),
        delivery_email=member.get("delivery_email") or None,
        role=int(member.get("role") or 400),
        is_bot=bool(member.get("is_bot", False)),
        is_active=bool(member.get("is_active", True)),
        github=github.strip().removeprefix("@"),
    )


@dataclass(frozen=True)
class Wanted:
    """Someone the config names: a roster person, or an organizer known only by email."""

    email: str
    name: str = ""
    github: str = ""
    zulip_id: int | None = None


@dataclass(frozen=True)
class Match:
    wanted: Wanted
    user_id: int | None
    how: str  # "zulip_id", "email", "github", "full name", or why it failed

    def describe(self) -> str:
        who = f"{self.wanted.name} <{self.wanted.email}>" if self.wanted.name else self.wanted.email
        if self.user_id is None:
            return f"{who}: not found ({self.how})"
        return f"{who}: Zulip user {self.user_id}, by {self.how}"


def wanted_people(config: BotConfig) -> list[Wanted]:
    people = [Wanted(p.email, p.name, p.github, p.zulip_id) for p in config.roster.people]
    known = {w.email for w in people if w.email}
    organizers = [email for meeting in config.meetings for email in meeting.organizers]
    for email in [*organizers, *(config.adhoc.allowed or ())]:  # who may start ad hoc ones too
        if email not in known:
            known.add(email)
            people.append(Wanted(email))
    return people


def match(wanted: Wanted, users: Mapping[int, ZulipUser]) -> Match:
    active = [u for u in users.values() if u.is_active and not u.is_bot]
    if wanted.zulip_id is not None:
        if wanted.zulip_id in users:
            return Match(wanted, wanted.zulip_id, "zulip_id")
        return Match(wanted, None, f"zulip_id {wanted.zulip_id} is no user of this organization")
    email = wanted.email.casefold()
    by_email = [u for u in active if email and email in u.visible_emails]
    if len(by_email) == 1:
        return Match(wanted, by_email[0].user_id, "email")
    github = wanted.github.casefold()
    by_github = [u for u in active if github and u.github.casefold() == github]
    if len(by_github) == 1:
        return Match(wanted, by_github[0].user_id, "github")
    name = fold_name(wanted.name)
    by_name = [u for u in active if name and fold_name(u.full_name) == name]
    if len(by_name) == 1:
        return Match(wanted, by_name[0].user_id, "full name")
    if len(by_name) > 1:
        why = f"{len(by_name)} users are named {wanted.name!r}; give the roster a zulip_id"
    else:
        why = "no visible email, GitHub field or full name matches; give the roster a zulip_id"
    return Match(wanted, None, why)


class Directory:
    """Zulip users as the service should see them, kept current as new senders appear."""

    def __init__(self, users: Mapping[int, ZulipUser], matches: Iterable[Match]) -> None:
        self.users = dict(users)
        self.matches = list(matches)
        self.configured = {m.user_id: m.wanted.email for m in self.matches if m.user_id}

    def sender(self, user_id: int, full_name: str = "", email: str = "", realm: str = "") -> Sender:
        user = self.users.get(user_id)
        shown = user.delivery_email or user.email if user else email
        configured = self.configured.get(user_id)
        is_bot = (user.is_bot if user else False) or realm == SYSTEM_REALM
        return Sender(
            email=(configured or shown or f"user{user_id}@unknown").casefold(),
            full_name=(user.full_name if user else "") or full_name or f"user {user_id}",
            user_id=user_id,
            is_bot=is_bot,
            is_admin=user is not None and user.role in ORGANIZER_ROLES,
        )

    def user_id_for(self, email: str) -> int | None:
        """Whom a direct message to `email` (an email the service knows) goes to."""
        wanted = email.casefold()
        for user_id, configured in self.configured.items():
            if configured == wanted:
                return user_id
        return next((u.user_id for u in self.users.values() if wanted in u.visible_emails), None)
