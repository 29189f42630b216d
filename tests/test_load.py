"""A bounded load test against a live `handover serve` on 127.0.0.1 (with its worker).

20 concurrent uploads from 4 browsers of the deal's seller, 200 decisions from 10
signed-in leads, and checklist reads from 3 more, all at once. Every response must be
below 500, every upload and decision must be stored, and the database must pass its
integrity check. Latencies are printed (run with ``-s``) and recorded in
docs/reliability.md; they are a reported figure, never asserted. Every request has a
timeout and every client a fixed amount of work, so the test stops by itself.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests import live

pytestmark = pytest.mark.slow

SLUG = "load"
PASSWORD = "correct horse battery"
UPLOADS, SELLERS = 20, 4
LEADS, DECISIONS_EACH = 10, 20
READERS, READS_EACH = 3, 30
TIMEOUT = 60.0

CALL = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Ana Ruiz>We will migrate all twelve mailboxes over the weekend.

00:00:06.000 --> 00:00:10.000
<v Ben Ode>Our biggest worry is losing calendar invites.

00:00:11.000 --> 00:00:15.000
<v Ana Ruiz>We'll deliver a runbook for your service desk by March 3.

00:00:16.000 --> 00:00:20.000
<v Ben Ode>Success for us means no downtime for the finance team.

00:00:21.000 --> 00:00:25.000
<v Ana Ruiz>We can probably add two training sessions for your admins.
"""
SOW = (
    "# Statement of work\n\n## 1 Services\n\n"
    "1.1 Migration of 12 mailboxes over one weekend.\n\n"
    "1.2 A runbook for the service desk.\n\n"
    "## 2 Exclusions\n\n2.1 Training is out of scope.\n"
)


@dataclass
class Timings:
    """Latency per kind of request, and anything that went wrong."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.seconds.setdefault(kind, []).append(seconds)
            self.statuses.setdefault(kind, []).append(status)

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _client(server: live.Server, name: str) -> httpx.Client:
    """A signed-in client: its session cookie, and its CSRF token sent on every POST."""
    client = httpx.Client(base_url=server.url, timeout=TIMEOUT)
    signed_in = client.post(
        "/signin", data={"name": name, "password": PASSWORD}, follow_redirects=True
    )
    assert signed_in.status_code == 200, signed_in.text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', signed_in.text)
    assert token, "no CSRF token on the page after sign-in"
    client.headers["X-CSRF-Token"] = token.group(1)
    client.headers["Accept"] = "application/json"
    return client


def _timed(timings: Timings, kind: str, call: Callable[[], httpx.Response]) -> httpx.Response:
    started = time.perf_counter()
    response = call()
    timings.record(kind, response.status_code, time.perf_counter() - started)
    return response


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("load")
    home = tmp / "home"
    (tmp / "call.vtt").write_text(CALL)
    (tmp / "sow.md").write_text(SOW)
    live.handover(
        home, "user", "add", "seller", "--role", "seller", "--password-stdin", stdin=PASSWORD + "\n"
    )
    for n in range(LEADS + READERS):
        live.handover(
            home,
            "user",
            "add",
            f"lead{n}",
            "--role",
            "lead",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    live.handover(
        home,
        "deal",
        "add",
        SLUG,
        "--name",
        "Load",
        "--customer",
        "Contoso",
        "--vendor",
        "Northwind",
        "--seller",
        "seller",
    )
    live.handover(home, "people", SLUG, "--vendor", "Ana Ruiz", "--customer", "Ben Ode")
    live.handover(home, "add", SLUG, str(tmp / "call.vtt"))
    live.handover(home, "add", SLUG, str(tmp / "sow.md"), "--as", "scope")
    live.handover(home, "process", SLUG)
    with live.serve(home, tmp / "serve.log") as running:
        yield running


def _rows(home: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(home / "handover.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_uploads_decisions_and_reads_at_once_lose_nothing(server: live.Server) -> None:
    timings = Timings()
    # Only the deal's own seller may upload to it: one seller in four browsers.
    sellers = [_client(server, "seller") for _ in range(SELLERS)]
    leads = [_client(server, f"lead{n}") for n in range(LEADS)]
    readers = [_client(server, f"lead{LEADS + n}") for n in range(READERS)]
    items = leads[0].get(f"/deals/{SLUG}/checklist.json").json()["items"]
    assert len(items) >= 3
    ids = [item["id"] for item in items]
    before = _rows(server.home, "SELECT count(*) FROM sources")[0][0]
    decisions_before = _rows(server.home, "SELECT count(*) FROM decisions")[0][0]
    start = threading.Barrier(UPLOADS + LEADS + READERS)

    def upload(n: int) -> None:
        # A distinct small transcript per upload, so each is a new source.
        body = CALL.replace("twelve mailboxes", f"{n + 13} mailboxes").encode()
        start.wait()
        response = _timed(
            timings,
            "upload",
            lambda: sellers[n % SELLERS].post(
                f"/deals/{SLUG}/sources", params={"name": f"call-{n}.vtt"}, content=body
            ),
        )
        if response.status_code != 201:
            timings.fail(f"upload {n}: {response.status_code} {response.text[:200]}")

    def decide(n: int) -> None:
        start.wait()
        for k in range(DECISIONS_EACH):
            item = ids[(n + k) % len(ids)]
            decision = ("confirmed", "accepted-gap", "reopen", "not-a-commitment")[k % 4]
            response = _timed(
                timings,
                "decision",
                lambda item=item, decision=decision, k=k: leads[n].post(
                    f"/deals/{SLUG}/items/{item}/decisions",
                    data={"decision": decision, "note": f"lead{n} #{k}"},
                ),
            )
            if response.status_code != 200:
                timings.fail(f"decision {n}/{k}: {response.status_code} {response.text[:200]}")

    def read(n: int) -> None:
        start.wait()
        for _ in range(READS_EACH):
            response = _timed(
                timings, "checklist", lambda: readers[n].get(f"/deals/{SLUG}/checklist")
            )
            if response.status_code != 200:
                timings.fail(f"checklist: {response.status_code}")

    backup_dir = server.home.parent / "backup"
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=UPLOADS + LEADS + READERS) as pool:
        futures = [pool.submit(upload, n) for n in range(UPLOADS)]
        futures += [pool.submit(decide, n) for n in range(LEADS)]
        futures += [pool.submit(read, n) for n in range(READERS)]
        # A backup while the server writes: SQLite's online backup copies a consistent
        # database under the load.
        backup = subprocess.run(
            [*_handover(server.home), "backup", str(backup_dir)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        for future in futures:
            future.result(timeout=600)
    wall = time.perf_counter() - began
    for client in (*sellers, *leads, *readers):
        client.close()

    _report(timings, wall)
    server_errors = [
        (kind, s) for kind, codes in timings.statuses.items() for s in codes if s >= 500
    ]
    assert server_errors == []
    assert timings.failures == []
    assert "Traceback" not in server.log_text()
    assert _rows(server.home, "SELECT count(*) FROM sources")[0][0] == before + UPLOADS
    decided = _rows(server.home, "SELECT count(*), count(user_id) FROM decisions")[0]
    total = decisions_before + LEADS * DECISIONS_EACH
    assert decided == (total, total)
    assert _rows(server.home, "PRAGMA integrity_check") == [("ok",)]

    assert backup.returncode == 0, backup.stderr
    # Restoring over a home a server is using is refused, naming the server's lease.
    refused = subprocess.run(
        [*_handover(server.home), "restore", str(backup_dir), "--yes"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 1 and "serve:" in refused.stderr, refused.stderr
    # The backup taken under load restores into a fresh home, and doctor passes there.
    elsewhere = server.home.parent / "restored"
    restored = subprocess.run(
        [*_handover(elsewhere), "restore", str(backup_dir), "--yes"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    doctor = subprocess.run(
        [*_handover(elsewhere), "doctor"], capture_output=True, text=True, timeout=300
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr


def _handover(home: Path) -> list[str]:
    return [sys.executable, "-m", "handover", "--home", str(home)]


def _report(timings: Timings, wall: float) -> None:
    summary = {"wall_s": round(wall, 2)}
    for kind, values in sorted(timings.seconds.items()):
        summary[kind] = {
            "n": len(values),
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(_percentile(values, 95) * 1000, 1),
            "p99_ms": round(_percentile(values, 99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
        }
    print("\nload:", json.dumps(summary, indent=2))
    if target := os.environ.get("HANDOVER_LOAD_REPORT"):
        Path(target).write_text(json.dumps(summary, indent=2) + "\n")
