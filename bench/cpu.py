"""CPU time per process from /proc (utime + stime of every thread), for CPU per call per process."""

from __future__ import annotations

import os
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, None when its /proc entry is unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (a ``govbus run --workers N`` parent and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def broker_pid() -> int | None:
    """The machine's RabbitMQ node (the oldest beam.smp: test nodes started later are not it)."""
    oldest: tuple[int, int] | None = None
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() != "beam.smp":
                    continue
                started = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[19])
            except (OSError, IndexError, ValueError):
                continue
            if oldest is None or started < oldest[0]:
                oldest = (started, int(entry.name))
    return None if oldest is None else oldest[1]


def snapshot(pids: dict[str, list[int]]) -> dict[str, float | None]:
    """CPU seconds so far of each role's processes (None when one is unreadable)."""
    result: dict[str, float | None] = {}
    for role, group in pids.items():
        values = [cpu_seconds(pid) for pid in group]
        result[role] = None if not group or None in values else sum(v for v in values if v is not None)
    return result


def per_call_us(
    before: dict[str, float | None], after: dict[str, float | None], calls: int
) -> dict[str, float | None]:
    """CPU µs per call of each role between two snapshots."""
    return {
        role: None
        if before[role] is None or after.get(role) is None or not calls
        else round((after[role] - before[role]) / calls * 1e6, 1)  # type: ignore[operator]
        for role in before
    }
