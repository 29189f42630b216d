"""`handover doctor`: is this home intact?

Checks the database (SQLite's own ``integrity_check`` and ``foreign_key_check``, the
schema version, the search index), every original against its row (present, same
size, same streamed sha256), and what points at nothing: blob files no source
refers to, rows of deleted parents, text kept for purged sources, drafts left for
sources that are past transcription, items with no mention, leftover temp files,
leases of processes that are gone, sources a killed run left mid-stage.

``check`` only reads (it never migrates or locks anything for long), so it is safe
while ``serve``, the worker or ``process`` run. ``repair`` fixes the findings marked
``fixable``: only things whose right state is not in doubt (what a finished purge,
publish or cascade would have left); a damaged database or original is restored
from a backup instead.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from handover.blobs import sha256_file
from handover.config import Settings
from handover.errors import HandoverError
from handover.ingest import human_size
from handover.store import SCHEMA_VERSION, _pid_alive

# A blob or temp file younger than this may belong to an `add` or an upload still in
# flight (the file is written before its row), so it is not called an orphan yet.
GRACE_SECONDS = 600

# Tables holding a source's text: a purge deletes their rows, so any left is a leak.
_TEXT_TABLES = ("segments", "segment_drafts", "extractions", "clauses", "mentions")
_LIVE_SHAS = "SELECT sha256 FROM sources WHERE purged_at IS NULL"
_RESTORE = "restore the latest backup (`handover restore PATH`; the current database is kept)"


class Severity(StrEnum):
    PROBLEM = "problem"  # something is damaged or leaks: doctor exits 1
    WARNING = "warning"  # worth knowing; the next run copes with it


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    severity: Severity
    message: str  # one line: what was found
    fix: str  # one line: what to do
    fixable: bool = False  # `handover doctor --fix` repairs it


@dataclass(slots=True)
class Report:
    home: Path
    findings: list[Finding] = field(default_factory=list)
    # What each check looked at, for the summary ("3 originals, 1.2 MB hashed").
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.PROBLEM]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.problems

    def status(self, check: str) -> str:
        """ "problem", "warning" or "ok": the worst finding of one check."""
        found = {f.severity for f in self.findings if f.check == check}
        for severity in (Severity.PROBLEM, Severity.WARNING):
            if severity in found:
                return str(severity)
        return "ok"

    def as_json(self, checked_at: str) -> dict[str, Any]:
        """The stable shape of `handover doctor --json` (docs/json.md)."""
        return {
            "schema_version": 1,
            "home": str(self.home),
            "checked_at": checked_at,
            "ok": self.ok,
            "problems": len(self.problems),
            "warnings": len(self.warnings),
            "checks": [
                {"name": name, "status": self.status(name), "summary": summary}
                for name, summary in self.checks.items()
            ],
            "findings": [
                {
                    "check": f.check,
                    "severity": str(f.severity),
                    "message": f.message,
                    "fix": f.fix,
                    "fixable": f.fixable,
                }
                for f in self.findings
            ],
        }


def check(settings: Settings) -> list[Finding]:
    """Every finding for this home, problems and warnings (empty: all is well)."""
    return examine(settings).findings


def examine(settings: Settings) -> Report:
    """Run every check; a check that cannot run is itself a problem."""
    report = Report(settings.home)
    db = settings.db_path
    if not db.is_file():
        report.checks["database"] = "no database"
        report.findings.append(
            Finding(
                "database",
                Severity.PROBLEM,
                f"no database at {db}",
                "check --home or HANDOVER_HOME, or `handover restore PATH` a backup here",
            )
        )
        return report
    with _connect(db) as conn:
        version = _run(report, "database", lambda: _database(conn, report))
        if version is None:
            return report
        _run(report, "integrity", lambda: _integrity(conn, report))
        # On a damaged file, rows "pointing at nothing" are symptoms, and deleting
        # them (--fix) would lose data a restore brings back: only the originals and
        # the leases are still worth checking.
        sound = report.status("integrity") == "ok"
        if sound:
            _run(report, "foreign_keys", lambda: _foreign_keys(conn, report))
        if version >= 2:  # the row checks read tables that version 2 added
            if sound:
                _run(report, "search_index", lambda: _search_index(conn, report))
            _run(report, "blobs", lambda: _blobs(conn, settings, report))
            if sound:
                _run(report, "rows", lambda: _rows(conn, report))
            _run(report, "leases", lambda: _leases(conn, report))
        _run(report, "temp_files", lambda: _temp_files(settings, report))
    return report


@contextlib.contextmanager
def _connect(db: Path) -> Iterator[sqlite3.Connection]:
    # A plain connection, not Store.open: doctor must not migrate what it examines.
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        yield conn
    finally:
        conn.close()


def _run(report: Report, name: str, step: Callable[[], Any]) -> Any:
    try:
        return step()
    except (sqlite3.DatabaseError, OSError) as exc:
        report.checks.setdefault(name, "could not run")
        report.findings.append(
            Finding(name, Severity.PROBLEM, f"the {name} check failed: {exc}", _RESTORE)
        )
        return None


def _database(conn: sqlite3.Connection, report: Report) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    report.checks["database"] = f"schema version {version}, {tables} tables"
    if version > SCHEMA_VERSION:
        report.findings.append(
            Finding(
                "database",
                Severity.PROBLEM,
                f"schema version {version} is newer than this handover ({SCHEMA_VERSION})",
                "upgrade handover before using this home",
            )
        )
    elif version < SCHEMA_VERSION:
        report.findings.append(
            Finding(
                "database",
                Severity.WARNING,
                f"schema version {version}; this handover uses {SCHEMA_VERSION}",
                "the next handover command migrates it; back it up first (`handover backup`)",
            )
        )
    return version


def _integrity(conn: sqlite3.Connection, report: Report) -> None:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
    report.checks["integrity"] = "PRAGMA integrity_check"
    if rows != ["ok"]:
        # SQLite's messages run over several lines; the first two say where.
        lines = [line.strip() for row in rows for line in row.splitlines()]
        lines = [line for line in lines if line and not line.startswith("***")]
        more = f" (+{len(lines) - 2} more)" if len(lines) > 2 else ""
        message = f"the database is damaged: {'; '.join(lines[:2])}{more}"
        report.findings.append(Finding("integrity", Severity.PROBLEM, message, _RESTORE))


def _foreign_keys(conn: sqlite3.Connection, report: Report) -> None:
    groups: dict[tuple[str, str], int] = defaultdict(int)
    for table, _rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
        groups[(table, parent)] += 1
    report.checks["foreign_keys"] = "PRAGMA foreign_key_check"
    for (table, parent), count in sorted(groups.items()):
        report.findings.append(
            Finding(
                "foreign_keys",
                Severity.PROBLEM,
                f"{count} row(s) of {table} point at a {parent} row that is gone",
                "`handover doctor --fix` applies what the delete should have done",
                fixable=True,
            )
        )


def _search_index(conn: sqlite3.Connection, report: Report) -> None:
    report.checks["search_index"] = "segments_fts against segments"
    try:
        # rank 1: compare the index with its content table, not only with itself.
        conn.execute("INSERT INTO segments_fts(segments_fts, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as exc:
        if "malformed" not in str(exc) and "corrupt" not in str(exc):
            raise
        report.findings.append(
            Finding(
                "search_index",
                Severity.PROBLEM,
                "the search index does not match the stored text",
                "`handover doctor --fix` rebuilds it",
                fixable=True,
            )
        )


def _blobs(conn: sqlite3.Connection, settings: Settings, report: Report) -> None:
    root = settings.blob_dir
    referenced: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in conn.execute(
        """SELECT s.sha256, s.size, s.id, s.filename, d.slug FROM sources s
           JOIN deals d ON d.id = s.deal_id WHERE s.purged_at IS NULL ORDER BY s.id"""
    ):
        referenced[row[0]].append(row)
    hashed = 0
    for sha, rows in referenced.items():
        _, size, source_id, filename, slug = rows[0]
        owner = f"source {source_id} ({filename}) of {slug}"
        if len(rows) > 1:
            owner += f" and {len(rows) - 1} more"
        path = _blob_path(root, sha)
        if path is None or not path.is_file():
            shown = f"blobs/{sha[:2]}/{sha[2:10]}…" if path else repr(sha)
            report.findings.append(
                Finding(
                    "blobs",
                    Severity.PROBLEM,
                    f"the original of {owner} is missing ({shown})",
                    f"{_RESTORE}: it puts back missing originals; or remove the source",
                )
            )
            continue
        actual_size = path.stat().st_size
        actual = sha256_file(path)
        hashed += actual_size
        if actual != sha or actual_size != size:
            report.findings.append(
                Finding(
                    "blobs",
                    Severity.PROBLEM,
                    f"the original of {owner} has changed: blobs/{sha[:2]}/{sha[2:10]}… now has "
                    f"sha256 {actual[:10]}… and {actual_size} bytes (the row says {size})",
                    f"{_RESTORE}: it replaces damaged originals",
                )
            )
    report.checks["blobs"] = f"{len(referenced)} original(s), {human_size(hashed)} hashed"

    stray = 0
    for path in blob_files(root):
        sha = path.parent.name + path.name
        if sha in referenced:
            continue
        stray += 1
        age = time.time() - path.stat().st_mtime
        young = age < GRACE_SECONDS
        report.findings.append(
            Finding(
                "orphan_blobs",
                Severity.WARNING if young else Severity.PROBLEM,
                f"blobs/{sha[:2]}/{sha[2:10]}… is not the original of any source"
                + (f" (written {age:.0f} s ago: an add may be in flight)" if young else ""),
                "`handover doctor --fix` deletes it (a purge or an add was interrupted)",
                fixable=not young,
            )
        )
    report.checks["orphan_blobs"] = f"{stray} unreferenced file(s)"


def _blob_path(root: Path, sha: str) -> Path | None:
    if len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha):
        return None
    return root / sha[:2] / sha[2:]


def blob_files(root: Path) -> list[Path]:
    """Files laid out as originals (``ab/cdef…``); temp files are _temp_files' job."""
    if not root.is_dir():
        return []
    return sorted(
        f
        for d in root.iterdir()
        if d.is_dir() and len(d.name) == 2
        for f in d.iterdir()
        if f.is_file() and _blob_path(root, d.name + f.name) is not None
    )


def _rows(conn: sqlite3.Connection, report: Report) -> None:
    checked = []
    for table in _TEXT_TABLES:
        n = conn.execute(
            f"""SELECT count(*) FROM {table} t JOIN sources s ON s.id = t.source_id
                WHERE s.purged_at IS NOT NULL"""
        ).fetchone()[0]
        checked.append(table)
        if n:
            report.findings.append(
                Finding(
                    "rows",
                    Severity.PROBLEM,
                    f"{n} row(s) of {table} keep text of purged sources",
                    "`handover doctor --fix` deletes them, as the purge should have",
                    fixable=True,
                )
            )
    for source_id, filename, stage, n in conn.execute(
        """SELECT s.id, s.filename, s.stage, count(*) FROM segment_drafts g
           JOIN sources s ON s.id = g.source_id
           WHERE s.purged_at IS NULL AND s.stage IN ('extracting', 'tracing', 'done')
           GROUP BY s.id ORDER BY s.id"""
    ):
        report.findings.append(
            Finding(
                "rows",
                Severity.PROBLEM,
                f"source {source_id} ({filename}) is {stage} but {n} transcription draft(s) "
                "were left behind",
                "`handover doctor --fix` deletes them (its segments are published)",
                fixable=True,
            )
        )
    for item_id, slug in conn.execute(
        """SELECT i.id, d.slug FROM items i JOIN deals d ON d.id = i.deal_id
           WHERE i.manual = 0 AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.item_id = i.id)
           ORDER BY i.id"""
    ):
        report.findings.append(
            Finding(
                "rows",
                Severity.PROBLEM,
                f"item {item_id} of {slug} has no mention: it came from nothing",
                f"`handover doctor --fix` deletes it, then `handover process {slug}` "
                "derives the deal's items again",
                fixable=True,
            )
        )
    for slug, n in conn.execute(
        """SELECT d.slug, count(*) FROM items i JOIN deals d ON d.id = i.deal_id
           WHERE i.manual = 0 AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.deal_id = d.id
             AND s.removed_at IS NULL AND s.purged_at IS NULL)
           GROUP BY d.id ORDER BY d.slug"""
    ):
        report.findings.append(
            Finding(
                "rows",
                Severity.WARNING,
                f"{slug} has {n} item(s) but no source left",
                f"`handover process {slug}` derives its items again",
            )
        )
    checked.append("items")
    report.checks["rows"] = ", ".join(checked)


def _leases(conn: sqlite3.Connection, report: Report) -> None:
    host = socket.gethostname()
    held: dict[str, tuple[str, int]] = {}
    rows = conn.execute("SELECT name, host, pid, acquired_at FROM locks ORDER BY name").fetchall()
    for name, lease_host, pid, since in rows:
        if lease_host == host and not _pid_alive(pid):
            report.findings.append(
                Finding(
                    "leases",
                    Severity.WARNING,
                    f"lease {name} is held by pid {pid}, which is gone (since {since})",
                    "the next run takes it over; `handover doctor --fix` removes it",
                    fixable=True,
                )
            )
        else:
            held[name] = (lease_host, pid)
    for source_id, filename, stage, slug in conn.execute(
        """SELECT s.id, s.filename, s.stage, d.slug FROM sources s JOIN deals d
           ON d.id = s.deal_id WHERE s.stage IN ('transcribing', 'extracting', 'tracing')
           AND s.removed_at IS NULL AND s.purged_at IS NULL ORDER BY s.id"""
    ):
        if f"process:{slug}" in held:
            continue  # a live run is on it
        report.findings.append(
            Finding(
                "leases",
                Severity.WARNING,
                f"source {source_id} ({filename}) of {slug} stopped at {stage}: a run was "
                "interrupted",
                f"`handover process {slug}` carries on from there (the worker does by itself)",
            )
        )
    report.checks["leases"] = f"{len(rows)} lease(s)"


def _temp_files(settings: Settings, report: Report) -> None:
    old = 0
    for path in _temp_candidates(settings):
        age = time.time() - path.stat().st_mtime
        if age < GRACE_SECONDS:
            continue  # an add or an upload streaming in right now
        old += 1
        report.findings.append(
            Finding(
                "temp_files",
                Severity.WARNING,
                f"{path.relative_to(settings.home)} is a leftover temp file "
                f"({human_size(path.stat().st_size)}, {age / 3600:.1f} h old)",
                "`handover doctor --fix` deletes it",
                fixable=True,
            )
        )
    report.checks["temp_files"] = f"{old} leftover(s)"


def _temp_candidates(settings: Settings) -> list[Path]:
    """Blob files being written (``.incoming-*``) and web uploads streaming in."""
    found = list(settings.blob_dir.glob(".incoming-*")) if settings.blob_dir.is_dir() else []
    tmp = settings.home / "tmp"
    if tmp.is_dir():
        found += [p for p in tmp.iterdir() if p.is_file()]
    return sorted(found)


def repair(settings: Settings) -> list[str]:
    """Fix what ``examine`` marks fixable; returns one line per thing done. A damaged
    database is left alone (a restore is the repair for that)."""
    if not settings.db_path.is_file():
        return []
    with _connect(settings.db_path) as conn:
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise HandoverError(
                "the database is damaged, so --fix changes nothing; "
                "restore the latest backup (`handover restore PATH`)"
            )
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = _repair_rows(conn)
            live = {r[0] for r in conn.execute(_LIVE_SHAS)}
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    # Files after the commit: a crash here leaves at worst what doctor finds again.
    now = time.time()
    for path in blob_files(settings.blob_dir):
        sha = path.parent.name + path.name
        if sha not in live and now - path.stat().st_mtime >= GRACE_SECONDS:
            path.unlink()
            done.append(f"deleted orphan blob blobs/{sha[:2]}/{sha[2:10]}…")
    for path in _temp_candidates(settings):
        if now - path.stat().st_mtime >= GRACE_SECONDS:
            path.unlink(missing_ok=True)
            done.append(f"deleted temp file {path.relative_to(settings.home)}")
    return done


def _repair_rows(conn: sqlite3.Connection) -> list[str]:
    done = []
    # Rows whose parent is gone get what their foreign key's ON DELETE says.
    for table, rowid, parent, fkid in conn.execute("PRAGMA foreign_key_check").fetchall():
        fk = [r for r in conn.execute(f"PRAGMA foreign_key_list({table})") if r[0] == fkid]
        column, action = fk[0][3], fk[0][6]
        if action == "SET NULL":
            conn.execute(f'UPDATE {table} SET "{column}" = NULL WHERE rowid = ?', [rowid])
        else:
            conn.execute(f"DELETE FROM {table} WHERE rowid = ?", [rowid])
        done.append(f"{table} row {rowid}: its {parent} row is gone ({action.lower()})")
    for table in _TEXT_TABLES:
        n = conn.execute(
            f"""DELETE FROM {table} WHERE source_id IN
                (SELECT id FROM sources WHERE purged_at IS NOT NULL)"""
        ).rowcount
        if n:
            done.append(f"deleted {n} row(s) of {table} of purged sources")
    n = conn.execute(
        """DELETE FROM segment_drafts WHERE source_id IN (SELECT id FROM sources
           WHERE stage IN ('extracting', 'tracing', 'done'))"""
    ).rowcount
    if n:
        done.append(f"deleted {n} leftover transcription draft(s)")
    # An item with no mention is rebuilt from the extractions by the next trace;
    # decisions are kept (they re-attach by id).
    for item_id, deal_id in conn.execute(
        """SELECT i.id, i.deal_id FROM items i WHERE i.manual = 0
           AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.item_id = i.id)"""
    ).fetchall():
        conn.execute("DELETE FROM items WHERE id = ?", [item_id])
        conn.execute(
            "UPDATE deals SET traced_at = NULL, traced_event = NULL WHERE id = ?", [deal_id]
        )
        done.append(f"deleted item {item_id} (no mention); its deal is traced again next run")
    host = socket.gethostname()
    for name, pid in conn.execute("SELECT name, pid FROM locks WHERE host = ?", [host]).fetchall():
        if not _pid_alive(pid):
            conn.execute("DELETE FROM locks WHERE name = ?", [name])
            done.append(f"removed lease {name} of pid {pid} (gone)")
    try:
        conn.execute("INSERT INTO segments_fts(segments_fts, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError:
        conn.execute("INSERT INTO segments_fts(segments_fts) VALUES ('rebuild')")
        done.append("rebuilt the search index")
    return done
