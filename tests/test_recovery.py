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


CALL = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Ana Ruiz>We will migrate all twelve mailboxes over the weekend.

00:00:06.000 --> 00:00:10.000
<v Ben Ode>Our biggest worry is losing calendar invites.
"""
SOW = "# Scope\n\n## 1 Services\n\n1.1 Migration of 12 mailboxes over one weekend.\n"
ITEMS_SQL = "SELECT id, auto_status, suspect FROM items ORDER BY id"


def _text_deal(home: Path) -> None:
    (home / "in").mkdir(parents=True, exist_ok=True)
    (home / "in" / "call.vtt").write_text(CALL)
    (home / "in" / "sow.md").write_text(SOW)
    _run(home, "deal", "add", SLUG, "--name", "A", "--customer", "C", "--vendor", "V")
    _run(home, "people", SLUG, "--vendor", "Ana Ruiz", "--customer", "Ben Ode")
    assert _run(home, "add", SLUG, str(home / "in" / "call.vtt")).returncode == 0
    assert _run(home, "add", SLUG, str(home / "in" / "sow.md"), "--as", "scope").returncode == 0


@pytest.mark.parametrize(("kill_at", "stage"), [("extract", "extracting"), ("derive", "tracing")])
def test_kill_during_extraction_or_trace_recovers_to_the_clean_result(
    tmp_path: Path, kill_at: str, stage: str
) -> None:
    clean, home = tmp_path / "clean", tmp_path / "killed"
    _text_deal(clean)
    assert _run(clean, "process", SLUG).returncode == 0
    expected = _rows(clean, ITEMS_SQL)
    assert expected

    _text_deal(home)
    killed = _run(home, "process", SLUG, kill_at=kill_at)
    assert killed.returncode == -signal.SIGKILL
    assert stage in {s for (s,) in _rows(home, "SELECT stage FROM sources")}
    assert _rows(home, "SELECT count(*) FROM items") == [(0,)]  # nothing half-derived

    again = _run(home, "process", SLUG)
    assert again.returncode == 0, again.stderr
    assert _rows(home, ITEMS_SQL) == expected
    assert _rows(home, "SELECT DISTINCT stage FROM sources") == [("done",)]
    assert _rows(home, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(home, "SELECT count(*) FROM locks") == [(0,)]
