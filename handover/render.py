"""Rendering the kickoff checklist (HTML, Markdown, CSV, JSON) and the flag report (text,
Markdown, JSON).

Pure functions from the plain dicts that ``report.checklist_document`` and the flag job build
(their shape is documented in ``docs/json.md``) to strings. Nothing here reads the database.

Escaping is per output format, and all of it happens here or in the templates' filters:

* HTML: jinja2 autoescaping for ``*.html.j2``; clause highlighting escapes every piece itself
  and is the only place that emits markup from data.
* Markdown: ``md`` collapses the text onto one line and backslash-escapes what would end a
  table cell or start markup; ``<`` and ``>`` become entities so no raw HTML gets through.
* Plain text: ``oneline`` collapses newlines and drops control characters (no forged lines, no
  ANSI escapes smuggled in from a transcript).
* CSV: the ``csv`` module quotes; text cells that a spreadsheet would run as a formula get a
  leading ``'``.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup, escape

from handover import report, resources
from handover.errors import HandoverError
from handover.types import Status

CHECKLIST_FORMATS = ("html", "md", "csv", "json")
FLAG_FORMATS = ("text", "md", "json")

CSV_COLUMNS = (
    "id",
    "status",
    "auto_status",
    "suspect",
    "kind",
    "subtype",
    "text",
    "speaker",
    "side",
    "side_inferred",
    "source",
    "meeting_date",
    "start",
    "owner",
    "due",
    "due_text",
    "quantities",
    "confidence",
    "rule",
    "document",
    "section",
    "clause",
    "reason",
    "decision",
    "decided_by",
    "decided_at",
    "note",
    "mentions",
)

STATUS_LABELS = {
    Status.CONFLICT.value: "Conflict",
    Status.UNTRACED.value: "Untraced",
    Status.WEAK.value: "Weak",
    Status.TRACED.value: "Traced",
    Status.ACCEPTED.value: "Accepted",
    Status.DISMISSED.value: "Dismissed",
}
DECISION_LABELS = {
    "confirmed": "confirmed",
    "not-a-commitment": "not a commitment",
    "accepted-gap": "accepted gap",
    "linked": "linked",
    "reopen": "reopened",
}
KIND_LABELS = {"commitment": "commitment", "customer_phrase": "customer phrase"}

_SCRIPT_TEMPLATE = "_checklist.js"


# --- filters ------------------------------------------------------------------------------


def hms(seconds: float | None) -> str:
    """``h:mm:ss`` for a time in seconds ("" for None): ``report.clock`` without the hour pad."""
    if seconds is None:
        return ""
    hours, rest = report.clock(seconds).split(":", 1)
    return f"{int(hours)}:{rest}"


def status_label(status: str | None) -> str:
    if not status:
        return ""
    return STATUS_LABELS.get(status, status.replace("_", " ").replace("-", " ").capitalize())


def decision_label(decision: str | None) -> str:
    if not decision:
        return ""
    return DECISION_LABELS.get(decision, decision.replace("-", " "))


def kind_label(kind: str | None) -> str:
    if not kind:
        return ""
    return KIND_LABELS.get(kind, kind.replace("_", " "))


# C0 and C1 controls, DEL, and the Unicode line/paragraph separators: none belong inside a
# one-line field, and ESC would let a transcript paint a cron mail with ANSI codes.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def oneline(value: object) -> str:
    """Text on one line: whitespace runs (newlines included) become one space, controls go."""
    if value is None:
        return ""
    text = _CONTROL.sub(" ", str(value))
    return " ".join(text.split())


# Backslash-escaped: everything that ends a table cell (|), opens code (`), emphasis (* _ ~),
# links and images ([ ]), and the backslash itself so the escapes cannot be undone.
_MD_SPECIAL = re.compile(r"([\\`*_~\[\]|])")


def md_escape(value: object) -> str:
    """Text safe inside a Markdown paragraph, list item or table cell.

    One line; ``\\ ` * _ ~ [ ] |`` backslash-escaped; ``<`` and ``>`` as ``&lt;``/``&gt;`` so
    neither raw HTML nor autolinks get through (an entity stays literal text in CommonMark).
    Bare URLs may still be auto-linked by GFM renderers; that shows the URL, it runs nothing.
    """
    text = _MD_SPECIAL.sub(r"\\\1", oneline(value))
    return text.replace("<", "&lt;").replace(">", "&gt;")


def md_code(value: object, cell: bool = False) -> str:
    """An inline code span that holds any text: the fence is longer than any backtick run.

    With ``cell``, ``|`` is escaped too: GFM splits table cells on it even inside code spans.
    """
    text = oneline(value)
    if cell:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# Terms are clause wording, matched as whole words; a plain inflection is allowed so other
# forms of a shared word in the clause ("supervisor", "supervisors") light up too.
_INFLECTION = r"(?:s|es|ed|d|ing|'s|’s)?"


def highlight(text: str | None, terms: Iterable[str] | None) -> Markup:
    """HTML for ``text`` with each whole-word occurrence of ``terms`` in ``<mark>``.

    The pattern runs over the raw text and every piece is escaped on its own, so a term can
    never match inside an entity or a tag and the only markup emitted is ``<mark>``.
    """
    raw = "" if text is None else str(text)
    words = sorted({t.strip() for t in terms or () if t and t.strip()}, key=len, reverse=True)
    if not words:
        return escape(raw)
    alternatives = "|".join(r"\s+".join(map(re.escape, word.split())) for word in words)
    pattern = re.compile(rf"(?<!\w)(?:{alternatives}){_INFLECTION}(?!\w)", re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(raw):
        out.append(str(escape(raw[last : match.start()])))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(str(escape(raw[last:])))
    return Markup("".join(out))


# Spreadsheets (Excel, LibreOffice, Sheets) run a cell as a formula when it starts with one of
# these, also after leading spaces; a leading ' makes it text (OWASP "CSV Injection"). The
# full-width forms are there too: Excel with an East Asian input method turns "＝" into "=",
# and a cell that is only ever read by people loses nothing by the extra '.
_FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# What may come before the formula sign and still leave it one: any whitespace (spaces, line
# ends, no-break and ideographic spaces) and invisible format characters (zero-width space,
# word joiner, byte-order mark, direction marks).
_LEADING_BLANKS = re.compile(r"[\s\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069]*")


def neutralise_cell(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    lead = _LEADING_BLANKS.match(value)
    first = value[lead.end() : lead.end() + 1] if lead else value[:1]
    if value[:1] in _FORMULA_START or first in _FORMULA_START:
        return "'" + value
    return value


def group_items(items: Sequence[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Items grouped by status, groups in ``Status`` order, items in the order they came.

    A status this module does not know yet gets its own group after the known ones, so a
    newer document still renders every item.
    """
    groups: dict[str, list[dict[str, Any]]] = {status.value: [] for status in Status}
    for item in items:
        groups.setdefault(item["status"], []).append(item)
    return [(status, members) for status, members in groups.items() if members]


def status_counts(items: Iterable[dict[str, Any]]) -> list[tuple[str, int]]:
    """``[(status, n), …]`` for the statuses present, in ``Status`` order."""
    return [(status, len(members)) for status, members in group_items(list(items))]


def ordered_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """A document's ``counts`` in ``Status`` order (zeros kept), unknown statuses last."""
    known = [(status.value, int(counts.get(status.value, 0))) for status in Status]
    extra = [(k, int(v)) for k, v in counts.items() if k not in STATUS_LABELS]
    return known + extra


def item_facts(item: dict[str, Any]) -> list[str]:
    """The short facts about an item, unescaped: kind/subtype, owner, due, quantities."""
    facts = [f"{kind_label(item.get('kind'))}/{item.get('subtype') or '?'}"]
    if item.get("owner"):
        facts.append(f"owner {item['owner']}")
    due, due_text = item.get("due"), item.get("due_text")
    if due and due_text:
        facts.append(f'due {due} ("{due_text}")')
    elif due or due_text:
        facts.append(f"due {due or due_text}")
    facts.extend(str(q) for q in item.get("quantities") or ())
    if item.get("manual"):
        facts.append("added by hand")
    return facts


def stale_text(doc: dict[str, Any]) -> str:
    """Why a deal's statuses may be out of date (the flag job says; the checklist may not)."""
    return oneline(doc.get("stale_reason")) or "sources changed since the last trace"


def item_reason(item: dict[str, Any]) -> str:
    """Why an item is flagged, in words: the trace's reason, else what was (not) found, plus
    why it is suspect when it is."""
    reason = _trace_reason(item)
    if item.get("suspect"):
        why = oneline(item.get("suspect_reason")) or "the evidence clause changed"
        reason = f"{reason}; suspect: {why}"
    return reason


def _trace_reason(item: dict[str, Any]) -> str:
    trace = item.get("trace")
    if trace and trace.get("reason"):
        return oneline(trace["reason"])
    if not trace:
        return "no clause in scope"
    where = " ".join(
        part
        for part in (
            oneline(trace.get("document")),
            f"§{oneline(trace['section'])}" if trace.get("section") else "",
            oneline(trace.get("heading")),
        )
        if part
    )
    status = item.get("status")
    if status == Status.UNTRACED.value:
        # Untraced means nothing covers it; the closest clause is only a pointer.
        return f"nothing in scope covers it (closest: {where})" if where else "no clause in scope"
    label = "closest clause" if status == Status.WEAK.value else "clause"
    return f"{label}: {where}" if where else label


# --- environment --------------------------------------------------------------------------


@cache
def environment() -> jinja2.Environment:
    """The one jinja2 environment for every checklist and flag template.

    Autoescaping is chosen by template name: only ``*.html.j2`` (and ``*.html``) escape. The
    Markdown and text templates are not HTML and escape explicitly with ``md``/``oneline``.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(resources.TEMPLATES),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "html.j2", "htm.j2"),
            disabled_extensions=(),
            default_for_string=True,
            default=False,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        clock=hms,
        status_label=status_label,
        decision_label=decision_label,
        kind_label=kind_label,
        highlight=highlight,
        md=md_escape,
        md_code=md_code,
        oneline=oneline,
        reason=item_reason,
        facts=item_facts,
        stale_text=stale_text,
    )
    env.globals.update(
        group_items=group_items,
        status_counts=status_counts,
        ordered_counts=ordered_counts,
        STATUS_LABELS=STATUS_LABELS,
    )
    return env


@cache
def _script() -> tuple[Markup, str]:
    """The checklist's inline script and its CSP hash.

    The Content-Security-Policy allows this exact script and nothing else, so even an escaping
    slip could not run an injected handler or fetch anything.
    """
    source = (resources.TEMPLATES / _SCRIPT_TEMPLATE).read_text(encoding="utf-8")
    if "</script" in source.lower():
        raise RuntimeError(f"{_SCRIPT_TEMPLATE} must not contain </script")
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return Markup(source), "sha256-" + base64.b64encode(digest).decode("ascii")


# --- checklist ----------------------------------------------------------------------------


def checklist_json(doc: dict[str, Any]) -> str:
    """The checklist document exactly as built, for machines (``docs/json.md``)."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise_cell(str(value))


def _csv_number(value: object) -> str:
    # Our own numbers are written as numbers: a score or a count never needs the ' prefix.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _csv_text(value)


def checklist_csv(doc: dict[str, Any]) -> str:
    """One row per item, columns ``CSV_COLUMNS``, RFC 4180 (``\\r\\n``, quotes doubled)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in doc["items"]:
        source = item.get("source") or {}
        trace = item.get("trace") or {}
        decision = item.get("decision") or {}
        row = {
            "id": _csv_text(item["id"]),
            "status": _csv_text(item["status"]),
            "auto_status": _csv_text(item.get("auto_status")),
            "suspect": _csv_number(bool(item.get("suspect"))),
            "kind": _csv_text(item.get("kind")),
            "subtype": _csv_text(item.get("subtype")),
            "text": _csv_text(item.get("text")),
            "speaker": _csv_text(item.get("speaker")),
            "side": _csv_text(item.get("side")),
            "side_inferred": _csv_number(bool(item.get("side_inferred"))),
            "source": _csv_text(source.get("name")),
            "meeting_date": _csv_text(source.get("meeting_date")),
            "start": hms(item.get("start")),
            "owner": _csv_text(item.get("owner")),
            "due": _csv_text(item.get("due")),
            "due_text": _csv_text(item.get("due_text")),
            "quantities": _csv_text("; ".join(item.get("quantities") or ())),
            "confidence": _csv_number(item.get("confidence")),
            "rule": _csv_text(item.get("rule")),
            "document": _csv_text(trace.get("document")),
            "section": _csv_text(trace.get("section")),
            "clause": _csv_text(trace.get("clause")),
            "reason": _csv_text(trace.get("reason")),
            "decision": _csv_text(decision.get("decision")),
            "decided_by": _csv_text(decision.get("by")),
            "decided_at": _csv_text(decision.get("at")),
            "note": _csv_text(decision.get("note")),
            "mentions": _csv_number(len(item.get("mentions") or ())),
        }
        writer.writerow([row[column] for column in CSV_COLUMNS])
    return buffer.getvalue()


def render_checklist(doc: dict[str, Any], fmt: str) -> str:
    """The kickoff checklist for one deal as ``html``, ``md``, ``csv`` or ``json``."""
    if fmt == "json":
        return checklist_json(doc)
    if fmt == "csv":
        return checklist_csv(doc)
    if fmt == "md":
        return environment().get_template("checklist.md.j2").render(doc=doc)
    if fmt == "html":
        script, script_hash = _script()
        return (
            environment()
            .get_template("checklist.html.j2")
            .render(doc=doc, script=script, script_hash=script_hash)
        )
    raise HandoverError(
        f"unknown checklist format {fmt!r}: use one of {', '.join(CHECKLIST_FORMATS)}"
    )


# --- flag ---------------------------------------------------------------------------------


def flag_json(flag: dict[str, Any]) -> str:
    """The flag report exactly as built, for machines (``docs/json.md``)."""
    return json.dumps(flag, indent=2, ensure_ascii=False) + "\n"


def render_flag(flag: dict[str, Any], fmt: str) -> str:
    """The flag report across deals as ``text`` (cron mail), ``md`` (a ticket) or ``json``."""
    if fmt == "json":
        return flag_json(flag)
    templates = {"text": "flag.txt.j2", "md": "flag.md.j2"}
    if fmt not in templates:
        raise HandoverError(f"unknown flag format {fmt!r}: use one of {', '.join(FLAG_FORMATS)}")
    deals_flagged = sum(1 for deal in flag["deals"] if deal["items"])
    return environment().get_template(templates[fmt]).render(flag=flag, deals_flagged=deals_flagged)


def render_eval(report: dict[str, Any], *, verbose: bool = False) -> str:
    """The ``handover eval`` report as plain text (the JSON is ``report`` itself)."""
    return environment().get_template("eval.txt.j2").render(r=report, verbose=verbose)
