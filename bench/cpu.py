"""CPU time per process from /proc (utime + stime of every thread), for CPU per call per process."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, None when its /proc entry is unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def context_switches(pid: int) -> int | None:
    """Voluntary context switches of every thread of a process (each a thread that slept: a hop)."""
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return None
    for task in tasks:
        try:
            status = (task / "status").read_text()
        except OSError:  # a thread that ended meanwhile
            continue
        for line in status.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


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


def snapshot(
    pids: dict[str, list[int]], measure: Callable[[int], float | int | None] = cpu_seconds
) -> dict[str, float | None]:
    """``measure`` (CPU seconds by default) so far of each role's processes (None when one is unreadable)."""
    result: dict[str, float | None] = {}
    for role, group in pids.items():
        values = [measure(pid) for pid in group]
        result[role] = None if not group or None in values else sum(v for v in values if v is not None)
    return result


def per_call(
    before: dict[str, float | None], after: dict[str, float | None], calls: int, scale: float = 1e6
) -> dict[str, float | None]:
    """The difference per call of each role between two snapshots (µs of CPU with the default scale)."""
    return {
        role: None
        if before[role] is None or after.get(role) is None or not calls
        else round((after[role] - before[role]) / calls * scale, 2)  # type: ignore[operator]
        for role in before
    }
