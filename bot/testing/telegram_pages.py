"""Telegram channel preview pages (`t.me/s/<channel>`) written by Herald for the demo and
tests: the real page's structure (see bot/news/telegram_preview.py), our own text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape


@dataclass(frozen=True, slots=True)
class PagePost:
    id: int
    text: str  # plain text; lines become <br/>
    at: datetime
    forwarded_from: str | None = None  # a channel username
    edited: bool = False


def _post(channel: str, title: str, post: PagePost) -> str:
    text = "<br/>".join(escape(line) for line in post.text.split("\n"))
    forwarded = ""
    if post.forwarded_from:
        fwd = escape(post.forwarded_from)
        forwarded = ('<div class="tgme_widget_message_forwarded_from accent_color">Forwarded '
                     f'from&nbsp;<a class="tgme_widget_message_forwarded_from_name" '
                     f'href="https://t.me/{fwd}/1"><span dir="auto">{fwd}</span></a></div>')
    edited = "edited " if post.edited else ""
    link = f"https://t.me/{channel}/{post.id}"
    return f"""
          <div class="tgme_widget_message_wrap js-widget_message_wrap">
            <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{channel}/{post.id}">
              <div class="tgme_widget_message_bubble">
                <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="https://t.me/{channel}"><span dir="auto">{escape(title)}</span></a></div>
                {forwarded}
                <div class="tgme_widget_message_text js-message_text" dir="auto">{text}</div>
                <div class="tgme_widget_message_footer compact js-message_footer">
                  <div class="tgme_widget_message_info short js-message_info">
                    <span class="tgme_widget_message_meta">{edited}<a class="tgme_widget_message_date" href="{link}"><time datetime="{post.at.isoformat()}" class="time">{post.at:%H:%M}</time></a></span>
                  </div>
                </div>
              </div>
            </div>
          </div>"""  # noqa: E501 - the page's own long lines


def render_preview(channel: str, title: str, posts: Sequence[PagePost], *,
                   limit: int = 20) -> bytes:
    """The preview page of a channel: its latest `limit` posts, oldest first (as t.me)."""
    shown = sorted(posts, key=lambda p: p.id)[-limit:]
    more = ""
    if shown and len(posts) > len(shown):
        first = shown[0].id
        more = (f'<div class="tgme_widget_message_centered js-messages_more_wrap"><a '
                f'href="/s/{channel}?before={first}" class="tme_messages_more '
                f'js-messages_more" data-before="{first}"></a></div>')
    body = "".join(_post(channel, title, p) for p in shown)
    return f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{escape(title)} – Telegram</title>
    <meta property="og:title" content="{escape(title)}">
  </head>
  <body class="widget_frame_base tgme_webpreview_body">
    <aside class="tgme_right_column">
      <section class="tgme_channel_info">
        <div class="tgme_channel_info_header">
          <div class="tgme_channel_info_header_title"><span dir="auto">{escape(title)}</span></div>
          <div class="tgme_channel_info_header_username"><a href="https://t.me/{channel}">@{channel}</a></div>
        </div>
      </section>
    </aside>
    <main class="tgme_main">
      <div class="tgme_container">
        <section class="tgme_channel_history js-message_history">{more}{body}
        </section>
      </div>
    </main>
  </body>
</html>
""".encode()
