"""Telegram's HTML parse mode, re-implemented to validate what Herald sends.

The rules follow Telegram's own parser (tdlib `parse_html`): a fixed set of tags, four
named entities plus numeric ones, attribute syntax, strict nesting, and the same error
texts ("can't parse entities: Unsupported start tag ..."), with byte offsets in UTF-8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.alerts.html import utf16_len

MAX_TEXT_LENGTH = 4096  # after entity parsing, counted in UTF-16 code units like Telegram

_TAGS = {
    "b": "bold", "strong": "bold",
    "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler",
    "a": "text_link",
    "code": "code", "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPECIAL = re.compile(r"[<&]")


class HtmlError(ValueError):
    """Telegram would answer 400 "Bad Request: can't parse entities: <message>"."""


@dataclass(frozen=True, slots=True)
class Entity:
    """A message entity as the Bot API returns it (offsets in UTF-16 code units)."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of a MessageEntity."""
        d: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            d["url"] = self.url
        if self.language is not None:
            d["language"] = self.language
        if self.custom_emoji_id is not None:
            d["custom_emoji_id"] = self.custom_emoji_id
        return d


@dataclass
class _Open:
    tag: str
    start: int  # UTF-16 offset in the output text
    attr: str = ""
    expandable: bool = False
    dropped: bool = False


def _byte_offset(text: str, i: int) -> int:
    return len(text[:i].encode("utf-8"))


class _Offset:
    """A tag's byte offset, computed only if an error message needs it."""

    __slots__ = ("i", "text")

    def __init__(self, text: str, i: int) -> None:
        self.text, self.i = text, i

    def __format__(self, spec: str) -> str:
        return format(_byte_offset(self.text, self.i), spec)


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode the entity at text[i] == '&'; return (char, next index) or None (literal '&')."""
    n = len(text)
    j = i + 1
    if j < n and text[j] == "#":
        j += 1
        value = 0
        if j < n and text[j] == "x":
            j += 1
            start = j
            while j < n and text[j] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[j], 16)
                j += 1
                if value >= 0x10FFFF:
                    return None
            if j == start:
                return None
        else:
            start = j
            while j < n and text[j].isascii() and text[j].isdigit():
                value = value * 10 + int(text[j])
                j += 1
                if value >= 0x10FFFF:
                    return None
            if j == start:
                return None
        if value == 0 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while j < n and text[j].isascii() and text[j].isalpha():
            j += 1
        name = text[i + 1:j]
        if name not in _NAMED:
            return None
        char = _NAMED[name]
    if j < n and text[j] == ";":
        j += 1
    return char, j


def _parse_attributes(text: str, i: int, tag: str, begin: _Offset) -> tuple[_Open, int]:
    """Parse attributes of a start tag from text[i]; return the open tag and index after '>'."""
    n = len(text)
    opened = _Open(tag=tag, start=0)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if text[i] == ">":
            return opened, i + 1
        name_start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        name = text[name_start:i].lower()
        if not name:
            raise HtmlError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if text[i] != "=":
            if tag == "blockquote" and name == "expandable":
                opened.expandable = True
                continue
            raise HtmlError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {begin}")
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlError(f"Unclosed start tag at byte offset {begin}")
        if text[i] not in "'\"":
            end = i
            while end < n and (text[end].isalnum() or text[end] in ".-"):
                end += 1
            value = text[i:end].lower()
            i = end
            if i < n and not text[i].isspace() and text[i] != ">":
                raise HtmlError(f"Unexpected end of name token at byte offset "
                                f"{_byte_offset(text, i)}")
        else:
            quote = text[i]
            i += 1
            chars: list[str] = []
            while i < n and text[i] != quote:
                if text[i] == "&":
                    decoded = _decode_entity(text, i)
                    if decoded is not None:
                        chars.append(decoded[0])
                        i = decoded[1]
                        continue
                chars.append(text[i])
                i += 1
            if i < n:
                i += 1
            value = "".join(chars)
        if i >= n:
            raise HtmlError(f"Unclosed start tag at byte offset {begin}")
        if (tag == "a" and name == "href") or (tag == "tg-emoji" and name == "emoji-id"):
            opened.attr = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            opened.attr = value[len("language-"):]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            opened.attr = value[len("tg-"):]
        elif tag == "pre" and name == "language":
            opened.attr = value
        # other attributes are ignored, as Telegram does


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into (plain text, entities) or raise HtmlError with Telegram's text."""
    out: list[str] = []
    out_len = 0  # UTF-16 length of "".join(out)
    stack: list[_Open] = []
    entities: list[Entity] = []
    n = len(text)
    i = 0
    while i < n:
        special = _SPECIAL.search(text, i)
        j = special.start() if special else n
        if j > i:  # plain text up to the next '<' or '&', in one piece
            segment = text[i:j]
            out.append(segment)
            out_len += utf16_len(segment)
            i = j
            continue
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                out_len += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if c != "<":
            out.append(c)
            out_len += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        begin = _Offset(text, i)
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {begin}")
            i += 1
            start = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            end_name = text[start:i].lower()
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != ">":
                raise HtmlError(f"Unclosed end tag at byte offset {begin}")
            i += 1
            opened = stack.pop()
            if end_name and end_name != opened.tag:
                raise HtmlError(f'Unmatched end tag at byte offset {begin}, expected '
                                f'"</{opened.tag}>", found "</{end_name}>"')
            if opened.tag == "code" and stack and stack[-1].tag == "pre":
                stack[-1].attr = stack[-1].attr or opened.attr  # <pre><code class=language-x>
                continue
            entity = None if opened.dropped else _close(opened, out_len)
            if entity is not None:
                entities.append(entity)
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != ">":
            i += 1
        if i >= n:
            raise HtmlError(f"Unclosed start tag at byte offset {begin}")
        tag = text[start:i].lower()
        if tag not in _TAGS:
            raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {begin}')
        opened, i = _parse_attributes(text, i, tag, begin)
        if tag == "span" and opened.attr != "spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        if any(o.tag in ("code", "pre") or o.dropped for o in stack) and not (
                stack[-1].tag == "pre" and tag == "code"):
            opened.dropped = True  # Telegram silently drops formatting inside code/pre
        opened.start = out_len
        stack.append(opened)
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e.offset, -e.length))
    return "".join(out), entities


def _close(opened: _Open, out_len: int) -> Entity | None:
    length = out_len - opened.start
    if length <= 0:
        return None  # empty entities are dropped, as Telegram does
    kind = _TAGS[opened.tag]
    if kind == "text_link":
        url = opened.attr
        if not url:
            return None  # Telegram drops <a> without a usable href
        return Entity("text_link", opened.start, length, url=url)
    if kind == "pre":
        return Entity("pre", opened.start, length, language=opened.attr or None)
    if kind == "custom_emoji":
        return Entity("custom_emoji", opened.start, length, custom_emoji_id=opened.attr or None)
    if kind == "blockquote" and opened.expandable:
        return Entity("expandable_blockquote", opened.start, length)
    return Entity(kind, opened.start, length)


def check_text(text: str | None, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Validate a sendMessage text like Telegram; raise ValueError with the Bot API description.

    The description is the full one ("Bad Request: message is too long") so the emulator can
    return it as is; property tests can call this directly on rendered messages.
    """
    if text is None or text == "":
        raise ValueError("Bad Request: message text is empty")
    if parse_mode is not None and parse_mode.upper() == "HTML":
        try:
            plain, entities = parse_html(text)
        except HtmlError as exc:
            raise ValueError(f"Bad Request: can't parse entities: {exc}") from None
    elif parse_mode is None or parse_mode == "":
        plain, entities = text, []
    else:
        raise ValueError(f"Bad Request: unsupported parse_mode {parse_mode!r}")
    if not plain.strip():
        raise ValueError("Bad Request: message text is empty")
    if utf16_len(plain) > MAX_TEXT_LENGTH:
        raise ValueError("Bad Request: message is too long")
    return plain, entities

