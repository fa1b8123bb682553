"""The one way a command says no."""

from __future__ import annotations


class Refused(Exception):
    """A command that cannot be done as asked; its message is the reply, and the store is
    rolled back to before the command."""
