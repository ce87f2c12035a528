"""Named crash points for the fault-injection tests: kill -9 at an exact place in the code.

Crash safety is a claim about every instant, and a kill timed from outside lands wherever the
scheduler happens to be. A crash point names an instant instead: with
`HERALD_CRASH_AT=<point>` (or `<point>:<n>` for the n-th pass) in the environment, the process
kills itself with SIGKILL when it passes `crash_point("<point>")`, exactly as `kill -9`
would. The tests run `herald run` as a subprocess at each point and check that nothing
promised is lost. Unset (always, in production), a crash point costs one comparison.

The points: stored (a batch of items and its new stories committed; their alerts not yet
queued), alerts_queued (the alerts in the outbox; the stories' marks not yet cleared),
claimed (outbox rows claimed by the sender; nothing sent yet), sent (a message accepted
by Telegram; not yet recorded as sent).
"""

from __future__ import annotations

import os
import signal

POINTS = frozenset({"stored", "alerts_queued", "claimed", "sent",
                    # official alerts (bot/sirens/service.py)
                    "siren_request_marked", "siren_events_stored", "siren_event_queued"})

_spec = os.environ.get("HERALD_CRASH_AT", "")
_point, _, _nth = _spec.partition(":")
_remaining = int(_nth) if _nth.isdigit() else 1
if _point and _point not in POINTS:
    raise SystemExit(f"HERALD_CRASH_AT: unknown crash point {_point!r} "
                     f"(known: {', '.join(sorted(POINTS))})")


def crash_point(name: str) -> None:
    """Kill this process (SIGKILL) here if HERALD_CRASH_AT names this point."""
    global _remaining
    if name != _point:
        return
    _remaining -= 1
    if _remaining <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
