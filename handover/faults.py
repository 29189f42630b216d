"""Test-only crash points: a real SIGKILL at a named place, to prove recovery."""

from __future__ import annotations

import os
import signal

# How often each named point was reached in this process (only counted while a test
# asks for a point), so ``extract:2`` means the second source that reaches it.
_hits: dict[str, int] = {}

_ACTIONS = (("HANDOVER_TEST_KILL_AT", signal.SIGKILL), ("HANDOVER_TEST_STOP_AT", signal.SIGSTOP))


def fault_point(name: str, count: int | None = None) -> None:
    """Test-only crash hook: ``HANDOVER_TEST_KILL_AT=name[:n]`` SIGKILLs this process
    the n-th time the named point is reached, so recovery is tested against a real
    kill, not an exception the code could catch. ``HANDOVER_TEST_STOP_AT`` SIGSTOPs it
    there instead: a test can back up or inspect a live run frozen at that place, then
    SIGCONT it. ``count`` is the caller's own count (segments of this recording);
    without it, the hits of the point in this process are counted."""
    specs = [(os.environ.get(var), sig) for var, sig in _ACTIONS]
    if not any(spec for spec, _ in specs):
        return
    if count is None:
        _hits[name] = count = _hits.get(name, 0) + 1
    for spec, sig in specs:
        point, _, nth = (spec or "").partition(":")
        if point == name and count == int(nth or 1):
            os.kill(os.getpid(), sig)
