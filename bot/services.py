"""The typed context every handler and job receives: opened once at start, closed at stop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.config import Config
from storage.store import Store


@dataclass
class Services:
    config: Config
    store: Store
    clock: Clock = field(default_factory=Clock)
    # Filled by the modules that own them (see README "Architecture"):
    classifier: Any = None  # bot.news.classify.Classifier
    poller: Any = None  # bot.news.poller.Poller
    alerts: Any = None  # bot.alerts.service.AlertService
    sender: Any = None  # bot.delivery.sender.Sender
    briefings: Any = None  # bot.alerts.briefing_service.BriefingService
    broadcasts: Any = None  # bot.delivery.broadcast.BroadcastService
    leader: Any = None  # bot.ops.leader.Leader
    extras: dict[str, Any] = field(default_factory=dict)
