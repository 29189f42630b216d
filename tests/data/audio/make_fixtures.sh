#!/usr/bin/env bash
# Regenerate the audio test fixtures in tests/data/audio/ (see README.md there).
#
# This documents how the committed files were made; it is NOT run by `make`,
# and tests/CI never need espeak-ng, sox or ffmpeg. Output is deterministic
# (fixed pauses, no dither, ffmpeg bitexact flags, fixed random seed), so re-running
# it with the same tool versions should reproduce the same bytes.
#
# Requirements: espeak-ng 1.51, sox 14.4, ffmpeg 5.x (libmp3lame, aac, libopus,
# flac, libx264, libvpx), python3 (stdlib only, for the PNG and the random bytes).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
BITEXACT=(-map_metadata -1 -fflags +bitexact -flags +bitexact)

# say VOICE SPEED OUT.wav TEXT -> 22.05 kHz mono 16-bit, leading/trailing silence trimmed
say() {
  espeak-ng -m -v "$1" -s "$2" -w "$tmp/raw.wav" -- "$4"   # -m: SSML <break> allowed
  sox -D "$tmp/raw.wav" "$3" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse
}
gap() { sox -D -n -r 22050 -c 1 -b 16 "$2" trim 0 "$1"; }

# --- hello: the sentence pair (script in README.md) -------------------------
# Speaker 1 (en-us) is rendered phrase by phrase with real pauses (digital
# silence) between them; speaker 2 (en-gb) is one utterance with a short SSML
# break after "us". The layout is tuned for the tests: cut into 2 s chunks,
# every cut lands in a quiet spot; cut into 4 s chunks, the cuts fall between
# the sentences so Whisper hears "The board has asked us to re-assess and
# reinvigorate processes" whole (on its own, "to re-assess" comes out "3SS").
# Fields: voice|words per minute|pause after (s)|text
hello=()
while IFS='|' read -r voice wpm pause text; do
  [[ -z "$voice" ]] && continue
  i=${#hello[@]}
  say "$voice" "$wpm" "$tmp/hp$i.wav" "$text"
  gap "$pause" "$tmp/hg$i.wav"
  hello+=("$tmp/hp$i.wav" "$tmp/hg$i.wav")
done <<'EOF'
en-us|165|0.35|We will send weekly
en-us|165|0.35|status reports,
en-us|165|1.30|every Friday.
en-gb|160|0.05|The board has asked us <break time="150ms"/> to re-assess and reinvigorate processes.
EOF
gap 0.15 "$tmp/lead.wav"
sox -D "$tmp/lead.wav" "${hello[@]}" "$tmp/hello22k.wav" norm -3

# 16 kHz mono signed 16-bit PCM WAV (the "canonical" input format)
ff -i "$tmp/hello22k.wav" "${BITEXACT[@]}" -ar 16000 -ac 1 -c:a pcm_s16le hello.wav
# MP3, 24 kHz mono, 40 kb/s CBR (ID3 tag and Xing header left on, as encoders do)
ff -i "$tmp/hello22k.wav" "${BITEXACT[@]}" -ar 24000 -ac 1 -c:a libmp3lame -b:a 40k hello.mp3
# AAC-LC in MP4 (.m4a), 44.1 kHz STEREO (same signal both channels), 48 kb/s
ff -i "$tmp/hello22k.wav" "${BITEXACT[@]}" -ar 44100 -ac 2 -c:a aac -b:a 48k hello.m4a
# Ogg/Opus, 48 kHz mono, 24 kb/s
ff -i "$tmp/hello22k.wav" "${BITEXACT[@]}" -ar 48000 -ac 1 -c:a libopus -b:a 24k \
  -serial_offset 1 hello.ogg
# FLAC, 16 kHz mono 16-bit
ff -i "$tmp/hello22k.wav" "${BITEXACT[@]}" -ar 16000 -ac 1 -sample_fmt s16 \
  -c:a flac -compression_level 12 hello.flac

dur="$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$tmp/hello22k.wav")"
# MP4 video: 64x64 solid colour, 5 fps, H.264 + AAC 16 kHz mono (nominal 32 kb/s; ffmpeg's AAC encoder overshoots)
ff -f lavfi -i "color=c=0x1f6feb:s=64x64:r=5:d=$dur" -i "$tmp/hello22k.wav" \
  "${BITEXACT[@]}" -c:v libx264 -preset veryslow -crf 40 -pix_fmt yuv420p \
  -c:a aac -b:a 32k -ar 16000 -ac 1 -shortest hello.mp4
# WebM video: 64x64 solid colour, 5 fps, VP9 + Opus mono 24 kb/s
ff -f lavfi -i "color=c=0x2da44e:s=64x64:r=5:d=$dur" -i "$tmp/hello22k.wav" \
  "${BITEXACT[@]}" -c:v libvpx-vp9 -b:v 20k -deadline good -cpu-used 4 -row-mt 0 -threads 1 \
  -c:a libopus -b:a 24k -ar 48000 -ac 1 -shortest hello.webm

gap 0.15 "$tmp/edge.wav"
gap 0.60 "$tmp/turn.wav"

# --- dialogue: five short turns, two voices, made-up name "Quorvex" ------------
parts=()
n=0
while IFS='|' read -r voice text; do
  [[ -z "$voice" ]] && continue
  say "$voice" 165 "$tmp/d$n.wav" "$text"
  (( n > 0 )) && parts+=("$tmp/turn.wav")
  parts+=("$tmp/d$n.wav")
  n=$((n + 1))
done <<'EOF'
en-us|Thanks for joining, Tom. Shall we start with the Quorvex rollout?
en-gb|Yes. Our biggest worry is the Quorvex migration slipping past March.
en-us|We will assign a dedicated project manager next week.
en-gb|Good. We need training for all twenty supervisors.
en-us|We could probably run those sessions in Spanish too.
EOF
sox -D "$tmp/edge.wav" "${parts[@]}" "$tmp/edge.wav" "$tmp/dialogue22k.wav" norm -3
ff -i "$tmp/dialogue22k.wav" "${BITEXACT[@]}" -ar 48000 -ac 1 -c:a libopus -b:a 16k \
  -serial_offset 2 dialogue.ogg

# --- silence: 3 s of digital silence, 8 kHz mono 16-bit (valid audio, no speech)
ff -f lavfi -i "anullsrc=r=8000:cl=mono" -t 3 "${BITEXACT[@]}" -c:a pcm_s16le silence.wav

# --- broken inputs -------------------------------------------------------------
head -c 600 hello.mp3 > truncated.mp3          # ID3 tag + Xing header + a few frames
: > empty.wav                                  # 0 bytes
ff -f lavfi -i "color=c=red:s=8x8" -frames:v 1 "${BITEXACT[@]}" "$tmp/tiny.png"
cp "$tmp/tiny.png" png-named.wav               # a real PNG with a .wav name
ff -f lavfi -i "color=c=0x888888:s=64x64:r=5:d=2" "${BITEXACT[@]}" \
  -c:v libx264 -preset veryslow -crf 40 -pix_fmt yuv420p -an noaudio.mp4
python3 - <<'EOF'                              # 4 KiB of seeded random bytes
import random
data = random.Random(20261102).randbytes(4096)
assert not data.startswith(b"OggS")
open("garbage.ogg", "wb").write(data)
EOF

ls -l hello.* dialogue.ogg silence.wav truncated.mp3 empty.wav png-named.wav noaudio.mp4 garbage.ogg
