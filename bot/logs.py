"""Structured logging: one event per line as key=value pairs; secrets never written."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

_SECRETS: set[str] = set()
# Bot tokens look like 123456:ABC-DEF...; they also appear inside Bot API URLs.
_TOKEN_RE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")


def register_secret(value: str) -> None:
    """Mask this exact string wherever it would be logged."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, "***")
    return _TOKEN_RE.sub("***", text)


def _fmt(value: Any) -> str:
    s = str(value)
    if not s or any(c in s for c in ' "=\n'):
        return json.dumps(s, ensure_ascii=False)
    return s


class KeyValueFormatter(logging.Formatter):
    """`ts level logger event k=v ...`; extra fields come from `extra={...}`."""

    _STD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            record.levelname.lower(),
            record.name,
            _fmt(record.getMessage()),
        ]
        for key, value in record.__dict__.items():
            if key not in self._STD and not key.startswith("_"):
                parts.append(f"{key}={_fmt(value)}")
        if record.exc_info:
            parts.append("exc=" + json.dumps(self.formatException(record.exc_info)))
        return redact(" ".join(parts))


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO; Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
