"""`handover backup` and `handover restore`: an online copy that is whole or absent,
taken while other processes write (one frozen mid-transcription, inside a write
transaction); a restore that checks every byte first, changes nothing when the
backup is damaged or a run is live, keeps the previous home, and ends with a home
that `doctor` passes and `process` completes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import AUDIO, CliResult, run_cli
from tests.test_faults import CALL, SLUG, SOW, dump

NOTES = "# Notes\n\n- Ben wants calendar invites kept.\n"


@pytest.fixture
def handover(capsys: pytest.CaptureFixture[str]):
    """Run the real `handover` entry point in-process against any home."""

    def run(home: Path, *args: str | os.PathLike[str]) -> CliResult:
        capsys.readouterr()
        code = run_cli(home, *args)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def _text_deal(handover, home: Path, slug: str = SLUG) -> None:
    files = home.parent / f"{home.name}-in"
    files.mkdir(parents=True, exist_ok=True)
    (files / "call.vtt").write_text(CALL)
    (files / "notes.md").write_text(NOTES + slug)  # other bytes per deal
    (files / "sow.md").write_text(SOW)
    assert (
        handover(home, "deal", "add", slug, "--name", "A", "--customer", "C", "--vendor", "V").code
        == 0
    )
    assert handover(home, "add", slug, files / "call.vtt").code == 0
    assert handover(home, "add", slug, files / "notes.md").code == 0
    assert handover(home, "add", slug, files / "sow.md", "--as", "scope").code == 0


def _files(home: Path) -> dict[str, str]:
    """What a home holds, to show a refused restore touched nothing: every original
    byte for byte, the database row for row (SQLite may fold its WAL into the file
    whenever a connection closes, which changes bytes but no row)."""
    found = {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file() and not p.name.startswith("handover.db")
    }
    conn = sqlite3.connect(home / "handover.db")
    try:
        found["handover.db"] = "\n".join(conn.iterdump())
    finally:
        conn.close()
    return found


def _flip(path: Path, at: int) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_backup_is_the_database_the_originals_and_a_manifest(handover, tmp_path: Path) -> None:
    home, target = tmp_path / "home", tmp_path / "backups" / "monday"
    _text_deal(handover, home)
    done = handover(home, "backup", target)
    assert done.code == 0, done.err
    assert "1 deal(s), 3 source(s), 3 original(s)" in done.out
    assert not target.with_name("monday.partial").exists()

    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["format"] == "handover-backup" and manifest["schema_version"] == 3
    assert manifest["handover_version"] and manifest["created_at"].endswith("Z")
    assert {f["path"] for f in manifest["files"]} == {"handover.db"} | {
        str(p.relative_to(target)) for p in (target / "blobs").rglob("*") if p.is_file()
    }
    for entry in manifest["files"]:
        data = (target / entry["path"]).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry["sha256"], entry["size"])
    copy = sqlite3.connect(target / "handover.db")
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
    assert copy.execute("SELECT count(*) FROM sources").fetchone()[0] == 3
    copy.close()

    # Never over an existing backup; an empty directory is fine.
    again = handover(home, "backup", target)
    assert again.code == 1 and "already exists and is not empty" in again.err
    (tmp_path / "empty").mkdir()
    assert handover(home, "backup", tmp_path / "empty").code == 0


def test_a_killed_backup_never_looks_complete(handover, tmp_path: Path) -> None:
    home, target = tmp_path / "home", tmp_path / "bk"
    _text_deal(handover, home)
    env = {**os.environ, "HANDOVER_HOME": str(home), "HANDOVER_TEST_KILL_AT": "backup.copy:2"}
    killed = subprocess.run(
        [sys.executable, "-m", "handover", "backup", str(target)], env=env, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL
    assert not target.exists() and (tmp_path / "bk.partial").is_dir()
    refused = handover(tmp_path / "other", "restore", tmp_path / "bk.partial")
    assert refused.code == 1
    assert "no manifest.json (an interrupted backup)" in refused.err
    # The next backup to the same PATH clears the half-written one.
    assert handover(home, "backup", target).code == 0
    assert not (tmp_path / "bk.partial").exists()


def test_a_backup_of_a_home_missing_an_original_fails_and_leaves_nothing(
    handover, tmp_path: Path
) -> None:
    home, target = tmp_path / "home", tmp_path / "bk"
    _text_deal(handover, home)
    next(p for p in (home / "blobs").rglob("*") if p.is_file()).unlink()
    failed = handover(home, "backup", target)
    assert failed.code == 1
    assert "is missing from" in failed.err and "run `handover doctor`" in failed.err
    assert not target.exists() and not (tmp_path / "bk.partial").exists()


def test_restore_keeps_the_previous_home_and_passes_doctor(handover, tmp_path: Path) -> None:
    home, other, target = tmp_path / "home", tmp_path / "other", tmp_path / "bk"
    _text_deal(handover, home)
    assert handover(home, "backup", target).code == 0
    _text_deal(handover, other, slug="globex")

    done = handover(other, "restore", target, "--yes")
    assert done.code == 0, done.out + done.err
    assert "this home is intact" in done.out
    assert "1 original(s) copied, 2 already here" in done.out  # the same call.vtt and sow.md
    deals = json.loads(handover(other, "deal", "list", "--json").out)["deals"]
    assert [d["slug"] for d in deals] == [SLUG]
    (previous,) = other.glob("before-restore-*")
    kept = json.loads(handover(previous, "deal", "list", "--json").out)["deals"]
    assert [d["slug"] for d in kept] == ["globex"]
    assert handover(previous, "doctor").code == 0  # the kept home has its originals
    rows = sqlite3.connect(other / "handover.db").execute(
        "SELECT detail FROM events WHERE action = 'home.restore'"
    )
    assert json.loads(rows.fetchone()[0])["previous_home"] == previous.name


def test_a_damaged_backup_is_refused_and_changes_nothing(handover, tmp_path: Path) -> None:
    home, other = tmp_path / "home", tmp_path / "other"
    _text_deal(handover, home)
    _text_deal(handover, other, slug="globex")
    before = _files(other)

    for n, damage in enumerate(["blob", "db", "short", "manifest"]):
        target = tmp_path / f"bk{n}"
        assert handover(home, "backup", target).code == 0
        blob = next(p for p in (target / "blobs").rglob("*") if p.is_file())
        if damage == "blob":
            _flip(blob, 3)
        elif damage == "db":
            _flip(target / "handover.db", 5000)
        elif damage == "short":
            os.chmod(blob, 0o644)
            blob.write_bytes(blob.read_bytes()[:-1])
        else:
            (target / "manifest.json").unlink()
        refused = handover(other, "restore", target, "--yes")
        assert refused.code == 1
        assert refused.err.count("\n") == 1 and refused.err.startswith("error: ")
        if damage == "manifest":
            assert "no manifest.json; this is not a handover backup" in refused.err
        else:
            why = "size differs" if damage == "short" else "sha256 differs"
            assert f"does not match the manifest ({why}); this backup is damaged" in refused.err
        assert _files(other) == before


def test_a_killed_restore_leaves_the_home_as_it_was_and_runs_again(
    handover, tmp_path: Path
) -> None:
    home, other = tmp_path / "home", tmp_path / "other"
    _text_deal(handover, home)
    assert handover(home, "backup", tmp_path / "bk").code == 0
    _text_deal(handover, other, slug="globex")
    before = _files(other)
    env = {**os.environ, "HANDOVER_HOME": str(other), "HANDOVER_TEST_KILL_AT": "restore.copy"}
    killed = subprocess.run(
        [sys.executable, "-m", "handover", "restore", str(tmp_path / "bk"), "--yes"],
        env=env,
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGKILL
    # Originals are copied in before the database is swapped: the old home is whole,
    # plus the one original it copied (new, so only a warning).
    after = _files(other)
    assert {k: v for k, v in after.items() if k in before} == before
    assert len(after) == len(before) + 1
    assert handover(other, "doctor").code == 0
    done = handover(other, "restore", tmp_path / "bk", "--yes")
    assert done.code == 0 and "this home is intact" in done.out


def test_restore_is_refused_while_a_worker_runs(handover, tmp_path: Path) -> None:
    home, other = tmp_path / "home", tmp_path / "other"
    _text_deal(handover, home)
    assert handover(home, "backup", tmp_path / "bk").code == 0
    _text_deal(handover, other, slug="globex")
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        conn = sqlite3.connect(other / "handover.db", isolation_level=None)
        conn.execute(
            "INSERT INTO locks(name, host, pid, acquired_at) VALUES ('worker', ?, ?, ?)",
            [socket.gethostname(), worker.pid, "2026-11-24T00:00:00Z"],
        )
        conn.close()
        before = _files(other)
        refused = handover(other, "restore", tmp_path / "bk", "--yes")
        assert refused.code == 1
        assert f"error: worker is running in this home (pid {worker.pid}" in refused.err
        assert _files(other) == before
    finally:
        worker.kill()
        worker.wait()


WRITER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("PRAGMA busy_timeout = 30000")
while True:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO events(at, action, detail) VALUES (?, 'load', ?)",
                 ["2026-11-24T00:00:00Z", "x" * 2000])
    conn.execute("COMMIT")
"""


def test_backups_taken_while_another_process_writes_are_whole(handover, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _text_deal(handover, home)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(home / "handover.db")])
    try:
        time.sleep(0.5)
        counts = []
        for n in range(3):
            target = tmp_path / f"bk{n}"
            assert handover(home, "backup", target).code == 0
            copy = sqlite3.connect(target / "handover.db")
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            counts.append(copy.execute("SELECT count(*) FROM events").fetchone()[0])
            copy.close()
    finally:
        writer.kill()
        writer.wait()
    assert counts == sorted(counts) and counts[0] < counts[-1]  # it was writing throughout
    fresh = tmp_path / "restored"
    done = handover(fresh, "restore", tmp_path / "bk2")
    assert done.code == 0 and "this home is intact" in done.out


def _stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "T"


@pytest.mark.slow
def test_a_backup_taken_mid_transcription_restores_and_completes(handover, tmp_path: Path) -> None:
    """The run is frozen (SIGSTOP) inside the transaction that publishes the
    transcript, holding the write lock; the backup is taken then, through the CLI."""
    home, target, restored = tmp_path / "home", tmp_path / "bk", tmp_path / "restored"
    _text_deal(handover, home)
    assert handover(home, "add", SLUG, AUDIO / "dialogue.ogg").code == 0
    env = {**os.environ, "HANDOVER_HOME": str(home), "HANDOVER_TEST_STOP_AT": "publish.write"}
    run = subprocess.Popen(
        [sys.executable, "-m", "handover", "process", SLUG],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not _stopped(run.pid):
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        backup = subprocess.run(
            [sys.executable, "-m", "handover", "--home", str(home), "backup", str(target)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert backup.returncode == 0, backup.stderr
    finally:
        run.send_signal(signal.SIGCONT)
    assert run.wait(timeout=300) == 0, run.stderr.read()
    clean = dump(home)  # the run was paused, never killed: a clean run

    snapshot = sqlite3.connect(target / "handover.db")
    stages = snapshot.execute("SELECT id, stage FROM sources ORDER BY id").fetchall()
    drafts = snapshot.execute("SELECT count(*) FROM segment_drafts").fetchone()[0]
    recording = snapshot.execute("SELECT count(*) FROM segments WHERE source_id = 4").fetchone()
    leases = snapshot.execute("SELECT name FROM locks").fetchall()
    snapshot.close()
    assert stages == [(1, "tracing"), (2, "tracing"), (3, "tracing"), (4, "transcribing")]
    assert drafts > 0 and recording == (0,)  # mid-transcription, nothing half-published
    assert leases == [(f"process:{SLUG}",)]

    done = handover(restored, "restore", target)
    assert done.code == 0, done.out
    assert "0 problem(s)" in done.out and "stopped at transcribing" in done.out
    ran = subprocess.run(
        [sys.executable, "-m", "handover", "--home", str(restored), "process", SLUG],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    assert dump(restored) == clean
    checked = handover(restored, "doctor")
    assert checked.code == 0 and "this home is intact" in checked.out
