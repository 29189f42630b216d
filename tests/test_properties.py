"""Property-based tests (hypothesis) for every parser and the extractor.

On any input they raise nothing but the project's own ``HandoverError`` (``InputError``
for bad input), and what they return keeps its invariants: timed segments have
0 <= start <= end, offsets and character spans point inside the text at what they
claim, ordinals count from 0, and the same input gives the same output (so item ids are
stable across re-runs). Inputs are arbitrary text and bytes, plus generated
"structured-ish" documents (cue blocks with random timestamps, speaker prefixes,
headings and numbered clauses) that reach the code paths random text never would.

Bugs found here are fixed in the parsers; each keeps its input as an ``@example``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from handover.capture.detect import detect
from handover.capture.notes import parse_notes
from handover.capture.parse import text_segments
from handover.capture.scope import scope_blocks
from handover.capture.text import decode_text, normalise_newlines
from handover.capture.transcripts import parse_pasted, parse_srt, parse_vtt
from handover.clauses import clause_sha256, split_clauses
from handover.errors import HandoverError
from handover.extract import extract
from handover.items import merge
from handover.types import Block, Category, Segment, Side, SourceKind

NAME = "input.txt"
# HANDOVER_PROPERTY_SCALE=20 searches twenty times as long (for a bug hunt, not for CI).
SCALE = float(os.environ.get("HANDOVER_PROPERTY_SCALE", "1"))
FAST = settings(
    max_examples=int(150 * SCALE),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(FAST, max_examples=int(25 * SCALE))

# --- strategies ----------------------------------------------------------------------------

# Text with the characters parsers care about over-represented: markup, separators,
# entities, digits, unusual whitespace and line ends, right-to-left and format marks.
SPECIAL = list(
    "\n\n\n\r\t  :.,;!?-–—*_~`#>|[](){}<>&=+@\"'“”’\\/0123456789"
    "\u00a0\u2028\u2029\u202e\u200b\ufeff\x00\x0b\x0c"
)
chars = st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8"))
any_text = st.text(chars, max_size=400)
words = st.sampled_from(
    "we will we'll train the supervisors send weekly reports need worry goal by March "
    "not included out of scope Friday twenty 20 re-assess & reinvigorate processes "
    "customer client shall provide <script>alert(1)</script> &amp; &lt;b&gt; **bold** "
    '_em_ `code` [link](http://x) =HYPERLINK("x") @SUM(A1) \u202e'.split(" ")
)
phrase = st.lists(st.one_of(words, st.text(chars, max_size=8)), max_size=12).map(" ".join)
names = st.sampled_from(
    ["Dana Whitfield", "Maria", "Tom Becker", "Raj (Northwind)", "Alice van Dijk", "SPEAKER_1"]
)


def _stamp(seconds: int, millis: int, sep: str, hours: bool) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    clock = f"{h:02d}:{m:02d}:{s:02d}" if hours or h else f"{m:02d}:{s:02d}"
    return f"{clock}{sep}{millis:03d}"


stamps = st.one_of(
    st.builds(
        _stamp,
        st.integers(0, 3 * 3600),
        st.integers(0, 999),
        st.sampled_from([".", ","]),
        st.booleans(),
    ),
    st.text(st.sampled_from(list("0123456789:.,- ")), max_size=14),  # malformed
)


@st.composite
def cue_texts(draw: st.DrawFn) -> str:
    text = draw(phrase)
    style = draw(st.sampled_from(["plain", "voice", "label", "tags", "dash"]))
    if style == "voice":
        return f"<v {draw(names)}>{text}</v>"
    if style == "label":
        return f"{draw(names)}: {text}"
    if style == "tags":
        return f"<c.yellow><b>{text}</b></c> <00:00:01.500>&amp;"
    if style == "dash":
        return f"- {draw(names)}: {text}"
    return text


@st.composite
def vtt_files(draw: st.DrawFn) -> str:
    blocks = [draw(st.sampled_from(["WEBVTT", "WEBVTT - Teams", "\ufeffWEBVTT", "WEBVTT\tx"]))]
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["cue", "cue", "cue", "note", "junk"]))
        if kind == "note":
            blocks.append(f"NOTE {draw(phrase)}")
        elif kind == "junk":
            blocks.append(draw(any_text))
        else:
            ident = draw(st.sampled_from(["", "a1/2-0\n", "7\n"]))
            arrow = draw(st.sampled_from([" --> ", " -->", "-->", "\t-->\t"]))
            settings_ = draw(st.sampled_from(["", " align:start", " line:0"]))
            timing = f"{draw(stamps)}{arrow}{draw(stamps)}{settings_}"
            body = "\n".join(draw(st.lists(cue_texts(), min_size=0, max_size=3)))
            blocks.append(f"{ident}{timing}\n{body}")
    sep = draw(st.sampled_from(["\n\n", "\n", "\r\n\r\n", "\n\n\n"]))
    return sep.join(blocks)


@st.composite
def srt_files(draw: st.DrawFn) -> str:
    blocks = []
    for n in range(draw(st.integers(0, 6))):
        index = draw(st.sampled_from([f"{n + 1}\n", "", "x\n", f"{n}\n"]))
        timing = f"{draw(stamps)} --> {draw(stamps)}"
        body = "\n".join(draw(st.lists(cue_texts(), min_size=0, max_size=3)))
        blocks.append(f"{index}{timing}\n{body}")
    return draw(st.sampled_from(["\n\n", "\n", "\r\n\r\n"])).join(blocks)


@st.composite
def pasted_files(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 10))):
        who, text = draw(names), draw(phrase)
        stamp = draw(stamps)
        form = draw(
            st.sampled_from(
                [
                    "{who}: {text}",
                    "**{who}:** {text}",
                    "**{who}**: {text}",
                    "[{stamp}] {who}: {text}",
                    "({stamp}) {who}: {text}",
                    "{stamp} - {who}: {text}",
                    "{who} [{stamp}]: {text}",
                    "{who} ({stamp}): {text}",
                    "{who}  {stamp}",
                    "{text}",
                    "",
                    "# {text}",
                ]
            )
        )
        lines.append(form.format(who=who, text=text, stamp=stamp))
    return "\n".join(lines)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Notes or a scope document: headings, numbered clauses, bullets, tables, fences."""
    lines = []
    for _ in range(draw(st.integers(0, 14))):
        text = draw(phrase)
        number = ".".join(str(draw(st.integers(0, 12))) for _ in range(draw(st.integers(1, 3))))
        form = draw(
            st.sampled_from(
                [
                    "# {text}",
                    "## {number} {text}",
                    "{number} {text}",
                    "{number}. {text}",
                    "Section {number} - {text}",
                    "- {text}",
                    "* [ ] {text}",
                    "(a) {text}",
                    "ii) {text}",
                    "| {text} | {number} |",
                    "|---|---|",
                    "```",
                    "> {text}",
                    "===",
                    "---",
                    "EXCLUSIONS",
                    "Out of scope:",
                    "Assumptions",
                    "The customer will provide {text}",
                    "{text}",
                    "",
                    "    {text}",
                ]
            )
        )
        lines.append(form.format(text=text, number=number))
    return "\n".join(lines)


# --- shared checks ------------------------------------------------------------------------------


def own_errors(fn: Callable[[], Any]) -> Any:
    """Call ``fn``; a HandoverError is a valid outcome (returned as None), anything else a bug."""
    try:
        return fn()
    except HandoverError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None


def check_segments(segments: Sequence[Segment] | None, *, timed: bool) -> None:
    if segments is None:
        return
    assert segments, "a parser returns segments or raises"
    for n, seg in enumerate(segments):
        assert seg.ordinal == n
        assert seg.text and seg.text == seg.text.strip()
        if timed:
            assert seg.start is not None and seg.end is not None
        if seg.start is not None:
            assert seg.start >= 0
        if seg.start is not None and seg.end is not None:
            assert seg.start <= seg.end, seg


# --- text decoding and detection --------------------------------------------------------------


@FAST
@given(st.binary(max_size=600))
@example(b"\xef\xbb\xbf\xff\xfe")  # a UTF-8 mark over bytes that are not UTF-8
@example(b"PK\x03\x04" + bytes(40))
def test_decode_and_detect_any_bytes(data: bytes) -> None:
    text = own_errors(lambda: decode_text(data, NAME))
    if text is not None:
        assert "\x00" not in text and "\r" not in text and text.strip()
    for name in ("call.vtt", "notes.md", "x.docx", "rec.mp3", "sow.pdf", "noext"):
        own_errors(lambda name=name: detect(data, name))


@FAST
@given(any_text, st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "cp1252"]))
def test_decoding_keeps_the_text(text: str, encoding: str) -> None:
    """Text that survives an encoding round trip decodes to itself (line ends unified)."""
    if "\x00" in text:
        return  # NULs make bytes ambiguous (binary, or UTF-16 without a mark): refused or read so
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    decoded = own_errors(lambda: decode_text(data, NAME))
    if decoded is not None and encoding != "cp1252":  # cp1252 may be read as another code page
        expected = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
        assert decoded == expected


# --- transcripts ------------------------------------------------------------------------------


@FAST
@given(st.one_of(vtt_files(), any_text))
def test_vtt_parser(text: str) -> None:
    check_segments(own_errors(lambda: parse_vtt(text, NAME)), timed=True)


@FAST
@given(st.one_of(srt_files(), any_text))
def test_srt_parser(text: str) -> None:
    check_segments(own_errors(lambda: parse_srt(text, NAME)), timed=True)


@FAST
@given(st.one_of(pasted_files(), any_text))
@example("Dana Whitfield: ")  # labels and no words gave no segments instead of an error
def test_pasted_transcript_parser(text: str) -> None:
    segments = own_errors(lambda: parse_pasted(text, NAME))
    check_segments(segments, timed=False)
    for seg in segments or ():
        assert seg.speaker is None or seg.speaker == seg.speaker.strip() != ""


@FAST
@given(st.one_of(vtt_files(), srt_files(), pasted_files(), any_text))
def test_text_sources_end_to_end(text: str) -> None:
    """Bytes as `add` sees them: detect the kind, then parse with what was detected."""
    data = text.encode("utf-8")
    for name in ("call.vtt", "call.srt", "notes.md", "notes.txt"):
        detected = own_errors(lambda name=name: detect(data, name))
        if detected is not None:
            segments = own_errors(
                lambda d=detected, name=name: text_segments(d.kind, d.fmt, data, name)
            )
            check_segments(segments, timed=detected.fmt in ("vtt", "srt"))


# --- notes ------------------------------------------------------------------------------------


@FAST
@given(st.one_of(documents(), any_text), st.sampled_from(["md", "txt"]))
@example("* [ ] \n0 ", "md")  # an empty task box put the offset on the line end
@example("* [ ] \x0c0", "md")  # a form feed after a task box, before the words
@example("```\n\n# ", "md")  # so did a blank first line in a code fence
@example("# \u20280", "md")  # and a heading's words after a Unicode space
@example("|\u00a0a |", "md")  # and a table row's
def test_notes_parser(text: str, fmt: str) -> None:
    text = normalise_newlines(text)  # as decode_text hands it over
    segments = own_errors(lambda: parse_notes(text, NAME, fmt))
    check_segments(segments, timed=False)
    previous = -1
    for seg in segments or ():
        assert seg.offset is not None and previous < seg.offset < len(text)
        previous = seg.offset
        assert not text[seg.offset].isspace(), "the offset points at the paragraph's words"
        if fmt == "txt":
            assert text[seg.offset :].split(maxsplit=1)[0] == seg.text.split(maxsplit=1)[0]


# --- scope documents and the clause splitter ----------------------------------------------


def _clauses_of(text: str, fmt: str) -> list[Any] | None:
    blocks = own_errors(lambda: scope_blocks(text.encode("utf-8"), "sow." + fmt, fmt))
    if blocks is None:
        return None
    return split_clauses(blocks)


@FAST
@given(st.one_of(documents(), any_text), st.sampled_from(["md", "txt"]))
def test_clause_splitter(text: str, fmt: str) -> None:
    blocks = own_errors(lambda: scope_blocks(text.encode("utf-8"), "sow." + fmt, fmt))
    if blocks is None:
        return
    clauses = split_clauses(blocks)
    assert split_clauses(blocks) == clauses, "the same document gets the same clauses"
    joined = "\n".join(block.text for block in blocks)
    for n, clause in enumerate(clauses):
        assert clause.ordinal == n
        assert clause.section and clause.text.strip()
        assert clause.text in joined, "a clause is words of the document"
        assert isinstance(clause.category, Category)
        assert len(clause_sha256(clause.text)) == 64


@FAST
@given(
    st.lists(
        st.builds(
            lambda text, style, level: (text, style, level),
            st.one_of(phrase, any_text),
            st.sampled_from(["heading", "numbered", "bullet", "row", "body", "odd"]),
            st.one_of(st.none(), st.integers(0, 9)),
        ),
        max_size=12,
    )
)
def test_clause_splitter_on_any_blocks(specs: list[tuple[str, str, int | None]]) -> None:
    """Blocks as any capture path may produce them (Word styles, PDF layout) split too."""
    blocks = [Block(n, text, style, level) for n, (text, style, level) in enumerate(specs)]
    clauses = split_clauses(blocks)
    assert clauses == split_clauses(blocks)
    for clause in clauses:
        assert clause.text.strip() and clause.section


def test_long_paragraphs_are_cut_into_clauses() -> None:
    sentence = "The vendor will configure one depot dispatch board per site. "
    blocks = [
        Block(0, "1. Scope", "heading", 1),
        Block(1, "1.1 " + sentence * 1000, "numbered", 2),
        Block(2, "x" * 50_000, "body"),
        Block(3, "Heading " * 100, "heading", 2),
    ]
    clauses = split_clauses(blocks)
    assert all(len(c.text) <= 20_000 for c in clauses)
    numbered = [c for c in clauses if "vendor" in c.text]
    assert [c.section for c in numbered] == ["1.1", "1.1.a", "1.1.b", "1.1.c"]
    assert numbered[0].text.endswith("per site.")  # cut at a sentence end
    joined = "".join(c.text for c in numbered).replace(" ", "")
    assert joined == (sentence * 1000).replace(" ", "")  # nothing lost or repeated
    assert "".join(c.text for c in clauses if set(c.text) == {"x"}) == "x" * 50_000
    assert clauses[-1].text.startswith("Heading Heading")  # too long for a title: text


# --- the extractor -----------------------------------------------------------------------------


@contextmanager
def swallowed_errors() -> Iterator[list[logging.LogRecord]]:
    """Warnings the extractor logs when it skips a segment after an unexpected error."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.WARNING)
    logger = logging.getLogger("handover.extract")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


segment_lists = st.lists(
    st.builds(
        lambda text, speaker, side, start, length: (text, speaker, side, start, length),
        st.one_of(phrase, any_text, pasted_files()),
        st.one_of(st.none(), names),
        st.sampled_from(list(Side)),
        st.one_of(st.none(), st.floats(0, 10_000, allow_nan=False)),
        st.floats(0, 60, allow_nan=False),
    ),
    max_size=6,
)


def _segments(specs: list[tuple[str, str | None, Side, float | None, float]]) -> list[Segment]:
    return [
        Segment(
            ordinal=n,
            text=text,
            speaker=speaker,
            side=side,
            start=start,
            end=None if start is None else start + length,
        )
        for n, (text, speaker, side, start, length) in enumerate(specs)
    ]


def _rows(candidates: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "kind": c.kind.value,
            "subtype": c.subtype.value,
            "text": c.text,
            "quantities": json.dumps(list(c.quantities)),
        }
        for c in candidates
    ]


@SLOW
@given(
    segment_lists,
    st.sampled_from([SourceKind.TRANSCRIPT, SourceKind.RECORDING, SourceKind.NOTES]),
    st.one_of(st.none(), st.sampled_from(["2026-11-02", "2027-02-29", "not a date"])),
)
@example(
    [("We will train all twenty supervisors by March 31.", "Dana Whitfield", Side.VENDOR, 0.0, 4)],
    SourceKind.TRANSCRIPT,
    "2026-11-02",
)
def test_extractor(nlp: Any, specs: list[Any], kind: SourceKind, meeting: str | None) -> None:
    segments = _segments(specs)
    people = {"Dana Whitfield": Side.VENDOR, "Maria": Side.CUSTOMER}
    with swallowed_errors() as skipped:
        run = lambda: extract(  # noqa: E731
            nlp, segments, meeting_date=meeting, source_kind=kind, people=people
        )
        first = own_errors(run)
        second = own_errors(run)
    assert not skipped, [r.getMessage() for r in skipped]
    assert first == second, "the same segments give the same candidates"
    for c in first or ():
        seg = segments[c.segment_ordinal]
        assert 0 <= c.char_start < c.char_end <= len(seg.text)
        assert seg.text[c.char_start : c.char_end] == c.text
        assert 0 <= c.confidence <= 1
        if c.start is not None and c.end is not None:
            assert c.start <= c.end
    ids = [item.id for item in merge("deal", _rows(first or ()), {})]
    assert ids == [item.id for item in merge("deal", _rows(second or ()), {})]
    assert len(ids) == len(set(ids))


def test_extractor_chunks_text_over_max_length(nlp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments longer than the chunk size are cut and every piece is read, with the
    candidates' offsets pointing into the whole segment."""
    import handover.extract as extraction

    monkeypatch.setattr(extraction, "MAX_CHUNK", 1000)
    filler = "Depot 12 runs the morning dispatch shift with three trucks. " * 40
    promises = [
        "We will train all twenty supervisors.",
        "We'll send weekly status reports every Friday.",
        "We will migrate the billing history before go-live.",
    ]
    text = f"{promises[0]} {filler}{promises[1]} {filler}{promises[2]}"
    segment = Segment(0, text, speaker="Dana Whitfield", side=Side.VENDOR)
    found = extract(nlp, [segment], source_kind=SourceKind.TRANSCRIPT)
    spans = {text[c.char_start : c.char_end] for c in found}
    for promise in promises:
        assert any(promise.startswith(span) or span in promise for span in spans), promise
    assert max(c.char_start for c in found) > 2 * len(filler)


# --- Word documents ------------------------------------------------------------------------


@SLOW
@given(
    st.dictionaries(
        st.sampled_from(["word/document.xml", "[Content_Types].xml", "mimetype", "x.txt"]),
        st.one_of(st.binary(max_size=200), any_text.map(str.encode)),
        max_size=4,
    ),
    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2]),
)
def test_zips_named_docx(members: dict[str, bytes], method: int) -> None:
    """Zips of any content named .docx: detected, parsed or refused with our error."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    data = buffer.getvalue()
    for as_kind in (None, SourceKind.SCOPE):
        detected = own_errors(lambda a=as_kind: detect(data, "x.docx", a))
        if detected is not None:
            segments = own_errors(lambda d=detected: text_segments(d.kind, d.fmt, data, "x.docx"))
            check_segments(segments, timed=False)
