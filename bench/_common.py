"""Helpers shared by the benchmark scripts: the machine line, round-robin timing, RSS.

Not a benchmark itself; ``transcribe.py``, ``extract.py`` and ``flag.py`` import it.
"""

from __future__ import annotations

import cProfile
import io
import os
import platform
import pstats
import resource
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "bench"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def _commit() -> str:
    """The checked-out commit (read only; "+changes" when the tree differs from it)."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "handover"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return f"commit {head}{' +changes in handover/' if dirty else ''}"


def machine(packages: Sequence[str] = ()) -> str:
    """One line naming the machine: CPU model, cores, RAM, load, Python and package versions,
    and the commit measured."""
    import sqlite3

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    versions = ", ".join(f"{p} {_version(p)}" for p in ("handover", *packages))
    return (
        f"# machine: {_cpu_model()}, {os.cpu_count()} cores, {_ram_gib():.0f} GiB RAM, "
        f"{platform.system()} {platform.machine()}, load avg {load:.2f} at start; "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {versions}; {_commit()}"
    )


def round_robin(
    variants: Sequence[tuple[str, Callable[[], object]]], repeat: int, *, warmup: bool = True
) -> dict[str, list[float]]:
    """Wall seconds of each variant over ``repeat`` rounds, variants interleaved.

    Each round runs every variant once, starting one further along each time, so load
    from elsewhere on a shared machine spreads over all of them. An optional untimed
    warm-up round comes first. Report ``min()``: other work only ever adds time.
    """
    times: dict[str, list[float]] = {name: [] for name, _ in variants}
    if warmup:
        for _, run in variants:
            run()
    for r in range(repeat):
        order = [variants[(r + i) % len(variants)] for i in range(len(variants))]
        for name, run in order:
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return times


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB.

    ``VmHWM`` (the high-water mark of this process's own address space) where /proc
    has it, else ``ru_maxrss``. On Linux ``ru_maxrss`` survives fork + exec: a child
    started from a parent that holds 1.8 GB reports at least 1.8 GB, whatever it does
    itself. ``VmHWM`` starts afresh at exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident set size now (VmRSS), in MB; 0 where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def profile(run: Callable[[], object], top: int = 15, sort: str = "tottime") -> str:
    """Run once under cProfile; the ``top`` functions by ``sort``, as text.

    py-spy and pyinstrument are not installed in the venv, so cProfile it is: it sees
    Python functions only; time inside C extensions (CTranslate2, spaCy's Cython,
    torch) shows up as the Python call that entered it.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(sort).print_stats(top)
    total = stats.total_tt  # type: ignore[attr-defined]
    lines = [f"# total {total:.2f} s under cProfile, top {top} by {sort}:"]
    body = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(body) if line.lstrip().startswith("ncalls")), 0)
    lines += [line for line in body[start:] if line.strip()]
    return "\n".join(lines)
