"""CPU and memory of each process of the tree while a benchmark runs, read from /proc.

A Sampler thread reads, every `interval_s`, the CPU time (utime + stime) and the RSS of every
live process of each named process group (the gateway's uvicorn master and workers, Rasa,
the action server) and of the benchmark's own process. cpu_percent(a, b) is the CPU a group
used between two times as a share of one core; the samples are kept for the soak's
memory-growth check.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _members(pgid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(entry))
    return out


def _read(pid: int) -> tuple[float, float] | None:
    """(CPU seconds, RSS MiB) of one process, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS, rss_pages * PAGE_KIB / 1024


@dataclass
class Sample:
    at: float  # time.monotonic()
    cpu_s: dict[str, float]  # group -> CPU seconds so far (live members)
    rss_mib: dict[str, float]  # group -> summed RSS of its members
    rss_each: dict[str, list[float]]  # group -> RSS of each member


@dataclass(eq=False)
class Sampler(threading.Thread):
    groups: dict[str, int]  # name -> process group id (a server and its children)
    single: dict[str, int] = field(default_factory=dict)  # name -> one pid (this process)
    interval_s: float = 1.0
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.stopping = threading.Event()

    def sample(self) -> Sample:
        cpu, rss, each = {}, {}, {}
        for name, pids in [*((n, _members(g)) for n, g in self.groups.items()),
                           *((n, [p]) for n, p in self.single.items())]:
            reads = [r for r in (_read(p) for p in pids) if r is not None]
            cpu[name] = sum(r[0] for r in reads)
            rss[name] = sum(r[1] for r in reads)
            each[name] = [r[1] for r in reads]
        s = Sample(time.monotonic(), cpu, rss, each)
        self.samples.append(s)
        return s

    def run(self) -> None:
        while not self.stopping.wait(self.interval_s):
            self.sample()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)

    def between(self, a: float, b: float) -> list[Sample]:
        return [s for s in self.samples if a <= s.at <= b]

    def cpu_percent(self, a: float, b: float) -> dict[str, float]:
        """Each group's CPU between a and b, in % of one core (200% = both cores)."""
        window = self.between(a, b)
        if len(window) < 2:
            return {}
        first, last = window[0], window[-1]
        span = last.at - first.at
        return {n: round(100 * (last.cpu_s[n] - first.cpu_s.get(n, 0.0)) / span, 0)
                for n in last.cpu_s}

    def rss_max(self, a: float, b: float) -> dict[str, float]:
        window = self.between(a, b)
        names = window[-1].rss_mib if window else {}
        return {n: round(max(s.rss_mib.get(n, 0.0) for s in window), 0) for n in names}
