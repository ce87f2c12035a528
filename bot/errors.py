"""Herald's small exception tree: the errors Herald raises on purpose.

Where foreign errors go:
- httpx errors while fetching a feed become FetchError (bot/news/fetch.py); a URL that is
  not http(s) or names a forbidden address is UnsafeURLError (bot/news/urls.py).
- A body feedparser or expat cannot use, or that is refused (entities, HTML), becomes
  FeedParseError (bot/news/parse.py).
- telegram.error is not translated into exceptions: bot/delivery/errors.classify turns it
  into what the sender does with the outbox row, and a handler's error reaches
  bot/telegram/error_handler, which logs it and answers the user.
- SQLAlchemy's errors are not translated: they go up to the boundary that owns the work (a
  poll cycle or a source, a supervised background task that restarts, the handlers' error
  handler), where one failure never stops the rest.
- UserInputError (and its subclasses, such as SettingError) carries text for the user.
"""


class HeraldError(Exception):
    """Base of every error Herald raises on purpose."""


class FetchError(HeraldError):
    """A source could not be fetched (network, HTTP status, size, address)."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class FetchRedirected(FetchError):
    """A fetch that must not follow redirects got one (a channel without a public preview)."""

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(message, permanent=True)
        self.location = location


class FeedParseError(HeraldError):
    """A body is not a usable feed."""


class UnsafeURLError(HeraldError):
    """A URL is not http(s), or points at a private/loopback address that is not allowed."""


class UserInputError(HeraldError):
    """A user typed something Herald cannot use; the message is shown to them."""
