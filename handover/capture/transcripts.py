"""Parsing meeting transcripts: WebVTT, SubRip and pasted plain text / Markdown.

Teams, Zoom, Otter and people copy-pasting from them all write "who said what,
when" slightly differently. The extractor later quotes customers verbatim, so
these parsers only remove markup (tags, entities, bold markers) and never touch
the words themselves: "re-assess & reinvigorate processes" must come out exactly
as it went in.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from handover.capture.text import (
    normalise_newlines,
    squash_spaces,
    strip_inline_markdown,
    unescape_entities,
)
from handover.errors import InputError
from handover.types import Segment

# --- timestamps ----------------------------------------------------------------------

# h:mm:ss(.ttt), mm:ss(.ttt) or m:ss; "," is SubRip's decimal mark.
TIMESTAMP = r"(?:\d{1,3}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_TIMESTAMP_PARTS = re.compile(r"(?:(\d{1,3}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?")


def parse_timestamp(stamp: str) -> float | None:
    """Seconds for a caption/paste timestamp, or None when it is not a valid time.

    Minutes may run past 59 when there is no hour part, because hour-long Otter
    exports write "75:30" rather than "1:15:30".
    """
    m = _TIMESTAMP_PARTS.fullmatch(stamp.strip())
    if m is None:
        return None
    hours, minutes, seconds, fraction = m.groups()
    if int(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        return None
    value = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    if fraction:
        value += float(f"0.{fraction}")
    return float(value)


# --- speaker labels ------------------------------------------------------------------

_LABEL_FORBIDDEN = frozenset('?!;,"“”*#<>[]{}=+|\\~`:')
# Lower-case words that legitimately appear inside personal names.
_NAME_PARTICLES = frozenset(
    "de da del della der den di du dos das la le van von zu ten ter al el bin ibn y e".split()
)
_MAX_LABEL_WORDS = 5
_MAX_LABEL_CHARS = 40


def _name_word_ok(word: str) -> bool:
    if word.startswith("("):
        return True
    core = word.strip("()'’.-–")
    if not core:
        return True
    return (
        core[0].isupper()
        or core[0].isdigit()
        or core.lower() in _NAME_PARTICLES
        or any(ch.isupper() for ch in core)  # "Alice's iPhone", "eBay Support"
    )


def is_speaker_label(label: str) -> bool:
    """Whether text before a colon reads like a speaker's name rather than prose.

    The rules are about the *shape* of names so they hold for any language of
    meeting: short, starting with a letter, no sentence punctuation, no URL, and
    in multi-word labels every word capitalised (or a name particle, a number, or
    a parenthesised company). "Next steps" fails, "Alice van Dijk (Acme)" passes.
    A single capitalised word ("Agenda") cannot be told apart from a first name
    and is accepted.
    """
    label = label.strip()
    if not label or len(label) > _MAX_LABEL_CHARS or not label[0].isalpha():
        return False
    if any(ch in _LABEL_FORBIDDEN for ch in label):
        return False
    lowered = label.lower()
    if "://" in lowered or lowered.startswith("www."):
        return False
    words = label.split()
    if len(words) > _MAX_LABEL_WORDS:
        return False
    if label.endswith(".") and len(words[-1]) > 4:
        return False  # "We agreed on this." is a sentence; "Jr." and "Dr." are not.
    return len(words) == 1 or all(_name_word_ok(w) for w in words)


def _clean_label(label: str) -> str:
    return squash_spaces(unescape_entities(label))


# --- caption cue text ----------------------------------------------------------------

_VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]*)>")
_INLINE_TIME = re.compile(r"<\d{1,3}(?::\d{2}){1,2}(?:\.\d{1,3})?>")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_ASS_OVERRIDE = re.compile(r"\{\\[^{}]*\}")
_COLON_LABEL = re.compile(r"^(?P<label>[^:]{1,40}):(?:\s+(?P<text>.*))?$")
_BRACKET_LABEL = re.compile(r"^\[(?P<label>[^\]]{1,40})\]\s*(?P<text>\S.*)$")
_DASH_LABEL = re.compile(r"^[-–—]\s*(?P<label>[^:]{1,40}):(?:\s+(?P<text>.*))?$")


def _clean_cue_line(line: str) -> str:
    line = _INLINE_TIME.sub("", line)
    line = _TAG.sub("", line)
    line = _ASS_OVERRIDE.sub("", line)
    return squash_spaces(unescape_entities(line))


def _first_label(line: str, patterns: tuple[re.Pattern[str], ...]) -> tuple[str, str] | None:
    """(label, text) from the first pattern whose label looks like a speaker's name."""
    for pattern in patterns:
        m = pattern.match(line)
        if m and is_speaker_label(m.group("label")):
            return m.group("label").strip(), (m.group("text") or "").strip()
    return None


def _caption_label(clean: str) -> tuple[str, str] | None:
    """Split a "Name: text" / "[Name] text" / "- Name: text" caption line."""
    return _first_label(clean, (_DASH_LABEL, _BRACKET_LABEL, _COLON_LABEL))


@dataclass
class _CueLine:
    text: str
    voice: str | None = None
    label: tuple[str, str] | None = None


@dataclass
class _Cue:
    start: float
    end: float
    lines: list[_CueLine] = field(default_factory=list)


def _cue(timing_line: str, body: list[str]) -> _Cue | None:
    """The cue under a ``start --> end`` line, or None if the timing or text is unusable."""
    m = _CUE_TIMING.match(timing_line)
    start = parse_timestamp(m.group(1)) if m else None
    end = parse_timestamp(m.group(2)) if m else None
    if start is None or end is None:
        return None
    cue = _Cue(start, end, [_cue_line(ln) for ln in body])
    return cue if any(ln.text for ln in cue.lines) else None


def _cue_line(raw: str) -> _CueLine:
    voice_match = _VOICE.search(raw)
    clean = _clean_cue_line(raw)
    voice = _clean_label(voice_match.group(1)) if voice_match else None
    if voice:
        return _CueLine(clean, voice=voice)
    return _CueLine(clean, label=_caption_label(clean))


def _cues_to_segments(cues: list[_Cue]) -> list[Segment]:
    """Turn cues into segments, one per speaker run inside each cue.

    "Name: text" is only believed file-wide: when some name recurs (speakers do)
    or every cue has one (Zoom), so a lone caption like "Note: the demo" keeps
    its words instead of inventing a speaker called "Note".
    """
    candidates = [ln.label[0] for cue in cues for ln in cue.lines if ln.label]
    labelled_cues = sum(1 for cue in cues if any(ln.label for ln in cue.lines))
    use_labels = bool(candidates) and (
        max(Counter(candidates).values()) >= 2 or labelled_cues == len(cues)
    )
    segments: list[Segment] = []
    for cue in cues:
        runs: list[tuple[str | None, list[str]]] = []
        for ln in cue.lines:
            if ln.voice:
                runs.append((ln.voice, [ln.text]))
            elif use_labels and ln.label:
                runs.append((ln.label[0], [ln.label[1]]))
            elif runs:
                runs[-1][1].append(ln.text)
            else:
                runs.append((None, [ln.text]))
        for speaker, parts in runs:
            text = squash_spaces(" ".join(parts))
            if text:
                segments.append(
                    Segment(
                        ordinal=len(segments),
                        text=text,
                        start=cue.start,
                        end=max(cue.start, cue.end),
                        speaker=speaker,
                    )
                )
    return segments


_CUE_TIMING = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)(?:\s.*)?$")
_VTT_HEADER = re.compile(r"^WEBVTT(?:[ \t].*)?$")
_VTT_META_BLOCK = re.compile(r"^(?:NOTE|STYLE|REGION)(?:\s|$)")


def _no_cues(name: str, what: str) -> InputError:
    return InputError(
        f"{name}: has no readable {what} cues; export the transcript again, "
        "or paste it as plain text with 'Name: text' lines"
    )


def parse_vtt(text: str, name: str) -> list[Segment]:
    """Parse a WebVTT file (Teams, Zoom, generic) into speaker-attributed segments.

    Malformed cues are skipped rather than failing the file: one garbled cue in
    an hour-long call should not cost the other 900.
    """
    lines = normalise_newlines(text).split("\n")
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None or not _VTT_HEADER.match(lines[first].strip().lstrip("\ufeff")):
        raise InputError(
            f"{name}: is not a WebVTT file (no WEBVTT header on the first line); "
            "export the transcript again or add it as plain text"
        )
    blocks: list[list[str]] = [[]]
    for ln in lines[first + 1 :]:
        if ln.strip():
            blocks[-1].append(ln)
        elif blocks[-1]:
            blocks.append([])
    cues: list[_Cue] = []
    for block in blocks:
        if not block or _VTT_META_BLOCK.match(block[0].strip()):
            continue
        timing_at = next((i for i, ln in enumerate(block) if "-->" in ln), None)
        if timing_at is None:
            continue  # header metadata ("Kind: captions") or a stray line
        cue = _cue(block[timing_at], block[timing_at + 1 :])
        if cue is not None:
            cues.append(cue)
    segments = _cues_to_segments(cues)
    if not segments:
        raise _no_cues(name, "WebVTT")
    return segments


def parse_srt(text: str, name: str) -> list[Segment]:
    """Parse a SubRip file, tolerating missing index lines and missing blank lines.

    Cue text runs from a timing line to the next one (minus the next cue's index),
    because hand-edited SRT files often lose their blank separators.
    """
    lines = normalise_newlines(text).split("\n")
    timing_rows = [i for i, ln in enumerate(lines) if "-->" in ln]
    cues: list[_Cue] = []
    for n, row in enumerate(timing_rows):
        stop = timing_rows[n + 1] if n + 1 < len(timing_rows) else len(lines)
        body = lines[row + 1 : stop]
        while body and not body[-1].strip():
            body.pop()
        if body and stop < len(lines) and body[-1].strip().isdigit():
            body.pop()  # the next cue's index
        cue = _cue(lines[row], [ln for ln in body if ln.strip()])
        if cue is not None:
            cues.append(cue)
    segments = _cues_to_segments(cues)
    if not segments:
        raise _no_cues(name, "SubRip")
    return segments


# --- pasted transcripts --------------------------------------------------------------

_STAMP_PREFIX = re.compile(
    rf"^(?:\[(?P<a>{TIMESTAMP})\]|\((?P<b>{TIMESTAMP})\)|(?P<c>{TIMESTAMP}))"
    r"\s*[-–—|]?\s*(?P<rest>\S.*)$"
)
_LABEL_STAMP_COLON = re.compile(
    rf"^(?P<label>[^\[\]():]{{1,44}}?)\s*(?:\[(?P<a>{TIMESTAMP})\]|\((?P<b>{TIMESTAMP})\))"
    r"\s*:(?:\s+(?P<text>.*))?$"
)
_BOLD_COLON_IN = re.compile(r"^(?:\*\*|__)(?P<label>[^*_:]{1,40}):(?:\*\*|__)(?:\s*(?P<text>.*))?$")
_BOLD_COLON_OUT = re.compile(
    r"^(?:\*\*|__)(?P<label>[^*_:]{1,40})(?:\*\*|__)\s*:(?:\s*(?P<text>.*))?$"
)
_HEADER = re.compile(
    rf"^(?:\[(?P<l1>[^\]]{{1,40}})\]|(?:\*\*)?(?P<l2>[^\[\]():*]{{1,40}}?)(?:\*\*)?)"
    rf"\s+(?:\[(?P<a>{TIMESTAMP})\]|\((?P<b>{TIMESTAMP})\)|(?P<c>{TIMESTAMP}))$"
)
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_MD_STRUCTURAL = re.compile(r"^(?:#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|\|)")


@dataclass
class _TurnStart:
    label: str
    stamp: float | None
    text: str
    header: bool = False  # Otter style: the words follow on the next lines


def _stamp(m: re.Match[str]) -> float | None:
    for group in ("a", "b", "c"):
        value = m.groupdict().get(group)
        if value:
            return parse_timestamp(value)
    return None


def _label_colon(line: str) -> tuple[str, str] | None:
    return _first_label(line, (_BOLD_COLON_IN, _BOLD_COLON_OUT, _COLON_LABEL))


def _turn_start(line: str) -> _TurnStart | None:
    """Recognise a line that opens a speaker turn in any of the pasted forms."""
    m = _STAMP_PREFIX.match(line)
    if m:
        split = _label_colon(m.group("rest"))
        if split:
            return _TurnStart(split[0], _stamp(m), split[1])
    m = _LABEL_STAMP_COLON.match(line)
    if m:
        label = m.group("label").strip().strip("*_").strip()
        if is_speaker_label(label):
            return _TurnStart(label, _stamp(m), (m.group("text") or "").strip())
    split = _label_colon(line)
    if split:
        return _TurnStart(split[0], None, split[1])
    m = _HEADER.match(line)
    if m:
        label = (m.group("l1") or m.group("l2") or "").strip()
        if is_speaker_label(label):
            return _TurnStart(label, _stamp(m), "", header=True)
    return None


def _classify_lines(lines: list[str]) -> list[_TurnStart | None]:
    """Find turn starts, then apply the file-wide rules that single lines can't.

    An Otter-style "Name 0:03" header is only believed when the file has at least
    two of them (one "Call Friday 10:30" line in notes is not a transcript), and
    in a file made of such headers an unstamped "Word: text" line is part of what
    someone said ("Note: we agreed..."), not a new speaker.
    """
    starts = [_turn_start(ln.strip()) if ln.strip() else None for ln in lines]
    headers = sum(1 for s in starts if s and s.header)
    if headers < 2:
        starts = [None if s and s.header else s for s in starts]
    unstamped = sum(1 for s in starts if s and s.stamp is None)
    if headers >= 2 and headers >= 2 * unstamped:
        starts = [s if s is None or s.stamp is not None else None for s in starts]
    return starts


def _plain_line(line: str) -> str:
    return _MD_HEADING.sub("", line.strip())


@dataclass
class _Turn:
    speaker: str | None
    start: float | None
    parts: list[str] = field(default_factory=list)


def parse_pasted(text: str, name: str) -> list[Segment]:
    """Parse a transcript someone pasted into a text or Markdown file.

    Unlabelled lines continue the current turn even across blank lines, because
    pastes wrap long turns unpredictably; only a new label starts a new turn.
    Text before the first label (a title, a date) is kept as an unattributed
    segment rather than dropped.
    """
    lines = normalise_newlines(text).split("\n")
    starts = _classify_lines(lines)
    turns: list[_Turn] = []
    for line, start in zip(lines, starts, strict=True):
        if start is not None:
            turns.append(_Turn(start.label, start.stamp, [start.text] if start.text else []))
        elif line.strip():
            if not turns:
                turns.append(_Turn(None, None))
            turns[-1].parts.append(_plain_line(line))
    if not any(t.speaker for t in turns):
        raise InputError(
            f"{name}: has no speaker-labelled lines (like 'Name: text'); "
            "add it as notes instead, or label who is speaking"
        )
    kept = [t for t in turns if squash_spaces(" ".join(t.parts))]
    if not kept:
        raise InputError(
            f"{name}: has speaker labels but nothing anyone said; "
            "check the paste kept the words after 'Name:'"
        )
    next_starts: list[float | None] = []
    upcoming: float | None = None
    for turn in reversed(kept):
        next_starts.append(upcoming)
        if turn.start is not None:
            upcoming = turn.start
    next_starts.reverse()
    segments: list[Segment] = []
    for turn, nxt in zip(kept, next_starts, strict=True):
        end: float | None = None
        if turn.start is not None and nxt is not None and nxt >= turn.start:
            end = nxt
        words = strip_inline_markdown(squash_spaces(" ".join(turn.parts)))
        segments.append(
            Segment(
                ordinal=len(segments),
                text=squash_spaces(unescape_entities(words)),
                start=turn.start,
                end=end,
                speaker=turn.speaker,
            )
        )
    return segments


_MIN_TURNS = 3
_MIN_LABELLED_SHARE = 2 / 3


def looks_like_transcript(text: str) -> bool:
    """Whether pasted text is a speaker-labelled transcript rather than notes.

    Counts "units": labelled turns, Markdown headings, list items and unlabelled
    paragraphs (lines continuing a turn don't count). It is a transcript when
    labelled turns are a clear majority, at least two speakers appear, and some
    speaker comes back after another spoke: conversations alternate, whereas
    notes with "Action:" or "Goal:" lines repeat one key in a row.
    """
    lines = normalise_newlines(text).split("\n")
    starts = _classify_lines(lines)
    labels: list[str] = []
    units = 0
    in_turn = False  # the previous non-blank line belongs to a turn
    turn_has_text = False
    blank_before = True
    for line, start in zip(lines, starts, strict=True):
        stripped = line.strip()
        if not stripped:
            blank_before = True
            continue
        if start is not None:
            units += 1
            labels.append(start.label)
            in_turn, turn_has_text = True, bool(start.text)
        elif in_turn and (not blank_before or not turn_has_text):
            if _MD_STRUCTURAL.match(stripped) and blank_before:
                units += 1
                in_turn = False
            turn_has_text = True
        elif _MD_STRUCTURAL.match(stripped) or blank_before:
            units += 1
            in_turn = False
        blank_before = False
    if len(labels) < _MIN_TURNS or len(set(labels)) < 2:
        return False
    if len(labels) < _MIN_LABELLED_SHARE * units:
        return False
    seen: set[str] = set()
    previous: str | None = None
    for label in labels:
        if label != previous and label in seen:
            return True
        seen.add(label)
        previous = label
    return False


def parse_transcript(text: str, name: str, fmt: str) -> list[Segment]:
    """Parse ``text`` as the transcript format ``detect`` settled on."""
    if fmt == "vtt":
        return parse_vtt(text, name)
    if fmt == "srt":
        return parse_srt(text, name)
    if fmt == "text":
        return parse_pasted(text, name)
    raise InputError(f"{name}: unknown transcript format {fmt!r}; use vtt, srt or text")
