"""Herald: a Telegram news briefing and alert bot."""

__version__ = "0.1.0"
