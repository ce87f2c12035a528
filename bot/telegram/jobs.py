"""Repeating leader-only jobs on PTB's JobQueue (APScheduler): the briefing pass.

What must survive a restart lives in the database (chats.next_briefing_at); the job only
asks it what is due. (Broadcasts run as a task of their own: a confirm wakes it at once.)
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import Application, ContextTypes, Job

from bot.services import Services

log = logging.getLogger(__name__)
BRIEFING_EVERY = 30.0  # seconds between "which briefings are due?" queries


async def run_briefings(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Compose and enqueue every briefing that is due now."""
    services: Services = context.application.bot_data["services"]
    if services.briefings is None:
        return
    supervisor = services.extras.get("supervisor")
    try:
        n = await services.briefings.run_due()
    except Exception as exc:
        # One failed pass must not remove the job: the next tick tries again; a pass that
        # fails for ops.fatal_after stops the process (bot.ops.supervisor).
        log.exception("briefing pass failed")
        if supervisor is not None:
            supervisor.record("briefings", f"{type(exc).__name__}: {exc}")
        return
    if supervisor is not None:
        supervisor.record("briefings", None)
    if n:
        log.info("briefings enqueued", extra={"count": n})


def schedule_jobs(application: Application, services: Services,
                  *, briefing_every: float | None = None) -> list[Job[Any]]:
    """Add the repeating jobs this process runs while it leads; returns them for removal."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    jobs: list[Job[Any]] = []
    # The first pass comes at once: a slot missed while the process was down is caught up.
    if services.briefings is not None:
        every = briefing_every or float(services.extras.get("briefing_every", BRIEFING_EVERY))
        jobs.append(queue.run_repeating(run_briefings, interval=every, first=0.5,
                                        name="briefings", job_kwargs={"max_instances": 1}))
    return jobs
