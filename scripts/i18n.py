"""Herald's message catalogs with Babel: extract, update, compile, check.

    python scripts/i18n.py            # extract + update + compile
    python scripts/i18n.py extract    # bot/**.py -> bot/locales/messages.pot
    python scripts/i18n.py update     # messages.pot -> bot/locales/<lang>/LC_MESSAGES/herald.po
    python scripts/i18n.py compile    # herald.po -> herald.mo (build product, gitignored)
    python scripts/i18n.py check      # list msgids without a translation; exit 1 if any
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "bot" / "locales"
POT = LOCALES / "messages.pot"
DOMAIN = "herald"
LANGUAGES = ("uk",)
# Names the code calls translations by, besides Babel's defaults (_, gettext, ngettext, N_).
KEYWORDS = ("n_:1,2", "_n:1,2", "ngettext:1,2")


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract() -> None:
    """Collect every marked string of bot/ into the template."""
    kw: list[str] = []
    for k in KEYWORDS:
        kw += ["-k", k]
    _babel("extract", "-F", str(ROOT / "babel.cfg"), *kw, "--no-location", "--sort-output",
           "--project", "Herald", "--copyright-holder", "Herald contributors",
           "--msgid-bugs-address", "herald@example.invalid",
           "-o", str(POT), str(ROOT / "bot"))


def update() -> None:
    """Merge the template into each language's catalog (creating it the first time)."""
    for lang in LANGUAGES:
        po = LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.exists():
            # No fuzzy guesses: a new msgid stays untranslated (English) until a human
            # translates it, rather than showing a near-miss translation.
            _babel("update", "-i", str(POT), "-d", str(LOCALES), "-D", DOMAIN, "-l", lang,
                   "--no-fuzzy-matching", "--ignore-obsolete")
        else:
            _babel("init", "-i", str(POT), "-d", str(LOCALES), "-D", DOMAIN, "-l", lang)


def compile_catalogs() -> None:
    """Build the .mo files the runtime loads first."""
    _babel("compile", "-d", str(LOCALES), "-D", DOMAIN, "--statistics")


def check() -> int:
    """Print msgids without a translation (or marked fuzzy); the count of them."""
    missing = 0
    for lang in LANGUAGES:
        po = LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for msg in catalog:
            if not msg.id:
                continue
            strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
            if msg.fuzzy or not all(strings):
                missing += 1
                print(f"{lang}: untranslated: {msg.id!r}")
    return missing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("action", nargs="?", default="all",
                   choices=["all", "extract", "update", "compile", "check"])
    action = p.parse_args(argv).action
    if action in ("all", "extract"):
        extract()
    if action in ("all", "update"):
        update()
    if action in ("all", "compile"):
        compile_catalogs()
    if action == "check":
        return 1 if check() else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
