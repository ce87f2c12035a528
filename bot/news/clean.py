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
#
# A line is boilerplate only when it carries no news. Lines that are wholly something else
# (an appeal, a credit, a byline, a teaser for another story, an update note, a bare link)
# go; a label in front of news ("WATCH:", "Details:", "Quote from Klitschko:") and an
# agency dateline ("Київ. 28 вересня. УНІАН.") are cut off and the news after them stays.

_BOILERPLATE = re.compile(
    r"""^(?:
        map\ of\ .{0,200}
      | (?:[\w'’.-]+\ ){0,3}map
      | \[?\ ?please\b.{0,120}\b(?:support|donat|subscri).*
      | (?:with\ )?(?:additional\ )?(?:reporting|editing|writing)\ by\b.{0,300}
      | key\ ?words\s*:.*
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
      # related-story teasers: another story's headline, not this item's text
      | (?:read|see)\ (?:also|more)\b.*
      | also\ read\b.*
      | (?:related|previously|more\ on\ (?:this|the\ topic)|on\ the\ topic|recommended
         |you\ may\ also\ like|раніше|ранее|по\ темі|по\ теме|на\ тему
         |(?:більше|больше)\ (?:по|на)\ тем[іуе])\s*:.*
      | (?:читайте|читай|дивіться|смотрите|див\.)\ (?:також|тоже|также|по\ темі|по\ теме
         |більше|больше|ще|еще|нас)\b.*
      | (?:також|также)\ (?:читайте|дивіться|смотрите)\b.*
      # update notes
      | this\ (?:news|story|article|post|report|page|piece|item)\ (?:has\ been|was|is\ being
         |will\ be|is)\ (?:updated|developing|updating)\b.*
      | (?:this\ is\ a\ )?developing\ story\b.{0,80}
      | (?:last\ )?updated?\s*(?:at|on|:)?\s*\d{1,2}[:.]\d{2}\b.{0,40}
      | (?:the\ )?information\ is\ being\ (?:confirmed|clarified|updated|verified)\.?
      | (?:новин[ау]|новость|матеріал|материал|текст|статт[юя]|статья|інформаці[яю]|информаци[яю])
        \ (?:було\ |был[ао]?\ )?(?:оновлено|оновлюється|доповнено|доповнюється|обновлен[ао]?
        |обновляется|дополнен[ао]?|дополняется|уточнюється|уточняется)\b.{0,80}
      | (?:оновлено|обновлено|доповнено|дополнено)\s*(?:о|в)?\s*\d{1,2}[:.]\d{2}\b.{0,40}
      # a bare link, an embedded post's signature ("— Name (@handle) October 3, 2026")
      | (?:https?://|www\.|pic\.twitter\.com/|t\.me/)\S+
      | [—–-]\ .{1,80}\(@\w+\)\ .{0,40}\d{4}
      # bylines
      | (?:автор(?:и|ы|ка)?|authors?|текст|text|редактор|editor|edited\ by|фото\ і\ текст
         |фото\ и\ текст)\s*[:—–]\s*.{1,80}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# "By Olena Petrenko", "By John Smith and Jane Doe, Reuters": names only, no sentence.
_BYLINE = re.compile(r"^(?:By|BY)\s+[A-ZА-ЯЁЇІЄҐ][\w'’.-]*"
                     r"(?:\s+(?:[A-ZА-ЯЁЇІЄҐ][\w'’.-]*|and|&|de|van|von|al|bin|da|di|la|le))*"
                     r"(?:\s*[,|/]\s*[A-ZА-ЯЁЇІЄҐ][\w'’&./-]*(?:\s[A-ZА-ЯЁЇІЄҐ][\w'’&./-]*){0,3})?$")
# Photo credits: "фото УНІАН", "Ілюстрація REUTERS", "Photo: Getty Images", "(Фото: ГСЧС)",
# "REUTERS/Gleb Garanich". What follows the word is a credit unless it is a sentence.
_CREDIT = re.compile(
    r"""^\(?(?:
        (?:photo(?:s|\ credit)?|image|picture|pictured|illustration|credit|photographer)
        \s*(?:[:|]|by\b|[–—-]\s)
      | (?:фото(?:\ ілюстративне|\ иллюстративное)?|ілюстрація|иллюстрация|ілюстративне\ фото
        |иллюстративное\ фото|(?:джерело|источник|автор)\ фото|фотограф)\b\s*[:|,–—-]?
    )\s*(?P<rest>.{0,120}?)\)?$""",
    re.IGNORECASE | re.VERBOSE)
_AGENCY_CREDIT = re.compile(
    r"^(?:reuters|ap(?:\ photo)?|afp|epa(?:-efe)?|getty\ images|anadolu|depositphotos"
    r"|shutterstock|unian|уніан|укрінформ|ukrinform|ria\ novosti|риа\ новости|тасс|tass)"
    r"(?:\s*/\s*[\w .'’-]{1,60})?(?:\s+via\s+[\w .'’-]{1,40})?\.?$", re.IGNORECASE | re.VERBOSE)
# A media label in front of its caption: the label goes, a caption that is news stays.
_MEDIA_LABEL = re.compile(
    r"^(?:watch|video|listen|audio|photo|photos|gallery|map|infographic|graphic|відео|видео"
    r"|фото|дивіться|смотрите|слухайте|карта|інфографіка|инфографика)\s*:\s*", re.IGNORECASE)
# Editors' labels in front of news ("Quote from Klitschko:", "Цитата Кличка:").
_LABEL = re.compile(
    r"^(?:details|quote|background|update|деталі|цитата|передісторія|подробности|предыстория"
    r"|пряма\ мова|прямая\ речь|дослівно|дословно|for\ reference|довідково|справочно"
    r"|quote\ from\ [^:.!?]{1,60}|(?:цитата|пряма\ мова|прямая\ речь)\ [^\s:.!?]{1,30}"
    r"(?:\ [^\s:.!?]{1,30}){0,3})\s*:\s+(?=\S)", re.IGNORECASE)
# A teaser glued to the end of a paragraph: "... on Monday. Читайте також: <headline>".
_TRAILING_TEASER = re.compile(
    r"(?<=[.!?»\"”])\s+(?:read\ also|see\ also|also\ read|related|previously|more\ on\ this"
    r"|читайте\ (?:також|также|по\ темі|по\ теме)|дивіться\ також|смотрите\ также|раніше"
    r"|ранее|по\ темі|по\ теме)\s*:.*$", re.IGNORECASE)
# A caption line that is only a short appeal ("Donate", "Support us") or a source credit.
_SHORT_APPEAL = re.compile(r"^(?:donate|support us|subscribe|advertisement|реклама)\W*$",
                           re.IGNORECASE)
# A sentence: at least four words and a sentence end (a caption's colon counts: it
# introduced the video that is not in the text).
_SENTENCE = re.compile(r"^(?:\S+\s+){3,}.*[.!?:»\"”')]$")

_UPPER = "A-ZА-ЯЁЇІЄҐ"
_MONTH = (r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
          r"|січ\w*|лют\w*|берез\w*|квіт\w*|трав\w*|черв\w*|лип\w*|серп\w*|верес\w*|жовт\w*"
          r"|листоп\w*|груд\w*|январ\w*|янв|феврал\w*|фев|март\w*|апрел\w*|апр|ма[яй]|июн\w*"
          r"|июл\w*|август\w*|авг|сентябр\w*|сен|октябр\w*|окт|ноябр\w*|ноя|декабр\w*|дек)\.?")
_AGENCY = (r"(?i:reuters|ap|afp|ukrinform|unian|interfax(?:-ukraine)?|tass|ria\ novosti|xinhua"
           r"|bloomberg|dpa|efe|ansa|anadolu|kyodo|yonhap|pap|bta|leta|bns|elta|rfe/rl"
           r"|уніан|укрінформ|укринформ|интерфакс(?:-украина)?|інтерфакс-україна|тасс"
           r"|риа\ новости|ріа\ новини|ліга\.net|лига\.net|liga\.net|bbc|cnn)")
# A place in a dateline: up to four capitalized words ("KYIV", "Rostov-on-Don", "Київ"),
# never a sentence's first word such as "In" or "У".
_PLACE = (rf"(?!(?:In|On|At|By|For|From|The|As|Since|To|After|Before|Over|Under|У|В|На|З|С"
          rf"|До|Від|От|По|Во|Із|Из|Про|О|Об|Це|Это|Після|После)\b)"
          rf"[{_UPPER}][\w'’.-]*(?:[ -](?:[{_UPPER}][\w'’.-]*|on|upon|am|de|na|на|над)){{0,3}}")
_DATE = rf"(?:\d{{1,2}}\s+{_MONTH}|{_MONTH}\s+\d{{1,2}})(?:,?\s+\d{{4}})?"
_DATELINE = re.compile(
    rf"""^(?:
        # "Київ. 28 вересня. УНІАН.", "МОСКВА, 11 ноября. /ТАСС/.", "Москва. 10 ноября.
        # ИНТЕРФАКС -", "МОСКВА, 11 ноя — РИА Новости.", "Kyiv, November 9, 2026 (Ukrinform)."
        {_PLACE}(?:,\s*{_PLACE})?[.,]\s+{_DATE}
        (?:\s*\({_AGENCY}\)\s*[.:]?|\s*[.]\s*/?{_AGENCY}/?\s*[.:]?|\s*[-–—]\s*{_AGENCY}\s*[.:]?
           |\s*[.]|\s+[-–—])
        (?:\s*[-–—])?
        # "KYIV, Oct 3 (Reuters) -", "KYIV (AP) —", "KYIV, Ukraine (AP) —"
      | {_PLACE}(?:,\s*{_PLACE})?(?:[.,]\s*{_DATE})?\s*\({_AGENCY}\)\s*(?:[-–—:.]\s*)?
        # "KYIV — ", "WASHINGTON, D.C. — ": a place in capitals and a dash
      | [{_UPPER}]{{3,}}(?:[ -][{_UPPER}]{{2,}}){{0,2}}(?:,\s*[\w. ]{{2,30}}?)?\s+[-–—]
        (?=\s*["«“]?[{_UPPER}0-9])
    )\s*""",
    re.VERBOSE)


_DATELINE_HINT = re.compile(r"[\d(/]")


def strip_dateline(line: str) -> str:
    """The line without an agency dateline in front ("KYIV, Oct 3 (Reuters) - ...")."""
    # A dateline has a date, an agency in brackets or slashes, or a place in capitals.
    if not (line[:3].isupper() or _DATELINE_HINT.search(line, 0, 60)):
        return line
    m = _DATELINE.match(line)
    return line[m.end():] if m else line


def _is_credit(line: str) -> bool:
    m = _CREDIT.match(line)
    if m:
        return not _SENTENCE.match(m.group("rest"))
    return bool(_AGENCY_CREDIT.match(line))


def clean_text_line(line: str) -> str:
    """A line of an item's text without what is not news; "" when nothing is left."""
    line = line.strip()
    if (not line or _BOILERPLATE.match(line) or _SHORT_APPEAL.match(line)
            or _BYLINE.match(line) or _is_credit(line)):
        return ""
    label = _MEDIA_LABEL.match(line)
    if label:
        line = line[label.end():]
        if not _SENTENCE.match(line):
            return ""  # "WATCH: the full interview": a caption without news
        if line.endswith(":"):
            line = line[:-1] + "."
    line = _LABEL.sub("", line, count=1)
    if ":" in line:
        line = _TRAILING_TEASER.sub("", line, count=1)
    if line[:1].isupper():
        line = strip_dateline(line)
    return line


# "Previously:" opens the list of related stories at the end of an article (Ukrainska
# Pravda in English): the one-sentence lines after it, if that is all there is, are more
# teasers. (Only the English label: "Раніше:" is also used alone in the middle of a text.)
_TEASER_LIST = re.compile(r"^previously\s*:", re.IGNORECASE)
_MAX_TEASERS = 3


def strip_boilerplate(text: str) -> str:
    """Drop what is not news: captions, credits, teasers, appeals; labels and datelines cut."""
    kept: list[str] = []
    teasers_from = -1  # where a "Previously:" list began among the kept lines
    for raw in text.split("\n"):
        line = clean_text_line(raw)
        if line:
            kept.append(line)
        elif teasers_from < 0 and _TEASER_LIST.match(raw.strip()):
            teasers_from = len(kept)
    if 0 <= teasers_from < len(kept) and _is_teaser_list(kept[teasers_from:]):
        del kept[teasers_from:]
    return "\n".join(kept)


def _is_teaser_list(lines: list[str]) -> bool:
    """Up to three lines of one headline-like sentence each: the rest of a teaser list."""
    return len(lines) <= _MAX_TEASERS and all(
        len(line) <= 250 and not re.search(r"[.!?]\s+[A-ZА-ЯЁЇІЄҐ]", line) for line in lines)


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
