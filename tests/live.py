"""What the tests that need real things share: a live `handover serve` in its own
process group (the browser tests and the load test), started on a free loopback port,
waited for until healthy and stopped with SIGTERM, nothing of its group outliving it;
and Debian's chromium driven by Playwright (its own browser downloads do not work
offline)."""

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
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def require_chromium() -> None:
    """Skip without Debian's chromium; in CI (``CI`` set) fail instead."""
    if CHROMIUM.exists():
        return
    message = (
        f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
        "(sudo apt-get install chromium); Playwright's own browsers are not used"
    )
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium for a module's tests."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


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
