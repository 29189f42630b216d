"""Our ``process`` against bare faster-whisper on one long recording: speed and peak memory.

    .venv/bin/python bench/transcribe.py [--minutes 10] [--long-minutes 120] [--repeat 2]
                                         [--skip-long] [--skip-rss] [--skip-seq] [--profile]
                                         [--variants KEY ...] [--cache DIR]

The recording is the demo call (``data/demo/discovery-call.ogg``, 237 s) looped to
``--minutes`` and re-encoded as Ogg/Opus with PyAV, cached in ``.cache/bench``
(``loop-10min.ogg``, ``loop-120min.ogg``). Every variant uses the same model: the
bundled Whisper base, CPU, int8, as ``handover.models.load_whisper`` loads it, beam 5,
English forced, batch size 8.

Variants:

* ``bare sequential + VAD``: ``WhisperModel.transcribe(path, vad_filter=True)``.
* ``bare batched``: ``BatchedInferencePipeline.transcribe(path)`` with its defaults
  (``without_timestamps=True``): the engine we wrap, and the baseline of the ratios.
* ``bare batched, timestamp tokens``: the same with ``without_timestamps=False``.
* ``bare batched, word timestamps``: the same with ``word_timestamps=True`` (what our
  sentence splitting asks for): what sentence-level timing costs.
* ``ours: transcribe() stream``: ``handover.transcribe.transcribe()`` consumed as a
  stream, our transcription stage alone.
* ``ours: transcribe() + the deal's hotwords``: the same with the hotwords
  ``process_deal`` passes for the bench deal (its names), so the cost of the prompt
  is apart from the cost of extraction, tracing and storage.
* ``ours: process_deal``: what ``handover process`` runs. A fresh ``HANDOVER_HOME``
  (temporary) with the demo deal's names and people and the recording added
  (untimed), then ``handover.pipeline.process_deal``: transcription with the deal's
  hotwords, drafts streamed to SQLite, extraction, merging, embedding and tracing
  (there is no scope document, so every item is untraced), all in one transaction.

Speed: all three models are loaded once before timing (load times are printed
apart). One untimed warm-up run of each variant on the 237 s demo call, then
``--repeat`` rounds over all variants on the long recording, interleaved
round-robin (each round starts one variant further on); the best (lowest) wall
time counts, because other work on the shared machine only ever adds time. RTF =
wall / audio seconds. The target for ours is at most 1.10x bare batched.

Memory: each variant runs once more in a fresh child process (models loaded there),
which reports its peak RSS (``VmHWM``; ``ru_maxrss`` would include the
parent's peak, inherited across fork + exec on Linux); so does ``ours: process_deal`` on the
``--long-minutes`` recording (skip with ``--skip-long``). Targets: at most 2.5 GB on
2 hours, and no growth with length (peak at 120 min / peak at 10 min about 1.0).

``--profile`` runs ours once more under cProfile and prints the top functions.
``--variants`` picks variants by key (seq, batched, batched-ts, batched-words,
transcribe, transcribe-hotwords, process); bare batched is always in.

This takes about 20 minutes on a 2-core machine with the defaults (the 2-hour
memory run alone is about 6). It is never run by the tests.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    CACHE,
    REPO,
    current_rss_mb,
    machine,
    peak_rss_mb,
    profile,
    round_robin,
)

SOURCE = REPO / "data" / "demo" / "discovery-call.ogg"
BASELINE = "bare batched"
# The demo deal (README): its names are Whisper hotwords in `handover process`.
DEAL = {
    "slug": "bench-deal",
    "name": "Meridian Freight - operations modernisation",
    "customer": "Meridian Freight",
    "vendor": "Northwind Consulting",
    "owner": "Dana Whitfield",
}
PEOPLE = {
    "Dana Whitfield": "vendor",
    "Raj Patel": "vendor",
    "Maria Gonzalez": "customer",
    "Tom Becker": "customer",
}
VARIANTS = {
    "seq": "bare sequential + VAD",
    "batched": BASELINE,
    "batched-ts": "bare batched, timestamp tokens",
    "batched-words": "bare batched, word timestamps",
    "transcribe": "ours: transcribe() stream",
    "transcribe-hotwords": "ours: transcribe() + the deal's hotwords",
    "process": "ours: process_deal",
}


# --- the recording -----------------------------------------------------------------------


def build(minutes: float, cache: Path) -> Path:
    """A recording of ``minutes`` made by looping the demo call (Ogg/Opus 24 kbit/s, cached)."""
    import av
    import numpy as np

    out = cache / f"loop-{minutes:g}min.ogg"
    if out.exists():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    with av.open(str(SOURCE)) as src:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        pcm = np.concatenate(
            [
                f.to_ndarray().reshape(-1)
                for frame in src.decode(audio=0)
                for f in resampler.resample(frame)
            ]
        )
    total = int(minutes * 60 * 48000)
    tmp = out.with_suffix(".tmp.ogg")
    with av.open(str(tmp), "w", format="ogg") as dst:
        stream = dst.add_stream("libopus", rate=48000)
        stream.bit_rate = 24000
        stream.layout = "mono"
        written = 0
        step = 48000 * 10
        while written < total:
            start = written % len(pcm)
            piece = pcm[start : start + min(step, total - written)]
            frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = 48000
            for packet in stream.encode(frame):
                dst.mux(packet)
            written += len(piece)
        for packet in stream.encode(None):
            dst.mux(packet)
    tmp.rename(out)
    return out


def duration(path: Path) -> float:
    from handover.capture.audio import probe

    return probe(path, path.name).duration


# --- models ------------------------------------------------------------------------------


def load_models(process: bool) -> tuple[Any, dict[str, float]]:
    """Whisper (and for ``process`` spaCy and the embedder), each timed; cached per process."""
    from handover.config import Settings
    from handover.models import load_embedder, load_spacy, load_whisper

    settings = Settings.load()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    model = load_whisper(
        settings.whisper_model,
        settings.cache,
        device=settings.device,
        compute_type=settings.compute_type,
    )
    seconds["whisper"] = time.perf_counter() - started
    if process:
        started = time.perf_counter()
        load_spacy(settings.spacy_model)
        seconds["spacy"] = time.perf_counter() - started
        started = time.perf_counter()
        load_embedder(settings.embed_model, device=settings.device)
        seconds["embedder"] = time.perf_counter() - started
    return model, seconds


# --- variants: each returns (segments, timed seconds or None for "all of it") -------------

Runner = Callable[[Path], tuple[int, float | None]]


def runners(model: Any) -> dict[str, Runner]:
    from faster_whisper import BatchedInferencePipeline

    from handover.transcribe import TranscribeOptions, transcribe

    bare = BatchedInferencePipeline(model)

    def seq(path: Path) -> tuple[int, float | None]:
        segments, _ = model.transcribe(str(path), language="en", beam_size=5, vad_filter=True)
        return sum(1 for _ in segments), None

    def batched(**extra: bool) -> Runner:
        def run(path: Path) -> tuple[int, float | None]:
            segments, _ = bare.transcribe(
                str(path), language="en", batch_size=8, beam_size=5, **extra
            )
            return sum(1 for _ in segments), None

        return run

    def ours_transcribe(path: Path) -> tuple[int, float | None]:
        return sum(1 for _ in transcribe(path, model)), None

    def ours_hotwords(path: Path) -> tuple[int, float | None]:
        options = TranscribeOptions(hotwords=deal_hotwords())
        return sum(1 for _ in transcribe(path, model, options)), None

    return {
        "seq": seq,
        "batched": batched(),
        "batched-ts": batched(without_timestamps=False),
        "batched-words": batched(word_timestamps=True),
        "transcribe": ours_transcribe,
        "transcribe-hotwords": ours_hotwords,
        "process": ours_process,
    }


def deal_hotwords() -> tuple[str, ...]:
    """The hotwords ``process_deal`` gives Whisper for the bench deal (names only: no
    notes or scope documents in it)."""
    from handover.glossary import hotwords

    names = [DEAL["customer"], DEAL["vendor"], DEAL["owner"], *PEOPLE]
    return tuple(hotwords(names=names, manual=[], documents=[]))


def ours_process(path: Path) -> tuple[int, float | None]:
    """A fresh home with the deal and the recording (untimed), then ``process_deal`` (timed)."""
    from handover.blobs import BlobStore
    from handover.config import Settings
    from handover.ingest import add_file
    from handover.pipeline import process_deal
    from handover.store import Store
    from handover.types import Side

    home = Path(tempfile.mkdtemp(prefix="handover-bench-"))
    try:
        settings = Settings.load(home)
        store = Store.open(settings.db_path)
        blobs = BlobStore(settings.blob_dir)
        deal = store.create_deal(
            DEAL["slug"], DEAL["name"], DEAL["customer"], DEAL["vendor"], DEAL["owner"]
        )
        store.upsert_participants(
            deal["id"], [(name, Side(side), None) for name, side in PEOPLE.items()]
        )
        add_file(store, blobs, settings, deal, path, meeting_date="2026-11-02")
        started = time.perf_counter()
        result = process_deal(store, blobs, settings, deal)
        elapsed = time.perf_counter() - started
        if result.failed:
            raise RuntimeError(f"process failed: {result.failed[0].error}")
        segments = sum(s.segments for s in result.sources)
        store.close()
        return segments, elapsed
    finally:
        shutil.rmtree(home, ignore_errors=True)


# --- memory: one variant in a fresh child process ----------------------------------------


def child(variant: str, path: Path) -> None:
    model, _ = load_models(variant == "process")
    after_load = current_rss_mb()
    started = time.perf_counter()
    segments, _ = runners(model)[variant](path)
    print(
        json.dumps(
            {
                "segments": segments,
                "wall": time.perf_counter() - started,
                "rss_after_load_mb": after_load,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


def in_child(variant: str, path: Path) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, __file__, "--child", variant, str(path)],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise RuntimeError(f"child {variant} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


# --- main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="length of the timed loop")
    parser.add_argument("--long-minutes", type=float, default=120, help="memory run length")
    parser.add_argument("--repeat", type=int, default=2, help="timed rounds (default 2)")
    parser.add_argument("--skip-long", action="store_true", help="no memory run on the long loop")
    parser.add_argument("--skip-rss", action="store_true", help="no child-process memory runs")
    parser.add_argument("--skip-seq", action="store_true", help="leave out bare sequential")
    parser.add_argument("--profile", action="store_true", help="cProfile ours once")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=list(VARIANTS),
        default=list(VARIANTS),
        help="which variants (default all; batched, the baseline, is always in)",
    )
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0

    print(machine(("faster-whisper", "ctranslate2", "spacy", "sentence-transformers", "torch")))
    path = build(args.minutes, args.cache)
    audio = duration(path)
    model, loads = load_models(process=True)
    print(
        "# model load (once, before timing): "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in loads.items())
    )
    print(
        f"# recording: {path.name}, {audio:.0f} s; Whisper base int8 CPU, beam 5, batch 8, en; "
        f"1 warm-up on {SOURCE.name}, then {args.repeat} rounds round-robin; best wall time",
        flush=True,
    )
    runs = runners(model)
    wanted = {*args.variants, "batched"}
    keys = [k for k in VARIANTS if k in wanted and not (args.skip_seq and k == "seq")]
    segments: dict[str, int] = {}

    def timed(key: str, target: Path) -> Callable[[], float]:
        def run() -> float:
            started = time.perf_counter()
            count, inner = runs[key](target)
            elapsed = time.perf_counter() - started
            segments[key] = count
            print(f"  {VARIANTS[key]}: {inner or elapsed:.1f} s", file=sys.stderr, flush=True)
            return inner if inner is not None else elapsed

        return run

    for key in keys:  # warm-up on the short demo call
        timed(key, SOURCE)()
    times = round_robin([(VARIANTS[k], timed(k, path)) for k in keys], args.repeat, warmup=False)
    best = {k: min(times[VARIANTS[k]]) for k in keys}
    base = best["batched"]
    print(f"\n## speed on {audio / 60:.1f} min ({audio:.0f} s of audio)\n")
    print("| variant | best wall s | runs s | RTF | vs bare batched | segments |")
    print("|---|---:|---|---:|---:|---:|")
    for k in keys:
        runs_s = ", ".join(f"{t:.1f}" for t in times[VARIANTS[k]])
        print(
            f"| {VARIANTS[k]} | {best[k]:.1f} | {runs_s} | {best[k] / audio:.3f} | "
            f"{best[k] / base:.2f}x | {segments[k]} |"
        )
    if "process" in best:
        overhead = best["process"] / base
        print(
            f"\nours process_deal / bare batched = {overhead:.2f}x (target <= 1.10: "
            f"{'met' if overhead <= 1.10 else 'NOT met'})"
        )
    for a, b, what in (
        ("transcribe", "batched", "our transcription stage alone"),
        ("transcribe-hotwords", "transcribe", "the deal's hotwords in the prompt"),
        ("process", "transcribe-hotwords", "extraction, tracing, storage"),
        ("process", "transcribe", "hotwords + extraction, tracing, storage"),
        ("batched-words", "batched", "word timestamps"),
        ("batched-ts", "batched", "timestamp tokens"),
    ):
        if a in best and b in best:
            print(f"{VARIANTS[a]} / {VARIANTS[b]} = {best[a] / best[b]:.2f}x ({what})")
    sys.stdout.flush()

    if args.profile and "process" in runs:
        print(f"\n## cProfile of ours: process_deal on {path.name}\n")
        print(profile(lambda: runs["process"](path), top=20, sort="tottime"))
        print()
        print(profile(lambda: runs["process"](path), top=30, sort="cumtime"), flush=True)

    if args.skip_rss:
        return 0
    print(f"\n## peak RSS, each in a fresh process (models loaded there), {audio / 60:.0f} min\n")
    print("| variant | length | RSS after model load MB | peak RSS MB | wall s | segments |")
    print("|---|---:|---:|---:|---:|---:|")
    peaks: dict[tuple[str, float], float] = {}

    def row(key: str, target: Path, seconds: float) -> None:
        r = in_child(key, target)
        peaks[key, seconds] = r["peak_rss_mb"]
        print(
            f"| {VARIANTS[key]} | {seconds / 60:.0f} min | {r['rss_after_load_mb']:.0f} | "
            f"{r['peak_rss_mb']:.0f} | {r['wall']:.1f} | {r['segments']} |",
            flush=True,
        )

    for key in keys:
        row(key, path, audio)
    if not args.skip_long:
        long_path = build(args.long_minutes, args.cache)
        long_audio = duration(long_path)
        row("process", long_path, long_audio)
        if ("process", audio) not in peaks:
            row("process", path, audio)
        peak = peaks["process", long_audio]
        ratio = peak / peaks["process", audio]
        print(
            f"\nours process_deal peak RSS: {peak:.0f} MB at {long_audio / 60:.0f} min "
            f"(target <= 2500 MB: {'met' if peak <= 2500 else 'NOT met'}); "
            f"{long_audio / 60:.0f} min / {audio / 60:.0f} min = {ratio:.2f}x "
            f"({'flat' if ratio <= 1.15 else 'GROWS'})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
