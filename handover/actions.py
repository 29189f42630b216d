"""What a person does to a deal, shared by the CLI and the web app.

Each function checks its input, writes through the store and returns what changed.
Neither front end repeats these rules; they only parse options or forms and print or
render the result. Work that needs a model (processing, re-tracing) is not here: the
CLI runs it at once, the web app leaves it to the worker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from handover import pipeline, review
from handover.capture.transcripts import parse_timestamp
from handover.errors import InputError
from handover.store import Row, Store
from handover.types import Decision, Side, SourceKind, Status

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def parse_clock(value: str, field: str) -> float:
    """A time a person typed: "1:02:03", "02:03" (as transcripts write them) or seconds."""
    seconds = parse_timestamp(value.strip())
    if seconds is None:
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
    if seconds < 0:
        raise InputError(f"{field}: {value!r} is not a time; use HH:MM:SS")
    return seconds


def create_deal(
    store: Store,
    slug: str,
    *,
    name: str,
    customer: str,
    vendor: str,
    owner: str | None = None,
    owner_user_id: int | None = None,
) -> Row:
    """A new deal; ``owner_user_id`` is the seller account that may see and change it."""
    slug = slug.strip()
    if not SLUG.match(slug):
        raise InputError(
            f"slug {slug!r} must be lowercase letters, digits and dashes (e.g. acme-crm)"
        )
    fields = {"name": name, "customer": customer, "vendor": vendor}
    for label, value in fields.items():
        if not value.strip():
            raise InputError(f"the deal needs a {label}")
    return store.create_deal(
        slug,
        name.strip(),
        customer.strip(),
        vendor.strip(),
        (owner or "").strip() or None,
        owner_user_id,
    )


def set_people(
    store: Store, deal: Row, people: Iterable[tuple[str, Side, str | None]]
) -> tuple[int, int, bool]:
    """Merge participants and recompute segment sides.

    Returns (people set, segment sides changed, whether sources were sent back to
    extraction because sides changed)."""
    given = list(people)
    if not given:
        return 0, 0, False
    store.upsert_participants(deal["id"], given)
    changed = pipeline.resolve_sides(store, deal)
    requeued = bool(changed and store.mark_for_extraction(deal["id"]))
    return len(given), changed, requeued


def decide(
    store: Store,
    deal: Row,
    item_id: str,
    decision: str,
    *,
    by: str,
    clause_id: int | None = None,
    note: str | None = None,
    user_id: int | None = None,
) -> Status:
    """Append a review decision; returns the item's effective status after it.

    ``user_id`` is the signed-in account (the web app); the CLI's operator gives only
    ``by``."""
    chosen = review.parse_decision(decision)
    review.check_decision(chosen, clause_id)
    by = " ".join(by.split())
    if not by:
        raise InputError("say who decides: a reviewer name is kept with every decision")
    row = store.item(deal["id"], item_id)
    sha = None
    if clause_id is not None:
        sha = store.clause(deal["id"], clause_id)["sha256"]
    elif chosen == Decision.CONFIRMED:
        best = [t for t in store.traces(deal["id"]) if t["item_id"] == item_id and t["rank"] == 0]
        sha = best[0]["clause_sha256"] if best else None
    store.add_decision(
        deal["id"],
        item_id=item_id,
        original_item_id=item_id,
        decision=str(chosen),
        clause_id=clause_id,
        clause_sha256=sha,
        by=by,
        user_id=user_id,
        note=(note or "").strip() or None,
        item_text=row["text"],
    )
    return review.effective_status(row["auto_status"], {"decision": str(chosen)})


def set_side_range(
    store: Store,
    deal: Row,
    source_id: int,
    side: Side,
    start: float,
    end: float,
    *,
    speaker: str | None = None,
    by: str | None = None,
) -> int:
    """Say who speaks in a time range of a conversation; the source goes back to
    extraction. Returns the number of segments whose side was set."""
    if side == Side.UNKNOWN:
        raise InputError("the side must be vendor or customer")
    if start < 0 or end <= start:
        raise InputError("the end of the range must be after its start")
    row = store.source(deal["id"], source_id)
    if row["kind"] == SourceKind.SCOPE:
        raise InputError(f"source {source_id} is a scope document; sides apply to conversations")
    return store.add_side_override(source_id, start, end, side, (speaker or "").strip() or None, by)
