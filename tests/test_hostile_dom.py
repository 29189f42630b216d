"""Hostile text in the exports: the HTML checklist's DOM in Chromium, and the CSV.

One deal, built and processed once with the real pipeline, carries markup, script URLs,
template syntax, a right-to-left override and spreadsheet formulas in every field a person
or a file can fill: the deal's name, customer, vendor and owner, speaker names, quotes,
notes, file names, clause text, who decided and decision notes, and an orphaned decision.

HTML: opened in Chromium (Debian's, through Playwright), as exported and once more with
its Content-Security-Policy removed, so escaping alone is what is tested. Nothing from the
data may become an element or an attribute, nothing may run, and every hostile string is
shown literally. ``assert_dom_safe`` is written to be reused for the web app's pages.

CSV: every cell a spreadsheet would evaluate starts with ``'``, and the text is otherwise
intact.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup

from handover import render
from tests import live
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

SLUG = "hostile"

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
SVG = '"><svg onload=window.__pwned=1>'
JS_URL = "javascript:window.__pwned=1"
TEMPLATE = "{{7*7}}"
RLO = "\u202eevil.exe"
HOSTILE = (SCRIPT, IMG, SVG, JS_URL, TEMPLATE, RLO)

HYPERLINK = '=HYPERLINK("http://evil.example","click")'
CMD = "+cmd|' /C calc'!A0"
SUM = "@SUM(A1:A9)"
MINUS = "-2+3"
FORMULAS = (HYPERLINK, CMD, SUM, MINUS)

# Speaker names and quotes come from a caption file, where markup is written as entities.
CALL_VTT = f"""WEBVTT

00:00:01.000 --> 00:00:05.000
<v &lt;img src=x onerror=window.__pwned=1&gt;>We will train all twenty supervisors \
&lt;script&gt;window.__pwned=1&lt;/script&gt; at every depot.

00:00:06.000 --> 00:00:09.000
<v Maria {TEMPLATE}>Our biggest worry is the &lt;img src=x onerror="window.__pwned=1"&gt; \
billing migration.

00:00:10.000 --> 00:00:14.000
<v {CMD}>We'll send {HYPERLINK} weekly status reports every Friday.
"""
NOTES_MD = f"""# Seller notes

- We will deliver {SVG} dashboards for every depot.
- Maria wants {JS_URL} links gone {RLO}.
"""
SOW_MD = f"""# Statement of work

## 1. Scope

1.1 Northwind will train up to 10 supervisors {SCRIPT} at every depot.

1.2 Weekly status reports every Friday {TEMPLATE}.

## 2. Out of scope

2.1 Dashboards {IMG} are out of scope.
"""
# Said once, decided on, then removed: its decision is listed as orphaned.
GONE_TXT = """Dana Whitfield: We will bring fresh coffee to the kickoff in Reno.
Maria Gonzalez: Good.
Dana Whitfield: That is all from us.
Maria Gonzalez: Thanks.
"""


def _items(home: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(home / "handover.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM items ORDER BY auto_status, id").fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A processed deal with hostile text in every field, decisions and an orphan."""
    root = tmp_path_factory.mktemp("hostile")
    home, files = root / "home", root / "files"
    files.mkdir()
    call = files / "call.vtt"
    call.write_text(CALL_VTT)
    notes = files / f"{SVG}.md"  # file names may hold markup too (no "/" though)
    notes.write_text(NOTES_MD)
    sow = files / f"{MINUS} <svg onload=window.__pwned=1>.md"
    sow.write_text(SOW_MD)
    gone = files / f"{SUM}.txt"
    gone.write_text(GONE_TXT)
    deal = ("deal", "add", SLUG, "--name", f"{SCRIPT} Acme {TEMPLATE}", "--customer", IMG)
    assert run_cli(home, *deal, "--vendor", SVG, "--owner", f"{JS_URL} {RLO}") == 0
    assert run_cli(home, "people", SLUG, "--vendor", "Dana Whitfield") == 0
    assert run_cli(home, "add", SLUG, call, notes, gone, "--date", "2026-11-02") == 0
    assert run_cli(home, "add", SLUG, sow, "--as", "scope", "--date", "2026-11-03") == 0
    assert run_cli(home, "process", SLUG) == 0

    items = _items(home)
    conflict = next(i for i in items if i["auto_status"] == "conflict")
    review = ("review", SLUG, conflict["id"], "--decision", "accepted-gap")
    assert run_cli(home, *review, "--by", SCRIPT, "--note", f"{HYPERLINK} {IMG}\n{RLO}") == 0
    assert run_cli(home, *review, "--by", SUM, "--note", f"{SVG} {TEMPLATE} {CMD}") == 0
    coffee = next(i for i in items if "coffee" in i["text"])
    decide = ("review", SLUG, coffee["id"], "--decision", "not-a-commitment", "--by", CMD)
    assert run_cli(home, *decide, "--note", f"{MINUS} {JS_URL}") == 0
    conn = sqlite3.connect(home / "handover.db")
    source = conn.execute("SELECT id FROM sources WHERE filename LIKE '%.txt'").fetchone()[0]
    conn.close()
    assert run_cli(home, "remove", SLUG, str(source)) == 0
    # Adding an item by hand re-derives at once, and puts hostile text in a manual item.
    manual = ("item", "add", SLUG, "--kind", "commitment", "--by", SVG)
    assert run_cli(home, *manual, "--text", f"We will rebrand {SCRIPT} the portal {RLO}") == 0
    return home


def export(home: Path, fmt: str) -> str:
    out = home.parent / f"checklist.{fmt}"
    assert run_cli(home, "checklist", SLUG, "--format", fmt, "-o", out) == 0
    return out.read_text(encoding="utf-8")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def test_the_deal_carries_the_hostile_text(hostile_home: Path) -> None:
    """The data really holds every hostile string, in names, quotes, clauses and notes,
    so the DOM and CSV tests below have something to defend against."""
    doc = json.loads(export(hostile_home, "json"))
    texts = list(_strings(doc))
    for hostile in (*HOSTILE, *FORMULAS):
        assert any(hostile in text for text in texts), hostile
    items = doc["items"]
    assert any(SCRIPT in i["text"] for i in items)
    assert any(i["speaker"] and "<img" in i["speaker"] for i in items)
    assert any(i["trace"] and SCRIPT in (i["trace"]["clause"] or "") for i in items)
    assert any(HYPERLINK in (d["note"] or "") for i in items for d in i["history"])
    assert doc["orphaned_decisions"] and JS_URL in doc["orphaned_decisions"][0]["note"]


# --- the DOM -------------------------------------------------------------------------------

# Elements that data must never create: they run code, load things or restyle the page.
DANGEROUS_TAGS = (
    "script",
    "style",
    "img",
    "svg",
    "math",
    "iframe",
    "frame",
    "object",
    "embed",
    "base",
    "link",
    "audio",
    "video",
    "source",
    "template",
    "meta[http-equiv=refresh i]",
)
_DOM_REPORT = """(tags) => {
  const counts = {};
  for (const tag of tags) counts[tag] = document.querySelectorAll(tag).length;
  const handlers = [];
  const urls = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) handlers.push(el.tagName + " " + name);
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
      if (["href", "src", "action", "formaction", "xlink:href", "srcdoc"].includes(name)
          && /^(javascript|data|vbscript):/.test(value)) urls.push(el.tagName + " " + name);
    }
  }
  return {
    pwned: typeof window.__pwned,
    counts: counts,
    handlers: handlers,
    urls: urls,
    scripts: [...document.scripts].map((s) => s.src || s.textContent),
    text: document.title + " " + document.body.textContent,
  };
}"""


def _squash(text: str) -> str:
    return " ".join(text.split())


def assert_dom_safe(
    page: Any, shown: Iterable[str], *, allowed: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Assert that a loaded page holds no markup from its data and shows the data literally.

    ``allowed`` is how many of each ``DANGEROUS_TAGS`` the page's own template has (the
    checklist: one script, one style). Every string in ``shown`` must appear in the page's
    visible text (whitespace runs compared as one space); no element may carry an ``on*``
    handler or a ``javascript:``/``data:`` URL; no script may mention ``__pwned``; and
    ``window.__pwned``, which every payload sets, must be undefined. Returns the report.
    """
    report = page.evaluate(_DOM_REPORT, list(DANGEROUS_TAGS))
    expected = {tag: (allowed or {}).get(tag, 0) for tag in DANGEROUS_TAGS}
    assert report["counts"] == expected
    assert report["handlers"] == []
    assert report["urls"] == []
    assert not any("__pwned" in script for script in report["scripts"])
    assert report["pwned"] == "undefined"
    text = _squash(report["text"])
    missing = [s for s in shown if _squash(s) not in text]
    assert not missing, missing
    return report


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with live.chromium() as chromium:
        yield chromium


@contextmanager
def opened(browser: Any, html: str) -> Iterator[Any]:
    """``html`` in a new page. A fresh page each time: set_content rewrites the document in
    place, and a Content-Security-Policy read from a <meta> would outlive the rewrite."""
    page = browser.new_page()
    try:
        page.set_content(html)
        yield page
    finally:
        page.close()


def _shown_texts(doc: dict[str, Any]) -> list[str]:
    """What the checklist shows verbatim: the deal's fields, every quote, speaker, file
    name, clause, decider and note (the page's own labels aside)."""
    texts = [doc["name"], doc["customer"], doc["vendor"], doc["owner"]]
    for item in doc["items"]:
        texts += [item["text"], item["speaker"] or ""]
        texts += [m["quote"] for m in item["mentions"]]
        texts += [m["source"]["name"] for m in item["mentions"] if m["source"]]
        if item["trace"]:
            texts += [item["trace"]["clause"], item["trace"]["document"]]
        for decision in item["history"]:
            texts += [decision["by"], decision["note"] or ""]
    for orphan in doc["orphaned_decisions"]:
        texts += [orphan["note"] or "", orphan["text"] or ""]
    return [t for t in texts if t]


CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')


def test_checklist_html_dom_shows_hostile_text_as_text(hostile_home: Path, browser: Any) -> None:
    html = export(hostile_home, "html")
    doc = json.loads(export(hostile_home, "json"))
    shown = [*_shown_texts(doc), *HOSTILE]
    # As exported, then without the CSP: escaping alone must keep the page safe.
    without_csp = CSP.sub("", html)
    assert without_csp != html
    for variant in (html, without_csp):
        with opened(browser, variant) as page:
            assert_dom_safe(page, shown, allowed={"script": 1, "style": 1})
            marks = page.evaluate(
                "[...document.querySelectorAll('mark')].map(m => m.childElementCount)"
            )
    assert marks, "the clause highlighting (the one place data gets markup) was exercised"
    assert set(marks) == {0}


def _unescaped(value: Any) -> Any:
    """The document with every string marked safe: what a ``|safe`` slip would render."""
    if isinstance(value, str):
        return Markup(value)
    if isinstance(value, dict):
        return {key: _unescaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unescaped(item) for item in value]
    return value


def test_the_dom_check_catches_an_escaping_slip(hostile_home: Path, browser: Any) -> None:
    """The same page with escaping switched off fails every part of the check, so the
    test above is not passing vacuously."""
    doc = json.loads(export(hostile_home, "json"))
    html = CSP.sub("", render.render_checklist(_unescaped(doc), "html"))
    with opened(browser, html) as page:
        report = page.evaluate(_DOM_REPORT, list(DANGEROUS_TAGS))
        with pytest.raises(AssertionError):
            assert_dom_safe(page, [], allowed={"script": 1, "style": 1})
    assert report["pwned"] == "number"  # an injected <script> ran
    counts = report["counts"]
    assert counts["script"] > 1 and counts["img"] and counts["svg"]
    assert report["handlers"]


# --- the CSV ---------------------------------------------------------------------------------


def _evaluable(cell: str) -> bool:
    """Whether a spreadsheet could take the cell for a formula (see render.neutralise_cell)."""
    return render.neutralise_cell(cell) != cell


def test_checklist_csv_neutralises_formulas(hostile_home: Path) -> None:
    text = export(hostile_home, "csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    doc = json.loads(export(hostile_home, "json"))
    assert len(rows) == len(doc["items"])
    neutralised = 0
    for row in rows:
        for column, cell in row.items():
            if cell.startswith("'"):
                neutralised += 1
                assert _evaluable(cell[1:]), (column, cell)  # no ' where none is needed
            else:
                assert not _evaluable(cell), (column, cell)
    assert neutralised >= 3
    by_id = {row["id"]: row for row in rows}
    for item in doc["items"]:
        row = by_id[item["id"]]
        decision = item["decision"] or {}
        for column, value in (
            ("text", item["text"]),
            ("speaker", item["speaker"]),
            ("source", (item["source"] or {}).get("name")),
            ("clause", (item["trace"] or {}).get("clause")),
            ("decided_by", decision.get("by")),
            ("note", decision.get("note")),
        ):
            value = value or ""
            assert row[column] in (value, "'" + value), column  # the text is intact
            assert (row[column] != value) == _evaluable(value), column
    cells = [cell for row in rows for cell in row.values()]
    for formula in FORMULAS:
        assert any(formula in cell for cell in cells), formula
    assert any(cell.startswith("'" + CMD) for cell in cells)  # the speaker
    assert any(cell.startswith("'" + SUM) for cell in cells)  # who decided
    assert any(cell.startswith("'" + MINUS) for cell in cells)  # the scope document's name


@pytest.mark.parametrize(
    "payload",
    [
        HYPERLINK,
        CMD,
        SUM,
        MINUS,
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        "   =1+1",
        "\u00a0=1+1",  # no-break space
        "\u3000=1+1",  # ideographic space
        "\u200b=1+1",  # zero-width space
        "\ufeff=1+1",
        "\u202e=1+1",
        '\uff1dHYPERLINK("http://x")',  # full-width equals sign
        "\uff0bcmd",
        "\uff20SUM(A1)",
    ],
)
def test_every_formula_start_is_neutralised(payload: str) -> None:
    assert render.neutralise_cell(payload) == "'" + payload
    doc_cell = render.checklist_csv(
        {
            "items": [
                {
                    "id": "c-1",
                    "status": "untraced",
                    "text": payload,
                    "decision": {"note": payload, "by": payload},
                }
            ]
        }
    )
    row = next(csv.DictReader(io.StringIO(doc_cell, newline="")))
    assert row["text"] == row["note"] == row["decided_by"] == "'" + payload


@pytest.mark.parametrize(
    "text", ["20 supervisors", "a=b", "x-ray", "e-mail @ noon", "'quoted", "", "  ", "50%"]
)
def test_plain_cells_are_left_alone(text: str) -> None:
    assert render.neutralise_cell(text) == text


# --- the web app's pages ----------------------------------------------------------------


def test_web_pages_dom_shows_hostile_text_as_text(hostile_home: Path, browser: Any) -> None:
    """The web app's pages for the hostile deal, as a signed-in lead sees them, loaded in
    Chromium without their CSP header (set_content takes no headers): escaping alone
    must keep every page free of markup from the data."""
    from handover.config import Settings
    from tests.test_web import session_client

    settings = Settings.load(home=hostile_home)
    client = session_client(settings, "Lee Chen", "lead")
    doc = json.loads(export(hostile_home, "json"))
    deal = [doc["name"], doc["customer"]]
    items = [item["text"] for item in doc["items"]]
    sources = client.get(f"/deals/{SLUG}/sources.json").json()["sources"]
    # url: (what it must show, how many <audio> players its template has)
    pages = {
        "/": (deal, 0),
        f"/deals/{SLUG}": ([doc["name"], *(s["filename"] for s in sources)], 0),
        f"/deals/{SLUG}/checklist": ([*deal, *items], 1),
        f"/deals/{SLUG}/search?q=supervisors": ([], 1),
        **{
            f"/deals/{SLUG}/sources/{s['id']}": ([], int(s["kind"] == "recording")) for s in sources
        },
    }
    for url, (shown, players) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        with opened(browser, response.text) as page:
            assert_dom_safe(page, shown, allowed={"script": 1, "link": 2, "audio": players})
