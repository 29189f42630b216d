"""`handover backup` and `handover restore`: a copy of a home that is whole or absent.

A backup is a directory::

    PATH/manifest.json       format, schema version, created time, handover version,
                             and the sha256 and size of every file below
    PATH/handover.db         the database, copied with SQLite's online backup API
    PATH/blobs/ab/cdef…      the originals the copied database refers to

The database is copied with ``sqlite3.Connection.backup`` in one step, which reads
one consistent snapshot: in WAL mode ``serve``, the worker and ``process`` go on
writing meanwhile. Only then are the originals that snapshot refers to copied (and
hashed while copied). Everything is written under ``PATH.partial`` and renamed to
``PATH`` at the end, so a backup that was interrupted never looks complete.

Restore checks every file against the manifest before it touches anything, refuses
while a run holds a lease in the current home, copies the originals in
(content-addressed: the ones already there are kept when intact), keeps the current
database with its originals as a home of its own, ``HOME/before-restore-<time>/``
(never deleting anything), swaps the backup's database in with one rename, clears
the leases the copy was taken with, and runs ``doctor``. A source the backup caught
mid-stage simply runs again on the next ``handover process``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from handover import doctor
from handover.blobs import BlobStore, sha256_file
from handover.config import Settings
from handover.errors import Conflict, HandoverError, InputError, NotFound
from handover.faults import fault_point
from handover.store import SCHEMA_VERSION, Store, _pid_alive, now

MANIFEST = "manifest.json"
FORMAT = "handover-backup"
FORMAT_VERSION = 1
DB_NAME = "handover.db"
_PARTIAL_MARK = ".handover-backup-partial"  # only a directory with this is ours to clear
_CHUNK = 1 << 20
_HEX = frozenset("0123456789abcdef")
_LIVE_SHAS = "SELECT DISTINCT sha256 FROM sources WHERE purged_at IS NULL"

# (bytes done, bytes in all) for a progress bar; called often, must be cheap.
OnProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    schema_version: int
    deals: int
    sources: int
    blobs: int
    bytes: int  # everything written: database, originals and manifest
    seconds: float


@dataclass(frozen=True, slots=True)
class RestoreResult:
    created_at: str  # when the backup was taken
    previous_home: Path | None  # the database and originals that were in place, kept
    blobs_copied: int
    blobs_kept: int  # already present and intact
    report: doctor.Report  # doctor on the restored home


def create(settings: Settings, dest: Path, on_progress: OnProgress | None = None) -> BackupResult:
    """Back up the home into the new directory ``dest``."""
    started = time.monotonic()
    progress = on_progress or (lambda done, total: None)
    db = settings.db_path
    if not db.is_file():
        raise NotFound(f"no database at {db}; check --home or HANDOVER_HOME")
    dest = dest.expanduser().absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(f"{dest} already exists and is not empty; give a new PATH for the backup")
    partial = dest.with_name(dest.name + ".partial")
    if partial.exists():
        if not (partial / _PARTIAL_MARK).is_file():
            raise Conflict(f"{partial} is in the way; move it, or give another PATH")
        shutil.rmtree(partial)  # an earlier backup to the same PATH that was interrupted
    partial.mkdir(parents=True)
    (partial / _PARTIAL_MARK).touch()
    try:
        return _fill(settings, partial, dest, progress, started)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # a kill leaves it; the next run clears it
        raise


def _fill(
    settings: Settings, partial: Path, dest: Path, progress: OnProgress, started: float
) -> BackupResult:
    db = settings.db_path
    snapshot = _copy_database(db, partial / DB_NAME)
    sources = BlobStore(settings.blob_dir)
    total = (partial / DB_NAME).stat().st_size
    for sha in snapshot["shas"]:
        path = sources.path(sha)
        if not path.is_file():
            raise HandoverError(
                f"the original {sha[:10]}… of a source is missing from {settings.blob_dir}; "
                "run `handover doctor`, then back up again"
            )
        total += path.stat().st_size
    done = (partial / DB_NAME).stat().st_size
    progress(done, total)

    def step(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)

    files = [_entry(partial, partial / DB_NAME)]
    for sha in snapshot["shas"]:
        target = partial / "blobs" / sha[:2] / sha[2:]
        digest, size = _copy(sources.path(sha), target, step)
        if digest != sha:
            raise HandoverError(
                f"the original blobs/{sha[:2]}/{sha[2:10]}… has changed since it was stored; "
                "run `handover doctor`, then back up again"
            )
        files.append({"path": f"blobs/{sha[:2]}/{sha[2:]}", "sha256": sha, "size": size})
        fault_point("backup.copy")
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": snapshot["version"],
        "created_at": now(),
        "handover_version": _version(),
        "home": str(settings.home.absolute()),
        "deals": snapshot["deals"],
        "sources": snapshot["sources"],
        "files": files,
    }
    _write_durably(partial / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    (partial / _PARTIAL_MARK).unlink()
    _fsync_dir(partial)
    os.replace(partial, dest)  # rename(2) also replaces an empty directory
    _fsync_dir(dest.parent)
    written = sum(f["size"] for f in files) + (dest / MANIFEST).stat().st_size
    return BackupResult(
        dest,
        snapshot["version"],
        snapshot["deals"],
        snapshot["sources"],
        len(files) - 1,
        written,
        time.monotonic() - started,
    )


def _copy_database(db: Path, target: Path) -> dict[str, Any]:
    """One consistent snapshot of the live database into a single-file copy."""
    source = sqlite3.connect(db, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.execute("PRAGMA busy_timeout = 30000")
        # pages=-1: the whole database in one step, one read transaction. Stepping in
        # chunks would restart from scratch each time another process writes.
        source.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise HandoverError(
                f"the copy of the database failed its integrity check ({check}); "
                "run `handover doctor` on this home"
            )
        version = int(copy.execute("PRAGMA user_version").fetchone()[0])
        shas = sorted(r[0] for r in copy.execute(_LIVE_SHAS))
        deals = copy.execute("SELECT count(*) FROM deals").fetchone()[0]
        sources = copy.execute("SELECT count(*) FROM sources").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise HandoverError(
            f"{db}: cannot copy the database ({exc}); run `handover doctor`"
        ) from exc
    finally:
        copy.close()
        source.close()
    _fsync_file(target)
    return {"version": version, "shas": shas, "deals": deals, "sources": sources}


def verify(src: Path, on_progress: OnProgress | None = None) -> dict[str, Any]:
    """Check a backup against its manifest (every file, every byte); returns the
    manifest, or raises InputError naming the first thing that does not match."""
    progress = on_progress or (lambda done, total: None)
    src = src.expanduser()
    path = src / MANIFEST
    if not path.is_file():
        hint = " (an interrupted backup)" if src.name.endswith(".partial") else ""
        raise InputError(f"{src}: no {MANIFEST}{hint}; this is not a handover backup")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = manifest["files"]
        if manifest["format"] != FORMAT or not isinstance(files, list):
            raise ValueError("not a handover backup manifest")
        version = int(manifest["schema_version"])
        for f in files:
            if not (isinstance(f["path"], str) and isinstance(f["sha256"], str)):
                raise ValueError(f"a file entry is malformed: {f!r:.80}")
            f["size"] = int(f["size"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{src}: {MANIFEST} cannot be read ({exc}); use another backup") from exc
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION or version > SCHEMA_VERSION:
        raise InputError(
            f"{src}: made by a newer handover (schema {version}); upgrade handover to restore it"
        )
    if DB_NAME not in {f["path"] for f in files}:
        raise InputError(f"{src}: the manifest lists no {DB_NAME}; use another backup")
    total = sum(f["size"] for f in files)
    done = 0
    for entry in files:
        name, want, size = entry["path"], entry["sha256"], entry["size"]
        target = _member(src, name)
        if target is None:
            raise InputError(f"{src}: the manifest names an unexpected file {name!r}")
        if not target.is_file():
            raise InputError(f"{src}: {name} is missing; this backup is damaged, use another one")
        digest = hashlib.sha256()
        got = 0
        with target.open("rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
                got += len(chunk)
                done += len(chunk)
                progress(done, total)
        if got != size or digest.hexdigest() != want:
            raise InputError(
                f"{src}: {name} does not match the manifest ("
                + ("size" if got != size else "sha256")
                + " differs); this backup is damaged, use another one"
            )
    return manifest


def _member(src: Path, name: str) -> Path | None:
    """The file a manifest entry names, if it is one a backup may hold (never a path
    that leads out of the backup)."""
    if name == DB_NAME:
        return src / DB_NAME
    parts = name.split("/")
    shaped = len(parts) == 3 and parts[0] == "blobs" and len(parts[1]) == 2
    if shaped and len(parts[2]) == 62 and all(c in _HEX for c in parts[1] + parts[2]):
        return src.joinpath(*parts)
    return None


def restore(settings: Settings, src: Path, on_progress: OnProgress | None = None) -> RestoreResult:
    """Bring a backup back into this home (see the module docstring)."""
    src = src.expanduser()
    manifest = verify(src, on_progress)  # before anything here is touched
    db = settings.db_path
    _refuse_if_running(db)
    settings.home.mkdir(parents=True, exist_ok=True)

    # Originals first: a restore cut short here leaves extra blobs, never a
    # database that refers to originals that are not there.
    blobs = BlobStore(settings.blob_dir)
    wanted = {e["sha256"] for e in manifest["files"] if e["path"] != DB_NAME}
    copied = kept = 0
    for entry in manifest["files"]:
        if entry["path"] == DB_NAME:
            continue
        sha = entry["sha256"]
        target = blobs.path(sha)
        if target.is_file():
            if sha256_file(target) == sha:
                kept += 1
                continue
            target.unlink()  # damaged in this home: the backup's bytes replace it
        stored, _ = blobs.put(src / entry["path"], entry["path"])
        if stored != sha:
            raise HandoverError(f"{src}: {entry['path']} changed while it was restored; try again")
        copied += 1
        fault_point("restore.copy")

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    incoming = settings.home / f".restore-{stamp}.db"
    _copy(src / DB_NAME, incoming, lambda n: None)
    conn = sqlite3.connect(incoming)
    try:
        conn.execute("DELETE FROM locks")  # the runs it was taken with are not running here
        conn.commit()
    finally:
        conn.close()
    aside, previous = _set_aside(settings, blobs, stamp) if db.is_file() else (None, set())
    os.replace(incoming, db)
    _fsync_dir(settings.home)
    # Originals only the previous database used now live in the kept-aside home alone.
    for sha in previous - wanted:
        blobs.path(sha).unlink(missing_ok=True)

    store = Store.open(db)  # back to WAL, and migrated if the backup is older
    try:
        detail = {"backup": str(src.absolute()), "created_at": manifest["created_at"]}
        if aside is not None:
            detail["previous_home"] = aside.name
        store.add_event(None, "home.restore", None, detail)
    finally:
        store.close()
    return RestoreResult(manifest["created_at"], aside, copied, kept, doctor.examine(settings))


def _refuse_if_running(db: Path) -> None:
    if not db.is_file():
        return
    host = socket.gethostname()
    try:
        conn = sqlite3.connect(db, timeout=30)
        try:
            leases = conn.execute("SELECT name, host, pid FROM locks").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return  # a damaged database is a reason to restore, not a reason to refuse
    for name, lease_host, pid in leases:
        if lease_host != host or _pid_alive(pid):
            raise Conflict(
                f"{name} is running in this home (pid {pid} on {lease_host}); stop it "
                "before restoring"
            )


def _set_aside(settings: Settings, blobs: BlobStore, stamp: str) -> tuple[Path, set[str]]:
    """Keep the current database and its originals as a home of their own,
    ``HOME/before-restore-<time>/`` (``--home`` it to look inside), and return it with
    the originals it refers to. Hard links: nothing is copied, and the live names stay
    in place until the restored database replaces them."""
    db = settings.db_path
    aside = settings.home / f"before-restore-{stamp}"
    for n in range(2, 100):  # two restores within a second keep both
        if not aside.exists():
            break
        aside = settings.home / f"before-restore-{stamp}-{n}"
    with contextlib.suppress(sqlite3.DatabaseError):
        conn = sqlite3.connect(db, timeout=30)
        try:
            # Fold the WAL into the file so the database kept aside is one whole file.
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            conn.close()
        if busy:
            raise Conflict(f"{db} is in use; stop `handover serve` and the worker, then restore")
    aside.mkdir(parents=True)
    _link(db, aside / DB_NAME)
    for suffix in ("-wal", "-shm"):
        extra = db.with_name(db.name + suffix)
        if extra.exists():
            # A WAL left beside the restored file would be replayed into it.
            os.replace(extra, aside / (DB_NAME + suffix))
    try:
        conn = sqlite3.connect(aside / DB_NAME)
        try:
            previous = {r[0] for r in conn.execute(_LIVE_SHAS)}
        finally:
            conn.close()
    except sqlite3.DatabaseError:  # a damaged database: keep every original with it
        previous = {p.parent.name + p.name for p in doctor.blob_files(settings.blob_dir)}
    kept_aside = BlobStore(aside / "blobs")
    for sha in previous:
        if blobs.exists(sha):
            _link(blobs.path(sha), kept_aside.path(sha))
    _fsync_dir(aside)
    return aside, previous


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # no hard links on this file system
        shutil.copy2(source, target)


def _copy(source: Path, target: Path, step: Callable[[int], None]) -> tuple[str, int]:
    """Copy, hashing as it streams, and fsync; returns (sha256, size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as handle, target.open("wb") as out:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
            step(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _entry(root: Path, path: Path) -> dict[str, Any]:
    return {
        "path": path.relative_to(root).as_posix(),
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
    }


def _write_durably(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _version() -> str:
    try:
        return metadata.version("handover")
    except metadata.PackageNotFoundError:
        return "unknown"
