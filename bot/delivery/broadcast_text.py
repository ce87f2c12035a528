"""Broadcast texts and arguments, as pure functions: who receives it (segment syntax), the
HTML check, and the progress and report messages the admin sees."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from bot.alerts.html_check import check_text
from bot.domain import Broadcast, BroadcastStatus, TagKind
from bot.errors import UserInputError

LINK_SCHEMES = ("http://", "https://", "tg://")


@dataclass(frozen=True, slots=True)
class Segment:
    """Who receives a broadcast: everyone (kind None) or the followers of one key."""

    kind: TagKind | None = None
    key: str | None = None
    label: str = "everyone"

    def describe(self) -> str:
        return "all active chats" if self.kind is None else f"followers of {self.label}"


EVERYONE = Segment()


@dataclass(frozen=True, slots=True)
class Progress:
    """Outbox figures of one broadcast."""

    total: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    cancelled: int = 0
    pending: int = 0  # pending + in flight

    @property
    def finished(self) -> int:
        return self.sent + self.blocked + self.failed + self.cancelled


def validate_broadcast_html(text: str) -> str:
    """The text, stripped, if Telegram would accept it as HTML; else UserInputError that says
    exactly what is wrong (Telegram's own parser rules, length after entity parsing)."""
    text = text.strip()
    if not text:
        raise UserInputError("The broadcast text is empty.")
    try:
        _plain, entities = check_text(text, "HTML")
    except ValueError as exc:
        reason = str(exc).removeprefix("Bad Request: ")
        raise UserInputError(f"The broadcast text is not valid Telegram HTML: {reason}. "
                             "Allowed tags: b, i, u, s, a href, code, pre, blockquote, "
                             "tg-spoiler; write < > & as &lt; &gt; &amp;.") from None
    for entity in entities:
        if entity.type == "text_link" and not (entity.url or "").startswith(LINK_SCHEMES):
            raise UserInputError(f"Links must be http(s) or tg:// URLs, not {entity.url!r}.")
    return text


def _default_normalize(phrase: str) -> str:
    return " ".join(phrase.casefold().split())


def split_segment(args: str, resolve: Callable[[str], Segment | None],
                  normalize: Callable[[str], str] = _default_normalize,
                  ) -> tuple[Segment, str]:
    """Split `/broadcast` arguments into (segment, text).

    - `all TEXT` / `everyone TEXT` / `* TEXT`: everyone, explicitly;
    - `"several words" TEXT`: the quoted city, topic or (failing both) phrase (its key
      normalized like subscriptions' phrases);
    - `WORD TEXT`: WORD's followers when WORD is a known city or topic, else everyone and
      the whole line is the text. The preview always names the segment, so a text that
      happens to start with a city name is caught before Confirm (use `all` for it).
    """
    args = args.strip()
    if not args:
        return EVERYONE, ""
    if args[0] in "\"«“":
        close = {"\"": "\"", "«": "»", "“": "”"}[args[0]]
        end = args.find(close, 1)
        if end > 1:
            query, rest = args[1:end].strip(), args[end + 1:].strip()
            found = resolve(query)
            if found is not None:
                return found, rest
            phrase = normalize(query)
            if not phrase:
                raise UserInputError(f"No words to look for in \"{query}\".")
            return Segment(TagKind.PHRASE, phrase, query), rest
    word, _, rest = args.partition(" ")
    if word.lower() in ("all", "everyone", "*"):
        return EVERYONE, rest.strip()
    found = resolve(word) if word.replace("_", "").replace("-", "").isalpha() else None
    if found is not None:
        return found, rest.strip()
    return EVERYONE, args


def fmt_duration(seconds: float) -> str:
    """'45 s', '3 min', '1 h 20 min'."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    return f"{s // 3600} h {(s % 3600) // 60} min"


def render_progress(b: Broadcast, p: Progress, eta_seconds: float) -> str:
    """The progress message (HTML)."""
    segment = "all active chats" if b.segment_kind is None else \
        f"followers of {html.escape(b.segment_label or b.segment_key or '')}"
    lines = [f"📣 <b>Broadcast #{b.id}</b> to {segment}",
             f"Sent {p.sent:,} of {p.total:,} · blocked {p.blocked:,} · "
             f"failed {p.failed:,} · waiting {p.pending:,}"]
    if b.status == BroadcastStatus.QUEUED:
        lines.append(f"Queueing recipients: {b.enqueued:,} of {b.total:,}")
    lines.append(f"About {fmt_duration(eta_seconds)} left.")
    return "\n".join(lines)


def render_report(b: Broadcast, p: Progress) -> str:
    """The final report (HTML)."""
    took = ""
    if b.confirmed_at and b.finished_at:
        took = f" in {fmt_duration((b.finished_at - b.confirmed_at).total_seconds())}"
    head = (f"✅ <b>Broadcast #{b.id} finished</b>{took}"
            if b.status == BroadcastStatus.DONE
            else f"🛑 <b>Broadcast #{b.id} cancelled</b>")
    body = (f"Sent {p.sent:,} · blocked {p.blocked:,} · failed {p.failed:,}"
            f" (of {p.total:,} recipients)")
    if p.cancelled:
        body += f"\nNot sent: {p.cancelled:,}"
    return f"{head}\n{body}"
