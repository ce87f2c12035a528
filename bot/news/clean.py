"""Clean raw items: HTML to plain text, boilerplate removed, canonical URLs, stable keys."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.domain import CleanItem, RawItem
from bot.news.text import INVISIBLE_CHARS

_BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote tr table section article header footer "
    "figure figcaption pre hr dd dt dl aside nav main address".split())
_SKIP_TAGS = frozenset("script style noscript template iframe object svg head".split())
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_NEWLINES = re.compile(r"\s*\n\s*")
# Control characters, soft hyphens and lone surrogates (JSON "\ud800"): PostgreSQL refuses
# NUL in text and no database encodes a lone surrogate, so one such item would fail a batch.
# Bidi controls and other invisible characters (bot.news.text.strip_invisible) go in the
# same pass: a title's U+202E must not reach an alert.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\ud800-\udfff"
                         + INVISIBLE_CHARS + "]")
MAX_URL = 2000  # the url columns' size; longer links are junk
_FIRST_SENTENCE = re.compile(r"^(.{20,}?[.!?])\s+(?=[A-ZА-ЯЁЇІЄҐ])")


_SKIPPED = re.compile(
    r"<(script|style|noscript|template|iframe|object|svg|head)\b[^>]*>.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL)
_SKIPPED_UNCLOSED = re.compile(
    r"<(?:script|style|noscript|template|iframe|object|svg|head)\b.*", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_BLOCK = re.compile(r"</?(?:" + "|".join(sorted(_BLOCK_TAGS)) + r")\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<![^>]*>|<\?[^>]*>")


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: paragraphs as newlines, entities decoded."""
    if not html:
        return ""
    text = html
    if "<" in text:
        # Regular expressions, not an HTML parser: several times faster on feed content,
        # and feed HTML is fragments, not documents.
        if "<!--" in text:
            text = _COMMENT.sub("", text)
        lowered = text.lower()
        if any(f"<{tag}" in lowered for tag in _SKIP_TAGS):
            text = _SKIPPED_UNCLOSED.sub("", _SKIPPED.sub(" ", text))
        # In HTML a line break in the source is only a space; blocks make paragraphs.
        text = _ANY_TAG.sub("", _BLOCK.sub("\n", text.replace("\n", " ")))
    if "&" in text:
        text = unescape(text)
    text = _SPACES.sub(" ", _UNSTORABLE.sub("", text))
    return _NEWLINES.sub("\n", text).strip()


def one_line(text: str) -> str:
    """Collapse all whitespace (titles are one line)."""
    return " ".join(text.split())


# --- boilerplate --------------------------------------------------------------------

_BOILERPLATE = re.compile(
    r"""^(?:
        (?:watch|video|listen|photo|photos|gallery)\s*:.*
      | (?:map|infographic|graphic)\s*:.*
      | map\ of\ .{0,200}
      | (?:[\w'’.-]+\ ){0,3}map
      | \[?\ ?please\b.{0,120}\b(?:support|donat|subscri).*
      | (?:with\ )?(?:additional\ )?reporting\ by\b.{0,300}
      | key\ ?words\s*:.*
      | (?:read|see)\ (?:also|more)\s*:?.*
      | related\s*:.*
      | (?:читайте|дивіться)\ (?:також|також:|тоже|также).*
      | (?:читайте|смотрите)\ также.*
      | (?:більше|больше)\ новин.*
      | (?:підписуйтесь|подписывайтесь|підпишіться|подпишитесь)\b.*
      | (?:subscribe|sign\ up)\b.{0,200}(?:newsletter|channel|telegram|updates|podcast|inbox).*
      | (?:follow\ us|join\ us)\b.{0,120}(?:telegram|twitter|facebook|instagram|x|youtube).*
      | support\b.{0,80}\bjournalism.*
      | .{0,80}\b(?:patreon|buymeacoffee|buy\ me\ a\ coffee|donorbox|liqpay)\b.*
      | (?:your\ )?support\b.{0,100}\b(?:helps?\ us|keep\ (?:us|the\ news)|reporting)\b.*
      | subscribe\b.{0,100}\b(?:journalism|newsletter)\b.*
      | (?:підтримайте|поддержите|підтримати\ нас|поддержать\ нас)\b.*
      | (?:sources?|джерело|джерела|источник|источники)\s*:.{0,200}
      | (?:background|details|quote|передісторія|деталі|цитата|подробности|предыстория)\s*:\s*
      | (?:please\ )?donate\b.*
      | (?:become\ a\ (?:member|patron|subscriber))\b.*
      | (?:©|\(c\)\ |copyright\s*(?:©|\(c\)|\d{4})).*
      | all\ rights\ reserved.*
      | the\ post\ .{1,300}\ appeared\ first\ on\ .*
      | continue\ reading.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_LABEL = re.compile(r"^(?:details|quote|background|update|деталі|цитата|передісторія|"
                    r"подробности|предыстория)\s*:\s+(?=\S)", re.IGNORECASE)
# A caption line that is only a short appeal ("Donate", "Support us") or a source credit.
_SHORT_APPEAL = re.compile(r"^(?:donate|support us|subscribe|advertisement|реклама)\W*$",
                           re.IGNORECASE)


def strip_boilerplate(text: str) -> str:
    """Drop lines that are not news: video/map captions, appeals, 'Read also', copyright."""
    kept = []
    for line in text.split("\n"):
        line = line.strip()
        if not line or _BOILERPLATE.match(line) or _SHORT_APPEAL.match(line):
            continue
        # "Details: Russian drones attacked ..." is news behind an editor's label.
        kept.append(_LABEL.sub("", line, count=1))
    return "\n".join(kept)


# --- URLs and keys ------------------------------------------------------------------

_TRACKING_PREFIXES = ("utm_", "at_", "mc_", "pk_", "mtm_", "hsa_", "_hs", "ns_", "vero_")
# Only parameters that never select content: dropping a real one would merge two articles.
_TRACKING_NAMES = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "yclid", "msclkid", "twclid", "igshid",
    "mc_cid", "mc_eid", "ref", "ref_src", "ocid", "cmpid", "ncid", "_ga", "_gl", "xtor",
    "s_cid", "guccounter", "smid",
})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SIMPLE_URL = re.compile(
    r"^https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?:/[^?#\s\x00-\x1f\x7f\ud800-\udfff]*)?$")


def _is_tracking(name: str) -> bool:
    n = name.lower()
    return n in _TRACKING_NAMES or n.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str | None) -> str | None:
    """Canonical http(s) URL: lower-case scheme/host, no fragment, tracking or default port."""
    if not url:
        return None
    url = url.strip()
    if len(url) > MAX_URL:
        return None
    if _SIMPLE_URL.match(url):  # already canonical: most feed links (no query, no port)
        return url if url.count("/") >= 3 else url + "/"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k)]
    query.sort()
    path = parts.path or "/"
    out = urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))
    return out if len(out) <= MAX_URL and not _UNSTORABLE.search(out) else None


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()  # noqa: S324 - an id, not security


def normalize_title(title: str) -> str:
    """Case- and punctuation-insensitive form of a title (for keys and comparisons)."""
    t = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(re.findall(r"\w+", t))


def item_key(guid: str | None, url: str | None, title: str, source_id: int) -> str:
    """Stable dedup key: canonical link, else the source's guid, else source + title."""
    return _key(canonical_url(url), guid, title, source_id)


def _key(canon: str | None, guid: str | None, title: str, source_id: int) -> str:
    if canon:
        return "u:" + _digest(canon)
    if guid and guid.strip():
        # Guids are only unique within a publisher ("4170803"), so scope them to the source.
        return f"g:{source_id}:" + _digest(guid.strip())
    return f"t:{source_id}:" + _digest(normalize_title(title))


def _title_from_text(text: str, limit: int = 120) -> str:
    first = text.split("\n", 1)[0]
    sentence = _FIRST_SENTENCE.match(first)
    if sentence:
        first = sentence.group(1)
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:-–— ") + "…"


def clean_item(raw: RawItem, *, source_id: int, language: str, now: datetime) -> CleanItem | None:
    """Turn a RawItem into a CleanItem, or None when it has neither title nor text."""
    title = one_line(html_to_text(raw.title or ""))
    body = raw.content_html or raw.summary_html or ""
    text = strip_boilerplate(html_to_text(body))
    if not text and raw.content_html and raw.summary_html:
        text = strip_boilerplate(html_to_text(raw.summary_html))
    if not title and not text:
        return None
    if not title:
        title = _title_from_text(text)
    url = canonical_url(raw.link)
    if url is None and raw.guid and raw.guid.startswith(("http://", "https://")):
        url = canonical_url(raw.guid)  # RSS guid isPermaLink: the guid is the link
    published = raw.published_at
    if published is None or published > now:
        published = now
    guid = _UNSTORABLE.sub("", raw.guid).strip() or None if raw.guid else None
    return CleanItem(
        source_id=source_id,
        key=_key(url, guid, title, source_id),
        guid=guid,
        url=url,
        title=title,
        text=text,
        published_at=published,
        language=language,
    )
