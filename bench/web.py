"""The web app's latency with the worker idle against the worker transcribing.

    .venv/bin/python bench/web.py [--requests 100] [--port 0]

A scratch home gets the demo deal's text sources (the follow-up call, the seller's
notes, the SOW), processed with the CLI, and a delivery lead's account. Then
``handover serve`` starts, with its worker, on 127.0.0.1; the bench signs in as the
lead (a session cookie and its CSRF token on every request), and the same requests are
timed twice in one run:

* ``idle``: the worker has nothing to do.
* ``busy``: just after the demo recording (3 min 56 s) was uploaded, while the worker
  transcribes it with every core (at nice 10).

Requests, each ``--requests`` times from one client: ``GET`` the checklist page,
``GET sources.json`` (what the deal page polls), ``POST`` a decision; and the upload
of the recording itself (one file, 0.7 MB), which must return without waiting for
transcription. Prints p50 / p95 / max per request and phase, and the busy/idle ratio
of the medians. Never run by the tests.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from _common import REPO, machine

DEMO = REPO / "data" / "demo"
HANDOVER = [sys.executable, "-m", "handover"]
SLUG = "meridian-freight"
LEAD, PASSWORD = "Bench Lead", "bench-password-not-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(home: Path, *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [*HANDOVER, "--home", str(home), *args],
        check=True,
        capture_output=True,
        input=stdin,
        text=True,
    )


def _request(url: str, data: bytes | None = None, headers: dict | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def _sign_in(base: str) -> dict[str, str]:
    """The headers a signed-in client sends: its session cookie and CSRF token."""
    form = urllib.parse.urlencode({"name": LEAD, "password": PASSWORD}).encode()
    request = urllib.request.Request(
        f"{base}/signin", data=form, headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        csrf = json.load(response)["csrf"]
        cookie = response.headers["set-cookie"].split(";", 1)[0]
    return {"Cookie": cookie, "X-CSRF-Token": csrf}


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _stats(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


def _phase(
    base: str, item_ids: list[str], n: int, signed: dict[str, str]
) -> dict[str, list[float]]:
    form = {
        **signed,
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    checklist, sources = f"{base}/deals/{SLUG}/checklist", f"{base}/deals/{SLUG}/sources.json"
    times: dict[str, list[float]] = {"checklist page": [], "sources.json": [], "decision": []}
    for k in range(n):
        times["checklist page"].append(_timed(lambda: _request(checklist, headers=signed)))
        times["sources.json"].append(_timed(lambda: _request(sources, headers=signed)))
        item = item_ids[k % len(item_ids)]
        body = f"decision={'confirmed' if k % 2 else 'reopen'}".encode()
        url = f"{base}/deals/{SLUG}/items/{item}/decisions"
        times["decision"].append(_timed(lambda u=url, b=body: _request(u, b, form)))
    return times


def _stage(base: str, source_id: int, signed: dict[str, str]) -> str:
    doc = json.loads(_request(f"{base}/deals/{SLUG}/sources.json", headers=signed))
    return next(s["stage"] for s in doc["sources"] if s["id"] == source_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    print(machine(("fastapi", "uvicorn", "starlette")))

    with tempfile.TemporaryDirectory(prefix="handover-bench-web-") as tmp:
        home = Path(tmp) / "home"
        _cli(
            home,
            "deal",
            "add",
            SLUG,
            "--name",
            "Meridian",
            "--customer",
            "Meridian",
            "--vendor",
            "Northwind",
        )
        _cli(
            home,
            "people",
            SLUG,
            "--vendor",
            "Dana Whitfield,Raj Patel",
            "--customer",
            "Maria Gonzalez,Tom Becker",
        )
        _cli(home, "add", SLUG, str(DEMO / "followup-call.vtt"), str(DEMO / "seller-notes.md"))
        _cli(home, "add", SLUG, str(DEMO / "sow.docx"), "--as", "scope")
        _cli(home, "process", SLUG)
        _cli(home, "user", "add", LEAD, "--role", "lead", "--password-stdin", stdin=PASSWORD)
        port = args.port or _free_port()
        base = f"http://127.0.0.1:{port}"
        log = (Path(tmp) / "serve.log").open("w")
        server = subprocess.Popen(
            [*HANDOVER, "--home", str(home), "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(200):
                try:
                    if json.loads(_request(f"{base}/healthz"))["worker"]:
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            signed = _sign_in(base)
            checklist = json.loads(_request(f"{base}/deals/{SLUG}/checklist.json", headers=signed))
            item_ids = [i["id"] for i in checklist["items"]]

            idle = _phase(base, item_ids, args.requests, signed)

            audio = (DEMO / "discovery-call.ogg").read_bytes()
            upload_url = f"{base}/deals/{SLUG}/sources?name=discovery-call.ogg&date=2026-11-02"
            answer: list[bytes] = []
            upload = _timed(
                lambda: answer.append(
                    _request(upload_url, audio, {**signed, "Accept": "application/json"})
                )
            )
            source_id = json.loads(answer[0])["source"]["id"]
            while _stage(base, source_id, signed) == "pending":
                time.sleep(0.1)
            busy_from = time.perf_counter()
            busy = _phase(base, item_ids, args.requests, signed)
            busy_for = time.perf_counter() - busy_from
            stage_after = _stage(base, source_id, signed)
            started = time.perf_counter()
            while _stage(base, source_id, signed) not in ("done", "failed"):
                time.sleep(0.5)
            rest = time.perf_counter() - started
        except Exception:
            text = (Path(tmp) / "serve.log").read_text()
            print(text[text.find("Traceback") :][:6000] or text[-3000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(f"# {args.requests} requests of each kind per phase, one client, 127.0.0.1")
    print(
        f"# upload of the 0.7 MB recording answered in {upload * 1000:.0f} ms; the busy "
        f"phase took {busy_for:.1f} s and ended with the source at '{stage_after}'; "
        f"processing finished {rest:.1f} s later"
    )
    print(
        f"{'request':<16} {'idle p50':>9} {'p95':>7} {'max':>7}   "
        f"{'busy p50':>9} {'p95':>7} {'max':>7}   {'p50 ratio':>9}"
    )
    for name in idle:
        i50, i95, imax = _stats(idle[name])
        b50, b95, bmax = _stats(busy[name])
        print(
            f"{name:<16} {i50 * 1000:>7.1f}ms {i95 * 1000:>5.1f}ms {imax * 1000:>5.1f}ms   "
            f"{b50 * 1000:>7.1f}ms {b95 * 1000:>5.1f}ms {bmax * 1000:>5.1f}ms   "
            f"{b50 / i50:>8.2f}x"
        )


if __name__ == "__main__":
    main()
