"""Test-only crash points: a real SIGKILL at a named place, to prove recovery."""

from __future__ import annotations

import os
import signal


def fault_point(name: str, count: int = 1) -> None:
    """Test-only crash hook: ``HANDOVER_TEST_KILL_AT=name[:n]`` SIGKILLs this process
    the n-th time the named point is reached, so recovery is tested against a real
    kill, not an exception the code could catch."""
    spec = os.environ.get("HANDOVER_TEST_KILL_AT")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point == name and count == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
