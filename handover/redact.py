"""Redaction: hide a time span of a recording or timed transcript (private chatter).

A redaction is a row in ``redactions`` plus its effect on the segments: every segment
that overlaps a span is blanked whole (text '' and ``redacted = 1``). Word boundaries
inside a segment are a guess, so the whole segment goes: hiding more is the safe side.
The store re-applies the spans each time a source's segments are published, and drops
what extraction took from them, so neither a re-transcription nor a retry brings the
words back. The original upload stays untouched in the blob store; the player gets a
silenced copy instead (:func:`playable_path`), cached under ``HOME/cache/redacted``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import tempfile
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handover.blobs import BlobStore
from handover.config import Settings
from handover.errors import Conflict, InputError, NotFound
from handover.report import clock
from handover.store import Row, Store
from handover.types import SourceKind

# The silenced copy is 16-bit mono PCM WAV at the rate recordings are transcribed at:
# decoded the same way, its timeline is the transcript's, and a browser seeks in it
# with plain range requests. A change here must change _FORMAT, which is in the key.
RATE = 16_000
_FORMAT = "wav-s16le-mono-16k-1"
_CAPTIONS = ("vtt", "srt")  # transcript formats that carry times before they are parsed

Span = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Redaction:
    """What ``redact`` did."""

    id: int
    source_id: int
    start: float
    end: float
    clamped: bool  # the span ran past the end of the source and was cut there
    segments: int  # segments newly hidden
    requeued: bool  # the source went back to extraction: process the deal next


@dataclass(frozen=True, slots=True)
class Playable:
    """The file the player gets for a source."""

    path: Path
    media_type: str
    filename: str
    silenced: bool  # a copy with the redacted spans silenced, not the original


def redact(
    store: Store,
    deal: Row,
    source_id: int,
    start: float,
    end: float,
    *,
    reason: str | None = None,
    by: str | None = None,
) -> Redaction:
    """Hide ``start``–``end`` (seconds) of a source from every output and from
    extraction, and log it. A span that runs past the end is cut at the end."""
    source = store.source(deal["id"], source_id)
    segments = store.segments(source_id)
    if not _timed(source, segments):
        raise InputError(
            f"source {source_id} is {source['kind']} without times, so there is no span to "
            f"redact; redact a recording or a timed transcript, or `handover remove` it"
        )
    if start < 0 or end <= start:
        raise InputError("the end of the span must be after its start")
    length = _length(source, segments)
    clamped = length is not None and end > length
    if length is not None and start >= length:
        raise InputError(
            f"the span starts at {clock(start)}, after the end of source {source_id} "
            f"({clock(length)}); see `handover transcript {deal['slug']} {source_id}` for times"
        )
    if clamped and length is not None:
        end = length
    redaction_id, blanked, requeued = store.add_redaction(
        deal["id"], source_id, start, end, _clean(reason), _clean(by)
    )
    return Redaction(redaction_id, source_id, start, end, clamped, blanked, requeued)


def silenced_spans(store: Store, source: Row) -> list[Span]:
    """What the player must not play: every span, widened to the whole segments it
    hides, merged and sorted. A span that reaches the end of the recording runs to the
    end of the audio (a duration estimated from an mp3's bitrate can fall short)."""
    spans = [(r["start"], r["end"]) for r in store.redactions(source["id"])]
    if not spans:
        return []
    spans += store.redacted_times(source["id"])
    length = source["duration"]
    merged: list[Span] = []
    for start, end in sorted(spans):
        if length is not None and end >= length:
            end = math.inf
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def playable_path(
    store: Store, blobs: BlobStore, settings: Settings, deal: Row, source_id: int
) -> Playable:
    """The file to serve for a source's ▶ player and "original" link.

    Without redactions, the stored original. With them, a recording is served as a
    silenced copy (made on first request, then cached), and a timed transcript is
    refused: its original holds the redacted words.
    """
    source = store.source(deal["id"], source_id)
    original = blobs.path(source["sha256"])
    if not original.is_file():
        raise NotFound(f"the original of source {source_id} is no longer stored")
    spans = silenced_spans(store, source)
    if not spans:
        return Playable(original, source["mime"], source["filename"], silenced=False)
    if source["kind"] != SourceKind.RECORDING:
        raise Conflict(
            f"source {source_id} has redacted spans, so its original is not served; read "
            f"it with `handover transcript {deal['slug']} {source_id}`"
        )
    path = rendition_path(settings, source["sha256"], spans)
    if not path.is_file():
        # A browser asks for several ranges at once: one request makes the copy, the
        # others wait for it instead of decoding the same recording in parallel.
        lock = path.with_suffix(".lock")
        with _locked(lock):
            if not path.is_file():
                _render_silenced(original, source["filename"], spans, path)
        for stale in _renditions(settings, source["sha256"]):
            if stale not in (path, lock):  # older spans: it plays what is now hidden
                stale.unlink(missing_ok=True)
    name = f"{Path(source['filename']).stem}-redacted.wav"
    return Playable(path, "audio/wav", name, silenced=True)


def rendition_path(settings: Settings, sha256: str, spans: list[Span]) -> Path:
    """Where the silenced copy of a blob for these spans is cached."""
    key = json.dumps(
        [_FORMAT, [[round(a, 3), None if math.isinf(b) else round(b, 3)] for a, b in spans]]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return _cache_dir(settings) / f"{sha256}-{digest}.wav"


def drop_renditions(settings: Settings, sha256: str) -> int:
    """Delete every silenced copy of a blob (purge); returns how many."""
    found = _renditions(settings, sha256)
    for path in found:
        path.unlink(missing_ok=True)
    return sum(path.suffix == ".wav" for path in found)


def _renditions(settings: Settings, sha256: str) -> list[Path]:
    folder = _cache_dir(settings)
    return sorted(folder.glob(f"{sha256}-*")) if folder.is_dir() else []  # copies, locks


def _cache_dir(settings: Settings) -> Path:
    return settings.home / "cache" / "redacted"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _render_silenced(original: Path, name: str, spans: list[Span], dest: Path) -> None:
    """Decode, zero the samples inside the spans, write WAV to a temporary file and
    rename it into place, so a reader (or a second request racing this one) sees a
    whole file or none. Memory stays at about two decode chunks."""
    from handover.capture.audio import iter_chunks  # PyAV: only when a copy is made

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".silencing-", suffix=".wav", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            with wave.open(handle, "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE)
                for offset, samples in iter_chunks(original, name, sr=RATE):
                    out.writeframes(_silence(samples, round(offset * RATE), spans).tobytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _silence(samples: np.ndarray, first: int, spans: list[Span]) -> np.ndarray:
    """16-bit PCM of a chunk starting at sample ``first``, zero inside the spans."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    for start, end in spans:
        lo = max(math.floor(start * RATE) - first, 0)
        hi = len(pcm) if math.isinf(end) else min(math.ceil(end * RATE) - first, len(pcm))
        if lo < hi:
            pcm[lo:hi] = 0
    return pcm


def _timed(source: Row, segments: list[Row]) -> bool:
    if source["kind"] == SourceKind.RECORDING:
        return True
    if source["kind"] != SourceKind.TRANSCRIPT:
        return False
    if segments:
        return any(s["start"] is not None for s in segments)
    return source["fmt"] in _CAPTIONS  # not parsed yet: captions always carry times


def _length(source: Row, segments: list[Row]) -> float | None:
    """How long the source runs: the recording's duration or the last segment's end,
    whichever is later; None when nothing says yet (a transcript not parsed)."""
    ends = [s["end"] if s["end"] is not None else s["start"] for s in segments]
    known = [t for t in [source["duration"], *ends] if t is not None]
    return max(known) if known else None


def _clean(text: str | None) -> str | None:
    return " ".join((text or "").split()) or None
