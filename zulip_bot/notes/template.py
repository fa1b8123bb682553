"""New drafts from the Jinja templates the conda communities' notes action renders.

The hackmd-meeting-notes action renders its template with Jinja2, `date` being a datetime and
`env` the environment; rendering with the same engine keeps every template in the corpus, and
any a community writes next, working exactly as it does there. The sandbox keeps a template from
reaching anything but the values it is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from zulip_bot.notes.document import NotesDocument
from zulip_bot.notes.model import NotesError

_ENV = SandboxedEnvironment(
    keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False
)


def render_template(
    template_text: str,
    date: dt.date,
    env: Mapping[str, str] | None = None,
    **values: object,
) -> str:
    when = date if isinstance(date, dt.datetime) else dt.datetime(date.year, date.month, date.day)
    try:
        return _ENV.from_string(template_text).render(date=when, env=dict(env or {}), **values)
    except jinja2.TemplateSyntaxError as error:
        raise NotesError(f"template line {error.lineno}: {error.message}") from None
    except jinja2.exceptions.SecurityError as error:
        raise NotesError(f"template does something unsafe: {error}") from None
    except jinja2.UndefinedError as error:
        raise NotesError(f"template uses a value that was not given: {error.message}") from None


def new_draft(
    template_text: str,
    date: dt.date,
    env: Mapping[str, str] | None = None,
    **values: object,
) -> NotesDocument:
    """The draft for the meeting on `date`, as a document that has not been saved yet."""
    return NotesDocument.parse(render_template(template_text, date, env, **values))
