"""Decide a feed body's character set: BOM, declared charsets, UTF-8, then a Cyrillic guess.

Publishers mislabel charsets (cp1251 Russian text declared Latin-1, no charset at all);
the parser hands the text on as UTF-8 with a matching XML declaration.
"""

from __future__ import annotations

import codecs
import re

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"'][^>]*\?>")
_XML_DECL_ANY = re.compile(rb"^\s*<\?xml[^>]*\?>")
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")
_LATIN_SINGLE_BYTE = {"iso-8859-1", "latin-1", "latin1", "cp1252", "windows-1252", "ascii",
                      "us-ascii", "iso8859-1"}


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str, str | None]:
    """Decode a feed body: BOM, then declared charsets, then UTF-8, then a Cyrillic guess.

    Returns (text, encoding used, note when the declared charset was wrong or missing).
    """
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom):].decode(enc, errors="replace"), enc, None
    declared: list[str] = []
    if content_type:
        m = _CHARSET_PARAM.search(content_type)
        if m:
            declared.append(m.group(1))
    m2 = _XML_DECL.match(body[:512])
    if m2:
        declared.append(m2.group(1).decode("ascii"))
    tried: list[str] = []
    for name in declared:
        known = _known_encoding(name)
        if known is None or known in tried:
            continue
        enc = known
        tried.append(enc)
        if enc in _LATIN_SINGLE_BYTE and _looks_cyrillic_cp1251(body):
            # Latin-1/cp1252 decode anything; Russian or Ukrainian text labelled Latin is
            # a common misconfiguration, and mojibake helps no one.
            return body.decode("cp1251"), "cp1251", f"declared charset {name} looks like cp1251"
        try:
            return body.decode(enc), enc, None
        except UnicodeDecodeError:
            continue
    try:
        text = body.decode("utf-8")
        note = f"declared charset {declared[0]} is wrong; decoded as utf-8" if declared else None
        return text, "utf-8", note
    except UnicodeDecodeError:
        pass
    guess = "cp1251" if _looks_cyrillic_cp1251(body) else "cp1252"
    what = f"declared charset {declared[0]} is wrong" if declared else "no charset declared"
    return body.decode(guess, errors="replace"), guess, f"{what}; decoded as {guess}"


def _known_encoding(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _looks_cyrillic_cp1251(body: bytes) -> bool:
    """True when the non-ASCII bytes form words, as cp1251 Cyrillic does.

    In Western single-byte text an accented letter stands alone among ASCII letters
    ("café"); in cp1251 Russian or Ukrainian whole words are high bytes ("Київ").
    """
    sample = body[:200_000]
    runs = _HIGH_RUN.findall(sample)
    high = sum(len(r) for r in runs)
    if high < 8:
        return False
    in_words = sum(len(r) for r in runs if len(r) >= 3)
    letters = sum(1 for r in runs for b in r if b >= 0xC0)
    return in_words / high > 0.6 and letters / high > 0.8


def with_utf8_declaration(text: str) -> bytes:
    """The text as UTF-8 bytes, its XML declaration (if any) saying so."""
    data = text.encode("utf-8")
    if _XML_DECL_ANY.match(data[:512]):
        return _XML_DECL_ANY.sub(b'<?xml version="1.0" encoding="utf-8"?>', data, count=1)
    return data
