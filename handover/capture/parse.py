"""Bytes of a stored text source → segments, by detected kind and format."""

from __future__ import annotations

from handover.capture.notes import parse_notes, parse_notes_docx
from handover.capture.scope import blocks_to_segments, scope_blocks
from handover.capture.text import decode_text
from handover.capture.transcripts import parse_transcript
from handover.errors import InputError
from handover.types import Segment, SourceKind


def text_segments(kind: SourceKind, fmt: str, data: bytes, name: str) -> list[Segment]:
    """Segments of a transcript, notes or scope document; raises InputError on bad input."""
    if kind == SourceKind.RECORDING:
        raise ValueError("recordings are transcribed, not parsed")
    if kind == SourceKind.SCOPE:
        scope_fmt = fmt if fmt in ("md", "docx", "pdf") else "txt"
        return blocks_to_segments(scope_blocks(data, name, scope_fmt))
    if fmt == "pdf":
        raise InputError(f"{name}: a PDF can only be added as a scope document; use --as scope")
    if fmt == "docx":
        if kind == SourceKind.TRANSCRIPT:
            raise InputError(
                f"{name}: Word transcripts are not read as transcripts; export VTT or text, "
                "or add it with --as notes"
            )
        return parse_notes_docx(data, name)
    text = decode_text(data, name)
    if kind == SourceKind.TRANSCRIPT:
        return parse_transcript(text, name, fmt if fmt in ("vtt", "srt") else "text")
    return parse_notes(text, name, "md" if fmt == "md" else "txt")
