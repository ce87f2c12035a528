"""End to end: a Telegram channel source in the running bot (runtime, poller, store, alert
fan-out, sender, Bot API emulator), its preview page on the local feed server."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from e2e_harness import ALERT_TIMEOUT, Harness, running

from bot.config import TelegramPreviewConfig
from bot.domain import SourceConfig
from bot.news.channels import channel_source_url
from bot.testing.telegram_pages import PagePost, render_preview

CHANNEL = "slobidska_ova"
TITLE = "Слобідська ОВА (вигаданий канал)"
PATH = f"/s/{CHANNEL}"


def posts_page(*posts: PagePost) -> bytes:
    return render_preview(CHANNEL, TITLE, posts)


async def reads(h: Harness, times: int = 2) -> None:
    """Wait until the channel's page has been read `times` more times."""
    target = h.feeds.request_count(PATH) + times
    deadline = asyncio.get_running_loop().time() + ALERT_TIMEOUT
    while h.feeds.request_count(PATH) < target:
        assert asyncio.get_running_loop().time() < deadline, "the channel was not read"
        await asyncio.sleep(0.05)


async def test_channel_posts_alert_once_and_edits_stay_quiet(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    old = PagePost(501, "Комендантська година в Чугуєві діє з 23:00 до 05:00\n"
                        "Патрулі поліції працюють у всіх громадах.", now - timedelta(minutes=30))

    def prepare(h: Harness) -> None:
        h.cfg = replace(
            h.cfg, telegram_preview=TelegramPreviewConfig(
                base_url=h.feeds.url("/s/"), max_requests_per_minute=600),
            sources=(*h.cfg.sources, SourceConfig(name="Слобідська ОВА",
                                                  url=channel_source_url(CHANNEL),
                                                  language="uk", poll_interval=30)))
        h.feeds.set_channel(CHANNEL, posts_page(old))

    async with running(tmp_path, prepare=prepare) as h:
        reply = await h.say(101, "/subscribe Чугуїв")
        assert "Following Chuhuiv" in reply.plain, reply.plain
        await reads(h)  # the first read: the old post is stored, and alerts nobody
        new = PagePost(502, "⚡ У Чугуєві через обстріл знеструмлено понад 3 тисячі абонентів\n"
                            "Енергетики вже працюють над відновленням живлення.", now)
        h.feeds.set_channel(CHANNEL, posts_page(old, new))
        alert = await h.wait_alert(101, lambda m: "знеструмлено" in m.plain)
        assert alert.plain.startswith("У Чугуєві через обстріл знеструмлено")
        assert "Source: t.me/slobidska_ova" in alert.plain
        assert "https://t.me/slobidska_ova/502" in alert.text

        edited = replace(new, text=new.text.replace("3 тисячі", "3,5 тисячі"), edited=True)
        h.feeds.set_channel(CHANNEL, posts_page(old, edited))
        await reads(h, 3)
        await h.settled()
        assert len(h.alerts(101)) == 1  # the old post never, the new one once, edits never
        item = await h.services.store.news.item_by_url("https://t.me/slobidska_ova/502")
        assert item is not None and "3,5 тисячі" in item.title

        sources = await h.say(900, "/sources")
        assert "Telegram channel @slobidska_ova" in sources.plain
