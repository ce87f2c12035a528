"""Telegram handlers: settings commands and buttons."""

from __future__ import annotations

from telegram.ext import Application


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add this area's handlers to the application."""
