"""Channels as destinations: finding one, checking Herald may post there, following places
and topics for it, its settings, and the URL button under its posts.

Handlers (bot/telegram/handlers/channel.py) parse and reply; this module does the work.
Errors a person can fix are SettingError (a translatable message).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Bot, ChatFullInfo, ChatMember
from telegram import Chat as TgChat
from telegram.error import TelegramError

from bot.alerts.html import escape, truncate_text
from bot.alerts.prefs import SettingError, parse_language, parse_schedule, parse_timezone
from bot.delivery.channel_pause import channel_name, command_ref
from bot.domain import Channel, Subscription, TagKind
from bot.i18n import N_, translator
from bot.news.classify import normalize_phrase
from bot.services import Services
from bot.telegram.context import quoted_phrase
from bot.telegram.names import command_for, label_of

log = logging.getLogger(__name__)
CONFIDENT = 0.99  # a follow is made only for a name resolved this surely
MAX_FOLLOWS = 10  # names per command
_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
_LINK = re.compile(r"^(?:https?://)?t\.me/([A-Za-z][A-Za-z0-9_]{3,31})/?$", re.I)
_ID = re.compile(r"^-100\d{5,16}$")
_DAY = timedelta(hours=24)

NOT_IN = N_("Herald is not in {channel}. Add it as an administrator with the right to post "
            "messages (the channel's Administrators → Add Admin → Herald).")
NOT_ADMIN = N_("Herald is in {channel} but not an administrator. Make it an administrator "
               "with the right to post messages.")
NO_POST = N_("Herald is an administrator of {channel} but may not post messages: turn on "
             "“Post Messages” in its administrator rights.")


def channel_ref(text: str) -> str | int:
    """'@kherson_news', 'kherson_news', 't.me/kherson_news' -> '@kherson_news';
    '-1001234567890' -> the id. SettingError for anything else."""
    value = text.strip()
    if _ID.match(value):
        return int(value)
    m = _USERNAME.match(value) or _LINK.match(value)
    if m is None:
        raise SettingError(N_("Not a channel: {value}. Write its @name, or the id (-100…) of "
                              "a private channel."), value=truncate_text(value, 40))
    return "@" + m.group(1)


async def find_channel(bot: Bot, ref: str | int) -> ChatFullInfo:
    """The channel Telegram knows by this @name or id (SettingError when none)."""
    try:
        chat = await bot.get_chat(ref)
    except TelegramError as exc:
        log.info("getChat failed", extra={"ref": str(ref), "error": str(exc)})
        raise SettingError(N_("Telegram knows no channel {value} that Herald can see. Check "
                              "the @name; for a private channel add Herald first and use its "
                              "id."), value=str(ref)) from None
    if chat.type != TgChat.CHANNEL:
        raise SettingError(N_("{value} is not a channel."), value=str(ref))
    return chat


NO_PIN = N_("Herald may not pin messages in {channel}: turn on “Edit Messages of Others” in "
           "its administrator rights (pinning in a channel takes that right).")


async def missing_right(bot: Bot, chat_id: int, *, pin: bool = False) -> str | None:
    """None when Herald may post to the channel (and with `pin`, pin posts there: the right
    to edit others' messages); otherwise what is missing (a msgid with a {channel} field).
    One getChatMember."""
    try:
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError as exc:
        log.info("getChatMember failed", extra={"chat_id": chat_id, "error": str(exc)})
        return NOT_IN
    if member.status == ChatMember.OWNER:
        return None
    if member.status in (ChatMember.LEFT, ChatMember.BANNED):
        return NOT_IN
    if member.status != ChatMember.ADMINISTRATOR:
        return NOT_ADMIN
    if not getattr(member, "can_post_messages", False):
        return NO_POST
    if pin and not getattr(member, "can_edit_messages", False):
        return NO_PIN
    return None


async def may_delete(bot: Bot, chat_id: int) -> bool:
    """Whether Herald may delete other posts in the channel (its admins' command posts)."""
    try:
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError:
        return False
    return bool(getattr(member, "can_delete_messages", False))


async def register(services: Services, chat: TgChat | ChatFullInfo,
                   admin_id: int | None, *, resume: bool = True) -> Channel:
    """Record the channel (new: in the default language and zone); resume it if paused
    (and `resume`: the caller knows Herald may post there)."""
    cfg = services.config.briefings
    channel, created = await services.store.channels.register(
        chat.id, username=chat.username, title=chat.title, admin_id=admin_id,
        language=cfg.default_language, timezone=cfg.default_timezone, now=services.clock.now())
    if channel.paused_reason is not None and resume:
        await services.store.channels.resume(chat.id, services.clock.now())
        log.info("channel resumed", extra={"chat_id": chat.id})
        channel = await services.store.channels.get(chat.id) or channel
    elif created:
        log.info("channel added", extra={"chat_id": chat.id, "admin": admin_id})
    return channel


def split_names(text: str) -> list[str]:
    """'kherson, mykolaiv' -> two names; a quoted phrase stays whole."""
    if quoted_phrase(text) is not None:
        return [text.strip()]
    return [p.strip() for p in text.split(",") if p.strip()][:MAX_FOLLOWS]


async def follow_names(services: Services, chat_id: int, names: Sequence[str],
                       lang: str) -> list[str]:
    """Follow each name for the channel; one line (HTML) per name saying what happened."""
    _ = translator(lang)
    classifier = services.need_classifier()
    alerts = services.need_alerts()
    lines: list[str] = []
    for name in names:
        phrase = quoted_phrase(name)
        if phrase is not None and normalize_phrase(phrase):
            sub, _new = await alerts.subscribe(chat_id, TagKind.PHRASE,
                                               normalize_phrase(phrase), phrase)
            lines.append(_("Following <b>{name}</b>.").format(name=escape(sub.label)))
            continue
        found = classifier.resolve(name, limit=3)
        if found and found[0].score >= CONFIDENT:
            top = found[0]
            label = label_of(classifier, top.kind, top.key, lang)
            await alerts.subscribe(chat_id, top.kind, top.key, label)
            lines.append(_("Following <b>{name}</b>.").format(name=escape(label)))
        elif found:
            options = ", ".join(escape(label_of(classifier, r.kind, r.key, lang)) for r in found)
            lines.append(_("Not sure what “{name}” is: {options}? Write one of these.").format(
                name=escape(truncate_text(name, 40)), options=options))
        else:
            lines.append(_("I don't know a city or topic called <b>{query}</b>.").format(
                query=escape(truncate_text(name, 40))))
    return lines


async def unfollow_names(services: Services, chat_id: int, names: Sequence[str],
                         lang: str) -> list[str]:
    """Stop following each name (by what it resolves to, or by the follow's own label)."""
    _ = translator(lang)
    classifier = services.need_classifier()
    alerts = services.need_alerts()
    subs = await services.store.chats.subscriptions(chat_id)
    lines: list[str] = []
    for name in names:
        phrase = quoted_phrase(name)
        wanted = normalize_phrase(phrase) if phrase else name.casefold()
        found = classifier.resolve(name, limit=1) if phrase is None else []
        match = next((s for s in subs if s.key == wanted or s.label.casefold() == wanted
                      or (found and (s.kind, s.key) == (found[0].kind, found[0].key))), None)
        if match is not None and await alerts.unsubscribe(chat_id, match.id) is not None:
            lines.append(_("Stopped following <b>{name}</b>.").format(name=escape(match.label)))
        else:
            lines.append(_("This channel does not follow <b>{name}</b>.").format(
                name=escape(truncate_text(name, 40))))
    return lines


def follows_line(subs: Sequence[Subscription], lang: str) -> str:
    """'Follows: Kherson, Mykolaiv' (HTML)."""
    _ = translator(lang)
    if not subs:
        return _("Follows nothing yet.")
    return _("Follows: {names}").format(names=", ".join(escape(s.label) for s in subs))


async def describe(services: Services, channel: Channel, lang: str) -> str:
    """One channel for /channel list and after a change (HTML)."""
    _ = translator(lang)
    store = services.store
    settings = await store.chats.settings(channel.chat_id)
    subs = await store.chats.subscriptions(channel.chat_id)
    since = services.clock.now().replace(microsecond=0) - _DAY
    posts = await store.channels.posts_since(channel.chat_id, since)
    state = (_("paused: {reason}").format(reason=escape(channel.paused_reason))
             if channel.paused_reason else _("posting"))
    times = ", ".join(settings.briefing_times) or _("off")
    on_off = {True: _("on"), False: _("off")}
    sirens = (await store.sirens.prefs(channel.chat_id)).enabled
    return "\n".join([
        f"<b>{channel_name(channel)}</b> ({escape(channel.title or '')}) · {state}",
        "  " + follows_line(subs, lang),
        "  " + _("Language {lang} · briefings {times} ({zone}) · button {button} · "
                 "{posts} posts in 24 h").format(lang=settings.language, times=times,
                                                 zone=escape(settings.timezone),
                                                 button=on_off[channel.link_button],
                                                 posts=posts),
        "  " + _("Air-raid alerts {sirens} · pinned while active {pin}").format(
            sirens=on_off[sirens], pin=on_off[channel.pin_alerts])])


SIRENS = ("sirens", "airraid", "air-raid", "alerts")
PIN = ("pin", "pinning")


def _on_off(value: str, usage: str) -> bool:
    word = value.strip().lower()
    if word not in ("on", "off", "yes", "no"):
        raise SettingError(usage)
    return word in ("on", "yes")


async def apply_setting(services: Services, bot: Bot, channel: Channel, name: str,
                        value: str) -> None:
    """`/channel set @name <setting> <value>`: language, times (briefings), timezone,
    button, sirens (official air-raid alerts), pin (them while active). SettingError for an
    unknown setting or value, or a right Herald lacks."""
    store, now, chat_id = services.store, services.clock.now(), channel.chat_id
    setting = name.lower()
    if setting in ("language", "lang"):
        await store.chats.update_settings(chat_id, now, language=parse_language(value))
    elif setting in ("times", "briefings", "schedule", "briefing"):
        times = parse_schedule(value, services.config.briefings)
        await store.chats.update_settings(chat_id, now, briefing_times=list(times))
    elif setting in ("timezone", "tz", "zone"):
        await store.chats.update_settings(chat_id, now, timezone=parse_timezone(value))
    elif setting == "button":
        on = _on_off(value, N_("Write button on or button off."))
        await store.channels.set_link_button(chat_id, on, now)
    elif setting in SIRENS:
        on = _on_off(value, N_("Write sirens on or sirens off."))
        await store.sirens.set_prefs(chat_id, now, enabled=on, asked=True)
    elif setting in PIN:
        on = _on_off(value, N_("Write pin on or pin off."))
        missing = await missing_right(bot, chat_id, pin=True) if on else None
        if missing is not None:
            raise SettingError(missing, channel=command_ref(channel))
        await store.channels.set_pin_alerts(chat_id, on, now)
    else:
        raise SettingError(N_("Settings of a channel: language, times, timezone, button, "
                              "sirens, pin."))
    if setting in ("times", "briefings", "schedule", "briefing", "timezone", "tz", "zone") \
            and services.briefings is not None:
        await services.briefings.reschedule(chat_id)


async def known_channel(services: Services, ref: str | int) -> Channel:
    """The channel Herald posts to by @name or id (SettingError when it is not one)."""
    channel = (await services.store.channels.get(ref) if isinstance(ref, int)
               else await services.store.channels.by_username(ref))
    if channel is None:
        raise SettingError(N_("Herald does not post to {value}: /channel list shows the "
                              "channels."), value=str(ref))
    return channel


def link_markup(services: Services, username: Callable[[], str | None]
                ) -> Callable[[Sequence[Subscription], str], dict[str, Any] | None]:
    """The URL button under a channel's post: "More about Kherson", a deep link that
    follows it in a chat with Herald (or Herald itself for a phrase)."""
    def markup(subs: Sequence[Subscription], lang: str) -> dict[str, Any] | None:
        bot = username()
        if not bot:
            return None
        _ = translator(lang)
        classifier = services.classifier
        for sub in subs:
            cmd = command_for(classifier, sub.kind, sub.key) if classifier is not None \
                and sub.kind != TagKind.PHRASE else None
            if cmd:
                name = truncate_text(label_of(classifier, sub.kind, sub.key, lang), 40)
                return {"inline_keyboard": [[{
                    "text": _("More about {name}").format(name=name),
                    "url": f"https://t.me/{bot}?start={cmd}"}]]}
        return {"inline_keyboard": [[{"text": _("Follow the news with Herald"),
                                      "url": f"https://t.me/{bot}"}]]}
    return markup
