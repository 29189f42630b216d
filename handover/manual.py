"""Items a person adds because extraction missed them."""

from __future__ import annotations

from handover.errors import InputError
from handover.items import item_id
from handover.normalise import normalise
from handover.store import Row, Store
from handover.types import COMMITMENT_SUBTYPES, PHRASE_SUBTYPES, ItemKind, Side


def add_item(
    store: Store,
    deal: Row,
    *,
    kind: str,
    text: str,
    subtype: str | None,
    source_id: int | None,
    at: float | None,
    by: str,
) -> str:
    """Store a manual item (and its mention, when the source and time are given);
    returns its id. The caller re-traces the deal."""
    text = " ".join(text.split())
    if not text:
        raise InputError("--text is empty; give the words as they were said")
    if not by.strip():
        raise InputError("--by is empty; say who adds the item")
    try:
        item_kind = ItemKind(kind)
    except ValueError:
        raise InputError(f"unknown kind {kind!r}; use commitment or customer_phrase") from None
    allowed = COMMITMENT_SUBTYPES if item_kind == ItemKind.COMMITMENT else PHRASE_SUBTYPES
    subtype = subtype or str(allowed[0])
    if subtype not in allowed:
        names = ", ".join(str(a) for a in allowed)
        raise InputError(f"--subtype {subtype!r} does not fit a {kind}; use one of: {names}")
    if at is not None and source_id is None:
        raise InputError("--at needs --source: say which recording or transcript")
    new_id = item_id(deal["slug"], kind, text)
    mention = None
    if source_id is not None:
        source = store.source(deal["id"], source_id)
        segment = _segment_at(store.segments(source_id), at)
        mention = {
            "item_id": new_id,
            "source_id": source["id"],
            "segment_id": segment["id"] if segment else None,
            "speaker": segment["speaker"] if segment else None,
            "start": at,
            "end": segment["end"] if segment and at is not None else None,
            "quote": text,
            "char_start": None,
            "char_end": None,
        }
    side = Side.VENDOR if item_kind == ItemKind.COMMITMENT else Side.CUSTOMER
    item = {
        "id": new_id,
        "kind": kind,
        "subtype": subtype,
        "text": text,
        "norm": normalise(text),
        "side": str(side),
        "side_inferred": 0,
        "owner": "vendor" if item_kind == ItemKind.COMMITMENT else None,
        "quantities": "[]",
        "confidence": 1.0,
        "rule": "manual",
        "manual": 1,
        "created_by": by.strip(),
    }
    store.add_manual_item(deal["id"], item, mention, by.strip())
    return new_id


def _segment_at(segments: list[Row], at: float | None) -> Row | None:
    """The segment being spoken at ``at`` seconds, else the nearest one before it."""
    if at is None:
        return None
    before = [s for s in segments if s["start"] is not None and s["start"] <= at]
    return before[-1] if before else None
