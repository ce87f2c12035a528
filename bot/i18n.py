"""Herald's own messages in the chat's language: gettext catalogs built with Babel.

Use: `_ = translator(lang)` then `_("Following {name}").format(name=...)`.
A missing catalog or message falls back to English (the msgid).
Catalogs live in bot/locales/<lang>/LC_MESSAGES/herald.po; `python scripts/i18n.py`
extracts, updates and compiles them (the .mo files are built, not committed).
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).with_name("locales")
SUPPORTED = ("en", "uk")
DOMAIN = "herald"


def pick_language(code: str | None, default: str = "en") -> str:
    """Map a Telegram language_code ('uk', 'uk-UA', 'ru') to a supported UI language."""
    if not code:
        return default
    base = code.split("-")[0].lower()
    return base if base in SUPPORTED else default


@lru_cache(maxsize=None)
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, localedir=str(LOCALES), languages=[lang])
    except OSError:
        return gettext.NullTranslations()


def translator(lang: str) -> Callable[[str], str]:
    """The gettext function for a UI language."""
    return _translations(lang).gettext


def ngettext_for(lang: str) -> Callable[[str, str, int], str]:
    return _translations(lang).ngettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message
