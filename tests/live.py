"""A live `handover serve` in its own process group, for the tests that need a real
server (the browser tests and the load test): started on a free loopback port,
waited for until healthy, and stopped with SIGTERM; nothing of its group may
outlive it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Server:
    url: str
    home: Path
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def handover(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess against ``home``; fail the test on an error."""
    done = subprocess.run(
        [sys.executable, "-m", "handover", "--home", str(home), *args],
        env={**os.environ, "HANDOVER_HOME": str(home)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"handover {' '.join(args)}: {done.stderr}"
    return done


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return None


@contextlib.contextmanager
def serve(home: Path, log: Path, *, worker: bool = True) -> Iterator[Server]:
    """A running `handover serve` (with its worker unless ``worker`` is false)."""
    port = free_port()
    args = [sys.executable, "-m", "handover", "--home", str(home), "serve", "--port", str(port)]
    if not worker:
        args.append("--no-worker")
    with log.open("wb") as sink:
        # Its own session, so teardown can reach the worker serve starts (by group).
        proc = subprocess.Popen(
            args,
            env={**os.environ, "HANDOVER_HOME": str(home)},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Server(f"http://127.0.0.1:{port}", home, log)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"handover serve exited {proc.returncode}:\n{running.log_text()}")
            health = _get_json(f"{running.url}/healthz")
            if health and (health.get("worker") or not worker):
                break
            time.sleep(0.25)
        else:
            pytest.fail(f"no healthy server (last: {health}):\n{running.log_text()}")
        yield running
    finally:
        proc.terminate()  # uvicorn shuts down, then serve should terminate its worker
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            signal_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # serve stops its worker on SIGTERM: nothing of the group may outlive it.
        deadline = time.monotonic() + 15
        while group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        orphaned = group_alive(proc.pid)
        signal_group(proc.pid, signal.SIGKILL)
        if orphaned:
            pytest.fail("handover serve exited on SIGTERM but left its worker running")


def signal_group(pgid: int, sig: int) -> None:
    """Signal what is left of the process group serve led (its worker)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
