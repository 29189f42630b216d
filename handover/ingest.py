"""Adding files to a deal: size cap, content detection, validation, blob, row.

A file is validated completely (decoded, parsed, or probed with PyAV) before anything
is stored, so a bad upload changes nothing. The original is kept byte for byte in the
content-addressed blob store; adding the same bytes to the same deal again is a no-op.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from handover.blobs import BlobStore, sha256_file
from handover.capture.detect import detect, sniff
from handover.config import Settings
from handover.errors import InputError
from handover.store import Duplicate, Row, Store
from handover.types import SourceKind

# Text sources are parsed in memory; no real transcript, note or SOW comes near this.
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024
_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Added:
    """What became of one file: ``added``, ``duplicate`` (no-op) or ``restored``."""

    filename: str
    source_id: int
    status: str
    kind: SourceKind
    fmt: str


def human_size(size: float) -> str:
    """A size for people: bytes below 1 KB, else KB, MB or GB with one decimal."""
    if size < 1024:
        return f"{int(size)} bytes"
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def parse_date(value: str | None) -> str:
    if value is None:
        return dt.date.today().isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(f"--date {value!r} is not a date; write it as YYYY-MM-DD") from None


def add_file(
    store: Store,
    blobs: BlobStore,
    settings: Settings,
    deal: Row,
    path: Path,
    *,
    as_kind: SourceKind | None = None,
    meeting_date: str | None = None,
    title: str | None = None,
    replaces: int | None = None,
    name: str | None = None,
) -> Added:
    """Validate and store one file; ``name`` is its original name when ``path`` is a
    temporary copy (a web upload). The name is shown to people and its extension is
    checked against the content; it is never used as a path."""
    # Parsers and PyAV load here, not at import: `handover flag` must start fast.
    from handover.capture import audio
    from handover.capture.parse import text_segments

    name = _safe_filename(name or path.name)
    if not path.is_file():
        raise InputError(f"{path}: no such file; check the path")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{name}: the file is empty; export it again and add the new file")
    if size > settings.max_file_bytes:
        raise InputError(
            f"{name}: {human_size(size)} is over the {human_size(settings.max_file_bytes)} cap; "
            "split the file, or raise HANDOVER_MAX_FILE_MB"
        )
    date = parse_date(meeting_date)
    if replaces is not None:
        store.source(deal["id"], replaces)  # raises NotFound for a source of another deal

    sha = sha256_file(path)
    existing = store.source_by_sha(deal["id"], sha)
    if existing is not None:
        status = "duplicate"
        if existing["removed_at"]:
            store.restore_source(deal["id"], existing["id"], None)
            status = "restored"
        return Added(name, existing["id"], status, SourceKind(existing["kind"]), existing["fmt"])

    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    mime = sniff(head)
    duration = None
    if mime is not None and mime.split("/")[0] in ("audio", "video"):
        detected = detect(head, name, as_kind)
        if detected.kind != SourceKind.RECORDING:
            raise InputError(f"{name}: audio or video can only be added as a recording")
        duration = audio.probe(path, name).duration
    else:
        if size > MAX_DOCUMENT_BYTES:
            raise InputError(
                f"{name}: {human_size(size)} is too large for a transcript, notes or scope "
                f"document (cap {human_size(MAX_DOCUMENT_BYTES)}); split it"
            )
        data = path.read_bytes()
        detected = detect(data, name, as_kind)
        if detected.kind == SourceKind.RECORDING:
            duration = audio.probe(path, name).duration
        else:
            text_segments(detected.kind, detected.fmt, data, name)  # validate before storing

    stored_sha, stored_size = blobs.put(path, name)
    if stored_sha != sha:
        raise InputError(f"{name}: the file changed while it was being added; add it again")
    try:
        source_id = store.add_source(
            deal["id"],
            kind=str(detected.kind),
            fmt=detected.fmt,
            filename=name,
            sha256=sha,
            size=stored_size,
            mime=detected.mime,
            duration=duration,
            meeting_date=date,
            title=_safe_title(title or "") or Path(name).stem,
            replaces=replaces,
        )
    except Duplicate as race:  # the same bytes arrived twice at once: one row wins
        return Added(name, race.source_id, "duplicate", detected.kind, detected.fmt)
    return Added(name, source_id, "added", detected.kind, detected.fmt)


_MAX_NAME = 255  # what file systems allow; longer names only come from uploads
_MAX_EXTENSION = 16


def _printable(text: str) -> str:
    """``text`` without control and format characters: NUL, ANSI escapes and the
    right-to-left override (U+202E shows "minutes[U+202E]txt.exe" as "minutesexe.txt")."""
    return "".join(ch for ch in text if ch.isprintable())


def _safe_filename(name: str) -> str:
    """The original name for display only: no path parts, no control characters, at most
    255 characters with the extension kept (detection and the parsers read it)."""
    base = _printable(name.replace("\\", "/").rsplit("/", 1)[-1])
    if len(base) > _MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        keep = f"{dot}{ext}" if stem and len(ext) < _MAX_EXTENSION else ""
        base = base[: _MAX_NAME - len(keep)] + keep
    return base or "unnamed"


def _safe_title(title: str) -> str:
    """A title on one line without control or format characters; whitespace runs
    (tabs, line ends, no-break spaces) become one space."""
    text = "".join(ch if ch.isprintable() else " " if ch.isspace() else "" for ch in title)
    return " ".join(text.split())
