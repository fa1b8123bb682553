"""Whatever the bot repeats of what someone typed notifies nobody.

People mention with their own message, once; an item, note or action the bot quotes back in a
reply, the agenda, `next` or the summary must not ping again, least of all `@**all**` in a big
stream (where Zulip may even refuse the bot's post). Zulip reads a mention only where an `@` is
directly followed by `*` (`@**Name**`, `@**Name|id**`, `@**|id**`, the wildcards `@**all**`,
`@**everyone**`, `@**stream**`, `@**channel**`, `@**topic**`, and groups `@*group*`) and takes
`@_` as the silent form of each, which shows the same name without pinging: the form Zulip itself
uses for mentions in a quote. So every `@*` becomes `@_*`, whatever follows and wherever it is:
a narrower rule (live forms only, outside code) would have to agree with Zulip's Markdown in every
corner to be safe. Zulip deletes the control characters STX and ETX before reading Markdown, so an
`@` separated from its `*` by them is silenced too.

Only the bot's own mentions (organizers in the reminder, owners in the summary) notify: they are
built after this, from names Zulip gave. What the bot repeats always sits inside one of its own
lines (a list item, a table cell, a sentence), so it is put on one line too: a line break would let
a code fence or a heading someone typed swallow the lines after it, the summary's owner mentions
among them.
"""

from __future__ import annotations

import re
from typing import Final

_MENTION_START: Final = re.compile("@[\x02\x03]*(?=\\*)")
#: Every line break Markdown knows (and Python's `splitlines` would split at).
_LINE_BREAKS: Final = re.compile("[ \t]*(?:\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])[ \t]*")


def silenced(text: str) -> str:
    """The text on one line with every mention made silent; one-line text with no `@*` is
    returned as it is."""
    return _MENTION_START.sub("@_", _LINE_BREAKS.sub(" ", text))
