"""Rebuild a deal's items and their traces from what the sources yielded.

Extraction results are stored per source, clauses per scope document; this step
merges the extractions into items, traces every item (manual ones too) against the
live clauses, carries suspect flags and decisions over, and writes it all in one
transaction. Embeddings are cached in the database by text hash, so re-tracing
after a document changes only embeds the new text.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from handover import items as itemlib
from handover import review, trace
from handover.config import Settings
from handover.faults import fault_point
from handover.normalise import normalise
from handover.store import Row, Store
from handover.types import Category, Clause, Decision, ItemKind, Status, Subtype

Embed = Callable[[list[str]], np.ndarray]


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def cached_embedder(store: Store, settings: Settings) -> Embed:
    """Embed texts with the sentence-transformers model, through the SQLite cache."""
    from handover.models import embed_model_dir, load_embedder

    model_dir = embed_model_dir(settings.embed_model)
    model_key = model_dir.name
    loaded: list[Any] = []

    def embed(texts: list[str]) -> np.ndarray:
        shas = [text_sha(t) for t in texts]
        found = store.embeddings(shas, model_key)
        missing = list(dict.fromkeys(t for t, s in zip(texts, shas, strict=True) if s not in found))
        if missing:
            if not loaded:
                loaded.append(load_embedder(settings.embed_model, device=settings.device))
            vectors = (
                loaded[0]
                .encode(missing, normalize_embeddings=True, convert_to_numpy=True, batch_size=64)
                .astype("<f4")
            )
            rows = [
                (text_sha(t), v.shape[0], v.tobytes())
                for t, v in zip(missing, vectors, strict=True)
            ]
            store.put_embeddings(rows, model_key)
            found.update({sha: blob for sha, _, blob in rows})
        if not texts:
            return np.zeros((0, 0), dtype="<f4")
        return np.stack([np.frombuffer(found[s], dtype="<f4") for s in shas])

    return embed


@dataclass(slots=True)
class DeriveResult:
    items: int
    reattached: int
    orphaned: int
    suspect: int
    counts: dict[str, int]


def derive(store: Store, deal: Row, nlp: Any, embed: Embed) -> DeriveResult:
    """Merge, trace and save the deal's items; returns what changed."""
    deal_id, slug = deal["id"], deal["slug"]
    seen_event = store.change_mark()  # before reading: a change from now on re-traces
    old_items = {row["id"]: row for row in store.items(deal_id)}
    old_mentions = store.mentions(deal_id)
    old_traces = {t["item_id"]: t for t in store.traces(deal_id) if t["rank"] == 0}
    decisions = store.decisions(deal_id)

    rows = store.deal_extractions(deal_id)
    norms = sorted({normalise(r["text"]) for r in rows})
    vectors = dict(zip(norms, embed(norms), strict=True)) if norms else {}
    merged = itemlib.merge(slug, rows, vectors)
    itemlib.add_term_mentions(merged, store.deal_segments(deal_id))

    new_rows = [itemlib.item_row(m) for m in merged]
    mention_rows = [mention for m in merged for mention in itemlib.mention_rows(m)]
    manual = [row for row in old_items.values() if row["manual"]]
    manual_ids = {row["id"] for row in manual}
    derived_ids = {row["id"] for row in new_rows}
    for row in manual:
        if row["id"] in derived_ids:
            continue  # extraction now finds what someone added by hand: one item
        new_rows.append({k: row[k] for k in _ITEM_FIELDS})
    mention_rows += [
        {k: m[k] for k in _MENTION_FIELDS}
        for m in old_mentions
        if m["item_id"] in manual_ids and m["item_id"] not in derived_ids
    ]

    # Decisions whose item vanished follow the closest new item.
    new_ids = {row["id"] for row in new_rows}
    sources_of: dict[str, set[int]] = defaultdict(set)
    for m in mention_rows:
        sources_of[m["item_id"]].add(m["source_id"])
    old_sources: dict[str, set[int]] = defaultdict(set)
    for m in old_mentions:
        old_sources[m["item_id"]].add(m["source_id"])
    orphans = []
    for decision in decisions:
        item_id = decision["item_id"]
        if item_id in new_ids or item_id in {o.id for o in orphans}:
            continue
        old = old_items.get(item_id)
        text = old["text"] if old else decision["item_text"] or ""
        kind = old["kind"] if old else _kind_of(item_id)
        orphans.append(itemlib.OldItem(item_id, kind, text, frozenset(old_sources[item_id])))
    moves = itemlib.reattach(
        orphans,
        [(r["id"], r["kind"], r["text"], frozenset(sources_of[r["id"]])) for r in new_rows],
    )
    moved = {old: new for old, new, _ in moves}
    moved_from: dict[str, str] = {}
    for old, new in moved.items():
        moved_from.setdefault(new, old)  # the first decided item that moved here
    for decision in decisions:
        if decision["item_id"] in moved:
            decision["item_id"] = moved[decision["item_id"]]
    latest = review.latest(decisions)

    # Trace everything against the live clauses.
    clauses = store.deal_clauses(deal_id)
    refs = [
        trace.ClauseRef(
            c["id"],
            c["document"],
            Clause(c["ordinal"], c["section"], c["heading"], c["text"], Category(c["category"])),
            c["doc_date"],
        )
        for c in clauses
    ]
    by_id = {c["id"]: c for c in clauses}
    quotes: dict[str, list[str]] = defaultdict(list)
    first_date: dict[str, str | None] = {}
    source_dates = {s["id"]: s["meeting_date"] for s in store.live_sources(deal_id)}
    for m in mention_rows:
        if m["quote"] not in quotes[m["item_id"]]:
            quotes[m["item_id"]].append(m["quote"])
        first_date.setdefault(m["item_id"], source_dates.get(m["source_id"]))
    trace_items = [
        trace.TraceItem(
            key=row["id"],
            kind=ItemKind(row["kind"]),
            subtype=Subtype(row["subtype"]),
            texts=tuple(dict.fromkeys([row["text"], *quotes[row["id"]]])),
            meeting_date=first_date.get(row["id"]),
        )
        for row in new_rows
    ]
    results = {r.key: r for r in trace.trace(trace_items, refs, nlp=nlp, embed=embed)}

    live_shas = {c["sha256"] for c in clauses}
    trace_rows = []
    suspect = 0
    for row in new_rows:
        result = results[row["id"]]
        row["auto_status"] = str(result.status)
        row["score"] = round(result.score, 4)
        for rank, ev in enumerate(result.evidence):
            clause = by_id[ev.clause_id]
            trace_rows.append(
                {
                    "item_id": row["id"],
                    "rank": rank,
                    "clause_id": ev.clause_id,
                    "clause_sha256": clause["sha256"],
                    "score": round(ev.score, 4),
                    "matched_terms": json.dumps(list(ev.matched_terms)),
                    "reason": ev.reason,
                }
            )
        previous = old_items.get(row["id"]) or old_items.get(moved_from.get(row["id"], ""))
        reason = _suspect_reason(row["id"], previous, old_traces, latest, live_shas)
        row["suspect"] = int(reason is not None)
        row["suspect_reason"] = reason
        suspect += row["suspect"]

    fault_point("derive")
    store.save_items(deal_id, new_rows, mention_rows, trace_rows, moves, seen_event)
    counts: dict[str, int] = defaultdict(int)
    for row in new_rows:
        counts[str(review.effective_status(row["auto_status"], latest.get(row["id"])))] += 1
    orphaned = len({d["item_id"] for d in decisions} - new_ids)
    return DeriveResult(len(new_rows), len(moves), orphaned, suspect, dict(counts))


_ITEM_FIELDS = (
    "id kind subtype text norm side side_inferred owner due due_text quantities confidence "
    "rule manual created_by created_at"
).split()
_MENTION_FIELDS = "item_id source_id segment_id speaker start end quote char_start char_end".split()


def _kind_of(item_id: str) -> str:
    return str(ItemKind.COMMITMENT if item_id.startswith("c-") else ItemKind.CUSTOMER_PHRASE)


def _suspect_reason(
    item_id: str,
    previous: Mapping[str, Any] | None,
    old_traces: Mapping[str, Row],
    latest: Mapping[str, Mapping[str, Any]],
    live_shas: set[str],
) -> str | None:
    """Why the clause this item was traced to can no longer be trusted, or None.

    The evidence is the clause a person confirmed or linked, else the clause the
    machine traced it to last time. Once suspect, an item stays suspect until a
    person confirms or links it again (that clears the flag in the store).
    """
    if previous is not None and previous["suspect"]:
        return previous["suspect_reason"]
    decision = latest.get(item_id)
    evidence = None
    if decision and decision["decision"] in (Decision.CONFIRMED, Decision.LINKED):
        evidence = decision["clause_sha256"]
    elif previous is not None and previous["auto_status"] == Status.TRACED:
        old = old_traces.get(previous["id"])
        evidence = old["clause_sha256"] if old else None
    if evidence and evidence not in live_shas:
        old = old_traces.get(previous["id"]) if previous else None
        where = (
            f"§{old['section']} of {old['document']}" if old and old["section"] else "its clause"
        )
        return f"{where} changed or was removed since it was traced; check and confirm again"
    return None
