#!/usr/bin/env python3
"""Render a meeting script into a small Ogg/Opus recording with espeak-ng.

    python data/make_audio.py data/eval/<conversation>/call.script.txt [out.ogg]

This documents how the committed recordings were made; `make` never runs it and
users and CI need neither espeak-ng, sox nor ffmpeg. Re-run it only when a script
changes, then commit the new .ogg.

Script format, one turn per line:

    # voice: Dana Whitfield = en-us 72      voice (espeak-ng -v) and pitch 0-99
    # say: supervisors = super-vizors       spelling hint for espeak only
    Dana Whitfield|Hi everyone, thanks for making the time today.

Other lines starting with '#' and blank lines are ignored. Every speaker needs a
voice line. espeak-ng's female en-us variants were tried and dropped: Whisper base
mishears far more of their words, while en-gb+f3 transcribes about as well as the
male voices. Pauses between turns cycle through fixed lengths, so the output is
deterministic.

Output: Ogg/Opus, mono, 48 kHz, about 24 kb/s, no metadata.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

SPEED = 150  # words per minute
RATE = 22050  # espeak-ng's native sample rate
PAUSES = (0.55, 0.40, 0.70, 0.50, 0.60, 0.45, 0.65)


def parse(script: str) -> tuple[dict[str, tuple[str, int]], dict[str, str], list[tuple[str, str]]]:
    voices: dict[str, tuple[str, int]] = {}
    hints: dict[str, str] = {}
    turns: list[tuple[str, str]] = []
    for number, line in enumerate(script.splitlines(), 1):
        if m := re.match(r"#\s*voice:\s*(.+?)\s*=\s*(\S+)(?:\s+(\d+))?\s*$", line):
            voices[m[1]] = (m[2], int(m[3] or 50))
        elif m := re.match(r"#\s*say:\s*(.+?)\s*=\s*(.+?)\s*$", line):
            hints[m[1]] = m[2]
        elif line.strip() and not line.startswith("#"):
            speaker, sep, text = line.partition("|")
            if not sep:
                sys.exit(f"line {number}: expected 'Speaker|text'")
            turns.append((speaker.strip(), text.strip()))
    missing = sorted({s for s, _ in turns} - set(voices))
    if missing:
        sys.exit(f"no '# voice:' line for {', '.join(missing)}")
    return voices, hints, turns


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def render(script_path: Path, out: Path) -> None:
    voices, hints, turns = parse(script_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        parts: list[str] = []
        for n, (speaker, text) in enumerate(turns):
            for word, spoken in hints.items():
                text = text.replace(word, spoken)
            voice, pitch = voices[speaker]
            wav = f"{tmp}/turn-{n:03d}.wav"
            run("espeak-ng", "-v", voice, "-s", str(SPEED), "-p", str(pitch), "-w", wav, "--", text)
            if n:
                gap = f"{tmp}/gap-{n:03d}.wav"
                pause = str(PAUSES[(n - 1) % len(PAUSES)])
                run(
                    "sox",
                    "-R",
                    "-n",
                    "-r",
                    str(RATE),
                    "-c",
                    "1",
                    "-b",
                    "16",
                    gap,
                    "trim",
                    "0",
                    pause,
                )
                parts.append(gap)
            parts.append(wav)
        # Half a second of lead-in and tail, like a real recording.
        edge = f"{tmp}/edge.wav"
        run("sox", "-R", "-n", "-r", str(RATE), "-c", "1", "-b", "16", edge, "trim", "0", "0.5")
        call = f"{tmp}/call.wav"
        run("sox", "-R", edge, *parts, edge, call, "norm", "-3")
        run(
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", call,
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k",
            "-application", "voip", "-serial_offset", "1", str(out),
        )  # fmt: skip
    print(f"wrote {out} ({len(turns)} turns, {out.stat().st_size} bytes)")


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[1])
    script = Path(sys.argv[1])
    default = script.with_name(script.name.removesuffix(".script.txt") + ".ogg")
    render(script, Path(sys.argv[2]) if len(sys.argv) == 3 else default)


if __name__ == "__main__":
    main()
