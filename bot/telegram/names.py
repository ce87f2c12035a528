"""What users call cities and topics: their names in a chat's language and their /city and
/topic shortcut commands (the registry's `commands.shortcut_commands`, read once)."""

from __future__ import annotations

import functools
from typing import Any

from bot.domain import TagKind
from bot.telegram.commands import shortcut_commands

# Offered by /start and /subscribe when the classifier knows them (command names).
POPULAR = ("kyiv", "kherson", "kharkiv", "odesa", "zaporizhzhia", "dnipro",
           "sanctions", "humanitarian", "shelling", "war_crimes")


@functools.lru_cache(maxsize=4)
def known_commands(classifier: Any) -> dict[str, Any]:
    """The /city and /topic shortcut commands (name -> Resolution), read once."""
    return shortcut_commands(classifier)


@functools.lru_cache(maxsize=4)
def _command_names(classifier: Any) -> dict[tuple[TagKind, str], str]:
    return {(res.kind, res.key): str(name) for name, res in known_commands(classifier).items()}


def command_for(classifier: Any, kind: TagKind, key: str) -> str | None:
    """The /command of a city or topic, if it has one."""
    return _command_names(classifier).get((kind, key))


def popular(classifier: Any) -> list[tuple[str, Any]]:
    """The popular shortcuts this classifier knows: (command name, Resolution)."""
    known = known_commands(classifier)
    return [(name, known[name]) for name in POPULAR if name in known]


def label_of(classifier: Any, kind: TagKind, key: str, lang: str = "en") -> str:
    """The name of a city or topic in the chat's language (a phrase is its own name)."""
    if kind == TagKind.PHRASE:
        return key
    try:
        return str(classifier.label(kind, key, lang))
    except (KeyError, LookupError, ValueError):
        return key
