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


class ItemKind(StrEnum):
    COMMITMENT = "commitment"
    CUSTOMER_PHRASE = "customer_phrase"


class Subtype(StrEnum):
    # commitments
    FIRM = "firm"
    HEDGED = "hedged"
    NEGATIVE = "negative"
    # customer phrases
    NEED = "need"
    GOAL = "goal"
    SUCCESS = "success"
    CONCERN = "concern"
    TERM = "term"


COMMITMENT_SUBTYPES = (Subtype.FIRM, Subtype.HEDGED, Subtype.NEGATIVE)
PHRASE_SUBTYPES = (Subtype.NEED, Subtype.GOAL, Subtype.SUCCESS, Subtype.CONCERN, Subtype.TERM)


class Category(StrEnum):
    """What a scope clause does: describe the work, exclude work, or assume something."""

    SCOPE = "scope"
    EXCLUSION = "exclusion"
    ASSUMPTION = "assumption"


class Status(StrEnum):
    """Trace statuses, most dangerous first: every list is sorted in this order."""

    CONFLICT = "conflict"
    UNTRACED = "untraced"
    WEAK = "weak"
    TRACED = "traced"
    ACCEPTED = "accepted"  # effective only: a reviewer accepted the gap
    DISMISSED = "dismissed"  # effective only: a reviewer said it is not a commitment


AUTO_STATUSES = (Status.CONFLICT, Status.UNTRACED, Status.WEAK, Status.TRACED)
STATUS_ORDER = {status: rank for rank, status in enumerate(Status)}


class Decision(StrEnum):
    CONFIRMED = "confirmed"
    NOT_A_COMMITMENT = "not-a-commitment"
    ACCEPTED_GAP = "accepted-gap"
    LINKED = "linked"
    REOPEN = "reopen"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One item found in one segment by extraction, before de-duplication.

    ``text`` is the verbatim clause, ``segment_text[char_start:char_end]``.
    ``quantities`` are the numbers with their nouns as written ("20 supervisors").
    ``due`` is an ISO date resolved against the meeting date, or None when the
    due text is relative ("within six weeks of kickoff") or absent.
    """

    kind: ItemKind
    subtype: Subtype
    text: str
    segment_ordinal: int
    char_start: int
    char_end: int
    speaker: str | None
    side: Side
    side_inferred: bool
    start: float | None
    end: float | None
    owner: str | None
    due: str | None
    due_text: str | None
    quantities: tuple[str, ...]
    confidence: float
    rule: str


@dataclass(frozen=True, slots=True)
class Clause:
    """A numbered piece of a scope document: the unit items are traced to."""

    ordinal: int
    section: str  # "3.2.1", "5", or a generated "5.c" for the third unnumbered block of 5
    heading: str  # the title of the section it sits in ("Out of scope")
    text: str
    category: Category = Category.SCOPE
