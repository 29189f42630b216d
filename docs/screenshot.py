"""Screenshot the web checklist of the demo deal for the docs: `make screenshot`.

Starts `handover serve --no-worker` on a free port against an existing home (default
demo-home, which `make demo` fills), opens the deal's checklist in Debian's chromium
at 1400x1000 and saves docs/img/checklist.png. Needs /usr/bin/chromium
(`apt-get install chromium`); Playwright's own browsers are not used.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"handover serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if json.load(response).get("ok"):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.25)
    raise SystemExit(f"handover serve did not answer {url}/healthz within {seconds:.0f} s")


def shoot(home: Path, slug: str, out: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "handover", "--home", str(home), "serve", "--no-worker"]
    with tempfile.TemporaryFile() as log:  # the server's log, shown only on failure
        proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(url, proc)
            _screenshot(f"{url}/deals/{slug}/checklist", out, f"is {slug} in {home}?")
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _screenshot(url: str, out: Path, hint: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            response = page.goto(url, wait_until="networkidle")
            if response is None or not response.ok:
                status = response.status if response else "no answer"
                raise SystemExit(f"{url} answered {status}: {hint} run `make demo` first")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=REPO / "demo-home", help="handover home")
    parser.add_argument("--slug", default="meridian-freight", help="the deal to show")
    parser.add_argument(
        "-o", "--out", type=Path, default=REPO / "docs" / "img" / "checklist.png", help="PNG path"
    )
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    if not (args.home / "handover.db").is_file():
        raise SystemExit(f"{args.home} holds no handover data: run `make demo` first")
    shoot(args.home.resolve(), args.slug, args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
