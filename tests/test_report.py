from __future__ import annotations

import json

from handover import report

SOURCE = {
    "id": 1,
    "title": "Call",
    "kind": "recording",
    "meeting_date": "2026-11-02",
    "fmt": "audio",
    "filename": "call.ogg",
    "sha256": "a" * 64,
    "size": 3,
    "mime": "audio/ogg",
    "duration": 9.5,
    "stage": "done",
    "progress": 1.0,
    "error": None,
    "replaces": None,
    "added_at": "2026-11-02T10:00:00Z",
    "processed_at": "2026-11-02T10:01:00Z",
}
SEGS = [
    {
        "ordinal": 0,
        "start": 3723.25,
        "end": 3725.5,
        "speaker": "Maria",
        "side": "customer",
        "text": "re-assess & reinvigorate <processes>",
    },
    {
        "ordinal": 1,
        "start": 3726.0,
        "end": 3727.0,
        "speaker": None,
        "side": "unknown",
        "text": "We will.",
    },
]


def test_clock() -> None:
    assert report.clock(3723.25) == "01:02:03"
    assert report.clock(3723.25, millis=True) == "01:02:03.250"
    assert report.clock(59.9996, millis=True, sep=",") == "00:01:00,000"
    assert report.clock(None) == "00:00:00"


def test_text_leaves_out_unknown_speakers_and_heads_multiple_sources() -> None:
    assert report.transcript_text([(SOURCE, SEGS)]) == (
        "[01:02:03] Maria: re-assess & reinvigorate <processes>\n[01:02:06] We will.\n"
    )
    untimed = [{**SEGS[1], "start": None}]
    text = report.transcript_text([(SOURCE, SEGS), ({**SOURCE, "id": 2}, untimed)])
    assert text.splitlines()[0].startswith("# source 1 · Call · recording · 2026-11-02")
    assert text.splitlines()[-1] == "We will."


def test_vtt_escapes_and_tags_voices() -> None:
    vtt = report.transcript_vtt(SEGS)
    assert vtt.startswith("WEBVTT\n\n01:02:03.250 --> 01:02:05.500\n")
    assert "<v Maria>re-assess &amp; reinvigorate &lt;processes&gt;</v>" in vtt


def test_srt_numbering_and_commas() -> None:
    srt = report.transcript_srt(SEGS)
    assert srt.splitlines()[:3] == [
        "1",
        "01:02:03,250 --> 01:02:05,500",
        "Maria: re-assess & reinvigorate <processes>",
    ]


def test_json_is_stable_and_versioned() -> None:
    doc = json.loads(report.transcript_json({"slug": "acme"}, [(SOURCE, SEGS)]))
    assert doc["schema_version"] == 1 and doc["deal"] == "acme"
    assert doc["sources"][0]["segments"][0] == {
        "ordinal": 0,
        "start": 3723.25,
        "end": 3725.5,
        "speaker": "Maria",
        "side": "customer",
        "text": "re-assess & reinvigorate <processes>",
        "redacted": False,
    }
