"""Per-call state shared by the extraction steps: what a segment is (``_Plan``), what
was found in it (``_Hit``) and the call's settings (``_Ctx``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from handover.extract.speakers import _People
from handover.types import ItemKind, Segment, Side, SourceKind, Subtype

C, P = ItemKind.COMMITMENT, ItemKind.CUSTOMER_PHRASE


@dataclass
class _Hit:
    kind: ItemKind
    subtype: Subtype
    start: int
    end: int
    side: Side
    inferred: bool
    owner: str | None
    confidence: float
    rule: str
    want_due: bool = True


@dataclass
class _Plan:
    """What one segment is, decided before parsing."""

    seg: Segment
    mode: str  # "vendor" | "customer" | "unknown" | "notes" | "skip"
    side: Side
    # notes only: "commit" | "not" | "action" | "customer-<subtype>" | "neutral"
    notes_ctx: str = "neutral"
    after_question: bool = False
    parse: bool = True
    hits: list[_Hit] = field(default_factory=list)
    docs: list[tuple[int, Any]] = field(default_factory=list)  # (offset in text, Doc)


@dataclass
class _Ctx:
    nlp: Any
    meeting_date: str | None
    kind: SourceKind
    people: _People
    vendor_rx: re.Pattern[str]
    vendor_names: tuple[str, ...]
    customer_names: tuple[str, ...]
    third: list[tuple[Subtype, str, re.Pattern[str], bool]]


def _shift(hits: list[_Hit], off: int) -> list[_Hit]:
    for h in hits:
        h.start += off
        h.end += off
    return hits


def _sided(plan: _Plan, kind: ItemKind) -> tuple[Side, bool]:
    want = Side.VENDOR if kind == C else Side.CUSTOMER
    if plan.side == want:
        return want, False
    return want, True
