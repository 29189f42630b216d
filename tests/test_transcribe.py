"""Transcription with the real Whisper base model on short espeak clips.

The clips are tests/data/audio fixtures (see make_fixtures.sh there for the scripts):
``hello.*`` (~9 s, two voices, pauses between phrases) and ``dialogue.ogg`` (20 s,
five turns, 0.6 s apart) which names a made-up product, "Quorvex". Without hotwords Whisper base
writes "Quarvex"; with the hotword it spells it as given.
"""

from __future__ import annotations

import inspect
import itertools
import os
import re
from pathlib import Path

import numpy as np
import pytest

from handover import transcribe as tr
from handover.capture.audio import probe
from handover.errors import HandoverError, InputError
from handover.transcribe import (
    MAX_HOTWORD_CHARS,
    MAX_HOTWORDS,
    TranscribeOptions,
    batched_pipeline,
    hotword_prompt,
    transcribe,
)
from handover.types import Segment

AUDIO = Path(__file__).parent / "data" / "audio"
HELLO = AUDIO / "hello.wav"
HELLO_SCRIPT = (
    "We will send weekly status reports, every Friday. "
    "The board has asked us to re-assess and reinvigorate processes."
)
DIALOGUE = AUDIO / "dialogue.ogg"
DIALOGUE_SCRIPT = (
    "Thanks for joining, Tom. Shall we start with the Quorvex rollout? "
    "Yes. Our biggest worry is the Quorvex migration slipping past March. "
    "We will assign a dedicated project manager next week. "
    "Good. We need training for all twenty supervisors. "
    "We could probably run those sessions in Spanish too."
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def whisper_model():
    """Whisper base, loaded once per session (load_whisper caches it per process too)."""
    from handover.models import load_whisper

    cache = Path(os.environ.get("HANDOVER_CACHE", Path.home() / ".cache" / "handover"))
    return load_whisper(None, cache)


@pytest.fixture(scope="module")
def dialogue_run(whisper_model) -> list[Segment]:
    return list(transcribe(DIALOGUE, whisper_model))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def _overlap(segments: list[Segment], script: str) -> float:
    expected = _words(script)
    return len(expected & _words(" ".join(s.text for s in segments))) / len(expected)


def _duration(path: Path) -> float:
    return probe(path, path.name).duration


def _assert_well_formed(segments: list[Segment], duration: float) -> None:
    assert segments
    assert [s.ordinal for s in segments] == list(range(len(segments)))
    previous_end = 0.0
    for segment in segments:
        assert segment.text == segment.text.strip() and segment.text
        assert segment.start is not None and segment.end is not None
        assert previous_end <= segment.start <= segment.end <= duration + 0.1  # AAC pads
        assert segment.speaker is None
        previous_end = segment.end


# --- with the model ----------------------------------------------------------------------


def test_default_batched_run_has_timed_segments_with_the_words(dialogue_run) -> None:
    _assert_well_formed(dialogue_run, _duration(DIALOGUE))
    assert _overlap(dialogue_run, DIALOGUE_SCRIPT) >= 0.7
    text = " ".join(s.text for s in dialogue_run).lower()
    assert "project manager" in text and "supervisors" in text


def test_batched_windows_are_split_into_timed_sentences(whisper_model, dialogue_run) -> None:
    """The dialogue is one VAD window (under 30 s): one segment without sentence
    splitting, one per sentence with it, the same text either way, and each sentence
    timed by its words, so the five turns separated by 0.6 s pauses do not overlap."""
    options = TranscribeOptions(sentences=False)
    windows = list(transcribe(DIALOGUE, whisper_model, options))
    assert len(windows) == 1
    assert len(dialogue_run) >= 5
    assert " ".join(s.text for s in dialogue_run) == windows[0].text
    assert all(s.text[-1] in ".?!" for s in dialogue_run)
    assert all(s.end - s.start < 6.0 for s in dialogue_run)  # not the 20 s window


def test_sequential_run_works(whisper_model) -> None:
    segments = list(transcribe(HELLO, whisper_model, TranscribeOptions(batched=False)))
    _assert_well_formed(segments, _duration(HELLO))
    assert _overlap(segments, HELLO_SCRIPT) >= 0.7


@pytest.mark.parametrize("batched", [True, False])
def test_no_vad_works(whisper_model, batched: bool) -> None:
    options = TranscribeOptions(batched=batched, vad=False)
    segments = list(transcribe(HELLO, whisper_model, options))
    _assert_well_formed(segments, _duration(HELLO))
    assert _overlap(segments, HELLO_SCRIPT) >= 0.7


def test_hotword_spells_a_made_up_name_as_given(whisper_model, dialogue_run) -> None:
    """Whisper base hears "Quarvex"; with the hotword it writes "Quorvex" (checked
    deterministic on this clip for batched and sequential runs, CPU int8)."""
    assert "Quorvex" not in " ".join(s.text for s in dialogue_run)
    options = TranscribeOptions(hotwords=("Quorvex", "Tom"))
    segments = list(transcribe(DIALOGUE, whisper_model, options))
    text = " ".join(s.text for s in segments)
    assert "Quorvex" in text
    assert _overlap(segments, DIALOGUE_SCRIPT) >= 0.7  # the rest is not disturbed


def test_chunked_run_keeps_ordinals_and_times_going(whisper_model) -> None:
    """10 s chunks on the 20 s dialogue: two chunks, cut in the pause between two turns.
    Ordinals continue, times are shifted by the chunk offset and never go back.
    (Much shorter chunks work too but give Whisper too little context to test words on.)"""
    progress: list[tuple[float, float]] = []
    options = TranscribeOptions(chunk_seconds=10.0)
    segments = list(
        transcribe(DIALOGUE, whisper_model, options, on_progress=lambda *a: progress.append(a))
    )
    _assert_well_formed(segments, _duration(DIALOGUE))
    assert len(segments) >= 2
    assert segments[-1].start >= 5.0  # from the second chunk, shifted by its offset
    assert _overlap(segments, DIALOGUE_SCRIPT) >= 0.7
    dones = [d for d, _ in progress]
    assert dones == sorted(dones) and progress[-1][0] == progress[-1][1]
    assert any(d == segments[0].end for d in dones)  # reported as segments arrive


def test_progress_is_monotonic_and_ends_at_total(whisper_model) -> None:
    progress: list[tuple[float, float]] = []
    segments = list(transcribe(HELLO, whisper_model, on_progress=lambda *a: progress.append(a)))
    assert segments and progress
    dones, totals = [d for d, _ in progress], [t for _, t in progress]
    assert dones == sorted(dones) and totals == sorted(totals)
    assert all(0 <= d <= t for d, t in progress)
    assert progress[-1][0] == progress[-1][1]
    assert progress[-1][1] == pytest.approx(_duration(HELLO), abs=0.05)


def test_silence_gives_no_segments_but_full_progress(whisper_model) -> None:
    progress: list[tuple[float, float]] = []
    path = AUDIO / "silence.wav"
    assert list(transcribe(path, whisper_model, on_progress=lambda *a: progress.append(a))) == []
    assert progress[-1] == (pytest.approx(3.0, abs=0.05),) * 2


def test_video_file_is_transcribed(whisper_model) -> None:
    segments = list(transcribe(AUDIO / "hello.mp4", whisper_model, name="call.mp4"))
    _assert_well_formed(segments, _duration(AUDIO / "hello.mp4"))
    assert _overlap(segments, HELLO_SCRIPT) >= 0.7


def test_transcribe_is_lazy_and_yields_as_it_goes(whisper_model) -> None:
    calls: list[tuple[float, float]] = []
    result = transcribe(HELLO, whisper_model, on_progress=lambda d, t: calls.append((d, t)))
    assert inspect.isgenerator(result)
    assert calls == []  # nothing decoded or transcribed yet
    first = next(result)
    assert isinstance(first, Segment) and first.ordinal == 0
    result.close()


def test_the_batched_pipeline_is_made_once_per_model_and_thread(whisper_model) -> None:
    import threading

    mine = batched_pipeline(whisper_model)
    assert batched_pipeline(whisper_model) is mine
    other: list = []
    thread = threading.Thread(target=lambda: other.append(batched_pipeline(whisper_model)))
    thread.start()
    thread.join()
    assert other[0] is not mine  # it keeps per-run state (word timestamps)


# --- without the model -------------------------------------------------------------------


def test_bad_input_fails_at_call_time_before_any_model_work() -> None:
    class NoModel:  # any use of the model would raise AttributeError
        pass

    with pytest.raises(InputError) as excinfo:
        transcribe(AUDIO / "empty.wav", NoModel(), name="kickoff.wav")
    assert str(excinfo.value).startswith("kickoff.wav: ")
    assert inspect.isgenerator(transcribe(HELLO, NoModel()))  # good input: lazy, no work


def test_hotword_prompt_is_bounded_deduplicated_and_ordered() -> None:
    assert hotword_prompt(()) is None
    assert hotword_prompt(["  ", ""]) is None
    assert hotword_prompt(["Acme", "acme", "Jane  Doe", "Smith, Jones"]) == (
        "Acme, Jane Doe, Smith Jones"
    )
    many = [f"Name{i:03d}" for i in range(200)]
    prompt = hotword_prompt(many)
    assert prompt is not None
    terms = prompt.split(", ")
    assert terms == many[: len(terms)]  # the tail is dropped, order kept
    assert len(terms) <= MAX_HOTWORDS and len(prompt) <= MAX_HOTWORD_CHARS
    long = ["x" * 150, "y" * 150, "z" * 150]
    assert hotword_prompt(long) == f"{'x' * 150}, {'y' * 150}"


def test_sentence_pieces_follow_the_word_timings() -> None:
    from types import SimpleNamespace as NS

    words = [
        NS(word=" Hello", start=0.0, end=0.4),
        NS(word=" there.", start=0.4, end=0.9),
        NS(word=" Ready", start=1.5, end=1.8),
        NS(word=" now?”", start=1.8, end=2.2),
        NS(word=" And", start=2.5, end=2.7),
        NS(word=" then", start=2.7, end=3.0),
    ]
    segment = NS(text=" Hello there. Ready now?” And then", start=0.0, end=3.0, words=words)
    assert list(tr._pieces(segment, split=True)) == [
        (" Hello there.", 0.0, 0.9),
        (" Ready now?”", 1.5, 2.2),
        (" And then", 2.5, 3.0),
    ]
    assert list(tr._pieces(segment, split=False)) == [(segment.text, 0.0, 3.0)]
    no_words = NS(text=" Hi.", start=1.0, end=2.0, words=None)
    assert list(tr._pieces(no_words, split=True)) == [(" Hi.", 1.0, 2.0)]


def test_no_vad_windows_cover_the_chunk_in_30s_pieces() -> None:
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(75 * 16_000) * 0.1).astype(np.float32)
    audio[25 * 16_000 : 26 * 16_000] = 0  # a pause where the first window should end
    windows = tr._windows(audio)
    assert windows[0]["start"] == 0 and windows[-1]["end"] == pytest.approx(75.0)
    assert 25.0 <= windows[0]["end"] <= 26.0
    for previous, current in itertools.pairwise(windows):
        assert current["start"] == previous["end"]
    assert all(0 < w["end"] - w["start"] <= 30.0 for w in windows)


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError):
        transcribe(HELLO, object(), TranscribeOptions(batch_size=0))
    with pytest.raises(HandoverError, match="unknown transcription language 'xx'"):
        transcribe(HELLO, object(), TranscribeOptions(language="xx"))
