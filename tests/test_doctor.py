"""`handover doctor`: a sound home passes; damaged originals, orphans, leftovers and a
damaged database are found, named in one line each, and exit 1; `--fix` repairs only
what is safe to repair. The damage is done by hand to a real home."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handover.store import SCHEMA_VERSION

SLUG = "acme"
CALL = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Ana Ruiz>We will migrate all twelve mailboxes over the weekend.

00:00:06.000 --> 00:00:10.000
<v Ben Ode>Our biggest worry is losing calendar invites.
"""
NOTES = "# Notes\n\n- Ben wants calendar invites kept.\n- We'll send a weekly report.\n"
SOW = "# Scope\n\n## 1 Services\n\n1.1 Migration of 12 mailboxes over one weekend.\n"
HOUR_AGO = time.time() - 3600


@pytest.fixture
def deal(cli, tmp_path: Path) -> Path:
    """A deal with a transcript (1), notes (2) and a scope document (3), not processed."""
    files = tmp_path / "in"
    files.mkdir()
    (files / "call.vtt").write_text(CALL)
    (files / "notes.md").write_text(NOTES)
    (files / "sow.md").write_text(SOW)
    assert cli("deal", "add", SLUG, "--name", "A", "--customer", "C", "--vendor", "V").code == 0
    assert cli("add", SLUG, files / "call.vtt").code == 0
    assert cli("add", SLUG, files / "notes.md").code == 0
    assert cli("add", SLUG, files / "sow.md", "--as", "scope").code == 0
    return files


def _doctor(cli, *args: str) -> tuple[int, dict]:
    done = cli("doctor", "--json", *args)
    return done.code, json.loads(done.out)


def _found(doc: dict) -> set[tuple[str, str]]:
    return {(f["check"], f["severity"]) for f in doc["findings"]}


def _sql(home: Path, sql: str, params: tuple = (), *, foreign_keys: bool = True) -> list[tuple]:
    conn = sqlite3.connect(home / "handover.db", isolation_level=None)
    try:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _blob(home: Path, source: int) -> Path:
    (sha,) = _sql(home, "SELECT sha256 FROM sources WHERE id = ?", (source,))[0]
    return home / "blobs" / sha[:2] / sha[2:]


def _dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()
    return gone.pid


@pytest.mark.slow
def test_a_sound_processed_home_passes(cli, deal, home: Path) -> None:
    assert cli("process", SLUG).code == 0
    text = cli("doctor")
    assert text.code == 0, text.out
    assert "0 problem(s), 0 warning(s): this home is intact" in text.out
    code, doc = _doctor(cli)
    assert code == 0
    assert doc["schema_version"] == 1 and doc["ok"] is True
    assert (doc["problems"], doc["warnings"], doc["findings"]) == (0, 0, [])
    names = [c["name"] for c in doc["checks"]]
    assert names == [
        "database",
        "integrity",
        "foreign_keys",
        "search_index",
        "blobs",
        "orphan_blobs",
        "rows",
        "leases",
        "temp_files",
    ]
    assert {c["status"] for c in doc["checks"]} == {"ok"}
    assert "3 original(s)" in doc["checks"][4]["summary"]


def test_changed_missing_and_orphan_blobs_are_problems(cli, deal, home: Path) -> None:
    changed, missing = _blob(home, 1), _blob(home, 2)
    os.chmod(changed, 0o644)
    data = bytearray(changed.read_bytes())
    data[10] ^= 0x20  # one bit of one byte
    changed.write_bytes(bytes(data))
    missing.unlink()
    old = b"bytes no source refers to"
    orphan = (
        home / "blobs" / hashlib.sha256(old).hexdigest()[:2] / hashlib.sha256(old).hexdigest()[2:]
    )
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(old)
    os.utime(orphan, (HOUR_AGO, HOUR_AGO))
    young = b"an add still in flight"
    sha = hashlib.sha256(young).hexdigest()
    in_flight = home / "blobs" / sha[:2] / sha[2:]
    in_flight.parent.mkdir(parents=True, exist_ok=True)
    in_flight.write_bytes(young)

    code, doc = _doctor(cli)
    assert code == 1 and doc["ok"] is False
    messages = {f["message"]: f for f in doc["findings"]}
    (bad,) = [m for m in messages if "source 1 (call.vtt)" in m]
    assert "has changed" in bad and messages[bad]["severity"] == "problem"
    (gone,) = [m for m in messages if "source 2 (notes.md)" in m]
    assert "is missing" in gone and "handover restore" in messages[gone]["fix"]
    assert _found(doc) == {
        ("blobs", "problem"),
        ("orphan_blobs", "problem"),
        ("orphan_blobs", "warning"),
    }
    assert all("\n" not in f["message"] + f["fix"] for f in doc["findings"])  # one line each
    text = cli("doctor")
    assert text.code == 1 and "PROBLEM" in text.out and "→" in text.out

    # --fix deletes the old orphan only; a changed or missing original needs a backup.
    code, doc = _doctor(cli, "--fix")
    assert code == 1
    assert not orphan.exists() and in_flight.exists()
    assert _found(doc) == {("blobs", "problem"), ("orphan_blobs", "warning")}


@pytest.mark.slow
def test_orphan_rows_leftovers_and_stale_leases_are_found_and_fixed(cli, deal, home: Path) -> None:
    assert cli("process", SLUG).code == 0
    assert cli("purge", SLUG, "2", "--yes").code == 0
    # What interrupted or buggy writes could leave behind:
    _sql(home, "INSERT INTO segments(source_id, ordinal, text) VALUES (2, 99, 'kept text')")
    _sql(home, "INSERT INTO segment_drafts(source_id, ordinal, text) VALUES (1, 0, 'draft')")
    (item,) = _sql(home, "SELECT id FROM items WHERE manual = 0 ORDER BY id LIMIT 1")[0]
    _sql(home, "DELETE FROM mentions WHERE item_id = ?", (item,))
    _sql(
        home,
        "INSERT INTO mentions(item_id, source_id, quote) VALUES ('c-gone', 1, 'x')",
        foreign_keys=False,
    )
    segment, text, speaker = _sql(home, "SELECT id, text, speaker FROM segments LIMIT 1")[0]
    _sql(
        home,
        "INSERT INTO segments_fts(segments_fts, rowid, text, speaker) VALUES ('delete', ?, ?, ?)",
        (segment, text, speaker),
    )
    _sql(
        home,
        "INSERT INTO locks(name, host, pid, acquired_at) VALUES (?, ?, ?, ?)",
        (f"process:{SLUG}", socket.gethostname(), _dead_pid(), "2026-11-24T00:00:00Z"),
    )
    _sql(home, "UPDATE sources SET stage = 'extracting' WHERE id = 3")
    upload = home / "tmp" / "upload-0123"
    upload.parent.mkdir()
    upload.write_bytes(b"half an upload")
    os.utime(upload, (HOUR_AGO, HOUR_AGO))

    code, doc = _doctor(cli)
    assert code == 1
    assert _found(doc) == {
        ("foreign_keys", "problem"),
        ("search_index", "problem"),
        ("rows", "problem"),
        ("leases", "warning"),
        ("temp_files", "warning"),
    }
    rows = " | ".join(f["message"] for f in doc["findings"] if f["check"] == "rows")
    assert "row(s) of segments keep text of purged sources" in rows
    assert "source 1 (call.vtt) is done but 1 transcription draft(s)" in rows
    assert f"item {item} of {SLUG} has no mention" in rows
    leases = " | ".join(f["message"] for f in doc["findings"] if f["check"] == "leases")
    assert f"lease process:{SLUG} is held by pid" in leases and "which is gone" in leases
    assert "source 3 (sow.md) of acme stopped at extracting" in leases

    fixed = cli("doctor", "--fix")
    assert fixed.code == 0, fixed.out
    assert "rebuilt the search index" in fixed.err
    code, doc = _doctor(cli)
    assert code == 0
    # Left for `handover process`: the source a run stopped in the middle of.
    assert [(f["check"], f["message"]) for f in doc["findings"]] == [
        ("leases", "source 3 (sow.md) of acme stopped at extracting: a run was interrupted")
    ]
    assert _sql(home, "SELECT count(*) FROM segments WHERE source_id = 2") == [(0,)]
    assert _sql(home, "SELECT count(*) FROM segment_drafts") == [(0,)]
    assert _sql(home, "SELECT count(*) FROM mentions WHERE item_id = 'c-gone'") == [(0,)]
    assert _sql(home, "SELECT count(*) FROM locks") == [(0,)]
    assert _sql(home, "SELECT traced_at FROM deals") == [(None,)]  # traced again next run
    assert not upload.exists()
    # The next run re-derives the item that had lost its mention.
    assert cli("process", SLUG).code == 0
    assert _sql(home, "SELECT count(*) FROM mentions WHERE item_id = ?", (item,))[0][0] > 0
    code, doc = _doctor(cli)
    assert (code, doc["findings"]) == (0, [])


def test_a_damaged_database_is_a_problem_and_fix_leaves_it_alone(cli, deal, home: Path) -> None:
    _sql(home, "PRAGMA wal_checkpoint(TRUNCATE)")
    (page,) = _sql(home, "SELECT rootpage FROM sqlite_master WHERE name = 'sources'")[0]
    (size,) = _sql(home, "PRAGMA page_size")[0]
    db = home / "handover.db"
    data = bytearray(db.read_bytes())
    # A leaf page header whose cells point past the end of the page.
    data[(page - 1) * size : (page - 1) * size + 8] = b"\x0d\x00\x00\x00\x03\x0f\xff\x00"
    db.write_bytes(bytes(data))

    code, doc = _doctor(cli)
    assert code == 1
    (damage,) = [f for f in doc["findings"] if f["check"] == "integrity"]
    assert damage["message"].startswith("the database is damaged: ")
    assert "\n" not in damage["message"] and "handover restore" in damage["fix"]
    # Rows that seem to point at nothing on a damaged file are symptoms: not listed.
    assert "foreign_keys" not in {c["name"] for c in doc["checks"]}
    before = db.read_bytes()
    fixed = cli("doctor", "--fix")
    assert fixed.code == 1
    assert fixed.err.startswith("error: the database is damaged, so --fix changes nothing")
    assert db.read_bytes() == before


def test_no_database_and_a_newer_schema_are_problems(cli, home: Path, tmp_path: Path) -> None:
    code, doc = _doctor(cli)
    assert code == 1
    assert doc["findings"][0]["message"] == f"no database at {home / 'handover.db'}"
    assert not (home / "handover.db").exists()  # doctor creates nothing

    assert cli("deal", "add", SLUG, "--name", "A", "--customer", "C", "--vendor", "V").code == 0
    _sql(home, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    code, doc = _doctor(cli)
    assert code == 1
    assert "is newer than this handover" in doc["findings"][0]["message"]
