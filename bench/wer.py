"""Word error rate and speed of our transcription against bare faster-whisper, on real speech.

    .venv/bin/python bench/wer.py [--cache DIR] [--repeat N] [--long MINUTES] [--verbose]
                                  [--clip AUDIO REFERENCE]... [--hotwords A,B]

The default clip is the 30 s two-party telephone conversation (with an STM reference)
that ships inside the ``pyannote.audio==4.0.7`` wheel. The wheel is fetched once with
``pip download --no-deps`` into the cache directory (default ``.cache/bench`` in the
repository, gitignored) and the two files are unzipped next to it. This is a PyPI
download at benchmark time only; the product never downloads anything.

All variants run in one process on the same model (the bundled Whisper base, CPU,
int8, as ``load_whisper`` loads it). Each variant runs once untimed (warm-up) and then
``--repeat`` times, round-robin over the variants so that load from elsewhere on the
machine spreads over all of them. Times are the best (lowest) run: other work on a
shared machine only ever adds time (CPU time too: busy cores make the OpenMP threads
spin), so the best run is the cleanest measurement. RTF = wall time / audio. The
reference and the hypothesis go through the same normalisation: non-speech tokens
(``<...>`` labels, ``(())``) removed, lower case, hyphens to spaces, punctuation
removed, whitespace collapsed.

``--clip AUDIO REFERENCE`` adds a clip (REFERENCE: an ``.stm`` file, or plain text);
give it several times for more. ``--hotwords`` applies to added clips.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import jiwer  # noqa: E402

from handover.models import load_whisper  # noqa: E402
from handover.transcribe import TranscribeOptions, transcribe  # noqa: E402

PYANNOTE = "pyannote.audio==4.0.7"
PYANNOTE_FILES = ("pyannote/audio/sample/sample.wav", "pyannote/audio/sample/sample.stm")
# Names and places said in the pyannote sample, as a customer would list them.
PYANNOTE_HOTWORDS = ("Diane", "Sheila", "New Jersey", "Texas", "Chicago")
BASELINE = "bare batched"


@dataclass(frozen=True)
class Clip:
    name: str
    audio: Path
    reference: str
    hotwords: tuple[str, ...] = ()


# --- reference and normalisation -------------------------------------------------------


def parse_stm(text: str) -> str:
    """The transcript of an STM file: segments in time order, non-scored ones dropped.

    A line is ``file channel speaker start end [<label>] transcript``; ``;;`` starts a
    comment. ``<...>`` tokens (the optional label and non-speech markers) are removed
    later by ``normalise``.
    """
    rows: list[tuple[float, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(";;"):
            continue
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        speaker, start, words = parts[2], float(parts[3]), parts[5] if len(parts) > 5 else ""
        if speaker in {"inter_segment_gap", "excluded_region"}:
            continue
        if "IGNORE_TIME_SEGMENT_IN_SCORING" in words:
            continue
        rows.append((start, words))
    rows.sort(key=lambda row: row[0])
    return " ".join(words for _, words in rows)


_TRANSFORM = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.SubstituteRegexes({r"-": " "}),
        jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
    ]
)


def normalise(text: str) -> str:
    text = re.sub(r"<[^>]*>", " ", text)  # STM labels <o,f0,male>, <laugh>, <unk>
    text = re.sub(r"\(\(\s*\)\)", " ", text)  # (()) unintelligible
    text = text.replace("((", " ").replace("))", " ")  # ((uncertain words)): keep words
    return _TRANSFORM(text)


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not hyp:
        return 1.0
    return jiwer.wer(ref, hyp)


# --- data ------------------------------------------------------------------------------


def pyannote_clip(cache: Path) -> Clip:
    target = cache / "pyannote-sample"
    wav, stm = (target / Path(name).name for name in PYANNOTE_FILES)
    if not (wav.is_file() and stm.is_file()):
        cache.mkdir(parents=True, exist_ok=True)
        wheels = sorted(cache.glob("pyannote_audio-4.0.7-*.whl"))
        if not wheels:
            print(f"fetching {PYANNOTE} into {cache} (pip download --no-deps)", file=sys.stderr)
            subprocess.run(
                [sys.executable, "-m", "pip", "download", PYANNOTE, "--no-deps", "-q",
                 "-d", str(cache)],
                check=True,
            )  # fmt: skip
            wheels = sorted(cache.glob("pyannote_audio-4.0.7-*.whl"))
        if not wheels:
            sys.exit(f"pip download of {PYANNOTE} produced no wheel in {cache}")
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheels[0]) as archive:
            for name in PYANNOTE_FILES:
                (target / Path(name).name).write_bytes(archive.read(name))
    return Clip("pyannote sample (30 s phone)", wav, parse_stm(stm.read_text()), PYANNOTE_HOTWORDS)


def user_clip(audio: str, reference: str, hotwords: tuple[str, ...]) -> Clip:
    ref_path = Path(reference)
    text = ref_path.read_text()
    if ref_path.suffix.lower() == ".stm":
        text = parse_stm(text)
    return Clip(Path(audio).name, Path(audio), text, hotwords)


def duration(path: Path) -> float:
    from handover.capture.audio import probe

    return probe(path, path.name).duration


# --- variants --------------------------------------------------------------------------

Runner = Callable[[Clip], str]


def variants(model) -> list[tuple[str, Runner]]:
    from faster_whisper import BatchedInferencePipeline

    bare_pipeline = BatchedInferencePipeline(model)

    def text(segments: Iterable) -> str:
        return " ".join(s.text.strip() for s in segments)

    def bare_sequential(vad: bool) -> Runner:
        def run(clip: Clip) -> str:
            segments, _ = model.transcribe(
                str(clip.audio), language="en", beam_size=5, vad_filter=vad
            )
            return text(segments)

        return run

    def bare_batched(timestamps: bool) -> Runner:
        def run(clip: Clip) -> str:
            segments, _ = bare_pipeline.transcribe(
                str(clip.audio),
                language="en",
                batch_size=8,
                beam_size=5,
                without_timestamps=not timestamps,
            )
            return text(segments)

        return run

    def ours(hotwords: bool = False, **options) -> Runner:
        def run(clip: Clip) -> str:
            opts = TranscribeOptions(hotwords=clip.hotwords if hotwords else (), **options)
            return text(transcribe(clip.audio, model, opts))

        return run

    return [
        ("bare sequential + VAD", bare_sequential(True)),
        ("bare sequential, no VAD", bare_sequential(False)),
        (BASELINE, bare_batched(False)),
        ("bare batched, with timestamps", bare_batched(True)),
        ("ours default (batched + VAD)", ours()),
        ("ours, windows not split into sentences", ours(sentences=False)),
        ("ours --no-batch", ours(batched=False)),
        ("ours --no-vad (batched)", ours(vad=False)),
        ("ours default + hotwords", ours(hotwords=True)),
    ]


# --- measuring -------------------------------------------------------------------------


@dataclass
class Result:
    errors: list[float]
    wall: list[float]
    cpu: list[float]
    hypothesis: str = ""


def measure(clip: Clip, runners: list[tuple[str, Runner]], repeat: int) -> dict[str, Result]:
    for _, run in runners:
        run(clip)  # warm-up, untimed (VAD model load, allocator, caches)
    results = {label: Result([], [], []) for label, _ in runners}
    # Round-robin, so a burst of load from elsewhere on the machine hits all variants.
    # CPU seconds (all threads of this process) are reported beside wall time: they are
    # much less disturbed by other processes on a small shared machine.
    # WER is taken on every run: Whisper's temperature fallback samples at random, so a
    # variant that falls back (sequential without VAD does) differs from run to run.
    for _ in range(max(1, repeat)):
        for label, run in runners:
            wall, cpu = time.perf_counter(), time.process_time()
            hypothesis = run(clip)
            result = results[label]
            result.wall.append(time.perf_counter() - wall)
            result.cpu.append(time.process_time() - cpu)
            result.errors.append(wer(clip.reference, hypothesis))
            result.hypothesis = hypothesis
    return results


def report(clip: Clip, seconds: float, results: dict[str, Result], verbose: bool) -> None:
    med = statistics.median
    base = results[BASELINE]
    base_wer, base_wall, base_cpu = med(base.errors), min(base.wall), min(base.cpu)
    words = len(normalise(clip.reference).split())
    print(f"\n## {clip.name}: {seconds:.1f} s, {words} reference words\n")
    print(
        "| variant | WER (median) | WER range | WER vs bare batched | RTF (wall) "
        "| wall vs bare batched | CPU s vs bare batched |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, result in results.items():
        error, low, high = med(result.errors), min(result.errors), max(result.errors)
        cells = [
            label,
            f"{error:.3f}",
            f"{low:.3f}" if low == high else f"{low:.3f}-{high:.3f}",
            f"{error / base_wer:.2f}x" if base_wer else "n/a",
            f"{min(result.wall) / seconds:.3f}",
            f"{min(result.wall) / base_wall:.2f}x",
            f"{min(result.cpu) / base_cpu:.2f}x",
        ]
        print("| " + " | ".join(cells) + " |")
    if clip.hotwords and "ours default + hotwords" in results:
        print(f"\nhotwords: {', '.join(clip.hotwords)}")
        for label in ("ours default (batched + VAD)", "ours default + hotwords"):
            spelled = [w for w in clip.hotwords if w in results[label].hypothesis]
            print(f"- {label}: spelled as given: {', '.join(spelled) or 'none'}")
    if verbose:
        print(f"\nreference: {normalise(clip.reference)}")
        for label, result in results.items():
            print(f"- {label} (last run): {result.hypothesis}")


def looped_clip(clip: Clip, minutes: float, cache: Path) -> Clip:
    """The clip repeated to ``minutes`` (a long meeting to see chunking overhead)."""
    import wave

    with wave.open(str(clip.audio), "rb") as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    seconds = params.nframes / params.framerate
    times = max(1, round(minutes * 60 / seconds))
    target = cache / f"{clip.audio.stem}-x{times}.wav"
    if not target.is_file():
        with wave.open(str(target), "wb") as out:
            out.setparams(params)
            for _ in range(times):
                out.writeframes(frames)
    return Clip(f"{clip.name} looped x{times}", target, " ".join([clip.reference] * times))


# --- main ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "bench")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per variant")
    parser.add_argument("--clip", nargs=2, action="append", default=[],
                        metavar=("AUDIO", "REFERENCE"), help="add a clip")  # fmt: skip
    parser.add_argument("--hotwords", default="", help="comma-separated, for --clip clips")
    parser.add_argument("--no-default-clip", action="store_true")
    parser.add_argument("--long", type=float, default=0.0, metavar="MINUTES",
                        help="also time bare batched vs ours on the default clip looped "
                        "to MINUTES (crosses 10-minute chunk boundaries)")  # fmt: skip
    parser.add_argument("--verbose", action="store_true", help="print every hypothesis")
    args = parser.parse_args(argv)

    hotwords = tuple(w.strip() for w in args.hotwords.split(",") if w.strip())
    sample = pyannote_clip(args.cache)
    clips = [] if args.no_default_clip else [sample]
    clips += [user_clip(audio, ref, hotwords) for audio, ref in args.clip]
    if not clips and not args.long:
        parser.error("no clips")

    model_cache = Path(os.environ.get("HANDOVER_CACHE", Path.home() / ".cache" / "handover"))
    started = time.perf_counter()
    model = load_whisper(None, model_cache)
    load_s = time.perf_counter() - started
    import ctranslate2
    import faster_whisper

    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{platform.python_implementation()} {platform.python_version()}; faster-whisper "
        f"{faster_whisper.__version__}, ctranslate2 {ctranslate2.__version__}; "
        f"Whisper base, CPU, int8; model load {load_s:.1f} s; "
        f"{args.repeat} timed runs (round-robin) after 1 warm-up; times: best run; WER: median"
    )
    runners = variants(model)
    for clip in clips:
        report(clip, duration(clip.audio), measure(clip, runners, args.repeat), args.verbose)
    if args.long:
        long_clip = looped_clip(sample, args.long, args.cache)
        keep = (BASELINE, "ours default (batched + VAD)", "ours, windows not split into sentences")
        pair = [r for r in runners if r[0] in keep]
        report(long_clip, duration(long_clip.audio), measure(long_clip, pair, args.repeat), False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
