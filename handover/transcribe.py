"""Speech to timed text with faster-whisper, offline, on CPU, lazily.

``transcribe()`` checks the file first (``probe``: bad input fails before any model
work), then returns a generator: nothing is decoded or transcribed until the caller
iterates, and segments come out as Whisper produces them. Like faster-whisper itself.

How the options map onto faster-whisper 1.2.1:

* ``batched=True`` (default) runs ``BatchedInferencePipeline``: Silero VAD finds the
  speech, the speech is packed into windows of at most 30 s, and ``batch_size``
  windows are encoded and decoded together. Windows are independent (no conditioning
  on previous text), which is both faster and more robust against runaway
  repetitions on long recordings. The pipeline's default ``without_timestamps=True``
  is kept (asking for timestamp tokens cost accuracy in bench/wer.py), so it returns
  one segment per window, up to 30 s and several speakers long. With
  ``sentences=True`` (default) we ask for word timestamps (cross-attention alignment
  after decoding: the same text, about 5 % more CPU) and split each window into
  sentences at ``. ? !``, each timed by its first and last word. ``sentences=False``
  yields the windows as they are.
* ``batched=False`` runs ``WhisperModel.transcribe``: classic sequential 30 s
  sliding windows, conditioned on the previous text, with Whisper's own timestamps
  (finer segments), VAD only when ``vad=True``.
* ``vad=False`` ("--no-vad"). The batched pipeline cannot run without VAD on audio
  longer than 30 s unless it is given ``clip_timestamps`` (it raises otherwise; VAD is
  otherwise always on there). So with ``batched=True, vad=False`` we hand it our own
  windows covering all the audio: at most 30 s each, cut at the quietest 0.2 s in
  their last 5 s (``quiet_cut``). Nothing is dropped, silence included, so Whisper
  may hallucinate on long silences; it exists for speech that VAD wrongly drops.
  With ``batched=False, vad=False`` it is plain Whisper on the whole chunk.
* The language is forced (``options.language``, English by default): no detection.
* ``hotwords`` go to Whisper as one comma-separated string in the prompt, so names
  are spelled as the customer spells them. Whisper's prompt shares its 448-token
  context with the output (faster-whisper keeps at most 223 hotword tokens), so we
  keep the first ``MAX_HOTWORDS`` (60) distinct terms within ``MAX_HOTWORD_CHARS``
  (400, roughly 100-150 tokens) and drop the tail.

Long recordings are decoded in ~``chunk_seconds`` chunks (``iter_chunks``), each
cut in a quiet spot, so memory stays flat; timestamps are shifted by the chunk's
offset and ordinals continue across chunks.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from handover.capture.audio import SAMPLE_RATE, iter_chunks, probe, quiet_cut
from handover.errors import HandoverError
from handover.types import Segment

if TYPE_CHECKING:
    from faster_whisper import BatchedInferencePipeline, WhisperModel
    from faster_whisper.transcribe import Segment as WhisperSegment

MAX_HOTWORDS = 60
MAX_HOTWORD_CHARS = 400
WINDOW_SECONDS = 30.0  # Whisper's input window
_NO_VAD_CUT_SEARCH_SECONDS = 5.0

ProgressCallback = Callable[[float, float], None]


@dataclass(frozen=True)
class TranscribeOptions:
    batched: bool = True
    batch_size: int = 8
    vad: bool = True
    beam_size: int = 5
    language: str = "en"
    hotwords: tuple[str, ...] = ()
    chunk_seconds: float = 600.0
    sentences: bool = True  # batched: split each window into sentences (word timestamps)


def hotword_prompt(hotwords: Iterable[str]) -> str | None:
    """The hotwords as one bounded, comma-separated string (None when there are none).

    Commas and runs of whitespace inside a term become single spaces; duplicates
    (case-insensitive) are dropped; the tail beyond ``MAX_HOTWORDS`` terms or
    ``MAX_HOTWORD_CHARS`` characters is dropped, keeping the caller's order.
    """
    terms: list[str] = []
    seen: set[str] = set()
    length = 0
    for raw in hotwords:
        term = " ".join(str(raw).replace(",", " ").split())
        if not term or term.casefold() in seen:
            continue
        added = len(term) + (2 if terms else 0)
        if len(terms) >= MAX_HOTWORDS or length + added > MAX_HOTWORD_CHARS:
            break
        terms.append(term)
        seen.add(term.casefold())
        length += added
    return ", ".join(terms) or None


_local = threading.local()


def batched_pipeline(model: WhisperModel) -> BatchedInferencePipeline:
    """One ``BatchedInferencePipeline`` per model and thread, kept while the model lives.

    Per thread because the pipeline carries state between batches of a run
    (``last_speech_timestamp``, for word timestamps). It holds only a weak proxy to the
    model, so the cache does not keep a model alive.
    """
    cache = getattr(_local, "pipelines", None)
    if cache is None:
        cache = _local.pipelines = weakref.WeakKeyDictionary()
    pipeline = cache.get(model)
    if pipeline is None:
        from faster_whisper import BatchedInferencePipeline

        pipeline = cache[model] = BatchedInferencePipeline(weakref.proxy(model))
    return pipeline


def _windows(audio: np.ndarray) -> list[dict[str, float]]:
    """Consecutive <= 30 s windows covering ``audio``, cut at quiet spots (for --no-vad)."""
    size = round(WINDOW_SECONDS * SAMPLE_RATE)
    search = round(_NO_VAD_CUT_SEARCH_SECONDS * SAMPLE_RATE)
    window = round(0.2 * SAMPLE_RATE)
    clips: list[dict[str, float]] = []
    start = 0
    while start < len(audio):
        if len(audio) - start <= size:
            stop = len(audio)
        else:
            stop = start + quiet_cut(audio[start : start + size], size, search, window)
        clips.append({"start": start / SAMPLE_RATE, "end": stop / SAMPLE_RATE})
        start = stop
    return clips


def _engine(
    audio: np.ndarray, model: WhisperModel, options: TranscribeOptions, hotwords: str | None
) -> Iterable[WhisperSegment]:
    common = {"language": options.language, "beam_size": options.beam_size, "hotwords": hotwords}
    if not options.batched:
        segments, _info = model.transcribe(audio, vad_filter=options.vad, **common)
        return segments
    pipeline = batched_pipeline(model)
    pipeline.last_speech_timestamp = 0.0  # a run abandoned mid-way leaves it set
    common.update(batch_size=options.batch_size, word_timestamps=options.sentences)
    if options.vad:
        segments, _info = pipeline.transcribe(audio, vad_filter=True, **common)
    else:
        segments, _info = pipeline.transcribe(
            audio, vad_filter=False, clip_timestamps=_windows(audio), **common
        )
    return segments


_SENTENCE_END = re.compile(r"[.?!\u2026\u3002\uff01\uff1f][\"'\u201d\u2019)\]]*$")


def _pieces(segment: WhisperSegment, split: bool) -> Iterator[tuple[str, float, float]]:
    """``(text, start, end)`` of the segment, or of each of its sentences when ``split``
    and it has word timings. The sentences' texts join back into the segment's text."""
    if not split or not segment.words:
        yield segment.text, segment.start, segment.end
        return
    sentence: list = []
    for word in segment.words:
        sentence.append(word)
        if _SENTENCE_END.search(word.word.strip()):
            yield "".join(w.word for w in sentence), sentence[0].start, sentence[-1].end
            sentence = []
    if sentence:
        yield "".join(w.word for w in sentence), sentence[0].start, sentence[-1].end


def _check_language(language: str) -> None:
    """Refuse an unknown code now rather than mid-run (faster-whisper checks it lazily)."""
    from faster_whisper import tokenizer

    codes = getattr(tokenizer, "_LANGUAGE_CODES", None)  # private: skip if it moves
    if codes and language not in codes:
        raise HandoverError(
            f"unknown transcription language {language!r}; use a Whisper language code "
            "such as 'en', 'de' or 'es'"
        )


def transcribe(
    path: Path,
    model: WhisperModel,
    options: TranscribeOptions = TranscribeOptions(),
    *,
    name: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Iterator[Segment]:
    """Transcribe a recording into ``Segment``s, lazily.

    Bad input raises ``InputError`` here, at call time (an unknown ``language`` a
    ``HandoverError``, nonsensical numbers a ``ValueError``); everything else happens while
    the returned generator is consumed. ``on_progress(done, total)`` (seconds of audio)
    is called as segments arrive and after each chunk, with non-decreasing values,
    ending with ``done == total``. ``total`` starts as the probed duration and only
    grows if decoding finds more audio than the container announced.
    Ordinals start at 0 and continue across chunks; empty texts are skipped; every
    segment has ``start <= end`` and starts no earlier than the previous one ended.
    """
    if options.batch_size < 1 or options.beam_size < 1 or options.chunk_seconds <= 0:
        raise ValueError(f"invalid transcription options: {options}")
    _check_language(options.language)
    path = Path(path)
    name = name or path.name
    info = probe(path, name)
    return _segments(path, name, model, options, info.duration, on_progress)


def _segments(
    path: Path,
    name: str,
    model: WhisperModel,
    options: TranscribeOptions,
    total: float,
    on_progress: ProgressCallback | None,
) -> Iterator[Segment]:
    hotwords = hotword_prompt(options.hotwords)
    ordinal = 0
    done = 0.0  # progress, seconds
    floor = 0.0  # no segment may start before this (the previous segment's end)

    last: tuple[float, float] | None = None

    def report(position: float) -> None:
        nonlocal done, total, last
        done = max(done, position)
        total = max(total, done)
        if on_progress is not None and (done, total) != last:
            last = (done, total)
            on_progress(done, total)

    for offset, audio in iter_chunks(path, name, chunk_seconds=options.chunk_seconds):
        chunk_end = offset + len(audio) / SAMPLE_RATE
        split = options.batched and options.sentences
        for raw in _engine(audio, model, options, hotwords):
            for piece, raw_start, raw_end in _pieces(raw, split):
                text = piece.strip()
                if not text:
                    continue
                start = min(max(offset + float(raw_start), floor), chunk_end)
                end = min(max(offset + float(raw_end), start), chunk_end)
                floor = end
                yield Segment(ordinal=ordinal, text=text, start=round(start, 3), end=round(end, 3))
                ordinal += 1
                report(end)
        report(chunk_end)
    if done < total:  # the container announced more audio than decoded (e.g. truncated)
        report(total)
