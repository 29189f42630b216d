"""`handover redact`: a span of a recording or a timed transcript is hidden from every
output and from extraction, the player plays silence there, and `purge` leaves nothing.

One deal is processed once for the module with the real models: dialogue.ogg (Whisper)
and a VTT call, with a distinctive word inside each redacted span ("dedicated" said at
00:00:10, "Zephyrine" written at 00:00:06) and words outside it that must survive.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient

from handover import auth, redact
from handover.blobs import BlobStore, sha256_file
from handover.config import Settings
from handover.errors import Conflict
from handover.store import Store
from handover.types import Stage
from handover.web import CSRF_HEADER, SESSION_COOKIE, create_app
from tests.conftest import AUDIO, CliResult

SLUG = "acme"
HIDDEN = ("dedicated", "zephyrine")  # said inside the redacted spans
KEPT = "supervisors"  # said outside them

CALL_VTT = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Ana Ruiz>We will migrate all twelve mailboxes over the weekend.

00:00:06.000 --> 00:00:10.000
<v Ben Ode>Our biggest worry is the Zephyrine invoices arriving late.

00:00:11.000 --> 00:00:15.000
<v Ben Ode>We need training for all twenty supervisors.
"""

SOW_MD = "# Scope\n\n## 1 Services\n\n1.1 Training for up to 10 supervisors.\n\n1.2 Migration.\n"
NOTES_MD = "# Notes\n\n- Ben wants the mailboxes moved in one weekend.\n"

# Every output a person or a machine reads, keyed by a name for the failure message.
OUTPUTS = {
    "transcript": ["transcript", SLUG],
    "transcript json": ["transcript", SLUG, "-f", "json"],
    "transcript 1 vtt": ["transcript", SLUG, "1", "-f", "vtt"],
    "transcript 1 srt": ["transcript", SLUG, "1", "-f", "srt"],
    "transcript 2 vtt": ["transcript", SLUG, "2", "-f", "vtt"],
    "search dedicated": ["search", SLUG, "dedicated project manager"],
    "search zephyrine": ["search", SLUG, "Zephyrine", "--json"],
    "items": ["items", SLUG],
    "items json": ["items", SLUG, "--json"],
    **{f"checklist {f}": ["checklist", SLUG, "-f", f] for f in ("html", "md", "csv", "json")},
    **{
        f"flag {f}": [
            "flag",
            SLUG,
            "--fail-on",
            "conflict,untraced,weak,traced,accepted,dismissed",
            "--format",
            f,
        ]
        for f in ("text", "md", "json")
    },
}


def _runner(home: Path) -> Callable[..., CliResult]:
    """The real `handover` entry point in-process, for a module-scoped home."""
    from handover.cli import main

    def run(*args: object) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(["--home", str(home), *map(str, args)])
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


def _rows(home: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(home / "handover.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _session_client(settings: Settings) -> TestClient:
    """A web client signed in as a delivery lead (who may see every deal)."""
    store = Store.open(settings.db_path)
    try:
        user = auth.add_user(store, "lee", "lead", "a long enough password 1")
        token, csrf = auth.start_session(store, user)
    finally:
        store.close()
    client = TestClient(create_app(settings))
    client.cookies.set(SESSION_COOKIE, token)
    client.headers[CSRF_HEADER] = csrf
    return client


@pytest.fixture(scope="module")
def deal(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The deal processed, one item decided, then both spans redacted."""
    home = tmp_path_factory.mktemp("redact") / "home"
    files = home.parent / "in"
    files.mkdir()
    (files / "call.vtt").write_text(CALL_VTT)
    (files / "sow.md").write_text(SOW_MD)
    (files / "notes.md").write_text(NOTES_MD)
    run = _runner(home)
    assert run("deal", "add", SLUG, "--name", "A", "--customer", "C", "--vendor", "V").code == 0
    run("people", SLUG, "--vendor", "Ana Ruiz", "--customer", "Ben Ode")
    for path, kind in [
        (AUDIO / "dialogue.ogg", "recording"),
        (files / "call.vtt", "transcript"),
        (files / "sow.md", "scope"),
        (files / "notes.md", "notes"),
    ]:
        args = ["--as", kind] if kind == "scope" else []
        assert run("add", SLUG, path, *args).code == 0
    assert run("process", SLUG).code == 0

    before = json.loads(run("items", SLUG, "--json").out)["items"]
    said = " ".join(i["text"] for i in before).lower()
    assert all(word in said for word in HIDDEN)  # otherwise this test proves nothing
    decided = next(i["id"] for i in before if "dedicated" in i["text"].lower())
    assert run("review", SLUG, decided, "--decision", "accepted-gap", "--by", "Lee").code == 0
    blob = BlobStore(home / "blobs").path(_rows(home, "SELECT sha256 FROM sources")[0][0])

    redacted = [
        run(
            "redact", SLUG, "1", "--from", "0:10", "--to", "0:12", "--reason", "chat", "--by", "ops"
        ),
        run("redact", SLUG, "2", "--from", "00:06", "--to", "00:08", "--by", "ops"),
    ]
    outputs = {name: run(*args) for name, args in OUTPUTS.items()}
    return {
        "home": home,
        "run": run,
        "redacted": redacted,
        "outputs": outputs,
        "decided": decided,
        "blob": blob,
        "settings": Settings.load(home),
    }


def test_redact_reports_what_it_hid_and_derives_the_items_again(deal) -> None:
    one, two = deal["redacted"]
    assert one.code == 0, one.err
    assert "source 1 00:00:10–00:00:12 redacted: 1 segment(s) hidden" in one.out
    assert "items" in one.out  # `process` ran: the deal's items were derived again
    assert two.code == 0 and "1 segment(s) hidden" in two.out
    assert _rows(deal["home"], "SELECT DISTINCT stage FROM sources") == [("done",)]


def test_redacted_words_reach_no_output_and_no_table(deal) -> None:
    home = deal["home"]
    for name, result in deal["outputs"].items():
        assert result.code in (0, 1), (name, result.err)  # flag exits 1 when it flags
        text = (result.out + result.err).lower()
        for arg in OUTPUTS[name]:  # a search echoes its query; nothing else may say the words
            text = text.replace(arg.lower(), "")
        for word in HIDDEN:
            assert word not in text, f"{word!r} in `{name}`"
    outputs = deal["outputs"]
    for name in ("transcript", "transcript json", "items", "checklist html", "flag text"):
        assert KEPT in outputs[name].out.lower(), name
    assert "no matches" in outputs["search dedicated"].out
    assert json.loads(outputs["search zephyrine"].out)["hits"] == []
    assert KEPT in deal["run"]("search", SLUG, KEPT).out
    by_speaker = json.loads(deal["run"]("search", SLUG, "Ben Ode", "--json").out)["hits"]
    assert by_speaker and all(h["text"] for h in by_speaker)  # no blank, redacted hit

    tables = {
        "segments": "SELECT text FROM segments",
        "extractions": "SELECT text FROM extractions",
        "items": "SELECT text FROM items",
        "mentions": "SELECT quote FROM mentions",
        "decisions": "SELECT coalesce(item_text, '') FROM decisions",
    }
    for table, sql in tables.items():
        stored = " ".join(r[0] for r in _rows(home, sql)).lower()
        assert not any(word in stored for word in HIDDEN), table
    assert KEPT in " ".join(r[0] for r in _rows(home, tables["items"])).lower()
    match = "SELECT count(*) FROM segments_fts WHERE segments_fts MATCH ?"
    for word in HIDDEN:
        assert _rows(home, match, (word,)) == [(0,)], word
    assert _rows(home, match, (KEPT,))[0][0] >= 1


def test_transcripts_show_a_placeholder_with_the_times(deal) -> None:
    outputs = deal["outputs"]
    assert "] [redacted]" in outputs["transcript"].out
    doc = json.loads(outputs["transcript json"].out)
    hidden = [s for src in doc["sources"] for s in src["segments"] if s["redacted"]]
    assert len(hidden) == 2 and all(s["text"] == "[redacted]" for s in hidden)
    recording = next(s for s in hidden if s["speaker"] is None)
    assert recording["start"] < 12 and recording["end"] > 10  # the segment around the span
    assert (
        "00:00:06.000 --> 00:00:10.000\n<v Ben Ode>[redacted]</v>"
        in outputs["transcript 2 vtt"].out
    )
    assert "[redacted]" in outputs["transcript 1 srt"].out
    shown = [s for src in doc["sources"] for s in src["segments"] if not s["redacted"]]
    assert any(KEPT in s["text"] for s in shown)


def test_redactions_are_logged_and_listed(deal) -> None:
    events = _rows(
        deal["home"], "SELECT actor, detail FROM events WHERE action = 'source.redact' ORDER BY id"
    )
    assert [actor for actor, _ in events] == ["ops", "ops"]
    first = json.loads(events[0][1])
    assert (first["source"], first["start"], first["end"]) == (1, 10.0, 12.0)
    assert first["reason"] == "chat" and first["segments"] == 1
    listed = deal["run"]("redact", SLUG, "1", "--list")
    assert listed.code == 0
    assert "00:00:10" in listed.out and "00:00:12" in listed.out and "chat" in listed.out
    assert "no redactions" in deal["run"]("redact", SLUG, "3", "--list").out


def test_a_decision_on_a_redacted_item_keeps_its_row_without_the_words(deal) -> None:
    home = deal["home"]
    rows = _rows(home, "SELECT item_id, decision, item_text FROM decisions")
    assert rows == [(deal["decided"], "accepted-gap", "")]
    assert _rows(home, "SELECT count(*) FROM items WHERE id = ?", (deal["decided"],)) == [(0,)]
    doc = json.loads(deal["outputs"]["checklist json"].out)
    assert [(o["item_id"], o["text"]) for o in doc["orphaned_decisions"]] == [(deal["decided"], "")]
    assert not doc["stale"]


def test_refuses_what_it_cannot_redact_and_changes_nothing(deal) -> None:
    run, home = deal["run"], deal["home"]
    count = "SELECT count(*) FROM redactions"
    before = _rows(home, count)
    cases = [
        (["4", "--from", "0:01", "--to", "0:02"], 1, "without times"),  # notes
        (["3", "--from", "0:01", "--to", "0:02"], 1, "without times"),  # scope
        (["1", "--from", "0:30", "--to", "0:40"], 1, "after the end of source 1 (00:00:20)"),
        (["1", "--from", "0:05", "--to", "0:04"], 2, "--to must be after --from"),
        (["1", "--from", "0:05"], 2, "--from and --to"),
        (["1", "--from", "soon", "--to", "0:04"], 2, "is not a time"),
        (["99", "--from", "0:01", "--to", "0:02"], 1, "has no source 99"),
    ]
    for args, code, message in cases:
        result = run("redact", SLUG, *args)
        assert result.code == code, (args, result.out, result.err)
        assert message in " ".join(result.err.split()), (args, result.err)
    assert _rows(home, count) == before


def test_player_gets_silence_inside_the_span_and_the_original_is_untouched(deal) -> None:
    home, settings = deal["home"], deal["settings"]
    store = Store.open(settings.db_path)
    try:
        row = store.deal(SLUG)
        played = redact.playable_path(store, BlobStore(settings.blob_dir), settings, row, 1)
        again = redact.playable_path(store, BlobStore(settings.blob_dir), settings, row, 1)
        with pytest.raises(Conflict, match="redacted spans"):  # its original has the words
            redact.playable_path(store, BlobStore(settings.blob_dir), settings, row, 2)
        (start, end), kept = store.redacted_times(1)[0], store.segments(1)[-2]
    finally:
        store.close()
    assert played.silenced and played.media_type == "audio/wav"
    assert again.path == played.path and played.path.parent == home / "cache" / "redacted"
    sha = _rows(home, "SELECT sha256 FROM sources WHERE id = 1")[0][0]
    assert sha256_file(deal["blob"]) == sha  # the original is byte for byte what was added

    samples, rate = _decode(played.path.read_bytes())
    assert len(samples) / rate == pytest.approx(20.3, abs=0.1)  # the whole recording
    inside = _rms(samples, rate, start, end)
    outside = _rms(samples, rate, kept["start"], kept["end"])
    original, _ = _decode(deal["blob"].read_bytes())
    assert inside == 0.0 and _rms(original, rate, start, end) > 0.01  # speech was there
    assert outside > 0.01


def test_the_web_player_serves_the_silenced_copy_with_ranges(deal) -> None:
    settings = deal["settings"]
    client = _session_client(settings)
    store = Store.open(settings.db_path)
    try:
        path = redact.playable_path(
            store, BlobStore(settings.blob_dir), settings, store.deal(SLUG), 1
        ).path
    finally:
        store.close()
    whole = client.get(f"/deals/{SLUG}/sources/1/original")
    assert whole.status_code == 200 and whole.content == path.read_bytes()
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["cache-control"] == "no-store"  # no stale unsilenced copy
    part = client.get(f"/deals/{SLUG}/sources/1/original", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == path.read_bytes()[100:200]
    assert client.get(f"/deals/{SLUG}/sources/2/original").status_code == 409
    assert client.get(f"/deals/{SLUG}/sources/4/original").status_code == 200  # not redacted
    query = "dedicated Zephyrine"
    pages = [
        client.get(f"/deals/{SLUG}/sources/1"),
        client.get(f"/deals/{SLUG}/sources/2"),
        client.get(f"/deals/{SLUG}/search", params={"q": query}),
        client.get(f"/deals/{SLUG}/checklist"),
    ]
    for page in pages:
        assert page.status_code == 200
        shown = page.text.lower().replace(query.lower(), "")  # the search box echoes it
        assert not any(word in shown for word in HIDDEN), page.url
    assert "0 matches" in pages[2].text
    assert KEPT in pages[1].text


def test_retranscribing_never_brings_the_words_back(deal) -> None:
    home, settings = deal["home"], deal["settings"]
    store = Store.open(settings.db_path)
    try:
        for source_id in (1, 2):  # as a retry would: parse and transcribe from scratch
            store.set_stage(source_id, Stage.PENDING)
    finally:
        store.close()
    assert deal["run"]("process", SLUG).code == 0
    assert _rows(home, "SELECT count(*) FROM segments WHERE redacted = 1") == [(2,)]
    stored = " ".join(r[0] for r in _rows(home, "SELECT text FROM segments")).lower()
    items = " ".join(r[0] for r in _rows(home, "SELECT text FROM items")).lower()
    assert not any(word in stored + items for word in HIDDEN)
    assert KEPT in stored and KEPT in items


def test_purge_deletes_the_original_its_silenced_copy_and_its_words(cli, home: Path) -> None:
    assert cli("deal", "add", SLUG, "--name", "A", "--customer", "C", "--vendor", "V").code == 0
    cli("add", SLUG, AUDIO / "hello.wav")
    assert cli("process", SLUG).code == 0
    assert "weekly" in cli("items", SLUG).out
    assert cli("redact", SLUG, "1", "--from", "0:05", "--to", "0:09").code == 0
    settings = Settings.load(home)

    def play(_: int) -> redact.Playable:  # each request opens its own store, as the web app does
        store = Store.open(settings.db_path, any_thread=True)
        try:
            deal = store.deal(SLUG)
            return redact.playable_path(store, BlobStore(settings.blob_dir), settings, deal, 1)
        finally:
            store.close()

    with ThreadPoolExecutor(4) as pool:  # a browser asks for several ranges at once
        copies = {p.path for p in pool.map(play, range(4))}
    assert len(copies) == 1
    copy = copies.pop()
    sha = _rows(home, "SELECT sha256 FROM sources")[0][0]
    blob = BlobStore(settings.blob_dir).path(sha)
    assert copy.is_file() and blob.is_file()
    assert sorted(p.suffix for p in copy.parent.iterdir()) == [".lock", ".wav"]  # made once

    assert cli("purge", SLUG, "1", "--yes").code == 0
    assert not blob.exists() and list(copy.parent.iterdir()) == []  # copy and lock gone
    for table in ("segments", "segment_drafts", "extractions", "mentions", "items"):
        assert _rows(home, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert "weekly" not in cli("items", SLUG).out
    # Not even in the file's free pages or the search index's old segments.
    stored = b"".join(p.read_bytes() for p in home.glob("handover.db*"))
    assert b"weekly" not in stored
    actions = [a for (a,) in _rows(home, "SELECT action FROM events ORDER BY id")]
    assert actions[-2:] == ["source.redact", "source.purge"]


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float samples at 16 kHz, decoded by PyAV as a browser's player would."""
    with av.open(io.BytesIO(data)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=redact.RATE)
        chunks = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for out in resampler.resample(frame)
        ]
        chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return np.concatenate(chunks), redact.RATE


def _rms(samples: np.ndarray, rate: int, start: float, end: float) -> float:
    window = samples[int(start * rate) : int(end * rate)]
    return float(np.sqrt(np.mean(np.square(window, dtype=np.float64))))
