"""Telegram preview pages: Herald's parser (selectolax/Lexbor) against the same extraction
with lxml.html, on the saved page and on a full 20-post page.

    python bench/bench_telegram_preview.py      (lxml: pip install -e '.[bench]')

Prints one JSON line: milliseconds per page for each parser (best of 5 runs of N pages).
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.news.telegram_preview import parse_preview
from bot.testing.telegram_pages import PagePost, render_preview

SAVED = Path(__file__).resolve().parents[1] / "tests" / "data" / "telegram" / "slobidska_ova.html"
RUNS, PAGES = 5, 200


def full_page() -> bytes:
    """20 posts of realistic length (~600 characters each), as a busy channel shows them."""
    start = datetime(2026, 12, 7, tzinfo=UTC)
    text = ("Уночі ворог атакував Харків ударними безпілотниками\n"
            + "Влучання зафіксовано в Київському районі міста: пошкоджено дах житлового "
              "будинку та вибито вікна в сусідній школі. " * 5)
    return render_preview("slobidska_ova", "Слобідська ОВА",
                          [PagePost(1000 + n, text, start + timedelta(minutes=n))
                           for n in range(20)])


def lxml_parse(body: bytes) -> list[tuple[str, str, str]]:
    """The same extraction with lxml.html and XPath (post, text, time)."""
    import lxml.html

    doc = lxml.html.document_fromstring(body.decode("utf-8", errors="replace"))
    out = []
    for node in doc.xpath('//div[contains(concat(" ", normalize-space(@class), " "), '
                          '" tgme_widget_message ")]'):
        for br in node.xpath(".//br"):
            br.tail = "\n" + (br.tail or "")
        texts = node.xpath('.//div[contains(@class, "tgme_widget_message_text")]')
        when = node.xpath('.//a[contains(@class, "tgme_widget_message_date")]/time/@datetime')
        out.append((node.get("data-post") or "", texts[0].text_content() if texts else "",
                    when[0] if when else ""))
    return out


def best_ms(fn: Any, body: bytes) -> float:
    best = float("inf")
    for _ in range(RUNS):
        t0 = time.perf_counter()
        for _ in range(PAGES):
            fn(body)
        best = min(best, (time.perf_counter() - t0) / PAGES * 1000)
    return round(best, 3)


def main() -> None:
    pages = {"saved_page": SAVED.read_bytes(), "full_20_posts": full_page()}
    result: dict[str, Any] = {"bench": "telegram_preview", "load": os.getloadavg()[0]}
    for name, body in pages.items():
        result[f"{name}_kb"] = round(len(body) / 1024, 1)
        result[f"{name}_herald_selectolax_ms"] = best_ms(
            lambda b: parse_preview(b, "slobidska_ova"), body)
        try:
            result[f"{name}_lxml_ms"] = best_ms(lxml_parse, body)
        except ImportError:
            result[f"{name}_lxml_ms"] = None
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
