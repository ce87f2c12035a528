"""Herald's small exception tree; foreign errors are translated into it at the edges."""


class HeraldError(Exception):
    """Base of every error Herald raises on purpose."""


class FetchError(HeraldError):
    """A source could not be fetched (network, HTTP status, size, address)."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class FeedParseError(HeraldError):
    """A body is not a usable feed."""


class UnsafeURLError(HeraldError):
    """A URL is not http(s), or points at a private/loopback address that is not allowed."""


class DeliveryError(HeraldError):
    """Telegram refused a message (translated from telegram.error in bot/delivery)."""


class UserInputError(HeraldError):
    """A user typed something Herald cannot use; the message is shown to them."""
