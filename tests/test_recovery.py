"""A `handover process` killed with SIGKILL leaves no partial segments, and the next
run redoes the source. Real processes, real kills, the real Whisper model."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AUDIO

SLUG = "acme"


def _run(home: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HANDOVER_HOME": str(home)}
    env.pop("HANDOVER_TEST_KILL_AT", None)
    if kill_at:
        env["HANDOVER_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "handover", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _rows(home: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(home / "handover.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> list[tuple]:
    """The segments an uninterrupted run produces, to compare recovered runs against."""
    home = tmp_path_factory.mktemp("clean")
    _run(home, "deal", "add", SLUG, "--name", "A", "--customer", "C", "--vendor", "V")
    _run(home, "add", SLUG, str(AUDIO / "dialogue.ogg"))
    assert _run(home, "process", SLUG).returncode == 0
    return _rows(home, 'SELECT ordinal, start, "end", text FROM segments ORDER BY ordinal')


@pytest.mark.parametrize("kill_at", ["transcribe:2", "publish"])
def test_kill_mid_transcription_leaves_nothing_partial(tmp_path: Path, clean_run, kill_at) -> None:
    home = tmp_path
    _run(home, "deal", "add", SLUG, "--name", "A", "--customer", "C", "--vendor", "V")
    assert _run(home, "add", SLUG, str(AUDIO / "dialogue.ogg")).returncode == 0

    killed = _run(home, "process", SLUG, kill_at=kill_at)
    assert killed.returncode == -signal.SIGKILL
    assert _rows(home, "SELECT stage FROM sources") == [("transcribing",)]
    assert _rows(home, "SELECT count(*) FROM segments") == [(0,)]  # nothing half-written
    if kill_at == "publish":
        assert _rows(home, "SELECT count(*) FROM segment_drafts")[0][0] == len(clean_run)
    listed = json.loads(_run(home, "transcript", SLUG, "-f", "json").stdout)
    assert listed["sources"][0]["segments"] == []

    again = _run(home, "process", SLUG)
    assert again.returncode == 0, again.stderr
    assert _rows(home, "SELECT stage FROM sources") == [("done",)]
    assert _rows(home, "SELECT count(*) FROM segment_drafts") == [(0,)]
    assert (
        _rows(home, 'SELECT ordinal, start, "end", text FROM segments ORDER BY ordinal')
        == clean_run
    )
    assert _rows(home, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(home, "SELECT count(*) FROM locks") == [(0,)]
