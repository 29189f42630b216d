"""Run the stages for a deal, incrementally: only sources with work left are touched.

Per source: parse or transcribe (stage ``transcribing``), then extract items from a
conversation or split a scope document into clauses (``extracting``), then wait at
``tracing`` for the deal-level step that merges items and traces them
(``derive.py``); only then is the source ``done``. A kill at any point leaves the
source at the stage it reached, and the next run picks it up from there.

Text sources (transcripts, notes, scope documents) are parsed first, so the deal's
glossary is complete before any recording is transcribed. Each source succeeds or
fails on its own: a failure is recorded on that source with its one-line reason and
the rest go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover import glossary
from handover.blobs import BlobStore
from handover.config import Settings
from handover.errors import HandoverError
from handover.faults import fault_point
from handover.people import side_resolver
from handover.store import Row, Store
from handover.types import Segment, Side, SourceKind, Stage

if TYPE_CHECKING:
    from handover import derive

# derive (numpy, tracing) and the document parsers are imported where they are used:
# the CLI imports this module, and `handover flag` must start in a few milliseconds.

# Drafts are flushed in small batches: few transactions, little lost to a kill.
_DRAFT_BATCH = 4


@dataclass(frozen=True, slots=True)
class ProcessOptions:
    batched: bool = True
    batch_size: int = 8
    vad: bool = True
    hotwords: bool = True


@dataclass(slots=True)
class SourceResult:
    source_id: int
    filename: str
    kind: str
    stage: str
    segments: int = 0
    found: int = 0  # items extracted, or clauses for a scope document
    error: str | None = None


@dataclass(slots=True)
class DealResult:
    slug: str
    sources: list[SourceResult] = field(default_factory=list)
    derived: derive.DeriveResult | None = None

    @property
    def failed(self) -> list[SourceResult]:
        return [s for s in self.sources if s.stage == Stage.FAILED]


class Progress:
    """Callbacks for a front end; the default does nothing."""

    def source_started(self, source: Row) -> None: ...

    def audio_progress(self, source: Row, done: float, total: float) -> None: ...

    def source_finished(self, result: SourceResult) -> None: ...

    def deal_step(self, deal: Row, step: str) -> None:
        """A deal-level step starts: "tracing" (merge items and trace them)."""

    def deal_finished(self, deal: Row, result: DealResult) -> None: ...


def deal_side_resolver(store: Store, deal: Row) -> Callable[[str | None], Side]:
    return side_resolver(store.participants(deal["id"]))


def deal_hotwords(store: Store, deal: Row) -> list[str]:
    people = [p["name"] for p in store.participants(deal["id"])]
    return glossary.hotwords(
        names=[deal["customer"], deal["vendor"], deal["owner"], *people],
        manual=store.glossary(deal["id"]),
        documents=store.deal_texts(deal["id"], [SourceKind.NOTES, SourceKind.SCOPE]),
    )


def process_deal(
    store: Store,
    blobs: BlobStore,
    settings: Settings,
    deal: Row,
    options: ProcessOptions | None = None,
    progress: Progress | None = None,
    *,
    force_trace: bool = False,
    retry_failed: bool = True,
) -> DealResult:
    """Bring every source of the deal to ``done``, then re-derive and re-trace the
    deal's items if anything changed; failed sources are retried unless
    ``retry_failed`` is off (the worker leaves them to a person)."""
    options = options or ProcessOptions()
    progress = progress or Progress()
    lock = f"process:{deal['slug']}"
    store.acquire_lock(lock)
    try:
        result = DealResult(deal["slug"])
        todo = store.sources_to_process(deal["id"])
        if not retry_failed:
            todo = [s for s in todo if s["stage"] != Stage.FAILED]
        # Text first: notes and scope feed the glossary the recordings are transcribed with.
        todo.sort(key=lambda s: s["kind"] == SourceKind.RECORDING)
        for source in todo:
            progress.source_started(source)
            outcome = _process_source(store, blobs, settings, deal, source, options, progress)
            result.sources.append(outcome)
            progress.source_finished(outcome)
        waiting = [s for s in store.sources_to_process(deal["id"]) if s["stage"] == Stage.TRACING]
        if waiting or force_trace or store.stale_reason(deal["id"]):
            progress.deal_step(deal, "tracing")
            from handover import derive  # numpy and the trace code: not for `flag`

            result.derived = derive.derive(
                store, deal, _nlp(settings), derive.cached_embedder(store, settings)
            )
            fault_point("traced")
            for source in waiting:
                store.finish_traced(source["id"])
        progress.deal_finished(deal, result)
        return result
    finally:
        store.release_lock(lock)


def retrace(store: Store, settings: Settings, deal: Row) -> derive.DeriveResult:
    """Re-derive and re-trace the deal's items now (after a manual item was added)."""
    lock = f"process:{deal['slug']}"
    store.acquire_lock(lock)
    try:
        from handover import derive

        return derive.derive(store, deal, _nlp(settings), derive.cached_embedder(store, settings))
    finally:
        store.release_lock(lock)


def _nlp(settings: Settings) -> Any:
    from handover.models import load_spacy

    return load_spacy(settings.spacy_model)


def _process_source(
    store: Store,
    blobs: BlobStore,
    settings: Settings,
    deal: Row,
    source: Row,
    options: ProcessOptions,
    progress: Progress,
) -> SourceResult:
    outcome = SourceResult(source["id"], source["filename"], source["kind"], str(Stage.FAILED))
    try:
        kind = SourceKind(source["kind"])
        transcribed = source["stage"] in (Stage.EXTRACTING, Stage.TRACING)
        if kind == SourceKind.RECORDING and transcribed:
            outcome.segments = len(store.segments(source["id"]))  # killed after publishing
        elif kind == SourceKind.RECORDING:
            outcome.segments = _transcribe_source(
                store, blobs, settings, deal, source, options, progress
            )
        else:
            data = blobs.read(source["sha256"])
            from handover.capture.parse import text_segments

            segments = text_segments(kind, source["fmt"], data, source["filename"])
            outcome.segments = store.replace_segments(
                source["id"], segments, deal_side_resolver(store, deal)
            )
        fault_point("transcribed")
        store.set_stage(source["id"], Stage.EXTRACTING)
        if kind == SourceKind.SCOPE:
            outcome.found = _split_scope(store, blobs, source)
        else:
            outcome.found = _extract_source(store, settings, deal, source)
        fault_point("extract")
        store.set_stage(source["id"], Stage.TRACING)
        outcome.stage = str(Stage.TRACING)
    except HandoverError as exc:
        outcome.error = exc.message
    except Exception as exc:  # one broken source must not stop the others
        outcome.error = f"{source['filename']}: unexpected {type(exc).__name__}: {exc}"
    if outcome.error:
        store.set_stage(source["id"], Stage.FAILED, error=outcome.error)
    return outcome


def _extract_source(store: Store, settings: Settings, deal: Row, source: Row) -> int:
    from handover.extract import extract

    segments = [
        Segment(
            ordinal=row["ordinal"],
            text=row["text"],
            start=row["start"],
            end=row["end"],
            speaker=row["speaker"],
            side=Side(row["side"]),
            offset=row["offset"],
        )
        for row in store.segments(source["id"])
        if not row["redacted"]  # already blank; extraction never reads a redacted span
    ]
    people = {p["name"]: Side(p["side"]) for p in store.participants(deal["id"])}
    candidates = extract(
        _nlp(settings),
        segments,
        meeting_date=source["meeting_date"],
        source_kind=SourceKind(source["kind"]),
        people=people,
    )
    return store.replace_extractions(source["id"], candidates)


def _split_scope(store: Store, blobs: BlobStore, source: Row) -> int:
    from handover.clauses import clause_sha256, split_clauses

    fmt = source["fmt"] if source["fmt"] in ("md", "docx", "pdf") else "txt"
    from handover.capture.scope import scope_blocks

    blocks = scope_blocks(blobs.read(source["sha256"]), source["filename"], fmt)
    clauses = split_clauses(blocks)
    return store.replace_clauses(source["id"], [(c, clause_sha256(c.text)) for c in clauses])


def _transcribe_source(
    store: Store,
    blobs: BlobStore,
    settings: Settings,
    deal: Row,
    source: Row,
    options: ProcessOptions,
    progress: Progress,
) -> int:
    # Imported here so commands that never transcribe don't pay for faster-whisper.
    from handover import transcribe as transcription
    from handover.models import load_whisper

    store.clear_drafts(source["id"])  # leftovers of a killed run
    store.set_stage(source["id"], Stage.TRANSCRIBING, progress=0.0)
    model = load_whisper(
        settings.whisper_model,
        settings.cache,
        device=settings.device,
        compute_type=settings.compute_type,
    )
    words = tuple(deal_hotwords(store, deal)) if options.hotwords else ()
    opts = transcription.TranscribeOptions(
        batched=options.batched, batch_size=options.batch_size, vad=options.vad, hotwords=words
    )
    last_saved = [0.0]

    def on_progress(done: float, total: float) -> None:
        progress.audio_progress(source, done, total)
        fraction = done / total if total else 0.0
        if fraction - last_saved[0] >= 0.02 or fraction >= 1.0:
            store.set_progress(source["id"], fraction)
            last_saved[0] = fraction

    batch: list[Segment] = []
    path: Path = blobs.path(source["sha256"])
    stream = transcription.transcribe(
        path, model, opts, name=source["filename"], on_progress=on_progress
    )
    for count, segment in enumerate(stream, 1):
        batch.append(segment)
        if len(batch) >= _DRAFT_BATCH:
            store.add_drafts(source["id"], batch)
            batch = []
        fault_point("transcribe", count)
    store.add_drafts(source["id"], batch)
    fault_point("publish")
    return store.publish_drafts(source["id"], deal_side_resolver(store, deal))


def resolve_sides(store: Store, deal: Row) -> int:
    """Recompute the side of every segment of the deal from its participants."""
    side_of = deal_side_resolver(store, deal)
    sides = {speaker: side_of(speaker) for speaker in store.deal_speakers(deal["id"])}
    return store.set_speaker_sides(deal["id"], sides)
