"""Helpers shared by the benchmarks."""

from __future__ import annotations

import multiprocessing
import os
import socket
from collections.abc import Collection
from pathlib import Path


def children_cpu_seconds(exclude_pids: Collection[int] = ()) -> float:
    """CPU seconds used so far by this process's live child processes (Linux /proc),
    e.g. the pipeline's worker processes; `exclude_pids` leaves out helpers such as a
    feed server that stands for the outside world."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for child in multiprocessing.active_children():
        if child.pid is None or child.pid in exclude_pids:
            continue
        try:
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago (for a child process to bind)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
