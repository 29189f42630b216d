"""Rendering stored data for people and machines: transcripts (text, VTT, SRT, JSON).

Pure functions from rows to strings; the CLI and the web app print what these return.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from handover.store import Row

SCHEMA_VERSION = 1


def clock(seconds: float | None, *, millis: bool = False, sep: str = ".") -> str:
    """``HH:MM:SS`` (or ``HH:MM:SS.mmm``) for a time in seconds."""
    total_ms = round(max(seconds or 0.0, 0.0) * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{text}{sep}{ms:03d}" if millis else text


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
            lines.append(f"{stamp}{who}{seg['text']}")
    return "\n".join(lines) + ("\n" if lines else "")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def transcript_vtt(segments: list[Row]) -> str:
    out = ["WEBVTT", ""]
    for seg in segments:
        start, end = seg["start"] or 0.0, seg["end"] if seg["end"] is not None else seg["start"]
        out.append(f"{clock(start, millis=True)} --> {clock(end, millis=True)}")
        text = _vtt_escape(seg["text"])
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
                f"{who}{seg['text']}",
                "",
            ]
        )
    return "\n".join(out)


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
                        "text": s["text"],
                    }
                    for s in segments
                ],
            }
            for source, segments in parts
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
