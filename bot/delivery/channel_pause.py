"""A channel Herald may no longer post to is paused, and the admins who set it up are told
once (through the outbox, like every message that is not a reply).

Telegram refusing to pin an air-raid alert (Herald lacks the right to edit messages)
turns pinning off for that channel and tells its admins once, the same way.

Three ways to get here: Telegram's my_chat_member update (Herald removed or its rights
cut), a send refused with 403/400 (the sender's "blocked" event), or an operator's
/channel remove (no notice: they did it). ChannelRepo.pause changes the state only once,
so whichever comes first tells the admins and the others find it paused already.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from bot.alerts.html import escape
from bot.clock import Clock
from bot.domain import Channel, DeliveryKind, OutgoingMessage
from bot.i18n import N_, translator
from storage.store import Store

log = logging.getLogger(__name__)

REASONS = {
    "removed": N_("Herald was removed from the channel."),
    "rights": N_("Herald may no longer post messages there."),
    "refused": N_("Telegram refused a post: {error}"),
}


def channel_name(channel: Channel) -> str:
    """@name, or the title (or id) of a private channel; escaped HTML."""
    if channel.username:
        return "@" + escape(channel.username)
    return escape(channel.title or str(channel.chat_id))


def command_ref(channel: Channel) -> str:
    """What /channel commands take for this channel: its @name, or the id of a private
    one (plain text)."""
    return "@" + channel.username if channel.username else str(channel.chat_id)


def paused_text(channel: Channel, reason: str, error: str, lang: str) -> str:
    """The notice to one admin, in their language (HTML)."""
    _ = translator(lang)
    why = _(REASONS.get(reason, REASONS["refused"])).format(error=escape(error[:200]))
    return "\n".join([
        _("Herald stopped posting to {channel}.").format(channel=channel_name(channel)),
        why,
        _("Make Herald an administrator of the channel with the right to post messages: it "
          "goes on by itself (or use /channel add in a chat with Herald).")])


async def pause_channel(store: Store, clock: Clock, chat_id: int, reason: str,
                        error: str = "", *, default_language: str = "en",
                        fallback_admins: Sequence[int] = (),
                        notify: Callable[[], None] | None = None) -> bool:
    """Pause the channel and tell its admins (Herald's own admins when nobody known set it
    up), once; False when it was paused already or is not a channel. `notify` wakes the
    sender."""
    channel = await store.channels.pause(chat_id, f"{reason}: {error}" if error else reason,
                                         clock.now())
    if channel is None:
        return False
    log.warning("channel paused", extra={"chat_id": chat_id, "reason": reason,
                                         "error": error[:200]})
    stamp = int((channel.paused_at or clock.now()).timestamp())
    await _tell_admins(store, clock, channel, lambda lang: paused_text(channel, reason, error,
                                                                       lang),
                       f"channel-paused:{chat_id}:{stamp}", default_language,
                       fallback_admins, notify)
    return True


def pin_refused_text(channel: Channel, error: str, lang: str) -> str:
    """The notice that Herald could not pin an air-raid alert (HTML)."""
    _ = translator(lang)
    return "\n".join([
        _("Herald could not pin an air-raid alert in {channel}: {error}").format(
            channel=channel_name(channel), error=escape(error[:200])),
        _("Pinning is off now. Give Herald the administrator right “Edit Messages of "
          "Others”, then write /channel set {name} pin on.").format(
            name=escape(command_ref(channel)))])


async def pin_refused(store: Store, clock: Clock, chat_id: int, error: str, *,
                      default_language: str = "en", fallback_admins: Sequence[int] = (),
                      notify: Callable[[], None] | None = None) -> bool:
    """Telegram refused to pin (Herald lacks the right): pinning is turned off for the
    channel and its admins are told, once; False when it was off already."""
    if not await store.channels.set_pin_alerts(chat_id, False, clock.now()):
        return False
    channel = await store.channels.get(chat_id)
    if channel is None:
        return False
    log.warning("channel pinning refused", extra={"chat_id": chat_id, "error": error[:200]})
    stamp = int(clock.now().timestamp())
    await _tell_admins(store, clock, channel, lambda lang: pin_refused_text(channel, error,
                                                                            lang),
                       f"channel-pin-refused:{chat_id}:{stamp}", default_language,
                       fallback_admins, notify)
    return True


async def _tell_admins(store: Store, clock: Clock, channel: Channel,
                       text: Callable[[str], str], key: str, default_language: str,
                       fallback_admins: Sequence[int],
                       notify: Callable[[], None] | None) -> None:
    """One notice to each admin who set the channel up (Herald's admins when nobody known
    did), in their language, through the outbox."""
    messages = []
    for admin_id in channel.admin_ids or tuple(fallback_admins):
        chat = await store.chats.get(admin_id)
        lang = chat.language if chat is not None else default_language
        messages.append(OutgoingMessage(chat_id=admin_id, kind=DeliveryKind.NOTICE,
                                        text=text(lang), dedup_key=key))
    if messages and await store.outbox.enqueue(messages, clock.now()) and notify is not None:
        notify()
