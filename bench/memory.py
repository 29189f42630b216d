"""Peak memory of transcription against recording length: ours (streamed) vs bare.

    .venv/bin/python bench/memory.py [--minutes 10 120] [--bare] [--cache DIR]

Builds recordings of the given lengths by looping the demo call (Ogg/Opus, written
with PyAV, cached in ``.cache/bench``), then transcribes each in a fresh child
process and reads the child's peak RSS (``ru_maxrss``), so runs don't share memory.

* ``ours``: ``handover.transcribe.transcribe()`` consumed as a stream, the way
  ``handover process`` does (segments go to the database as they come).
* ``bare`` (with ``--bare``): faster-whisper's ``decode_audio`` on the whole file and
  ``BatchedInferencePipeline`` over it, the engine without our chunking.

The ratio that matters is peak RSS at the longest length over the shortest: ~1.0
means memory does not grow with the recording.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SOURCE = REPO / "data" / "demo" / "discovery-call.ogg"


def build(minutes: float, cache: Path) -> Path:
    """A recording of ``minutes`` made by looping the demo call (cached)."""
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


def child(path: Path, variant: str) -> None:
    from handover.config import Settings
    from handover.models import load_whisper

    model = load_whisper(None, Settings.load().cache)
    wall, cpu = time.perf_counter(), time.process_time()
    count = 0
    if variant == "ours":
        from handover.transcribe import transcribe

        for _ in transcribe(path, model):
            count += 1
    else:
        from faster_whisper import BatchedInferencePipeline, decode_audio

        audio = decode_audio(str(path))
        segments, _ = BatchedInferencePipeline(model).transcribe(audio, language="en", batch_size=8)
        count = sum(1 for _ in segments)
    print(
        json.dumps(
            {
                "segments": count,
                "wall": time.perf_counter() - wall,
                "cpu": time.process_time() - cpu,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 120])
    parser.add_argument("--bare", action="store_true", help="also run the bare engine")
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "bench")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return

    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}, Whisper base int8 on CPU"
    )
    variants = ["ours", "bare"] if args.bare else ["ours"]
    results: dict[tuple[str, float], dict] = {}
    for minutes in args.minutes:
        path = build(minutes, args.cache)
        for variant in variants:
            run = subprocess.run(
                [sys.executable, __file__, "--child", str(path), variant],
                capture_output=True,
                text=True,
                check=True,
            )
            results[variant, minutes] = json.loads(run.stdout.strip().splitlines()[-1])
            r = results[variant, minutes]
            print(
                f"{variant:5} {minutes:6g} min  peak RSS {r['peak_rss_mb']:7.0f} MB  "
                f"RTF {r['wall'] / (minutes * 60):.3f}  {r['segments']} segments",
                flush=True,
            )
    low, high = min(args.minutes), max(args.minutes)
    for variant in variants:
        ratio = results[variant, high]["peak_rss_mb"] / results[variant, low]["peak_rss_mb"]
        print(f"{variant}: peak RSS at {high:g} min / at {low:g} min = {ratio:.2f}x")
    if args.bare:
        for minutes in args.minutes:
            ratio = (
                results["ours", minutes]["peak_rss_mb"] / results["bare", minutes]["peak_rss_mb"]
            )
            print(f"{minutes:g} min: ours / bare peak RSS = {ratio:.2f}x")


if __name__ == "__main__":
    main()
