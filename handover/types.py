"""The small records that flow between stages.

Capture and transcription produce ``Segment``s (and, for scope documents,
``Block``s with layout hints for the clause splitter). The core functions take and
return these; only ``store.py`` turns them into rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceKind(StrEnum):
    RECORDING = "recording"
    TRANSCRIPT = "transcript"
    NOTES = "notes"
    SCOPE = "scope"


class Stage(StrEnum):
    PENDING = "pending"
    TRANSCRIBING = "transcribing"
    EXTRACTING = "extracting"
    TRACING = "tracing"
    DONE = "done"
    FAILED = "failed"


class Side(StrEnum):
    VENDOR = "vendor"
    CUSTOMER = "customer"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of what was said or written, in source order.

    ``start``/``end`` are seconds into the meeting when the source has timing
    (recordings, VTT/SRT, ``[00:01:02]``-stamped pastes), else None.
    ``offset`` is the character offset of the paragraph in the decoded text for
    notes and scope documents, so later stages can point back into the original.
    """

    ordinal: int
    text: str
    start: float | None = None
    end: float | None = None
    speaker: str | None = None
    side: Side = Side.UNKNOWN
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph of a scope document with its layout hints, for the clause splitter.

    ``style`` is the docx style name or the markdown marker ("heading", "bullet",
    "numbered", "body"); ``level`` is the heading depth when there is one.
    """

    ordinal: int
    text: str
    style: str = "body"
    level: int | None = None
    offset: int | None = None
