"""Screenshot the web checklist of the demo deal for the docs: `make screenshot`.

Starts `handover serve --no-worker` on a free port against an existing home (default
demo-home, which `make demo` fills), signs in as a delivery lead in Debian's chromium
(the password comes on stdin; the account is created with it when the home has none
of that name), opens the deal's checklist at 1400x1000 and saves docs/img/checklist.png.
Needs /usr/bin/chromium (`apt-get install chromium`); Playwright's own browsers are not
used.

    printf '%s\n' "$PASSWORD" | python docs/screenshot.py --user "Lee Chen"
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


def ensure_lead(home: Path, user: str, password: str) -> None:
    """The account to sign in with: kept if it exists, else created as a lead."""
    handover = [sys.executable, "-m", "handover", "--home", str(home), "user"]
    listed = subprocess.run([*handover, "list", "--json"], capture_output=True, text=True)
    if listed.returncode != 0:
        raise SystemExit(f"handover user list failed: {listed.stderr.strip()}")
    names = {u["name"].casefold() for u in json.loads(listed.stdout)["users"]}
    if user.casefold() in names:
        return
    added = subprocess.run(
        [*handover, "add", user, "--role", "lead", "--password-stdin"],
        input=password + "\n",
        capture_output=True,
        text=True,
    )
    if added.returncode != 0:
        raise SystemExit(added.stderr.strip())


def shoot(home: Path, slug: str, out: Path, user: str, password: str) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "handover", "--home", str(home), "serve", "--no-worker"]
    with tempfile.TemporaryFile() as log:  # the server's log, shown only on failure
        proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(url, proc)
            _screenshot(
                f"{url}/deals/{slug}/checklist", out, f"is {slug} in {home}?", user, password
            )
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


def _screenshot(url: str, out: Path, hint: str, user: str, password: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url)  # the app sends the browser to sign in, then back here
            page.fill("input[name=name]", user)
            page.fill("input[name=password]", password)
            with page.expect_navigation(wait_until="networkidle") as navigation:
                page.click("form.signin button[type=submit]")
            response = navigation.value
            if "/signin" in page.url:
                raise SystemExit(f"could not sign in as {user}: check the password")
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
    parser.add_argument("--user", default="Lee Chen", help="the delivery lead to sign in as")
    args = parser.parse_args(argv)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise SystemExit("give the account's password on stdin (see the docstring)")
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    if not (args.home / "handover.db").is_file():
        raise SystemExit(f"{args.home} holds no handover data: run `make demo` first")
    ensure_lead(args.home.resolve(), args.user, password)
    shoot(args.home.resolve(), args.slug, args.out, args.user, password)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
