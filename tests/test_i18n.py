"""Herald's own strings: language choice, catalogs from .mo or .po, complete Ukrainian."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.i18n import LOCALES, load_translations, ngettext_for, pick_language, translator

PO = LOCALES / "uk" / "LC_MESSAGES" / "herald.po"
ROOT = Path(__file__).resolve().parent.parent


def _catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale="uk")


@pytest.mark.parametrize(("code", "expected"), [
    ("uk", "uk"), ("uk-UA", "uk"), ("UK", "uk"), ("en-GB", "en"), ("ru", "en"), (None, "en"),
    ("", "en"), ("de", "en")])
def test_pick_language(code: str | None, expected: str) -> None:
    assert pick_language(code) == expected


def test_pick_language_default_from_config() -> None:
    assert pick_language("fr", default="uk") == "uk"


def test_ukrainian_and_english_fallback() -> None:
    assert translator("uk")("Settings") == "Налаштування"
    assert translator("en")("Settings") == "Settings"
    assert translator("uk")("a string nobody translated") == "a string nobody translated"
    assert translator("xx")("Settings") == "Settings"  # unknown language: English


@pytest.mark.parametrize(("n", "form"), [(1, "1 новина"), (2, "2 новини"), (4, "4 новини"),
                                         (5, "5 новин"), (11, "11 новин"), (21, "21 новина"),
                                         (22, "22 новини"), (25, "25 новин")])
def test_ukrainian_plurals(n: int, form: str) -> None:
    assert ngettext_for("uk")("{n} story", "{n} stories", n).format(n=n) == form


def test_po_is_compiled_in_memory_when_mo_is_missing(tmp_path: Path) -> None:
    folder = tmp_path / "uk" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(PO, folder / "herald.po")
    assert not (folder / "herald.mo").exists()
    t = load_translations("uk", tmp_path)
    assert t.gettext("Settings") == "Налаштування"


def test_mo_is_used_when_present_and_fresh(tmp_path: Path) -> None:
    folder = tmp_path / "uk" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = _catalog()
    catalog.get("Settings").string = "Налаштування (mo)"
    buf = io.BytesIO()
    write_mo(buf, catalog)
    (folder / "herald.mo").write_bytes(buf.getvalue())
    assert load_translations("uk", tmp_path).gettext("Settings") == "Налаштування (mo)"


def test_broken_catalog_falls_back_to_english(tmp_path: Path) -> None:
    folder = tmp_path / "uk" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "herald.mo").write_bytes(b"not a catalog")
    assert load_translations("uk", tmp_path).gettext("Settings") == "Settings"


def _fields(s: str) -> list[str]:
    return sorted(set(re.findall(r"\{(\w*)\}", s)))


def _tags(s: str) -> list[str]:
    return sorted(re.findall(r"</?[a-z]+", s))


def test_every_ukrainian_entry_is_translated_and_keeps_placeholders_and_tags() -> None:
    problems = []
    for msg in _catalog():
        if not msg.id:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        if msg.fuzzy or not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        for s in strings:
            if _fields(s) not in (_fields(ids[0]), _fields(ids[-1])) or _tags(s) != _tags(ids[0]):
                problems.append(f"placeholders or tags differ: {ids[0]!r} -> {s!r}")
    assert problems == []


def test_every_string_in_the_code_is_in_the_catalog() -> None:
    """Run the same extraction as scripts/i18n.py; a new string needs `i18n.py` + a translation."""
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update({"n_": (1, 2), "_n": (1, 2)})
    in_code = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(ROOT / "bot"), method_map=[("**.py", "python")], keywords=keywords):
        in_code.add(message[0] if isinstance(message, tuple) else message)
    in_catalog = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalog() if m.id}
    assert sorted(in_code - in_catalog) == []
