"""The `handover` command end to end, in-process, against a fresh home per test.

Text inputs are built in the test; audio comes from the committed fixtures in
tests/data/audio and goes through the real Whisper model.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter

from tests.conftest import AUDIO

SLUG = "acme"

TEAMS_VTT = """WEBVTT

a1/1-0
00:00:01.000 --> 00:00:04.500
<v Maria Gonzalez>The board wants us to re-assess &amp; reinvigorate processes.</v>

a1/2-0
00:00:05.000 --> 00:00:09.000
<v Dana Whitfield>We will send weekly status reports every Friday.</v>
"""

PASTED_MD = """**Maria Gonzalez:** Our biggest worry is another failed rollout.
**Dana Whitfield:** We'll assign a dedicated project manager.
**Maria Gonzalez:** Good. Success looks like dispatch running on one screen.
"""

NOTES_MD = """# Call notes

- Maria wants to re-assess & reinvigorate processes at the Reno depot.
- Action: Raj to send the NetSuite export plan.
"""


@pytest.fixture
def deal(cli) -> str:
    assert (
        cli(
            "deal",
            "add",
            SLUG,
            "--name",
            "Acme rollout",
            "--customer",
            "Acme",
            "--vendor",
            "Northwind",
            "--owner",
            "Dana Whitfield",
        ).code
        == 0
    )
    assert (
        cli("people", SLUG, "--vendor", "Dana Whitfield", "--customer", "Maria Gonzalez").code == 0
    )
    return SLUG


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _snapshot(home: Path) -> list[tuple]:
    """Every row that matters, to prove a failed command changed nothing."""
    conn = sqlite3.connect(home / "handover.db")
    rows = []
    for table in ("deals", "participants", "sources", "segments", "glossary"):
        rows += [(table, *r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1")]
    conn.close()
    blobs = (
        sorted(str(p.relative_to(home)) for p in (home / "blobs").rglob("*") if p.is_file())
        if (home / "blobs").exists()
        else []
    )
    return rows + [("blob", b) for b in blobs]


def _one_line_error(result, name: str) -> None:
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ") and name in lines[0]


def test_help_lists_every_command(cli) -> None:
    result = cli("--help")
    assert result.code == 0
    for command in [
        "deal",
        "people",
        "add",
        "sources",
        "process",
        "transcript",
        "search",
        "remove",
        "purge",
        "glossary",
        "models",
    ]:
        assert command in result.out
    assert "Examples" in cli("add", "--help").out or "Example" in cli("add", "--help").out


def test_deal_add_list_and_duplicate_slug(cli) -> None:
    assert "no deals yet" in cli("deal", "list").out
    assert cli("deal", "add", "acme", "--name", "A", "--customer", "C", "--vendor", "V").code == 0
    again = cli("deal", "add", "acme", "--name", "B", "--customer", "C", "--vendor", "V")
    assert again.code == 1 and "already exists" in again.err
    bad = cli("deal", "add", "Bad Slug", "--name", "B", "--customer", "C", "--vendor", "V")
    assert bad.code == 1 and "lowercase" in bad.err
    doc = json.loads(cli("deal", "list", "--json").out)
    assert doc["schema_version"] == 1 and [d["slug"] for d in doc["deals"]] == ["acme"]


def test_unknown_deal_is_one_line_error(cli) -> None:
    for args in (
        ["add", "nope", "x.vtt"],
        ["process", "nope"],
        ["transcript", "nope"],
        ["search", "nope", "x"],
        ["people", "nope"],
        ["sources", "nope"],
    ):
        _one_line_error(cli(*args), "nope")


def test_text_sources_end_to_end(cli, deal, tmp_path: Path) -> None:
    vtt = _write(tmp_path, "followup.vtt", TEAMS_VTT)
    pasted = _write(tmp_path, "call.md", PASTED_MD)
    notes = _write(tmp_path, "notes.md", NOTES_MD)
    scope = _write(tmp_path, "sow.md", "# 1 Scope\n\n1.1 Weekly status reports.\n")
    result = cli("add", deal, vtt, pasted, notes, "--date", "2026-11-09")
    assert result.code == 0, result.err
    assert [line.split(":")[0] for line in result.out.splitlines()] == [
        "added source 1",
        "added source 2",
        "added source 3",
    ]
    assert cli("add", deal, scope, "--as", "scope").code == 0
    kinds = {
        s["filename"]: (s["kind"], s["format"], s["stage"])
        for s in json.loads(cli("sources", deal, "--json").out)["sources"]
    }
    assert kinds == {
        "followup.vtt": ("transcript", "vtt", "pending"),
        "call.md": ("transcript", "text", "pending"),
        "notes.md": ("notes", "md", "pending"),
        "sow.md": ("scope", "md", "pending"),
    }

    processed = cli("process", deal)
    assert processed.code == 0, processed.err
    assert all(
        s["stage"] == "done" for s in json.loads(cli("sources", deal, "--json").out)["sources"]
    )

    text = cli("transcript", deal, "1").out.splitlines()
    assert text[0] == (
        "[00:00:01] Maria Gonzalez: The board wants us to re-assess & reinvigorate processes."
    )
    everything = cli("transcript", deal).out
    assert "# source 3 · notes" in everything and "sow.md" not in everything
    doc = json.loads(cli("transcript", deal, "1", "--format", "json").out)
    assert [s["side"] for s in doc["sources"][0]["segments"]] == ["customer", "vendor"]
    assert cli("transcript", deal, "1", "--format", "vtt").out.startswith("WEBVTT")
    assert "00:00:05,000 --> 00:00:09,000" in cli("transcript", deal, "1", "-f", "srt").out
    assert cli("transcript", deal, "--format", "vtt").out.startswith("WEBVTT")  # one timed
    cli("add", deal, _write(tmp_path, "other.vtt", TEAMS_VTT.replace("Friday", "Monday")))
    cli("process", deal)
    ambiguous = cli("transcript", deal, "--format", "vtt")
    assert ambiguous.code == 1 and "pass SOURCE" in ambiguous.err

    hits = cli("search", deal, "re-assess & reinvigorate?")
    assert hits.code == 0 and "source 1 · 00:00:01" in hits.out and "source 3" in hits.out
    hits = json.loads(cli("search", deal, "project managers", "--json").out)["hits"]
    assert [h["source_id"] for h in hits] == [2]

    # Nothing left to do: incremental.
    again = cli("process", deal)
    assert again.code == 0 and "nothing to do" in again.out


def test_people_recomputes_sides_of_stored_segments(cli, deal, tmp_path: Path) -> None:
    cli("add", deal, _write(tmp_path, "call.md", PASTED_MD.replace("Dana Whitfield", "Raj")))
    cli("process", deal)

    def sides() -> dict[str, str]:
        doc = json.loads(cli("transcript", deal, "1", "-f", "json").out)
        return {s["speaker"]: s["side"] for s in doc["sources"][0]["segments"]}

    assert sides() == {"Maria Gonzalez": "customer", "Raj": "unknown"}
    result = cli("people", deal, "--vendor", "Raj Patel <raj@northwind.example>")
    assert "segment sides updated" in result.out and "raj@northwind.example" in result.out
    assert sides() == {"Maria Gonzalez": "customer", "Raj": "vendor"}


def test_adding_the_same_file_twice_is_a_no_op(cli, deal, tmp_path: Path, home: Path) -> None:
    vtt = _write(tmp_path, "followup.vtt", TEAMS_VTT)
    assert cli("add", deal, vtt).code == 0
    before = _snapshot(home)
    copy = _write(tmp_path, "renamed-copy.vtt", TEAMS_VTT)
    result = cli("add", deal, copy)
    assert result.code == 0 and "already source 1" in result.out and "nothing to do" in result.out
    assert _snapshot(home) == before


def test_remove_hides_and_purge_deletes(cli, deal, tmp_path: Path, home: Path) -> None:
    vtt = _write(tmp_path, "followup.vtt", TEAMS_VTT)
    cli("add", deal, vtt)
    cli("process", deal)
    assert cli("remove", deal, "1").code == 0
    assert "reinvigorate" not in cli("transcript", deal).out
    assert "no matches" in cli("search", deal, "reinvigorate").out
    assert cli("sources", deal, "--json").out.count('"id"') == 0
    blob = next(p for p in (home / "blobs").rglob("*") if p.is_file())
    assert blob.exists()  # the original stays until purge
    restored = cli("add", deal, vtt)
    assert "restored" in restored.out
    assert "reinvigorate" in cli("transcript", deal).out
    assert cli("purge", deal, "1", "--yes").code == 0
    assert not blob.exists()
    assert cli("transcript", deal, "1").code == 1
    assert cli("add", deal, vtt).out.startswith("added source 2")  # can come back as new


def test_glossary_add_and_list(cli, deal, tmp_path: Path) -> None:
    cli("add", deal, _write(tmp_path, "notes.md", NOTES_MD))
    cli("process", deal)
    result = cli("glossary", deal, "add", "Guidewire", "re-assess")
    assert result.code == 0 and "added 2 term(s)" in result.out
    assert "added by hand: Guidewire, re-assess" in result.out
    derived = result.out.split("from the deal:")[1]
    for term in ["Acme", "Northwind", "Maria Gonzalez", "NetSuite"]:
        assert term in derived
    assert cli("glossary", deal, "add").code == 1


BAD_FILES = {
    "garbage.vtt": bytes(range(256)) * 8,
    "notes.md.latin1-binary.md": b"\x00\x01\x02\xff" * 100,
    "fake.docx": b"this is not a zip",
    "fake.pdf": b"not a pdf at all",
    "picture.wav": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    "text.mp3": b"We will deliver everything.\n",
    "empty.vtt": b"",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_text_input_is_one_line_error_and_changes_nothing(
    cli, deal, tmp_path: Path, home: Path, name: str
) -> None:
    cli("add", deal, _write(tmp_path, "ok.vtt", TEAMS_VTT))
    before = _snapshot(home)
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    _one_line_error(cli("add", deal, path), name)
    assert _snapshot(home) == before


@pytest.mark.parametrize(
    "name", ["truncated.mp3", "empty.wav", "png-named.wav", "noaudio.mp4", "garbage.ogg"]
)
def test_broken_audio_is_one_line_error_and_changes_nothing(
    cli, deal, home: Path, name: str
) -> None:
    before = _snapshot(home)
    _one_line_error(cli("add", deal, AUDIO / name), name)
    assert _snapshot(home) == before


def test_encrypted_pdf_is_refused(cli, deal, tmp_path: Path, home: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="s3cret", owner_password="s3cret")
    path = tmp_path / "sow.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    before = _snapshot(home)
    result = cli("add", deal, path)
    _one_line_error(result, "sow.pdf")
    assert "password" in result.err
    assert _snapshot(home) == before


def test_size_cap(cli, deal, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HANDOVER_MAX_FILE_MB", "1")
    big = tmp_path / "big.md"
    big.write_text("We will. " * 200_000)
    result = cli("add", deal, big)
    _one_line_error(result, "big.md")
    assert "HANDOVER_MAX_FILE_MB" in result.err


def test_non_utf8_text_is_decoded(cli, deal, tmp_path: Path) -> None:
    notes = _write(
        tmp_path, "notes.txt", "Café kickoff: we need the Zürich depot live.\n", encoding="cp1252"
    )
    utf16 = _write(tmp_path, "call.vtt", TEAMS_VTT, encoding="utf-16")
    assert cli("add", deal, notes, utf16).code == 0
    assert cli("process", deal).code == 0
    out = cli("transcript", deal).out
    assert "Café kickoff: we need the Zürich depot live." in out
    assert "re-assess & reinvigorate" in out


def test_multi_file_add_keeps_going_past_a_bad_file(cli, deal, tmp_path: Path) -> None:
    good = _write(tmp_path, "a.vtt", TEAMS_VTT)
    bad = tmp_path / "b.vtt"
    bad.write_bytes(b"\xff\xfe\x00garbage" * 50)
    notes = _write(tmp_path, "c.md", NOTES_MD)
    result = cli("add", deal, good, bad, notes)
    assert result.code == 1
    assert "added source 1" in result.out and "added source 2" in result.out
    assert result.err.count("error:") == 1 and "b.vtt" in result.err


def test_process_needs_a_slug_or_all(cli) -> None:
    assert cli("process").code == 2
    assert cli("process", "x", "--all").code == 2


def test_process_all_skips_a_deal_another_run_holds(cli, home: Path) -> None:
    import os
    import socket

    for slug in ("busy", "free"):
        assert (
            cli("deal", "add", slug, "--name", slug, "--customer", "C", "--vendor", "V").code == 0
        )
    conn = sqlite3.connect(home / "handover.db")
    with conn:  # a live process (our parent) holds the busy deal's lease
        conn.execute(
            "INSERT INTO locks(name, host, pid, acquired_at) VALUES (?, ?, ?, ?)",
            ["process:busy", socket.gethostname(), os.getppid(), "2026-11-24T00:00:00Z"],
        )
    conn.close()
    result = cli("process", "--all")
    assert result.code == 1
    assert "busy: skipped: processing of deal busy is already running" in result.err
    assert "free: nothing to do" in result.out
    alone = cli("process", "busy")
    assert alone.code == 1 and alone.err.count("\n") == 1 and "already running" in alone.err


def test_recording_is_transcribed_with_times(cli, deal) -> None:
    assert cli("add", deal, AUDIO / "hello.ogg", "--date", "2026-11-02").code == 0
    result = cli("process", "--all")
    assert result.code == 0, result.err
    doc = json.loads(cli("transcript", deal, "1", "-f", "json").out)
    segments = doc["sources"][0]["segments"]
    assert segments and all(s["start"] is not None and s["end"] >= s["start"] for s in segments)
    words = " ".join(s["text"] for s in segments).lower()
    assert "weekly" in words and "reinvigorate" in words
    assert doc["sources"][0]["duration"] > 2
    assert cli("transcript", deal, "1").out.startswith("[00:00:0")
    assert "reinvigorate" in cli("search", deal, "reinvigorate").out


def test_failed_source_is_recorded_and_the_rest_complete(
    cli, deal, tmp_path: Path, monkeypatch
) -> None:
    from handover.errors import InputError

    def broken(path, model, options, *, name=None, on_progress=None):
        raise InputError(f"{name}: cannot be decoded at 00:00:01; re-export it")
        yield  # pragma: no cover

    monkeypatch.setattr("handover.transcribe.transcribe", broken)
    cli("add", deal, AUDIO / "hello.wav", _write(tmp_path, "a.vtt", TEAMS_VTT))
    result = cli("process", deal)
    assert result.code == 1 and "hello.wav: cannot be decoded" in result.err
    sources = {s["filename"]: s for s in json.loads(cli("sources", deal, "--json").out)["sources"]}
    assert sources["hello.wav"]["stage"] == "failed"
    assert "cannot be decoded" in sources["hello.wav"]["error"]
    assert sources["a.vtt"]["stage"] == "done"
    monkeypatch.undo()
    retry = cli("process", deal)  # failed sources are retried
    assert retry.code == 0, retry.err
    assert json.loads(cli("sources", deal, "--json").out)["sources"][0]["stage"] == "done"


def test_docx_notes_and_scope(cli, deal, tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Kickoff notes", level=1)
    document.add_paragraph("Maria said the board wants to re-assess & reinvigorate processes.")
    document.save(tmp_path / "notes.docx")
    document.save(tmp_path / "sow.docx")
    (tmp_path / "sow.docx").write_bytes((tmp_path / "sow.docx").read_bytes())
    assert cli("add", deal, tmp_path / "notes.docx").code == 0
    doc = json.loads(cli("sources", deal, "--json").out)["sources"][0]
    assert (doc["kind"], doc["format"]) == ("notes", "docx")
    assert cli("process", deal).code == 0
    assert "re-assess & reinvigorate processes" in cli("transcript", deal).out


def test_new_version_of_a_scope_document_records_what_it_replaces(cli, deal, tmp_path) -> None:
    v1 = _write(tmp_path, "sow-v1.md", "# 1 Scope\n\n1.1 Weekly status reports.\n")
    v2 = _write(tmp_path, "sow-v2.md", "# 1 Scope\n\n1.1 Weekly status reports.\n1.2 Training.\n")
    assert cli("add", deal, v1, "--as", "scope").code == 0
    missing = cli("add", deal, v2, "--as", "scope", "--replaces", "99")
    _one_line_error(missing, "99")
    assert cli("add", deal, v2, "--as", "scope", "--replaces", "1").code == 0
    rows = json.loads(cli("sources", deal, "--json").out)["sources"]
    assert [(r["filename"], r["replaces"]) for r in rows] == [("sow-v1.md", None), ("sow-v2.md", 1)]


@pytest.mark.parametrize("flags", [["--no-batch"], ["--no-vad", "--no-hotwords"]])
def test_process_with_engine_flags_transcribes(cli, deal, flags: list[str]) -> None:
    cli("add", deal, AUDIO / "hello.mp3")
    result = cli("process", deal, *flags)
    assert result.code == 0, result.err
    text = cli("transcript", deal, "1").out.lower()
    assert "weekly" in text and "reinvigorate" in text


def test_a_scope_document_with_no_text_is_refused(cli, deal, tmp_path: Path) -> None:
    blank = _write(tmp_path, "sow.md", "#\n\n   \n---\n")
    res = cli("add", deal, blank, "--as", "scope")
    assert res.code == 1
    assert "sow.md" in res.err and len(res.err.strip().splitlines()) == 1
    assert cli("sources", deal, "--json").out.count('"id"') == 0
