#!/usr/bin/env bash
# Render data/demo/discovery-call.script.txt into data/demo/discovery-call.ogg.
#
# This documents how the committed recording was made; it is NOT run by `make`
# and users/CI do not need espeak-ng, sox or ffmpeg. Re-run it only when the
# script changes, then commit the new .ogg (keep it well under ~1.5 MB).
#
# Script format: one turn per line, `Speaker Name|text`. Blank lines and lines
# starting with '#' are ignored.
#
# Voices: the vendor side (Northwind) speaks with espeak-ng's American English
# voice, the customer side (Meridian Freight) with British English; pitch (and
# for Maria the female variant) tells the two people on each side apart.
# espeak-ng's female en-us variants (+f1..f5) were tried and dropped: Whisper
# base misheard far more of their words ("billing" -> "willing", "go-live" ->
# "your live"), while en-gb+f3 transcribes about as well as the male voices.
#
# Output: Ogg/Opus, mono, 48 kHz (Opus' native rate), ~24 kb/s, no metadata.
#
# Requirements: espeak-ng (1.51), sox (14.4), ffmpeg (5.x with libopus).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
script="${1:-$here/discovery-call.script.txt}"
out="${2:-$here/discovery-call.ogg}"
speed="${SPEED:-150}"   # words per minute
rate=22050              # espeak-ng's native sample rate

voice_for() {
  case "$1" in
    "Dana Whitfield") echo "en-us" ;;
    "Raj Patel")      echo "en-us" ;;
    "Maria Gonzalez") echo "en-gb+f3" ;;
    "Tom Becker")     echo "en-gb" ;;
    *) echo "make_audio.sh: no voice for speaker '$1'" >&2; return 1 ;;
  esac
}

# Pitch (0-99, espeak default 50), to separate the two voices on each side.
pitch_for() {
  case "$1" in
    "Dana Whitfield") echo 72 ;;
    "Raj Patel")      echo 38 ;;
    "Tom Becker")     echo 40 ;;
    *)                echo 50 ;;
  esac
}

# Spelling hints for espeak-ng only (the script keeps the real words): a few
# words espeak renders so oddly that Whisper base mishears them.
tts_text() {
  sed -e 's/supervisors/super-vizors/g' -e 's/empty miles/emptee miles/g' <<<"$1"
}

# Pauses between turns cycle through these lengths (seconds): deterministic,
# but not so regular that it sounds mechanical.
pauses=(0.55 0.40 0.70 0.50 0.60 0.45 0.65)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

parts=()
n=0
while IFS= read -r line || [[ -n "$line" ]]; do
  [[ -z "${line// }" || "$line" == \#* ]] && continue
  speaker="${line%%|*}"
  text="${line#*|}"
  voice="$(voice_for "$speaker")"
  pitch="$(pitch_for "$speaker")"
  wav="$(printf '%s/turn-%03d.wav' "$tmp" "$n")"
  espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$wav" -- "$(tts_text "$text")"
  if (( n > 0 )); then
    gap="${pauses[$(( (n - 1) % ${#pauses[@]} ))]}"
    sil="$(printf '%s/gap-%03d.wav' "$tmp" "$n")"
    sox -R -n -r "$rate" -c 1 -b 16 "$sil" trim 0 "$gap"
    parts+=("$sil")
  fi
  parts+=("$wav")
  n=$((n + 1))
done < "$script"

# Half a second of lead-in and tail, like a real recording that starts and
# stops a moment before/after the talking.
sox -R -n -r "$rate" -c 1 -b 16 "$tmp/edge.wav" trim 0 0.5
sox -R "$tmp/edge.wav" "${parts[@]}" "$tmp/edge.wav" "$tmp/call.wav" norm -3

ffmpeg -hide_banner -loglevel error -y -i "$tmp/call.wav" \
  -map_metadata -1 -fflags +bitexact -flags:a +bitexact \
  -ac 1 -ar 48000 -c:a libopus -b:a 24k -application voip -serial_offset 1 \
  "$out"

echo "wrote $out ($n turns, $(stat -c %s "$out") bytes)"
ffprobe -hide_banner -loglevel error -show_entries format=duration:stream=codec_name,channels,sample_rate,bit_rate \
  -of default=noprint_wrappers=1 "$out"
