"""meetbot: a Zulip bot that runs open community meetings."""

__version__ = "0.1.0"
