"""One follow's options, from ⚙ in /list ("fo:<id>"): how it alerts (instant, important
only, briefing only: "fo:<id>:m:<i|p|b>"), its excluded words (✖ one: "fo:<id>:x:<n>"), and
back to the list ("fo:<id>:back"). Words are added with /subscribe NAME -word."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.alerts.html import bold, escape
from bot.domain import Chat, Subscription, SubscriptionMode, TagKind
from bot.telegram import keyboards as kb
from bot.telegram import pages
from bot.telegram.context import Context, gettext_for, pressed, services_of
from bot.telegram.handlers.unfollow import list_keyboard, list_text, page_holding

MODE_CODE = {SubscriptionMode.INSTANT: "i", SubscriptionMode.IMPORTANT: "p",
             SubscriptionMode.BRIEFING: "b"}
CODE_MODE = {v: k for k, v in MODE_CODE.items()}


def options_text(chat: Chat, sub: Subscription, important_sources: int) -> str:
    """What this follow does now and how to change it."""
    _ = gettext_for(chat)
    modes = {
        SubscriptionMode.INSTANT: _("an alert for every new story"),
        SubscriptionMode.IMPORTANT: _("important only: an alert once {n} outlets carry the "
                                      "story or an official source publishes it; the rest "
                                      "in briefings").format(n=important_sources),
        SubscriptionMode.BRIEFING: _("in briefings only, no alerts"),
    }
    lines = [bold(escape(sub.label)),
             escape(_("Alerts: {mode}").format(mode=modes[sub.mode]))]
    if sub.exclude:
        lines.append(escape(_("Stories that mention these words are left out: {words}")
                            .format(words=", ".join(sub.exclude))))
    else:
        lines.append(escape(_("No excluded words.")))
    name = kb.short(sub.label, 40)
    if sub.kind is TagKind.PHRASE:  # typed in quotes, it is this phrase again
        name = f"“{name}”"
    lines.append(escape(_("To leave out stories that mention a word: /subscribe {name} "
                          "-word -another").format(name=name)))
    return "\n".join(lines)


def options_keyboard(chat: Chat, sub: Subscription) -> InlineKeyboardMarkup:
    _ = gettext_for(chat)
    names = {SubscriptionMode.INSTANT: _("Instant"), SubscriptionMode.IMPORTANT: _("Important"),
             SubscriptionMode.BRIEFING: _("Briefing")}
    rows = [[InlineKeyboardButton(("• " if sub.mode is mode else "") + names[mode],
                                  callback_data=f"fo:{sub.id}:m:{code}")
             for mode, code in MODE_CODE.items()]]
    words = [InlineKeyboardButton("✖ -" + kb.short(w, 20), callback_data=f"fo:{sub.id}:x:{i}")
             for i, w in enumerate(sub.exclude)]
    rows += [words[i:i + 3] for i in range(0, len(words), 3)]
    rows.append([InlineKeyboardButton("« " + _("Back to the list"),
                                      callback_data=f"fo:{sub.id}:back")])
    return InlineKeyboardMarkup(rows)


async def on_options_button(update: Update, context: Context) -> None:
    """⚙ under /list and the buttons of the options view; only this chat's own follows,
    and in groups only its administrators (data can be forged: checked on every press)."""
    got = await pressed(update, context, changes=True)
    if got is None:
        return
    query, message, chat, _ = got
    services = services_of(context)
    parts = (query.data or "").split(":")
    sub_id = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() and len(parts[1]) < 19 \
        else None
    sub = await services.store.chats.get_subscription(sub_id) if sub_id is not None else None
    if sub is None or sub.chat_id != chat.id:
        await query.answer(_("That is not something this chat follows."))
        return
    action = parts[2:]
    if action == ["back"]:
        subs = await services.store.chats.subscriptions(chat.id)
        page = page_holding(subs, sub.id)
        await query.answer()
        await pages.show(message, list_text(chat, subs, page), list_keyboard(chat, subs, page),
                         context)
        return
    note = None
    if len(action) == 2 and action[0] == "m" and action[1] in CODE_MODE:
        mode = CODE_MODE[action[1]]
        if mode is not sub.mode:
            sub = await services.need_alerts().set_mode(chat.id, sub.id, mode) or sub
            note = _("Saved.")
    elif len(action) == 2 and action[0] == "x" and action[1].isdigit():
        i = int(action[1])
        if i < len(sub.exclude):
            words = sub.exclude[:i] + sub.exclude[i + 1:]
            await services.store.chats.set_exclude(chat.id, sub.id, words)
            sub = await services.store.chats.get_subscription(sub.id) or sub
            note = _("Saved.")
    elif action:
        await query.answer(_("This button no longer works."))
        return
    await query.answer(note)
    important = services.config.alerts.important_sources
    await pages.show(message, options_text(chat, sub, important),
                     options_keyboard(chat, sub), context)




def register(application: Application) -> None:
    """Add the "fo:" buttons."""
    application.add_handler(CallbackQueryHandler(on_options_button, pattern=r"^fo:"))
