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
built after this, from names Zulip gave.
"""

from __future__ import annotations

import re
from typing import Final

_MENTION_START: Final = re.compile("@[\x02\x03]*(?=\\*)")


def silenced(text: str) -> str:
    """The text with every mention made silent; text with no `@*` is returned as it is."""
    return _MENTION_START.sub("@_", text)
