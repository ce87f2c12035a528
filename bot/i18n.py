"""Herald's own messages in the chat's language: gettext catalogs built with Babel.

Use: `_ = translator(lang)` then `_("Following {name}").format(name=...)`.
A missing catalog or message falls back to English (the msgid).
Catalogs live in bot/locales/<lang>/LC_MESSAGES/herald.po; `python scripts/i18n.py`
extracts, updates and compiles them. The .mo files are build products (not committed):
when one is missing or older than its .po, the .po is compiled in memory at first use,
so a fresh `pip install -e .` speaks Ukrainian without a build step.
"""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).with_name("locales")
SUPPORTED = ("en", "uk")
DOMAIN = "herald"

log = logging.getLogger(__name__)


def pick_language(code: str | None, default: str = "en") -> str:
    """Map a Telegram language_code ('uk', 'uk-UA', 'ru') to a supported UI language."""
    if not code:
        return default
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in SUPPORTED else default


def _compile_po(po_path: Path) -> gettext.GNUTranslations:
    """Compile a .po file in memory (Babel) and load it as gettext translations."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=po_path.parent.parent.name, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def load_translations(lang: str, localedir: Path = LOCALES) -> gettext.NullTranslations:
    """Translations for `lang` from the .mo, else from the .po, else none (English)."""
    if lang == "en":
        return gettext.NullTranslations()
    folder = localedir / lang / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    try:
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as fh:
                return gettext.GNUTranslations(fh)
        if po.exists():
            return _compile_po(po)
    except Exception as exc:  # a broken catalog must not take the bot down: speak English
        log.error("translations unusable, falling back to English",
                  extra={"lang": lang, "error": str(exc)})
    return gettext.NullTranslations()


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    return load_translations(lang)


def translator(lang: str) -> Callable[[str], str]:
    """The gettext function for a UI language."""
    return _translations(lang).gettext


def ngettext_for(lang: str) -> Callable[[str, str, int], str]:
    """The ngettext function (singular, plural, n) for a UI language."""
    return _translations(lang).ngettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


def n_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural pair for extraction; translate it later with ngettext_for(lang)."""
    return singular, plural


def format_day(when: datetime | date, lang: str, *, time: bool = False, year: bool = False
               ) -> str:
    """A date as people of the language write it: "7 Dec" / "7 груд." (with "14:30" when
    `time`, with the year when `year`); never "07.12", which reads as July 12 in English."""
    from babel.dates import format_date, format_datetime

    pattern = "d MMM" + (" y" if year else "")
    if time and isinstance(when, datetime):
        return str(format_datetime(when, pattern + " HH:mm", tzinfo=when.tzinfo, locale=lang))
    return str(format_date(when, pattern, locale=lang))
