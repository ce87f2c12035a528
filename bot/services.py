"""The typed context every handler and job receives: opened once at start, closed at stop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bot.clock import Clock
from bot.config import Config
from storage.store import Store

if TYPE_CHECKING:
    from bot.alerts.briefing_service import BriefingService
    from bot.alerts.service import AlertService
    from bot.delivery.broadcast import BroadcastService
    from bot.delivery.sender import Sender
    from bot.news.classify import Classifier
    from bot.news.poller import Poller
    from bot.ops.leader import Leader


@dataclass
class Services:
    """What handlers and jobs use, opened once by bot.runtime.Runtime (typed: each field is
    the real service; None where this process does not run it)."""

    config: Config
    store: Store
    clock: Clock = field(default_factory=Clock)
    # Filled by the modules that own them (see README "Architecture"):
    classifier: Classifier | None = None
    poller: Poller | None = None
    alerts: AlertService | None = None
    sender: Sender | None = None  # None: delivery off, or a --role web process
    briefings: BriefingService | None = None
    broadcasts: BroadcastService | None = None
    leader: Leader | None = None  # None on SQLite without a leader campaign
    extras: dict[str, Any] = field(default_factory=dict)

    # Every running bot has these three (Runtime.open builds them); a test of one handler
    # area may build only what it uses, and then gets a clear error here, not an
    # AttributeError on None somewhere in a handler.

    def need_classifier(self) -> Classifier:
        return _need(self.classifier, "classifier")

    def need_alerts(self) -> AlertService:
        return _need(self.alerts, "alerts")

    def need_poller(self) -> Poller:
        return _need(self.poller, "poller")


T = TypeVar("T")


def _need(value: T | None, name: str) -> T:
    if value is None:
        raise RuntimeError(f"Services.{name} is not set up in this process")
    return value
