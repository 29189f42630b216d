"""Transcript parsers: WebVTT, SubRip, pasted text, and transcript detection."""

from __future__ import annotations

import pytest

from handover.capture.transcripts import (
    is_speaker_label,
    looks_like_transcript,
    parse_pasted,
    parse_srt,
    parse_timestamp,
    parse_transcript,
    parse_vtt,
)
from handover.errors import InputError
from handover.types import Segment, Side

VERBATIM = "We need to re-assess & reinvigorate processes before Q3."


def _check_ordinals(segments: list[Segment]) -> None:
    assert [s.ordinal for s in segments] == list(range(len(segments)))
    assert all(s.side is Side.UNKNOWN for s in segments)


# --- timestamps ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "seconds"),
    [
        ("00:00:01.000", 1.0),
        ("01:02:03.500", 3723.5),
        ("02:03.250", 123.25),
        ("00:00:04,120", 4.12),
        ("0:03", 3.0),
        ("1:02:03", 3723.0),
        ("75:30", 4530.0),
        ("00:01.5", 1.5),
    ],
)
def test_parse_timestamp(stamp: str, seconds: float) -> None:
    assert parse_timestamp(stamp) == pytest.approx(seconds)


@pytest.mark.parametrize("stamp", ["00:61", "1:75:00", "ab:cd", "10", ""])
def test_parse_timestamp_rejects_nonsense(stamp: str) -> None:
    assert parse_timestamp(stamp) is None


# --- WebVTT --------------------------------------------------------------------------

TEAMS_VTT = """WEBVTT

3f8a1c2e-0b1d-4b5e-9c77-1a2b3c4d5e6f/12-0
00:00:01.000 --> 00:00:04.500
<v Alice Smith>We need to re-assess &amp; reinvigorate processes before Q3.</v>

3f8a1c2e-0b1d-4b5e-9c77-1a2b3c4d5e6f/13-0
00:00:04.500 --> 00:00:09.000
<v Bob Jones (Acme)>Great, and the SSO piece
has to land in March.</v>

3f8a1c2e-0b1d-4b5e-9c77-1a2b3c4d5e6f/14-0
00:00:09.000 --> 00:00:10.000
<v.customer Carol Diaz>Agreed.</v>
"""


def test_teams_vtt_voice_tags() -> None:
    segments = parse_vtt(TEAMS_VTT, "teams.vtt")
    _check_ordinals(segments)
    assert [s.speaker for s in segments] == ["Alice Smith", "Bob Jones (Acme)", "Carol Diaz"]
    assert segments[0].text == VERBATIM
    assert segments[1].text == "Great, and the SSO piece has to land in March."
    assert (segments[0].start, segments[0].end) == (1.0, 4.5)
    assert (segments[2].start, segments[2].end) == (9.0, 10.0)


ZOOM_VTT = """WEBVTT

1
00:00:00.500 --> 00:00:03.000
Alice Smith: We need to re-assess &amp; reinvigorate processes before Q3.

2
00:00:03.000 --> 00:00:06.000
Bob: Understood. Note: pricing is fixed.

3
00:00:06.000 --> 00:00:07.000
Alice Smith: Thanks.
"""


def test_zoom_vtt_name_colon_text() -> None:
    segments = parse_vtt(ZOOM_VTT, "zoom.vtt")
    _check_ordinals(segments)
    assert [s.speaker for s in segments] == ["Alice Smith", "Bob", "Alice Smith"]
    assert segments[0].text == VERBATIM
    # Only the leading label is a speaker; a later "Note:" stays in the words.
    assert segments[1].text == "Understood. Note: pricing is fixed."


def test_vtt_header_variants_notes_styles_regions_and_settings() -> None:
    text = """WEBVTT - Exported by Teams
Kind: captions
Language: en

NOTE
This is a comment block
that spans lines

STYLE
::cue { color: yellow }

REGION
id:fred width:40%

NOTE single-line note

intro
00:01.000 --> 00:03.000 align:start position:10% line:0
<c.yellow>Hello</c> <b>there</b>, <i>this</i> <u>is</u> <lang en-GB>fine</lang>

00:03.000 --> 00:05.000
Karaoke <00:00:03.500>style <00:00:04.000>timing
"""
    segments = parse_vtt(text, "x.vtt")
    assert [s.text for s in segments] == ["Hello there, this is fine", "Karaoke style timing"]
    assert segments[0].start == 1.0 and segments[0].end == 3.0
    assert all(s.speaker is None for s in segments)


def test_vtt_entities_are_decoded_and_symbols_survive() -> None:
    text = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n"
        "<v Dana>R&amp;D &lt;3 re-assess &amp; Reinvigorate &#8211; done&nbsp;now</v>\n"
    )
    (segment,) = parse_vtt(text, "x.vtt")
    assert segment.text == "R&D <3 re-assess & Reinvigorate – done now"
    assert segment.speaker == "Dana"


def test_vtt_raw_ampersand_survives() -> None:
    text = "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Dana>re-assess & reinvigorate processes</v>\n"
    assert parse_vtt(text, "x.vtt")[0].text == "re-assess & reinvigorate processes"


def test_vtt_hours_less_and_hours_timings() -> None:
    text = "WEBVTT\n\n00:05.000 --> 00:07.250\nfirst\n\n01:00:00.000 --> 01:00:02.000\nsecond\n"
    segments = parse_vtt(text, "x.vtt")
    assert [(s.start, s.end) for s in segments] == [(5.0, 7.25), (3600.0, 3602.0)]


def test_vtt_malformed_cue_is_skipped_and_order_kept() -> None:
    text = """WEBVTT

00:00:01.000 --> 00:00:02.000
<v Alice>one</v>

00:00:xx.000 --> 00:00:03.000
<v Alice>broken timing</v>

just some stray text without timing

00:00:03.000 --> 00:00:04.000

00:00:04.000 --> 00:00:05.000
<v Bob>two</v>
"""
    segments = parse_vtt(text, "x.vtt")
    _check_ordinals(segments)
    assert [s.text for s in segments] == ["one", "two"]


def test_vtt_end_before_start_is_clamped() -> None:
    text = "WEBVTT\n\n00:00:05.000 --> 00:00:03.000\nbackwards\n"
    (segment,) = parse_vtt(text, "x.vtt")
    assert segment.start == 5.0
    assert segment.end is not None and segment.end >= segment.start


def test_vtt_without_cues_is_an_error() -> None:
    with pytest.raises(InputError, match=r"^empty\.vtt: has no readable WebVTT cues"):
        parse_vtt("WEBVTT\n\nNOTE nothing here\n", "empty.vtt")


def test_vtt_without_header_is_an_error() -> None:
    with pytest.raises(InputError, match="no WEBVTT header"):
        parse_vtt("00:00:01.000 --> 00:00:02.000\nhello\n", "x.vtt")
    with pytest.raises(InputError, match="no WEBVTT header"):
        parse_vtt("WEBVTTX\n\n00:00:01.000 --> 00:00:02.000\nhello\n", "x.vtt")


def test_vtt_multiple_voices_in_one_cue_split_into_segments() -> None:
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Alice>Ready?</v>\n<v Bob>Yes.</v>\n"
    segments = parse_vtt(text, "x.vtt")
    assert [(s.speaker, s.text) for s in segments] == [("Alice", "Ready?"), ("Bob", "Yes.")]
    assert all(s.start == 1.0 and s.end == 3.0 for s in segments)


def test_vtt_lone_colon_phrase_is_not_a_speaker() -> None:
    text = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nNote: this part is recorded\n\n"
        "00:00:02.000 --> 00:00:03.000\nand then we carried on\n"
    )
    segments = parse_vtt(text, "x.vtt")
    assert segments[0].speaker is None
    assert segments[0].text == "Note: this part is recorded"


# --- SubRip --------------------------------------------------------------------------


def test_srt_basic_numbered_blocks() -> None:
    text = """1
00:00:01,000 --> 00:00:04,000
Alice: We need to re-assess & reinvigorate processes before Q3.

2
00:00:04,000 --> 00:00:06,500
Bob: Sure.
We can do that.

3
00:00:06,500 --> 00:00:08,000
Alice: Good.
"""
    segments = parse_srt(text, "x.srt")
    _check_ordinals(segments)
    assert [s.speaker for s in segments] == ["Alice", "Bob", "Alice"]
    assert segments[0].text == VERBATIM
    assert segments[1].text == "Sure. We can do that."
    assert (segments[1].start, segments[1].end) == (4.0, 6.5)


def test_srt_dot_decimals_missing_indices_and_missing_blank_lines() -> None:
    text = (
        "00:00:01.000 --> 00:00:02.000\nfirst line\n"
        "2\n00:00:02.000 --> 00:00:03.000 X1:10 X2:20 Y1:1 Y2:2\nsecond <i>line</i>\n\n\n"
        "00:00:03.000 --> 00:00:04.000\nthird {\\an8}line\n"
    )
    segments = parse_srt(text, "x.srt")
    assert [s.text for s in segments] == ["first line", "second line", "third line"]
    assert [s.start for s in segments] == [1.0, 2.0, 3.0]


def test_srt_bracket_and_dash_speaker_forms() -> None:
    text = """1
00:00:01,000 --> 00:00:02,000
[Alice Smith] Hello there.

2
00:00:02,000 --> 00:00:04,000
- Bob: Hi Alice.
- Alice Smith: Shall we start?

3
00:00:04,000 --> 00:00:05,000
[Bob] Yes.
"""
    segments = parse_srt(text, "x.srt")
    assert [(s.speaker, s.text) for s in segments] == [
        ("Alice Smith", "Hello there."),
        ("Bob", "Hi Alice."),
        ("Alice Smith", "Shall we start?"),
        ("Bob", "Yes."),
    ]
    assert segments[1].start == segments[2].start == 2.0


def test_srt_sound_descriptions_are_not_speakers() -> None:
    text = "1\n00:00:01,000 --> 00:00:02,000\n[Music]\n\n2\n00:00:02,000 --> 00:00:03,000\nHello\n"
    segments = parse_srt(text, "x.srt")
    assert all(s.speaker is None for s in segments)
    assert segments[0].text == "[Music]"


def test_srt_malformed_cue_skipped() -> None:
    text = "1\n00:00:01,000 --> soon\nbroken\n\n2\n00:00:02,000 --> 00:00:03,000\nfine\n"
    segments = parse_srt(text, "x.srt")
    assert [s.text for s in segments] == ["fine"]
    assert segments[0].ordinal == 0


def test_srt_without_cues_is_an_error() -> None:
    with pytest.raises(InputError, match=r"^x\.srt: has no readable SubRip cues"):
        parse_srt("just some text\nwith no timings\n", "x.srt")
    with pytest.raises(InputError, match="SubRip"):
        parse_srt("1\n00:00:01,000 --> 00:00:02,000\n\n", "x.srt")


# --- pasted transcripts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "speaker", "start"),
    [
        (f"Alice Smith: {VERBATIM}", "Alice Smith", None),
        (f"**Alice Smith:** {VERBATIM}", "Alice Smith", None),
        (f"**Alice Smith**: {VERBATIM}", "Alice Smith", None),
        (f"[00:01:02] Alice Smith: {VERBATIM}", "Alice Smith", 62.0),
        (f"00:01:02 Alice Smith: {VERBATIM}", "Alice Smith", 62.0),
        (f"(01:02) Alice Smith: {VERBATIM}", "Alice Smith", 62.0),
        (f"Alice Smith [00:01:02]: {VERBATIM}", "Alice Smith", 62.0),
    ],
)
def test_pasted_line_forms(line: str, speaker: str, start: float | None) -> None:
    text = f"{line}\nBob: Right.\n"
    segments = parse_pasted(text, "paste.txt")
    _check_ordinals(segments)
    assert segments[0].speaker == speaker
    assert segments[0].text == VERBATIM
    assert segments[0].start == start
    assert segments[1].speaker == "Bob"
    assert segments[1].text == "Right."


def test_pasted_otter_style_headers() -> None:
    text = """Acme kickoff

Alice Smith  0:03
We need to re-assess & reinvigorate processes before Q3.
That's the main ask.

Bob Jones  0:15
Understood.

Alice Smith  1:02:03
Thanks all.
"""
    segments = parse_pasted(text, "otter.txt")
    _check_ordinals(segments)
    assert [(s.speaker, s.start, s.end) for s in segments] == [
        (None, None, None),
        ("Alice Smith", 3.0, 15.0),
        ("Bob Jones", 15.0, 3723.0),
        ("Alice Smith", 3723.0, None),
    ]
    assert segments[0].text == "Acme kickoff"
    assert segments[1].text == f"{VERBATIM} That's the main ask."


def test_pasted_continuations_and_blank_lines() -> None:
    text = (
        "Alice: First part of a long turn\nthat wraps here.\n\n"
        "And a new paragraph, same speaker.\nBob: Reply.\n"
    )
    segments = parse_pasted(text, "p.txt")
    assert [s.speaker for s in segments] == ["Alice", "Bob"]
    assert segments[0].text == (
        "First part of a long turn that wraps here. And a new paragraph, same speaker."
    )


def test_pasted_end_is_next_stamped_turn() -> None:
    text = (
        "[00:00:05] Alice: one\nBob: unstamped aside\n[00:00:09] Carol: two\n"
        "[00:00:20] Alice: three\n"
    )
    segments = parse_pasted(text, "p.txt")
    assert [(s.speaker, s.text, s.start, s.end) for s in segments] == [
        ("Alice", "one", 5.0, 9.0),
        ("Bob", "unstamped aside", None, None),
        ("Carol", "two", 9.0, 20.0),
        ("Alice", "three", 20.0, None),
    ]


def test_pasted_headers_make_inline_colon_lines_speech() -> None:
    text = "Alice  0:01\nWe talked it over.\nNote: we agreed on SSO first.\n\nBob  0:09\nGood.\n"
    segments = parse_pasted(text, "otter.txt")
    assert [s.speaker for s in segments] == ["Alice", "Bob"]
    assert segments[0].text == "We talked it over. Note: we agreed on SSO first."


def test_pasted_stamps_going_backwards_leave_end_empty() -> None:
    segments = parse_pasted("[00:10] Alice: later\n[00:02] Bob: earlier\n", "p.txt")
    assert segments[0].start == 10.0
    assert segments[0].end is None


def test_pasted_markdown_markup_is_removed_but_words_kept() -> None:
    text = (
        "**Alice:** We will **re-assess & reinvigorate** [processes](https://x.example).\n"
        "**Bob:** OK\n"
    )
    segments = parse_pasted(text, "p.md")
    assert segments[0].text == "We will re-assess & reinvigorate processes."


def test_pasted_labels_reject_sentences_urls_and_times() -> None:
    text = (
        "Alice: Here is the plan.\n"
        "We discussed three things: pricing, scope and timing.\n"
        "https://acme.example/doc: see this\n"
        "Meeting moved to 10:30 tomorrow.\n"
        "Next steps: send the quote\n"
        "Bob: Fine.\n"
    )
    segments = parse_pasted(text, "p.txt")
    assert [s.speaker for s in segments] == ["Alice", "Bob"]
    assert "We discussed three things: pricing, scope and timing." in segments[0].text
    assert "Next steps: send the quote" in segments[0].text


def test_pasted_label_used_once_among_repeating_speakers_is_kept() -> None:
    text = "Alice: Hi.\nBob: Hi.\nAlice: Start?\nDana: I joined late, sorry.\nBob: No problem.\n"
    segments = parse_pasted(text, "p.txt")
    assert [s.speaker for s in segments] == ["Alice", "Bob", "Alice", "Dana", "Bob"]


def test_single_otter_like_line_in_prose_is_not_a_header() -> None:
    text = "Alice: The call is\nCall Friday 10:30\nBob: ok\n"
    segments = parse_pasted(text, "p.txt")
    assert [s.speaker for s in segments] == ["Alice", "Bob"]
    assert segments[0].text == "The call is Call Friday 10:30"


def test_pasted_without_labels_is_an_error() -> None:
    with pytest.raises(InputError, match=r"^p\.txt: has no speaker-labelled lines"):
        parse_pasted("Just some notes.\nNothing labelled here.\n", "p.txt")


@pytest.mark.parametrize(
    "label",
    [
        "Alice",
        "Alice Smith",
        "Speaker 1",
        "Alice van Dijk",
        "Bob Jones (Acme)",
        "Dr. Ng",
        "jsmith",
        "Alice's iPhone",
        "SPEAKER_01",
    ],
)
def test_speaker_label_accepts_names(label: str) -> None:
    assert is_speaker_label(label)


@pytest.mark.parametrize(
    "label",
    [
        "Next steps",
        "We agreed on the following",
        "The customer said that",
        "https://example.com",
        "10",
        "Is that right?",
        "A very Long Label That Has Too Many Words",
        "x" * 41,
        "",
    ],
)
def test_speaker_label_rejects_prose(label: str) -> None:
    assert not is_speaker_label(label)


# --- looks_like_transcript -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Alice: Hi.\nBob: Hello.\nAlice: Shall we start?\n",
        "**Alice:** Hi.\n\n**Bob:** Hello.\n\n**Alice:** Let's go.\n",
        "[00:00:01] Alice: Hi.\n[00:00:04] Bob: Hello.\n[00:00:09] Alice: Go.\n",
        "Call with Acme\n\nAlice  0:01\nHi there.\n\nBob  0:04\nHello.\nHow are you?\n\n"
        "Alice  0:09\nGood.\n",
        "Alice: A long turn\nthat wraps over\nseveral lines.\nBob: Short.\nAlice: Another\n"
        "wrapped turn.\n",
    ],
)
def test_looks_like_transcript_true(text: str) -> None:
    assert looks_like_transcript(text)


MEETING_NOTES = """Kickoff with Acme, 3 March

We met the customer to discuss the rollout. They want to re-assess & reinvigorate
processes before Q3.

- pricing agreed in principle
- timeline is tight
- SSO is a must

Action: Bob to send the quote
Action: Alice to book a demo
Decision: go with plan B
Action: Bob to confirm hosting region
"""

GOALS_DOC = """# Q3 plan

Goal: launch SSO by March
Goal: migrate the legacy data

## Context

The team discussed the plan at length and agreed on the order of work.

- SSO first
- then data

Owner: Dana
"""


@pytest.mark.parametrize(
    "text",
    [
        MEETING_NOTES,
        GOALS_DOC,
        "Alice: Hi.\nBob: Hello.\n",  # too short to say
        "Action: one\nAction: two\nAction: three\n",  # one label, no conversation
        "Goal: one\nGoal: two\nOwner: Dana\n",  # keys in a row, nobody comes back
        "Just a paragraph of notes.\n\nAnother paragraph.\n",
    ],
)
def test_looks_like_transcript_false(text: str) -> None:
    assert not looks_like_transcript(text)


# --- dispatch ------------------------------------------------------------------------


def test_parse_transcript_dispatches() -> None:
    assert parse_transcript(TEAMS_VTT, "t.vtt", "vtt")[0].speaker == "Alice Smith"
    srt = "1\n00:00:01,000 --> 00:00:02,000\nhi\n"
    assert parse_transcript(srt, "t.srt", "srt")[0].text == "hi"
    assert parse_transcript("Alice: hi\nBob: yo\n", "t.txt", "text")[1].speaker == "Bob"
    with pytest.raises(InputError, match="unknown transcript format"):
        parse_transcript("x", "t.doc", "doc")
