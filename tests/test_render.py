"""Kickoff checklist (HTML, Markdown, CSV, JSON) and flag report (text, Markdown, JSON).

Documents are built by hand in the shape ``docs/json.md`` describes; no models, no database.
"""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import io
import json
import re
from html.parser import HTMLParser
from typing import Any

import jinja2
import pytest

from handover import render
from handover.errors import HandoverError

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{XSS_SCRIPT} {XSS_IMG}"
STATUS_ORDER = ["conflict", "untraced", "weak", "traced", "accepted", "dismissed"]

SOURCE = {"id": 1, "name": "discovery-call.ogg", "kind": "recording", "meeting_date": "2026-11-02"}
DECISION = {
    "decision": "confirmed",
    "by": "Lee",
    "at": "2026-11-20T09:12:00Z",
    "note": None,
    "clause_id": None,
}


def make_trace(**changes: Any) -> dict[str, Any]:
    trace = {
        "clause_id": 12,
        "document": "sow.docx",
        "section": "2.5",
        "heading": "Training",
        "clause": "Northwind will deliver train-the-trainer sessions for up to 10 depot "
        "supervisors; restraining orders excluded.",
        "category": "scope",
        "matched_terms": ["train", "supervisor"],
        "reason": 'said "20 supervisors", scope says "up to 10 depot supervisors"',
    }
    trace.update(changes)
    return trace


def make_item(item_id: str, status: str = "conflict", **changes: Any) -> dict[str, Any]:
    auto = status if status in ("conflict", "untraced", "weak", "traced") else "untraced"
    item = {
        "id": item_id,
        "kind": "commitment",
        "subtype": "firm",
        "text": "We'll train all twenty supervisors.",
        "speaker": "Dana Whitfield",
        "side": "vendor",
        "side_inferred": False,
        "source": dict(SOURCE),
        "start": 151.2,
        "end": 154.9,
        "owner": "vendor",
        "due": "2027-03-31",
        "due_text": "by the end of March",
        "quantities": ["20 supervisors"],
        "confidence": 0.9,
        "rule": "we-will",
        "auto_status": auto,
        "status": status,
        "suspect": False,
        "score": 0.71,
        "trace": make_trace() if status != "untraced" else None,
        "decision": None,
        "history": [],
        "mentions": [
            {
                "source": dict(SOURCE),
                "speaker": None,
                "start": 151.2,
                "end": 154.9,
                "quote": "We'll train all twenty supervisors.",
            }
        ],
        "manual": False,
    }
    if status in ("accepted", "dismissed"):
        decision = {
            **DECISION,
            "decision": "accepted-gap" if status == "accepted" else "not-a-commitment",
        }
        item["decision"] = decision
        item["history"] = [decision]
    item.update(changes)
    return item


def make_doc(items: list[dict[str, Any]] | None = None, **changes: Any) -> dict[str, Any]:
    if items is None:
        items = [make_item(f"c-{status}", status) for status in STATUS_ORDER]
    counts = {status: 0 for status in STATUS_ORDER}
    for item in items:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    doc = {
        "schema_version": 1,
        "deal": "meridian-freight",
        "name": "Meridian Freight – operations modernisation",
        "customer": "Meridian Freight",
        "vendor": "Northwind Consulting",
        "owner": "Dana Whitfield",
        "generated_at": "2026-11-24T10:00:00Z",
        "stale": False,
        "counts": counts,
        "documents": [{"id": 4, "name": "sow.docx", "meeting_date": "2026-11-12", "clauses": 41}],
        "items": items,
        "orphaned_decisions": [],
    }
    doc.update(changes)
    return doc


def hostile_doc() -> dict[str, Any]:
    """Attacker-controlled text in every field a person or a file can fill."""
    note = {**DECISION, "by": HOSTILE, "note": HOSTILE}
    item = make_item(
        "c-hostile",
        "conflict",
        text=HOSTILE,
        speaker=HOSTILE,
        owner=HOSTILE,
        due_text=HOSTILE,
        quantities=[HOSTILE],
        source={**SOURCE, "name": HOSTILE},
        trace=make_trace(
            document=HOSTILE,
            heading=HOSTILE,
            section=HOSTILE,
            clause=f"train {HOSTILE} supervisors",
            reason=HOSTILE,
            matched_terms=["train", "supervisor", "script", "img", "onerror"],
        ),
        decision=note,
        history=[note, note],
        mentions=[
            {
                "source": {**SOURCE, "name": HOSTILE},
                "speaker": HOSTILE,
                "start": 1.0,
                "end": 2.0,
                "quote": HOSTILE,
            },
            {"source": dict(SOURCE), "speaker": None, "start": None, "end": None, "quote": "x"},
        ],
    )
    return make_doc(
        [item],
        deal=HOSTILE,
        name=HOSTILE,
        customer=HOSTILE,
        owner=HOSTILE,
        stale=True,
        documents=[{"id": 4, "name": HOSTILE, "meeting_date": None, "clauses": 3}],
        orphaned_decisions=[
            {
                "item_id": HOSTILE,
                "decision": "confirmed",
                "by": HOSTILE,
                "at": "2026-11-01T00:00:00Z",
                "note": HOSTILE,
                "text": HOSTILE,
            }
        ],
    )


class Page(HTMLParser):
    """Every element with its attributes, the text of each, and the inline scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[list[Any]] = []
        self.texts: list[tuple[str, str]] = []  # (innermost tag, text)
        self.scripts: list[str] = []
        self.marks: list[tuple[str, str]] = []  # (enclosing classes, marked text)
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag not in ("input", "meta", "br"):
            self.stack.append([tag, attributes, ""])

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, _attributes, text = self.stack.pop()
            if open_tag == "script":
                self.scripts.append(text)
            if open_tag == "mark":
                classes = " ".join(str(a.get("class") or "") for _, a, _ in self.stack)
                self.marks.append((classes, text))
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for frame in self.stack:
            frame[2] += data
        self.texts.append((self.stack[-1][0] if self.stack else "", data))

    def all(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]

    def classes(self, tag: str, cls: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == tag and cls in (a.get("class") or "").split()]

    def text(self) -> str:
        return "".join(data for _, data in self.texts)


# --- filters ------------------------------------------------------------------------------


def test_clock_is_h_mm_ss() -> None:
    assert render.hms(151.2) == "0:02:31"
    assert render.hms(3723.25) == "1:02:03"
    assert render.hms(36000) == "10:00:00"
    assert render.hms(0) == "0:00:00"
    assert render.hms(None) == ""


def test_highlight_marks_whole_words_case_insensitively_and_escapes() -> None:
    out = render.highlight(
        "Train the <b>trainers</b> & Supervisors; restrain", ["train", "supervisor"]
    )
    assert str(out) == (
        "<mark>Train</mark> the &lt;b&gt;trainers&lt;/b&gt; &amp; "
        "<mark>Supervisors</mark>; restrain"
    )


def test_highlight_never_marks_inside_entities_or_tags() -> None:
    # "amp", "lt" and "quot" are what escaping writes; a term must not reach into them.
    out = str(render.highlight('a & b < c "d"', ["amp", "lt", "quot", "mark"]))
    assert out == "a &amp; b &lt; c &#34;d&#34;"
    assert "<mark>" not in out


def test_highlight_escapes_a_hostile_term_and_its_match() -> None:
    out = str(render.highlight("run <script> now", ["<script>", ""]))
    assert out == "run <mark>&lt;script&gt;</mark> now"


def test_highlight_verbatim_clause_phrases() -> None:
    # Tracing reports clause wording verbatim: phrases with hyphens and spaces, in clause order.
    clause = "Northwind will deliver train-the-trainer sessions for up to 10 depot\nsupervisors."
    out = str(render.highlight(clause, ["train-the-trainer sessions", "depot supervisors"]))
    assert out == (
        "Northwind will deliver <mark>train-the-trainer sessions</mark> for up to 10 "
        "<mark>depot\nsupervisors</mark>."
    )


def test_highlight_multiword_terms_and_longest_first() -> None:
    out = str(render.highlight("depot  supervisors and depot staff", ["depot", "depot supervisor"]))
    assert out == "<mark>depot  supervisors</mark> and <mark>depot</mark> staff"
    assert str(render.highlight("plain", None)) == "plain"


def test_md_escape_keeps_one_line_and_escapes_markup() -> None:
    assert render.md_escape("a | b\nc `d` <e> [f](g) *h* _i_ ~j~ \\k") == (
        r"a \| b c \`d\` &lt;e&gt; \[f\](g) \*h\* \_i\_ \~j\~ \\k"
    )
    assert render.md_escape(None) == ""
    assert render.md_escape("bell\x07 and \x1b[31mred") == r"bell and \[31mred"


def test_md_code_survives_backticks_and_pipes() -> None:
    assert render.md_code("meridian-freight") == "`meridian-freight`"
    assert render.md_code("a`b") == "``a`b``"
    assert render.md_code("`x`") == "`` `x` ``"
    assert render.md_code("a|b", cell=True) == r"`a\|b`"


def test_neutralise_cell_follows_owasp() -> None:
    for value in [
        '=HYPERLINK("http://x","y")',
        "+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "-2+3",
        "\tx",
        "\rx",
        "  =1+1",
    ]:
        assert render.neutralise_cell(value) == "'" + value
    for value in ["20 supervisors", "", "a=b", "'quoted"]:
        assert render.neutralise_cell(value) == value


def test_autoescape_is_on_for_html_only() -> None:
    env = render.environment()
    assert env.autoescape("checklist.html.j2") is True
    assert env.autoescape("checklist.md.j2") is False
    assert env.autoescape("flag.md.j2") is False
    assert env.autoescape("flag.txt.j2") is False


def test_group_items_keeps_order_within_groups_and_puts_unknown_statuses_last() -> None:
    items = [
        make_item("a", "traced"),
        make_item("b", "conflict"),
        make_item("z", "someday"),
        make_item("c", "traced"),
        make_item("d", "conflict"),
    ]
    groups = render.group_items(items)
    assert [(s, [i["id"] for i in members]) for s, members in groups] == [
        ("conflict", ["b", "d"]),
        ("traced", ["a", "c"]),
        ("someday", ["z"]),
    ]


def test_unknown_formats_are_user_errors() -> None:
    with pytest.raises(HandoverError, match="html, md, csv, json"):
        render.render_checklist(make_doc(), "pdf")
    with pytest.raises(HandoverError, match="text, md, json"):
        render.render_flag(make_flag([]), "html")


def test_a_missing_field_fails_loudly() -> None:
    doc = make_doc()
    del doc["stale"]
    with pytest.raises(jinja2.UndefinedError):
        render.render_checklist(doc, "html")


# --- HTML checklist -----------------------------------------------------------------------


def test_html_escapes_every_hostile_field() -> None:
    html = render.render_checklist(hostile_doc(), "html")
    page = Page(html)

    assert [tag for tag, _ in page.elements].count("script") == 1
    assert page.scripts == [(render.resources.TEMPLATES / "_checklist.js").read_text()]
    assert not page.all("img")
    handlers = [(t, k) for t, a in page.elements for k in a if k.lower().startswith("on")]
    assert handlers == []
    assert "<script>alert" not in html and "<img" not in html
    # Shown as text rather than dropped: in the title, the quote, the notes, the clause …
    text = page.text()
    assert text.count(XSS_IMG) >= 12
    quote = page.classes("blockquote", "quote")
    assert quote and "quote" in (quote[0].get("class") or "")
    assert f"“{HOSTILE}”" in text


def test_html_is_self_contained_and_pins_its_script_with_csp() -> None:
    page = Page(render.render_checklist(make_doc(), "html"))
    assert not page.all("link")
    for _, attributes in page.elements:
        for key in ("src", "href", "action"):
            assert key not in attributes
    csp = next(
        a["content"] or ""
        for t, a in page.elements
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    digest = hashlib.sha256(page.scripts[0].encode()).digest()
    assert f"script-src 'sha256-{base64.b64encode(digest).decode()}'" in csp
    assert "default-src 'none'" in csp


def test_html_highlights_matched_terms_only_in_clause_text() -> None:
    page = Page(render.render_checklist(hostile_doc(), "html"))
    assert page.marks, "expected highlighted terms"
    assert all("clause" in classes.split() for classes, _ in page.marks)
    # "script" and "img" are terms: the escaped text of the tags is marked, never a tag.
    assert sorted({text.lower() for _, text in page.marks}) == [
        "img",
        "onerror",
        "script",
        "supervisors",
        "train",
    ]
    assert not page.all("script", type="text/x") and len(page.scripts) == 1


def test_html_groups_in_status_order_and_keeps_item_order() -> None:
    items = [make_item(f"c-{s}", s) for s in STATUS_ORDER]
    items.insert(1, make_item("c-conflict-2", "conflict"))
    page = Page(render.render_checklist(make_doc(items), "html"))
    sections = [a["data-status"] for a in page.classes("section", "group")]
    assert sections == STATUS_ORDER
    rows = [a["id"] for a in page.classes("tr", "item")]
    assert rows[:2] == ["item-c-conflict", "item-c-conflict-2"]
    assert len(rows) == 7


def test_html_counts_come_first_in_status_order_with_colours() -> None:
    doc = make_doc(
        counts={"conflict": 3, "untraced": 5, "weak": 1, "traced": 6, "accepted": 0, "dismissed": 1}
    )
    html = render.render_checklist(doc, "html")
    page = Page(html)
    counts = page.classes("li", "count")
    assert [c["data-status"] for c in counts] == STATUS_ORDER
    numbers = re.findall(
        r'<li class="count[^"]*" data-status="(\w+)"><span class="n">(\d+)</span>', html
    )
    assert numbers == [
        ("conflict", "3"),
        ("untraced", "5"),
        ("weak", "1"),
        ("traced", "6"),
        ("accepted", "0"),
        ("dismissed", "1"),
    ]
    assert html.index('class="counts"') < html.index('class="group')
    assert "--conflict: #b91c1c" in html and "--traced: #15803d" in html


def test_html_stale_banner_only_when_stale() -> None:
    assert not Page(render.render_checklist(make_doc(), "html")).classes("p", "stale")
    page = Page(render.render_checklist(make_doc(stale=True), "html"))
    assert page.classes("p", "stale")
    assert "handover process meridian-freight" in page.text()


def test_html_filters_ship_hidden_until_script_shows_them() -> None:
    page = Page(render.render_checklist(make_doc(), "html"))
    form = page.classes("form", "filters")
    assert len(form) == 1 and "hidden" in form[0]
    boxes = page.all("input", name="status")
    assert [b["value"] for b in boxes] == STATUS_ORDER
    assert all("checked" in b for b in boxes)
    assert page.all("select", name="kind")
    assert [o["value"] for o in page.all("option")] == ["", "commitment", "customer_phrase"]
    rows = page.classes("tr", "item")
    assert all("hidden" not in r and r["data-kind"] == "commitment" for r in rows)
    assert "row.hidden = !show" in page.scripts[0]


def test_html_print_css_hides_filters_and_keeps_rows_whole() -> None:
    html = render.render_checklist(make_doc(), "html")
    print_css = html[html.index("@media print") :]
    assert re.search(r"\.filters\s*\{\s*display:\s*none", print_css)
    assert "break-inside: avoid" in print_css
    assert "td.tick input" in print_css


def test_html_row_content() -> None:
    decision = {**DECISION, "note": "checked with ops"}
    item = make_item(
        "c-1",
        "conflict",
        suspect=True,
        decision=decision,
        history=[DECISION, decision],
        mentions=[
            *make_item("x")["mentions"],
            {
                "source": {**SOURCE, "name": "kickoff.vtt"},
                "speaker": "Raj",
                "start": 3723.0,
                "end": None,
                "quote": "All twenty.",
            },
        ],
    )
    page = Page(render.render_checklist(make_doc([item]), "html"))
    text = " ".join(page.text().split())
    assert "Dana Whitfield · discovery-call.ogg, 2026-11-02 at 0:02:31 (vendor)" in text
    assert 'due 2027-03-31 ("by the end of March")' in text
    assert "20 supervisors" in text and "owner vendor" in text and "commitment/firm" in text
    assert "sow.docx §2.5 Training" in text
    assert 'said "20 supervisors", scope says "up to 10 depot supervisors"' in text
    assert page.classes("span", "suspect")
    assert "confirmed by Lee, 2026-11-20T09:12:00Z" in text and "checked with ops" in text
    assert "Said 2 times" in text and "Raj · kickoff.vtt, 2026-11-02 at 1:02:03" in text
    tick = page.all("input", type="checkbox")
    assert any("checked" in box and box.get("aria-label") == "Reviewed c-1" for box in tick)


def test_html_untraced_item_says_so_and_orphans_come_last() -> None:
    doc = make_doc(
        [make_item("c-1", "untraced")],
        orphaned_decisions=[
            {
                "item_id": "c-gone",
                "decision": "accepted-gap",
                "by": "Lee",
                "at": "2026-11-01T00:00:00Z",
                "note": "ok",
                "text": "old words",
            }
        ],
    )
    html = render.render_checklist(doc, "html")
    assert "No clause in scope." in html
    assert html.index('id="orphaned-decisions"') > html.index('class="group')
    assert "old words" in html and "accepted gap" in html


def test_html_without_items_says_what_to_do() -> None:
    html = render.render_checklist(make_doc([], documents=[]), "html")
    assert "No items yet" in html and "No scope document yet" in html
    assert 'class="group' not in html


# --- Markdown checklist -------------------------------------------------------------------


def cells(row: str) -> list[str]:
    """A GFM table row split on unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_markdown_sections_in_order_with_task_boxes() -> None:
    md = render.render_checklist(make_doc(), "md")
    headings = re.findall(r"^## (\w+) \((\d+)\)$", md, flags=re.M)
    assert headings == [(s.capitalize(), "1") for s in STATUS_ORDER]
    tasks = re.findall(r"^- \[([ x])\] ", md, flags=re.M)
    assert tasks == [" ", " ", " ", " ", "x", "x"]
    assert md.startswith("# Kickoff checklist: Meridian Freight – operations modernisation\n")


def test_markdown_item_lines() -> None:
    decision = {**DECISION, "note": "ops agreed"}
    md = render.render_checklist(
        make_doc([make_item("c-1", decision=decision, history=[decision])]), "md"
    )
    assert (
        '- [x] "We\'ll train all twenty supervisors." — Dana Whitfield, discovery-call.ogg '
        "(2026-11-02) at 0:02:31\n"
        '  - commitment/firm · owner vendor · due 2027-03-31 ("by the end of March") · '
        "20 supervisors · `c-1`\n"
        '  - Evidence: sow.docx §2.5 Training: "Northwind will deliver train-the-trainer sessions'
    ) in md
    assert '  - Conflict: said "20 supervisors", scope says "up to 10 depot supervisors"\n' in md
    assert "  - Decision: confirmed by Lee at 2026-11-20T09:12:00Z: ops agreed\n" in md


def test_markdown_escapes_tables_and_markup() -> None:
    doc = hostile_doc()
    doc["documents"][0]["name"] = "a|b\nc"
    doc["items"][0]["text"] = "line one\nline two | `tick` <b>bold</b>"
    md = render.render_checklist(doc, "md")
    # Code spans are literal text in CommonMark; everywhere else no raw < or > survives.
    outside_code = re.sub(r"`[^`]*`", "", md)
    assert "<" not in outside_code
    assert ">" not in outside_code.replace("\n> **Stale:**", "")
    row = next(line for line in md.splitlines() if line.startswith("| a"))
    assert cells(row) == [r"a\|b c", "", "3"]
    item_line = next(line for line in md.splitlines() if line.startswith("- [x]"))
    assert item_line.startswith(r'- [x] "line one line two \| \`tick\` &lt;b&gt;bold&lt;/b&gt;"')
    orphan = next(line for line in md.splitlines() if line.startswith("| `"))
    assert len(cells(orphan)) == 6


def test_markdown_stale_and_counts() -> None:
    md = render.render_checklist(make_doc(stale=True), "md")
    assert "> **Stale:**" in md and "`handover process meridian-freight`" in md
    rows = [cells(line) for line in md.splitlines() if line.startswith("| ")]
    assert rows[:7] == [["Status", "Items"]] + [[s.capitalize(), "1"] for s in STATUS_ORDER]
    assert "Stale" not in render.render_checklist(make_doc(), "md")


# --- CSV checklist ------------------------------------------------------------------------


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_header_and_round_trip() -> None:
    item = make_item(
        "c-1", text='Train "all", twenty\nsupervisors', quantities=["20 supervisors", "2 depots"]
    )
    out = render.render_checklist(make_doc([item, make_item("c-2", "untraced", start=None)]), "csv")
    assert out.startswith(",".join(render.CSV_COLUMNS) + "\r\n")
    assert out.endswith("\r\n")
    rows = read_csv(out)
    assert list(rows[0]) == list(render.CSV_COLUMNS)
    first, second = rows
    assert first["text"] == 'Train "all", twenty\nsupervisors'
    assert first["quantities"] == "20 supervisors; 2 depots"
    assert first["start"] == "0:02:31" and second["start"] == ""
    assert first["document"] == "sow.docx" and first["section"] == "2.5"
    assert first["suspect"] == "false" and first["confidence"] == "0.9"
    assert first["mentions"] == "1" and first["source"] == "discovery-call.ogg"
    assert second["document"] == "" and second["reason"] == "" and second["decision"] == ""


def test_csv_decision_columns() -> None:
    rows = read_csv(render.render_checklist(make_doc([make_item("c-1", "accepted")]), "csv"))
    assert (rows[0]["decision"], rows[0]["decided_by"], rows[0]["decided_at"]) == (
        "accepted-gap",
        "Lee",
        "2026-11-20T09:12:00Z",
    )


@pytest.mark.parametrize(
    "payload", ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", " =1"]
)
def test_csv_neutralises_formulas_in_every_text_cell(payload: str) -> None:
    item = make_item(
        "c-1",
        text=payload,
        speaker=payload,
        owner=payload,
        due_text=payload,
        quantities=[payload],
        rule=payload,
        source={**SOURCE, "name": payload},
        trace=make_trace(document=payload, section=payload, clause=payload, reason=payload),
        decision={**DECISION, "by": payload, "note": payload},
    )
    rows = read_csv(render.render_checklist(make_doc([item]), "csv"))
    for column in (
        "text",
        "speaker",
        "owner",
        "due_text",
        "quantities",
        "rule",
        "source",
        "document",
        "section",
        "clause",
        "reason",
        "decided_by",
        "note",
    ):
        assert rows[0][column] == "'" + payload, column
    for row in rows:
        for value in row.values():
            assert value.lstrip()[:1] not in ("=", "+", "-", "@") or value.startswith("'")


# --- JSON ---------------------------------------------------------------------------------


def test_json_is_the_document_itself() -> None:
    doc = hostile_doc()
    out = render.render_checklist(doc, "json")
    assert json.loads(out) == doc
    assert out == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    assert "–" in render.render_checklist(make_doc(), "json")


# --- flag ---------------------------------------------------------------------------------


def make_flag(deals: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    flag = {
        "schema_version": 1,
        "generated_at": "2026-11-24T06:00:00Z",
        "fail_on": ["untraced", "conflict"],
        "kinds": ["commitment", "customer_phrase"],
        "since": None,
        "previous_run": "2026-11-23T06:00:00Z",
        "total": sum(len(d["items"]) for d in deals),
        "deals": deals,
    }
    flag.update(changes)
    return flag


def flagged_deal(**changes: Any) -> dict[str, Any]:
    items = [
        make_item("c-3f9a1b2c4d", "conflict", new=True),
        make_item("c-2", "conflict", new=False, start=None),
        make_item(
            "c-3",
            "untraced",
            new=False,
            kind="customer_phrase",
            subtype="need",
            text="We need | pipes",
            suspect=True,
        ),
    ]
    return make_doc(items, **changes)


def test_flag_text_lists_deals_items_and_total() -> None:
    out = render.render_flag(make_flag([flagged_deal(stale=True)]), "text")
    lines = out.splitlines()
    assert lines[0].startswith("flag run 2026-11-24T06:00:00Z: fail on untraced, conflict")
    assert "meridian-freight (owner Dana Whitfield): 2 conflict, 1 untraced" in lines
    assert (
        "  ! stale: sources changed since the last trace; run `handover process "
        "meridian-freight`" in lines
    )
    assert (
        '  CONFLICT  c-3f9a1b2c4d [new] commitment/firm  "We\'ll train all twenty supervisors."'
        '  — discovery-call.ogg 0:02:31 — said "20 supervisors", scope says '
        '"up to 10 depot supervisors"'
    ) in lines
    assert any(line.startswith("  CONFLICT  c-2 commitment/firm") for line in lines)
    untraced = next(line for line in lines if line.startswith("  UNTRACED"))
    assert untraced.startswith("  UNTRACED  c-3 [suspect] customer_phrase/need")
    assert untraced.endswith(
        "— discovery-call.ogg 0:02:31 — no clause in scope; suspect: the evidence clause changed"
    )
    assert sum("[new]" in line for line in lines if line.startswith("  ")) == 1
    assert lines[-1] == "3 flagged item(s) in 1 deal(s)"
    assert "\x1b" not in out


def test_flag_text_keeps_each_item_on_one_line_without_control_characters() -> None:
    deal = flagged_deal()
    deal["items"][0]["text"] = "one\ntwo\r\n\x1b[31mred\x1b[0m"
    out = render.render_flag(make_flag([deal]), "text")
    assert "\x1b" not in out
    assert '"one two [31mred [0m"' in out
    assert sum(line.startswith("  CONFLICT") for line in out.splitlines()) == 2


def test_flag_text_weak_item_names_its_closest_clause() -> None:
    deal = make_doc([make_item("c-w", "weak", new=False, trace=make_trace(reason=None))])
    out = render.render_flag(make_flag([deal]), "text")
    assert "— closest clause: sow.docx §2.5 Training" in out
    traced = make_item("c-t", "traced", new=False, suspect=True, trace=make_trace(reason=None))
    traced["suspect_reason"] = "§2.5 of sow.docx changed"
    out = render.render_flag(make_flag([make_doc([traced])]), "text")
    assert "— clause: sow.docx §2.5 Training; suspect: §2.5 of sow.docx changed" in out


def test_flag_nothing_flagged() -> None:
    for fmt in ("text", "md"):
        out = render.render_flag(make_flag([], previous_run=None), fmt)
        assert "nothing flagged" in out.lower()
        assert "flagged item(s)" not in out
    assert render.render_flag(make_flag([]), "text").splitlines()[-1] == "nothing flagged"
    assert render.render_flag(make_flag([]), "md").startswith("# Nothing flagged\n")


def test_flag_md_tables_mark_new_items_and_escape_pipes() -> None:
    second = flagged_deal(deal="acme", name="Acme | rollout", owner=None)
    second["items"] = second["items"][:1]
    second["items"][0]["new"] = False
    out = render.render_flag(make_flag([flagged_deal(stale=True), second]), "md")
    assert out.startswith("# Flagged: 4 item(s) in 2 deal(s)\n")
    assert "## Meridian Freight – operations modernisation (`meridian-freight`)" in out
    assert r"## Acme \| rollout (`acme`)" in out
    assert "Owner Dana Whitfield · 2 conflict, 1 untraced" in out
    assert "> **Stale:**" in out and out.count("> **Stale:**") == 1
    rows = [cells(line) for line in out.splitlines() if line.startswith("| **")]
    assert len(rows) == 4 and all(len(row) == 6 for row in rows)
    assert rows[0][0] == "**Conflict** · **new**" and rows[1][0] == "**Conflict**"
    assert rows[2][0] == "**Untraced** · suspect" and rows[2][3] == r'"We need \| pipes"'
    assert rows[2][5] == "no clause in scope; suspect: the evidence clause changed"
    assert sum("**new**" in row[0] for row in rows) == 1


def test_flag_header_says_what_new_means() -> None:
    flag = make_flag([flagged_deal()], since="2026-11-20T00:00:00Z")
    text = render.render_flag(flag, "text").splitlines()[0]
    assert "; only items new since 2026-11-20T00:00:00Z; [new] = not flagged by the run" in text
    assert "only items new since 2026-11-20T00:00:00Z" in render.render_flag(flag, "md")
    text = render.render_flag(make_flag([flagged_deal()]), "text").splitlines()[0]
    assert text.endswith("; [new] = not flagged by the run at 2026-11-23T06:00:00Z")
    first = render.render_flag(make_flag([flagged_deal()], previous_run=None), "text")
    assert first.splitlines()[0].endswith("; no previous run")


def test_flag_json_is_the_report_itself() -> None:
    flag = make_flag([flagged_deal()])
    out = render.render_flag(copy.deepcopy(flag), "json")
    assert json.loads(out) == flag
    assert out == json.dumps(flag, indent=2, ensure_ascii=False) + "\n"


# --- what the store really produces beyond the basics ---------------------------------------


def manual_doc() -> dict[str, Any]:
    """A hand-added item with no source or mention, and the fields the store adds."""
    manual = make_item(
        "c-manual",
        "untraced",
        source=None,
        start=None,
        end=None,
        speaker=None,
        mentions=[],
        manual=True,
        suspect=True,
        suspect_reason="§2.5 of sow.docx changed",
    )
    mention = make_item("c-2", "conflict", suspect_reason=None)
    mention["mentions"].append({**mention["mentions"][0], "source": None, "quote": "again"})
    return make_doc(
        [mention, manual],
        traced_at="2026-11-23T10:00:00Z",
        stale=True,
        stale_reason="2 source(s) not processed yet",
    )


def test_items_without_a_source_render_in_every_format() -> None:
    doc = manual_doc()
    html = render.render_checklist(doc, "html")
    text = " ".join(Page(html).text().split())
    assert "unknown speaker · no source" in text and "added by hand" in text
    assert "Suspect: §2.5 of sow.docx changed" in text
    assert "Stale: 2 source(s) not processed yet" in text and "Traced 2026-11-23T10:00:00Z" in text
    md = render.render_checklist(doc, "md")
    assert '- [ ] "We\'ll train all twenty supervisors." — unknown speaker, no source\n' in md
    assert "  - **Suspect:** §2.5 of sow.docx changed\n" in md
    assert "> **Stale:** 2 source(s) not processed yet, so" in md
    assert "- Traced: 2026-11-23T10:00:00Z\n" in md
    rows = read_csv(render.render_checklist(doc, "csv"))
    assert (rows[1]["source"], rows[1]["meeting_date"], rows[1]["mentions"]) == ("", "", "0")
    for item in doc["items"]:
        item["new"] = True
    flag = make_flag([doc])
    out = render.render_flag(flag, "text")
    assert "  ! stale: 2 source(s) not processed yet; run `handover process" in out
    assert (
        '"We\'ll train all twenty supervisors."  — no source — no clause in scope; suspect:' in out
    )
    assert "| no source | no clause in scope; suspect: §2.5 of sow.docx changed |" in (
        render.render_flag(flag, "md")
    )
