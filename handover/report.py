"""Rendering stored data for people and machines: transcripts (text, VTT, SRT, JSON).

Pure functions from rows to strings; the CLI and the web app print what these return.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from handover.review import effective_status, latest
from handover.store import Row, Store
from handover.types import STATUS_ORDER, Status

SCHEMA_VERSION = 1


def clock(seconds: float | None, *, millis: bool = False, sep: str = ".") -> str:
    """``HH:MM:SS`` (or ``HH:MM:SS.mmm``) for a time in seconds."""
    total_ms = round(max(seconds or 0.0, 0.0) * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{text}{sep}{ms:03d}" if millis else text


REDACTED = "[redacted]"


def said(segment: Row) -> str:
    """A segment's words, or the placeholder where a span was redacted."""
    return REDACTED if segment.get("redacted") else segment["text"]


def _source_heading(source: Row) -> str:
    return (
        f"# source {source['id']} · {source['title']} · {source['kind']} · {source['meeting_date']}"
    )


def transcript_text(parts: Sequence[tuple[Row, list[Row]]]) -> str:
    """One segment a line, ``[HH:MM:SS] Speaker: text``; a heading per source when several."""
    lines: list[str] = []
    for source, segments in parts:
        if len(parts) > 1:
            if lines:
                lines.append("")
            lines.append(_source_heading(source))
        for seg in segments:
            stamp = f"[{clock(seg['start'])}] " if seg["start"] is not None else ""
            who = f"{seg['speaker']}: " if seg["speaker"] else ""
            lines.append(f"{stamp}{who}{said(seg)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def transcript_vtt(segments: list[Row]) -> str:
    out = ["WEBVTT", ""]
    for seg in segments:
        start, end = seg["start"] or 0.0, seg["end"] if seg["end"] is not None else seg["start"]
        out.append(f"{clock(start, millis=True)} --> {clock(end, millis=True)}")
        text = _vtt_escape(said(seg))
        if seg["speaker"]:
            text = f"<v {_vtt_escape(seg['speaker'])}>{text}</v>"
        out.extend([text, ""])
    return "\n".join(out)


def transcript_srt(segments: list[Row]) -> str:
    out: list[str] = []
    for number, seg in enumerate(segments, 1):
        start, end = seg["start"] or 0.0, seg["end"] if seg["end"] is not None else seg["start"]
        who = f"{seg['speaker']}: " if seg["speaker"] else ""
        out.extend(
            [
                str(number),
                f"{clock(start, millis=True, sep=',')} --> {clock(end, millis=True, sep=',')}",
                f"{who}{said(seg)}",
                "",
            ]
        )
    return "\n".join(out)


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """An FTS snippet (``store.search`` marks matches as ``[word]``) as (text, matched)
    pieces, for a front end to escape and mark up."""
    parts = re.split(r"(\[[^\[\]]*\])", snippet)
    return [
        (p[1:-1], True) if p.startswith("[") and p.endswith("]") else (p, False) for p in parts if p
    ]


def source_json(source: Row) -> dict[str, Any]:
    return {
        "id": source["id"],
        "kind": source["kind"],
        "format": source["fmt"],
        "title": source["title"],
        "filename": source["filename"],
        "meeting_date": source["meeting_date"],
        "sha256": source["sha256"],
        "size": source["size"],
        "mime": source["mime"],
        "duration": source["duration"],
        "stage": source["stage"],
        "progress": source["progress"],
        "error": source["error"],
        "replaces": source["replaces"],
        "added_at": source["added_at"],
        "processed_at": source["processed_at"],
    }


def transcript_json(deal: Row, parts: Sequence[tuple[Row, list[Row]]]) -> str:
    doc = {
        "schema_version": SCHEMA_VERSION,
        "deal": deal["slug"],
        "sources": [
            {
                **source_json(source),
                "segments": [
                    {
                        "ordinal": s["ordinal"],
                        "start": s["start"],
                        "end": s["end"],
                        "speaker": s["speaker"],
                        "side": s["side"],
                        "text": said(s),
                        "redacted": bool(s.get("redacted")),
                    }
                    for s in segments
                ],
            }
            for source, segments in parts
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- the checklist document ---------------------------------------------------------


def _source_ref(source_id: int, sources: dict[int, Row]) -> dict[str, Any] | None:
    source = sources.get(source_id)
    if source is None:
        return None
    return {
        "id": source["id"],
        "name": source["filename"],
        "kind": source["kind"],
        "meeting_date": source["meeting_date"],
    }


def _decision_json(row: Row) -> dict[str, Any]:
    return {
        "decision": row["decision"],
        "by": row["by"],
        "at": row["at"],
        "note": row["note"],
        "clause_id": row["clause_id"],
    }


def _trace_json(trace: Row | None) -> dict[str, Any] | None:
    if trace is None or trace["clause_id"] is None:
        return None
    return {
        "clause_id": trace["clause_id"],
        "document": trace["document"],
        "section": trace["section"],
        "heading": trace["heading"],
        "clause": trace["clause"],
        "category": trace["category"],
        "matched_terms": json.loads(trace["matched_terms"]),
        "reason": trace["reason"],
    }


def item_documents(
    items: Sequence[Row],
    mentions: Sequence[Row],
    traces: Sequence[Row],
    decisions: Sequence[Row],
    sources: dict[int, Row],
    clauses: dict[int, Row],
) -> list[dict[str, Any]]:
    """Every item as its JSON object, most dangerous status first.

    The effective ``status`` applies the latest decision; a ``linked`` decision shows
    the linked clause as the trace.
    """
    by_item: dict[str, list[Row]] = {}
    for m in mentions:
        by_item.setdefault(m["item_id"], []).append(m)
    best = {t["item_id"]: t for t in traces if t["rank"] == 0}
    history: dict[str, list[Row]] = {}
    for d in decisions:
        history.setdefault(d["item_id"], []).append(d)
    last = latest(decisions)
    docs = []
    for item in items:
        own = by_item.get(item["id"], [])
        first = own[0] if own else None
        decision = last.get(item["id"])
        status = effective_status(item["auto_status"], decision)
        trace = best.get(item["id"])
        if decision and decision["decision"] == "linked" and decision["clause_id"] in clauses:
            c = clauses[decision["clause_id"]]
            trace = {
                **c,
                "clause_id": c["id"],
                "clause": c["text"],
                "matched_terms": "[]",
                "reason": None,
            }
        docs.append(
            {
                "id": item["id"],
                "kind": item["kind"],
                "subtype": item["subtype"],
                "text": item["text"],
                "speaker": first["speaker"] if first else None,
                "side": item["side"],
                "side_inferred": bool(item["side_inferred"]),
                "source": _source_ref(first["source_id"], sources) if first else None,
                "start": first["start"] if first else None,
                "end": first["end"] if first else None,
                "owner": item["owner"],
                "due": item["due"],
                "due_text": item["due_text"],
                "quantities": json.loads(item["quantities"]),
                "confidence": item["confidence"],
                "rule": item["rule"],
                "auto_status": item["auto_status"],
                "status": str(status),
                "suspect": bool(item["suspect"]),
                "suspect_reason": item["suspect_reason"],
                "score": item["score"],
                "trace": _trace_json(trace),
                "decision": _decision_json(decision) if decision else None,
                "history": [_decision_json(d) for d in history.get(item["id"], [])],
                "mentions": [
                    {
                        "source": _source_ref(m["source_id"], sources),
                        "speaker": m["speaker"],
                        "start": m["start"],
                        "end": m["end"],
                        "quote": m["quote"],
                    }
                    for m in own
                ],
                "manual": bool(item["manual"]),
            }
        )

    def order(doc: dict[str, Any]) -> tuple[Any, ...]:
        source = doc["source"] or {}
        return (
            STATUS_ORDER[Status(doc["status"])],
            source.get("meeting_date") or "",
            source.get("id") or 0,
            doc["start"] if doc["start"] is not None else -1.0,
            doc["id"],
        )

    return sorted(docs, key=order)


def checklist_document(store: Store, deal: Row, generated_at: str) -> dict[str, Any]:
    """The deal's items with their statuses: the one document behind `items --json`,
    `checklist` (every format) and each deal of `flag`."""
    deal_id = deal["id"]
    stale = store.stale_reason(deal_id)
    sources = {s["id"]: s for s in store.sources(deal_id, include_removed=True)}
    clause_rows = store.deal_clauses(deal_id, live_only=False)
    clauses = {c["id"]: c for c in clause_rows}
    decisions = store.decisions(deal_id)
    items = store.items(deal_id)
    docs = item_documents(
        items, store.mentions(deal_id), store.traces(deal_id), decisions, sources, clauses
    )
    counts = {str(s): 0 for s in Status}
    for doc in docs:
        counts[doc["status"]] += 1
    item_ids = {i["id"] for i in items}
    live = {s["id"] for s in store.live_sources(deal_id)}
    documents = [
        {
            "id": s["id"],
            "name": s["filename"],
            "meeting_date": s["meeting_date"],
            "clauses": sum(1 for c in clause_rows if c["source_id"] == s["id"]),
        }
        for s in sources.values()
        if s["kind"] == "scope" and s["id"] in live
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "deal": deal["slug"],
        "name": deal["name"],
        "customer": deal["customer"],
        "vendor": deal["vendor"],
        "owner": deal["owner"],
        "generated_at": generated_at,
        "traced_at": deal.get("traced_at"),
        "stale": stale is not None,
        "stale_reason": stale,
        "counts": counts,
        "documents": documents,
        "items": docs,
        "orphaned_decisions": [
            {
                "item_id": d["item_id"],
                "decision": d["decision"],
                "clause_id": d["clause_id"],
                "by": d["by"],
                "at": d["at"],
                "note": d["note"],
                "text": d["item_text"],
            }
            for d in orphaned_decisions(decisions, item_ids)
        ],
    }


def orphaned_decisions(decisions: Sequence[Row], item_ids: set[str]) -> list[Row]:
    """The latest decision of each item that no longer exists."""
    return [d for item_id, d in latest(decisions).items() if item_id not in item_ids]
