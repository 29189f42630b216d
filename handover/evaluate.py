"""Score the real pipeline against a labelled set (``handover eval``).

Each conversation becomes a deal in a scratch home; its sources go through
``add_file`` and ``process_deal`` exactly as ``handover add`` and ``process`` do.
Then every item found is matched to the labels by span overlap on the same source
(token overlap on recordings, whose words are Whisper's), and the matches are
scored. Matching and scoring are pure functions; docs/eval.md explains the rules.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handover.evalset import TRACE_STATUSES, Conversation, Label
from handover.normalise import find_loose, normalise
from handover.types import COMMITMENT_SUBTYPES, PHRASE_SUBTYPES, ItemKind, SourceKind, Status

SCHEMA_VERSION = 1
# A mention and a quote match when they share at least this share of the shorter one
# (characters on text sources, content words on recordings).
MIN_OVERLAP = 0.5
_STOP = frozenset(
    "a an and the of to in on for with at by is are be it we you our your i will would "
    "shall can could may might that this these those as so all from us me my every each "
    "um uh yeah okay ok just really like you know i'll we'll you'll it's that's".split()
)


@dataclass(frozen=True, slots=True)
class Span:
    """Where an item was mentioned, or where a labelled quote sits, in one source."""

    source: str  # the file name, as in labels.yaml
    start: int | None  # character offsets in the source's joined text; None: not located
    end: int | None
    words: frozenset[str]  # content words, for recordings and unlocated quotes
    recording: bool


@dataclass(frozen=True, slots=True)
class Found:
    """An item the pipeline reported."""

    id: str
    kind: ItemKind
    subtype: str
    status: str
    score: float | None
    section: str | None
    clause: str | None
    text: str
    rule: str
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Match:
    label: int
    found: int
    overlap: float


@dataclass
class ConversationResult:
    conversation: Conversation
    found: list[Found]
    label_spans: list[tuple[Span, ...]]
    negative_spans: list[Span]
    matches: list[Match] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)  # indexes into found


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in normalise(text).split() if w not in _STOP and len(w) > 1)


def overlap(a: Span, b: Span) -> float:
    """The share of the shorter of two spans that the other covers (0 when they are
    on different sources)."""
    if a.source != b.source:
        return 0.0
    if None not in (a.start, a.end, b.start, b.end) and not (a.recording or b.recording):
        shared = min(a.end, b.end) - max(a.start, b.start)  # type: ignore[operator]
        shorter = min(a.end - a.start, b.end - b.start)  # type: ignore[operator]
        return max(shared, 0) / shorter if shorter > 0 else 0.0
    if not a.words or not b.words:
        return 0.0
    shared_words = len(a.words & b.words)
    # One shared word is chance unless a side has only one word to give.
    if shared_words < 2 and min(len(a.words), len(b.words)) > 1:
        return 0.0
    return shared_words / min(len(a.words), len(b.words))


def best_overlap(spans: Iterable[Span], others: Iterable[Span]) -> float:
    others = list(others)
    return max((overlap(a, b) for a in spans for b in others), default=0.0)


def match(labels: Sequence[Label], label_spans: Sequence[tuple[Span, ...]], found: Sequence[Found]):
    """One-to-one matches within each kind, best overlap first, and the unmatched
    items that overlap an already matched label of their kind (duplicates)."""
    pairs = []
    for li, label in enumerate(labels):
        for fi, item in enumerate(found):
            if item.kind is not label.kind:
                continue
            score = best_overlap(label_spans[li], item.spans)
            if score >= MIN_OVERLAP:
                pairs.append((score, li, fi))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_labels: set[int] = set()
    used_found: set[int] = set()
    matches = []
    for score, li, fi in pairs:
        if li not in used_labels and fi not in used_found:
            used_labels.add(li)
            used_found.add(fi)
            matches.append(Match(li, fi, round(score, 3)))
    duplicates = sorted({fi for _, li, fi in pairs if li in used_labels and fi not in used_found})
    return sorted(matches, key=lambda m: m.label), duplicates


# -- scoring --------------------------------------------------------------------------


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else (0.0 if precision is not None and recall is not None else None)
    )
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": _round(precision),
        "recall": _round(recall),
        "f1": _round(f1),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _section_ok(expected: str | None, got: str | None) -> bool:
    """The clause sits in the expected section or one of its sub-sections
    ("2.1.a" is in "2.1", and "2.1" is in "2")."""
    if expected is None:
        return True
    return got is not None and (got == expected or got.startswith(expected + "."))


def score(results: Sequence[ConversationResult], set_name: str = "") -> dict[str, Any]:
    """The figures for a whole set, as the stable JSON `handover eval --json` prints."""
    kind_counts = {k: Counter() for k in ItemKind}
    sub_counts: dict[str, Counter] = {
        s.value: Counter() for s in (*COMMITMENT_SUBTYPES, *PHRASE_SUBTYPES)
    }
    confusion = {e.value: {p.value: 0 for p in TRACE_STATUSES} for e in TRACE_STATUSES}
    misses, false_alarms, status_errors, section_errors = [], [], [], []
    duplicates = negatives_hit = worst = sections_checked = sections_ok = 0
    for r in results:
        conv = r.conversation
        matched_labels = {m.label: m for m in r.matches}
        matched_found = {m.found for m in r.matches}
        for li, label in enumerate(conv.labels):
            kind_counts[label.kind]["fn" if li not in matched_labels else "tp"] += 1
            if li not in matched_labels:
                sub_counts[label.subtype]["fn"] += 1
                misses.append(_label_doc(conv, label))
        for m in r.matches:
            label, item = conv.labels[m.label], r.found[m.found]
            if item.subtype == label.subtype:
                sub_counts[label.subtype]["tp"] += 1
            else:
                sub_counts[label.subtype]["fn"] += 1
                if item.subtype in sub_counts:
                    sub_counts[item.subtype]["fp"] += 1
            expected, got = label.status.value, item.status
            if got in confusion[expected]:
                confusion[expected][got] += 1
            if got != expected:
                status_errors.append(
                    {
                        **_label_doc(conv, label),
                        "got": got,
                        "score": item.score,
                        "item": item.id,
                        "clause": item.clause,
                    }
                )
                if expected in (Status.CONFLICT, Status.UNTRACED) and got == Status.TRACED:
                    worst += 1
            if expected == Status.TRACED and got == Status.TRACED and label.section:
                sections_checked += 1
                if _section_ok(label.section, item.section):
                    sections_ok += 1
                else:
                    section_errors.append(
                        {
                            **_label_doc(conv, label),
                            "got_section": item.section,
                            "clause": item.clause,
                        }
                    )
        dup = set(r.duplicates)
        duplicates += len(dup)
        for fi, item in enumerate(r.found):
            if fi in matched_found or fi in dup:
                continue
            kind_counts[item.kind]["fp"] += 1
            if item.subtype in sub_counts:
                sub_counts[item.subtype]["fp"] += 1
            hits_negative = any(
                best_overlap([n], item.spans) >= MIN_OVERLAP for n in r.negative_spans
            )
            negatives_hit += hits_negative
            false_alarms.append(
                {
                    "conversation": conv.name,
                    "item": item.id,
                    "kind": item.kind.value,
                    "subtype": item.subtype,
                    "text": item.text,
                    "rule": item.rule,
                    "hard_negative": hits_negative,
                }
            )
    total = sum(sum(row.values()) for row in confusion.values())
    correct = sum(confusion[s][s] for s in confusion)
    return {
        "schema_version": SCHEMA_VERSION,
        "set": set_name,
        "conversations": len(results),
        "labels": sum(len(r.conversation.labels) for r in results),
        "items_found": sum(len(r.found) for r in results),
        "commitments": _prf(**_counts(kind_counts[ItemKind.COMMITMENT])),
        "customer_phrases": _prf(**_counts(kind_counts[ItemKind.CUSTOMER_PHRASE])),
        "subtypes": {s: _prf(**_counts(c)) for s, c in sub_counts.items()},
        "trace": {
            "matched": total,
            "accuracy": _round(correct / total if total else None),
            "confusion": confusion,
            "section_accuracy": _round(
                sections_ok / sections_checked if sections_checked else None
            ),
            "sections_checked": sections_checked,
        },
        "untraced_or_conflict_reported_traced": worst,
        "duplicates": duplicates,
        "hard_negatives_extracted": negatives_hit,
        "misses": misses,
        "false_alarms": false_alarms,
        "status_errors": status_errors,
        "section_errors": section_errors,
    }


def _counts(c: Counter) -> dict[str, int]:
    return {"tp": c["tp"], "fp": c["fp"], "fn": c["fn"]}


def _label_doc(conv: Conversation, label: Label) -> dict[str, Any]:
    return {
        "conversation": conv.name,
        "source": label.source,
        "kind": label.kind.value,
        "subtype": label.subtype.value,
        "quote": label.quote,
        "expected": label.status.value,
        "section": label.section,
    }


# -- running the pipeline -------------------------------------------------------------


def run_conversation(conv: Conversation, home: Path) -> ConversationResult:
    """Put one conversation through the real pipeline in ``home`` (a scratch data
    directory that may be reused: sources already there are not transcribed again,
    but extraction and tracing always run afresh) and collect what it found."""
    from handover import pipeline
    from handover.blobs import BlobStore
    from handover.config import Settings
    from handover.ingest import add_file
    from handover.store import Store
    from handover.types import Side

    settings = Settings.load(home)
    store = Store.open(settings.db_path)
    try:
        blobs = BlobStore(settings.blob_dir)
        slug = _slug(conv.name)
        if not any(d["slug"] == slug for d in store.deals()):
            store.create_deal(slug, conv.title, conv.customer, conv.vendor, None)
        deal = store.deal(slug)
        people = [(n, Side.VENDOR, None) for n in conv.vendor_people]
        people += [(n, Side.CUSTOMER, None) for n in conv.customer_people]
        if people:
            store.upsert_participants(deal["id"], people)
            pipeline.resolve_sides(store, deal)
        ids: dict[str, int] = {}
        for spec in conv.sources:
            added = add_file(
                store,
                blobs,
                settings,
                deal,
                conv.path / spec.file,
                as_kind=spec.as_kind,
                meeting_date=spec.date,
                title=spec.title,
            )
            ids[spec.file] = added.source_id
        store.mark_for_extraction(deal["id"])
        pipeline.process_deal(store, blobs, settings, deal, force_trace=True)
        return collect(store, deal, conv, ids)
    finally:
        store.close()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63] or "deal"


def collect(store: Any, deal: Any, conv: Conversation, ids: dict[str, int]) -> ConversationResult:
    """Read the deal's items, mentions and traces back, and place the labels' quotes
    in the same coordinates."""
    files = {sid: name for name, sid in ids.items()}
    recording = {
        name: store.source(deal["id"], sid)["kind"] == SourceKind.RECORDING
        for name, sid in ids.items()
    }
    texts: dict[str, str] = {}
    seg_offset: dict[int, int] = {}
    for name, sid in ids.items():
        parts, pos = [], 0
        for seg in store.segments(sid):
            seg_offset[seg["id"]] = pos
            parts.append(seg["text"])
            pos += len(seg["text"]) + 1
        texts[name] = "\n".join(parts)

    def mention_span(m: Any) -> Span | None:
        name = files.get(m["source_id"])
        if name is None:
            return None
        start = end = None
        if m["segment_id"] in seg_offset and m["char_start"] is not None:
            start = seg_offset[m["segment_id"]] + m["char_start"]
            end = seg_offset[m["segment_id"]] + m["char_end"]
        return Span(name, start, end, content_words(m["quote"]), recording[name])

    def quote_span(source: str, quote: str) -> Span:
        located = None if recording[source] else find_loose(texts[source], quote)
        start, end = located if located else (None, None)
        return Span(source, start, end, content_words(quote), recording[source])

    clauses = {c["id"]: c for c in store.deal_clauses(deal["id"], live_only=False)}
    best = {t["item_id"]: t for t in store.traces(deal["id"]) if t["rank"] == 0}
    spans: dict[str, list[Span]] = {}
    for m in store.mentions(deal["id"]):
        span = mention_span(m)
        if span is not None:
            spans.setdefault(m["item_id"], []).append(span)
    found = []
    for item in store.items(deal["id"]):
        trace = best.get(item["id"])
        clause = clauses.get(trace["clause_id"]) if trace and trace["clause_id"] else None
        found.append(
            Found(
                id=item["id"],
                kind=ItemKind(item["kind"]),
                subtype=item["subtype"],
                status=item["auto_status"] or Status.UNTRACED.value,
                score=item["score"],
                section=clause["section"] if clause else None,
                clause=f"{clause['section']} {clause['text']}" if clause else None,
                text=item["text"],
                rule=item["rule"],
                spans=tuple(spans.get(item["id"], ())),
            )
        )
    label_spans = [tuple(quote_span(src, q) for src, q in lb.quotes) for lb in conv.labels]
    negative_spans = [quote_span(n.source, n.quote) for n in conv.negatives]
    result = ConversationResult(conv, found, label_spans, negative_spans)
    result.matches, result.duplicates = match(conv.labels, label_spans, found)
    return result


def unlocated(result: ConversationResult) -> list[str]:
    """Quotes of text sources that could not be found in the parsed text: a label
    that cannot be placed can only be matched by shared words, so say so."""
    out = []
    for label, spans in zip(result.conversation.labels, result.label_spans, strict=True):
        for (source, quote), span in zip(label.quotes, spans, strict=True):
            if not span.recording and span.start is None:
                out.append(f"{result.conversation.name}/{source}: {quote!r}")
    return out
