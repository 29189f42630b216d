"""From extractions to items: stable ids, de-duplication across meetings, and
re-attaching decisions when the items change.

Pure functions over rows and vectors; the pipeline reads and writes the database.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from handover.normalise import find_loose, normalise
from handover.types import ItemKind, Subtype

# Two wordings are the same promise when their embeddings are very close, or fairly
# close and they share several content words. MiniLM puts a spoken promise and its
# terse note ("we will send you weekly reports every Friday" / "Weekly report every
# Friday") near 0.57, and neighbouring promises on one topic ("back up the servers
# nightly" / "patch the servers monthly") near 0.60, so the shared words decide.
MERGE_COSINE = 0.80
MERGE_COSINE_WITH_WORDS = 0.55
MERGE_SHARED_WORDS = 3
# A decision follows its item to the new item with at least this word overlap.
REATTACH_OVERLAP = 0.5

_PREFIX = {ItemKind.COMMITMENT: "c", ItemKind.CUSTOMER_PHRASE: "p"}
_STOP = frozenset(
    "a an and the of to in on for with at by is are be it we you our your i will would "
    "shall can could may might that this these those as so all from us me my every each "
    "not no".split()
)
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def item_id(slug: str, kind: str, text: str) -> str:
    """Stable id from the deal, the kind and the normalised words of the first mention."""
    digest = hashlib.sha256(f"{slug}\x1f{kind}\x1f{normalise(text)}".encode()).hexdigest()
    return f"{_PREFIX[ItemKind(kind)]}-{digest[:10]}"


def _stem(word: str) -> str:
    # Enough to make "reports" meet "report"; a real lemmatiser is not worth a model call.
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def content_words(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in normalise(text).split() if w not in _STOP and len(w) > 1)


def overlap(a: str, b: str) -> float:
    """Share of the smaller text's content words found in the other (0..1)."""
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


@dataclass(slots=True)
class MergedItem:
    id: str
    kind: str
    subtype: str
    text: str
    rows: list[Mapping[str, Any]] = field(default_factory=list)

    @property
    def first(self) -> Mapping[str, Any]:
        return self.rows[0]


def _polarity(row: Mapping[str, Any]) -> str:
    if row["kind"] == ItemKind.COMMITMENT:
        return "negative" if row["subtype"] == Subtype.NEGATIVE else "positive"
    # Terms are phrases, the other customer subtypes are statements: keep them apart.
    return "term" if row["subtype"] == Subtype.TERM else "statement"


@dataclass(frozen=True, slots=True)
class _Key:
    """What merging compares of a row, computed once per row."""

    kind: str
    polarity: str
    norm: str
    words: frozenset[str]
    numbers: frozenset[str]


def _key(row: Mapping[str, Any]) -> _Key:
    quantities = json.loads(row["quantities"]) if isinstance(row["quantities"], str) else []
    norm = normalise(row["text"])
    return _Key(
        row["kind"],
        _polarity(row),
        norm,
        content_words(norm),
        frozenset(_DIGITS.findall(normalise(" ".join(quantities)))),
    )


def _same(a: _Key, b: _Key, cosine: Callable[[str, str], float]) -> bool:
    if a.kind != b.kind or a.polarity != b.polarity:
        return False
    if a.norm == b.norm:
        return True
    if a.numbers and b.numbers and not a.numbers & b.numbers:
        return False  # "20 supervisors" and "10 supervisors" are two promises to check
    if a.polarity == "term":
        return False  # a term is its exact words; only the normalised form merges
    shared = a.words & b.words
    if not shared:
        return False
    similarity = cosine(a.norm, b.norm)
    if similarity >= MERGE_COSINE:
        return True
    return (
        similarity >= MERGE_COSINE_WITH_WORDS
        and len(shared) >= MERGE_SHARED_WORDS
        and len(shared) / min(len(a.words), len(b.words)) >= REATTACH_OVERLAP
    )


def merge(
    slug: str, rows: Sequence[Mapping[str, Any]], vectors: Mapping[str, np.ndarray]
) -> list[MergedItem]:
    """Group extraction rows (oldest meeting first) into items.

    ``vectors`` maps normalised text to an L2-normalised embedding. A row joins the
    first earlier item that has a mention close enough to it; the item's words and
    id come from its first mention.
    """

    def cosine(a: str, b: str) -> float:
        va, vb = vectors.get(a), vectors.get(b)
        return float(np.dot(va, vb)) if va is not None and vb is not None else 0.0

    items: list[MergedItem] = []
    keys: list[list[_Key]] = []
    for row in rows:
        key = _key(row)
        home = next(
            (n for n, its in enumerate(keys) if any(_same(k, key, cosine) for k in its)), None
        )
        if home is None:
            new_id = item_id(slug, row["kind"], row["text"])
            if any(it.id == new_id for it in items):
                # The same words kept apart by polarity ("term" against "need"): the id
                # takes the polarity too, so both stay stable and distinct.
                new_id = item_id(slug, row["kind"], f"{row['text']} {key.polarity}")
            items.append(
                MergedItem(
                    new_id,
                    row["kind"],
                    row["subtype"],
                    row["text"],
                )
            )
            keys.append([])
            home = len(items) - 1
        items[home].rows.append(row)
        keys[home].append(key)
    for item in items:
        item.subtype = _subtype(item)
    return items


def add_term_mentions(items: Sequence[MergedItem], segments: Sequence[Mapping[str, Any]]) -> int:
    """Find every other place a customer's term was said, under loose equality.

    A term is found where it was written distinctively ("A & B-c"); speech-to-text
    writes the same words as "a and bc", which extraction cannot single out. Each
    segment that contains the term's words becomes a mention. Returns how many.
    """
    added = 0
    for item in items:
        if item.kind != ItemKind.CUSTOMER_PHRASE or item.subtype != Subtype.TERM:
            continue
        seen = {(r["source_id"], r.get("ordinal")) for r in item.rows}
        for seg in segments:
            if (seg["source_id"], seg["ordinal"]) in seen or seg["side"] == "vendor":
                continue
            span = find_loose(seg["text"], item.text)
            if span is None:
                continue
            item.rows.append(
                {
                    **item.first,
                    "source_id": seg["source_id"],
                    "segment_id": seg["id"],
                    "ordinal": seg["ordinal"],
                    "speaker": seg["speaker"],
                    "side": seg["side"],
                    "start": seg["start"],
                    "end": seg["end"],
                    "text": seg["text"][span[0] : span[1]],
                    "char_start": span[0],
                    "char_end": span[1],
                    "rule": "term-said-again",
                }
            )
            seen.add((seg["source_id"], seg["ordinal"]))
            added += 1
    return added


def _subtype(item: MergedItem) -> str:
    """A promise said firmly once is firm, even if it was hedged elsewhere."""
    subtypes = [r["subtype"] for r in item.rows]
    if item.kind == ItemKind.COMMITMENT and Subtype.FIRM in subtypes:
        return str(Subtype.FIRM)
    return str(subtypes[0])


def item_row(item: MergedItem) -> dict[str, Any]:
    """The ``items`` row of a merged item (without trace fields)."""
    rows = item.rows
    owners = [r["owner"] for r in rows if r["owner"] and r["owner"] != "vendor"]
    dues = [r for r in rows if r["due"] or r["due_text"]]
    quantities: list[str] = []
    for r in rows:
        for q in json.loads(r["quantities"]):
            if normalise(q) not in {normalise(x) for x in quantities}:
                quantities.append(q)
    first = item.first
    return {
        "id": item.id,
        "kind": item.kind,
        "subtype": item.subtype,
        "text": item.text,
        "norm": normalise(item.text),
        "side": first["side"],
        "side_inferred": int(all(r["side_inferred"] for r in rows)),
        "owner": owners[0] if owners else ("vendor" if item.kind == ItemKind.COMMITMENT else None),
        "due": dues[0]["due"] if dues else None,
        "due_text": dues[0]["due_text"] if dues else None,
        "quantities": json.dumps(quantities),
        "confidence": max(r["confidence"] for r in rows),
        "rule": first["rule"],
        "manual": 0,
    }


def mention_rows(item: MergedItem) -> list[dict[str, Any]]:
    return [
        {
            "item_id": item.id,
            "source_id": r["source_id"],
            "segment_id": r["segment_id"],
            "speaker": r["speaker"],
            "start": r["start"],
            "end": r["end"],
            "quote": r["text"],
            "char_start": r["char_start"],
            "char_end": r["char_end"],
        }
        for r in item.rows
    ]


@dataclass(frozen=True, slots=True)
class OldItem:
    id: str
    kind: str
    text: str
    sources: frozenset[int]


def reattach(
    orphans: Sequence[OldItem], new_items: Sequence[tuple[str, str, str, frozenset[int]]]
) -> list[tuple[str, str, float]]:
    """Map decided items that vanished to the closest new item.

    ``new_items`` are (id, kind, text, source ids). A match needs the same kind, a
    shared source, and word overlap of at least REATTACH_OVERLAP; the best wins.
    Returns (old id, new id, overlap); orphans without a match stay orphaned.
    """
    moves = []
    for old in orphans:
        best: tuple[float, str] | None = None
        for new_id, kind, text, sources in new_items:
            if kind != old.kind or not (sources & old.sources):
                continue
            score = overlap(old.text, text)
            if score >= REATTACH_OVERLAP and (best is None or score > best[0]):
                best = (score, new_id)
        if best:
            moves.append((old.id, best[1], best[0]))
    return moves
