"""Read meeting recordings: check them cheaply, then decode them in bounded chunks.

Everything goes through PyAV (FFmpeg's libraries, bundled in the ``av`` wheel), so any
format FFmpeg reads works: wav, mp3, m4a/aac, ogg/opus, flac, and the audio track of
mp4/webm/mov video. No external ``ffmpeg`` binary is needed.

* :func:`probe` opens the file, finds the audio track, decodes only the first few
  packets (so empty or corrupt files fail here, before any model work) and reads the
  duration from the container. Where the header states the duration (mp4/m4a/mov,
  webm/mkv, flac, mp3 with a Xing/Info/VBRI header) it also seeks to 90 % of it and
  decodes a packet there, so a file cut short by an interrupted copy fails too; a cost
  of milliseconds. A WAV is checked against the size its data chunk declares, because
  FFmpeg takes a WAV's length from the file size and would not notice. When the
  container does not say (e.g. browser MediaRecorder webm), the duration comes from the
  last packet timestamp: demuxing, no decoding. An mp3
  without a Xing header gets FFmpeg's bitrate estimate (exact for CBR, approximate for
  VBR); transcription then just finds more or less audio than announced.
* :func:`iter_chunks` decodes to mono float32 at 16 kHz and yields chunks of about
  ``chunk_seconds`` (default 10 minutes, ~38 MB of samples), so memory does not grow
  with the length of the meeting. Each chunk but the last is cut at the quietest
  0.2 s window in the last ~15 s before the nominal boundary, so a word is not split
  across two chunks; the rest carries into the next chunk.

Every failure the user can cause is an :class:`InputError` naming the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np

from handover.errors import InputError

SAMPLE_RATE = 16_000
CUT_SEARCH_SECONDS = 15.0  # how far before the nominal boundary to look for a quiet spot
CUT_WINDOW_SECONDS = 0.2  # the length of the window whose RMS is compared
MIN_TAIL_SECONDS = 5.0  # the last chunk is never shorter than this (unless the file is)
MIN_DURATION_SECONDS = 0.1  # shorter than this cannot hold a word: treated as truncated
_PROBE_PACKETS = 64  # packets decoded by probe() to prove the audio track decodes
TAIL_CHECK_FRACTION = 0.9  # probe() checks the audio really goes on to 90 % of its duration
_TAIL_PACKETS = 5000

_REEXPORT = "check the file plays, or re-export it"


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`probe` learned about a recording."""

    duration: float  # seconds
    codec: str  # FFmpeg decoder name, e.g. "mp3float", "aac", "pcm_s16le"
    sample_rate: int  # of the source audio track
    channels: int
    has_video: bool  # a real video track (cover art in an mp3 does not count)


def _reason(exc: BaseException) -> str:
    """The FFmpeg message without the file path PyAV appends (the name is said already)."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _check_file(path: Path, name: str) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{name}: file not found; check the path") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({_reason(exc)}); check the path") from exc
    if path.is_dir():
        raise InputError(f"{name}: is a directory, not a recording; name the audio file")
    if size == 0:
        raise InputError(f"{name}: the file is empty (0 bytes); re-export or copy it again")


@contextmanager
def _open(path: Path, name: str) -> Iterator[av.container.InputContainer]:
    _check_file(path, name)
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{name}: cannot be decoded as audio or video ({_reason(exc)}); {_REEXPORT}"
        ) from exc
    try:
        yield container
    finally:
        container.close()


def _audio_stream(container: av.container.InputContainer, name: str) -> av.audio.AudioStream:
    if not container.streams.audio:
        fmt = container.format.name
        if fmt == "image2" or fmt.endswith("_pipe"):
            kind = fmt.removesuffix("_pipe").upper()
            raise InputError(
                f"{name}: is an image ({kind}), not audio or video; upload the recording itself"
            )
        found = " and ".join(sorted({s.type for s in container.streams}))
        raise InputError(
            f"{name}: has no audio track ({f'only {found}' if found else 'no streams at all'}); "
            "export the recording with its sound"
        )
    return container.streams.audio[0]


def _is_real_video(stream: av.stream.Stream) -> bool:
    return not (int(stream.disposition) & int(av.stream.Disposition.attached_pic))


def _tag_seconds(value: str | None) -> float:
    """Matroska/webm per-track ``DURATION`` tags look like ``00:01:02.345000000``."""
    try:
        hours, minutes, seconds = (value or "").strip().split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return 0.0


def _metadata_duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float:
    """The audio track's own duration if the container records one, else the container's
    (which, for a video, may run longer than its audio)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    tagged = _tag_seconds(stream.metadata.get("DURATION") or stream.metadata.get("duration"))
    if tagged > 0:
        return tagged
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _first_audio(container: av.container.InputContainer, stream: av.stream.Stream, name: str):
    """Decode at most a few packets; fail unless some audio samples come out."""
    try:
        for count, packet in enumerate(container.demux(stream)):
            for frame in packet.decode():
                if frame.samples:
                    return
            if count >= _PROBE_PACKETS:
                break
    except (av.error.FFmpegError, ValueError) as exc:
        raise InputError(
            f"{name}: cannot be decoded as audio ({_reason(exc)}); {_REEXPORT}"
        ) from exc
    raise InputError(
        f"{name}: contains no decodable audio (truncated or empty recording?); {_REEXPORT}"
    )


# Containers whose header states the duration (rather than FFmpeg estimating it from
# the bitrate, or reading it off the last page as for ogg): only these can be "cut short".
_STATED_DURATION_FORMATS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "flac"})


def _duration_is_stated(path: Path, format_name: str) -> bool:
    if format_name in _STATED_DURATION_FORMATS:
        return True
    if format_name != "mp3":
        return False
    # An mp3 states its length only in a Xing/Info (LAME) or VBRI header in the first
    # frame, right after the ID3v2 tag; without one FFmpeg guesses from the bitrate.
    try:
        with path.open("rb") as handle:
            head = handle.read(10)
            skip = 0
            if head[:3] == b"ID3" and len(head) == 10:
                skip = 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])
            handle.seek(skip)
            frame = handle.read(4096)
    except OSError:
        return False
    return any(tag in frame[:200] for tag in (b"Xing", b"Info", b"VBRI"))


def _check_tail(
    container: av.container.InputContainer, stream: av.stream.Stream, duration: float, name: str
) -> None:
    """Fail if the audio stops well before the duration the header announces.

    Seeks to ``TAIL_CHECK_FRACTION`` of the announced duration, reads packets (demuxing
    only) until one reaches that point, and decodes it; running out of file first means
    the file was cut short (an interrupted copy or upload). Costs one seek and a few
    packets. Files that cannot seek or carry no timestamps are not checked; files losing
    less than their last 10 % pass and are transcribed as far as they go.
    """
    start = _start_seconds(stream)
    target = start + duration * TAIL_CHECK_FRACTION
    try:
        container.seek(int(target * av.time_base), backward=True, any_frame=False)
    except (av.error.FFmpegError, ValueError, OSError):
        return
    reached = None  # end time of the furthest packet read, if packets carry timestamps
    packets = 0  # with data (demux ends with an empty flush packet)
    try:
        for count, packet in enumerate(container.demux(stream)):
            packets += bool(packet.size)
            if count >= _TAIL_PACKETS:
                return  # far more packets than any seek lands before its target: not cut
            if packet.pts is not None and packet.time_base is not None:
                end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                reached = end if reached is None else max(reached, end)
            if reached is None or reached < target:
                continue  # not there yet: demux only, decode nothing
            try:
                if any(frame.samples for frame in packet.decode()):
                    return
            except (av.error.FFmpegError, ValueError):
                continue  # one bad packet after a seek proves nothing; keep reading
    except (av.error.FFmpegError, ValueError):
        pass  # a damaged tail reads as cut short
    if reached is None and packets:
        return  # packets, but no timestamps to judge by
    if reached is None:
        where = f"before {target - start:.1f} s"
    elif reached - start < 0.1:
        where = "right at the start"
    else:
        where = f"at {reached - start:.1f} s"
    raise InputError(
        f"{name}: is cut short: it announces {duration:.1f} s but the audio ends {where} "
        f"(truncated?); {_REEXPORT}"
    )


# RIFF writers that stream (a recorder still running) leave the data size at 0 or at
# the maximum and fix it on close; those sizes say nothing about the length.
_WAV_SIZE_UNKNOWN = frozenset({0, 0xFFFFFFFF})


def _wav_cut_short(path: Path, name: str) -> None:
    """Fail if a WAV's data chunk announces more audio than the file holds.

    FFmpeg quietly takes the length from the file size, so a WAV cut short by an
    interrupted copy would otherwise pass as a shorter meeting; the data chunk's declared
    size is the length the recorder wrote. Files losing less than their last 10 % pass,
    as for the formats ``_check_tail`` checks.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError:
        return
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        chunk, length = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
        if chunk == b"fmt " and pos + 20 <= len(head):
            byte_rate = int.from_bytes(head[pos + 16 : pos + 20], "little")
        if chunk == b"data":
            available = size - (pos + 8)
            if length in _WAV_SIZE_UNKNOWN or not byte_rate:
                return
            if available < TAIL_CHECK_FRACTION * length:
                raise InputError(
                    f"{name}: is cut short: it announces {length / byte_rate:.1f} s but the "
                    f"audio ends at {max(available, 0) / byte_rate:.1f} s (truncated?); "
                    f"{_REEXPORT}"
                )
            return
        pos += 8 + length + (length & 1)  # chunks are padded to an even length


def _start_seconds(stream: av.stream.Stream) -> float:
    if stream.start_time is None or not stream.time_base:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _demuxed_duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float:
    """Duration from the last packet's timestamp: reads the file but decodes nothing."""
    end = 0.0
    try:
        for packet in container.demux(stream):
            if packet.pts is None or packet.time_base is None:
                continue
            stop = packet.pts + (packet.duration or 0)
            end = max(end, float(stop * packet.time_base))
    except (av.error.FFmpegError, ValueError):
        pass  # a damaged tail: what was read so far is the best estimate
    return max(0.0, end - _start_seconds(stream))


def probe(path: Path, name: str) -> AudioInfo:
    """Check that ``path`` holds decodable audio and describe it, cheaply.

    Raises InputError (one line, starting with ``name``) for a missing or empty file,
    a file FFmpeg cannot open (an image says so), one without an audio track, one whose
    audio track yields no samples or under 0.1 s, and one whose audio stops well before
    the duration its header states (truncated).
    """
    path = Path(path)
    with _open(path, name) as container:
        stream = _audio_stream(container, name)
        ctx = stream.codec_context
        has_video = any(_is_real_video(s) for s in container.streams.video)
        duration = _metadata_duration(container, stream)
        _first_audio(container, stream, name)
        if duration <= 0:
            # No duration in the header: carry on demuxing (not decoding) to the end.
            duration = _demuxed_duration(container, stream)
        elif _duration_is_stated(path, container.format.name):
            _check_tail(container, stream, duration, name)
        if container.format.name == "wav":
            _wav_cut_short(path, name)
        if duration < MIN_DURATION_SECONDS:
            raise InputError(
                f"{name}: the audio track is only {duration * 1000:.0f} ms long "
                f"(truncated?); {_REEXPORT}"
            )
        return AudioInfo(
            duration=duration,
            codec=ctx.name,
            sample_rate=int(ctx.sample_rate or 0),
            channels=int(ctx.channels or 0),
            has_video=has_video,
        )


def quiet_cut(samples: np.ndarray, boundary: int, search: int, window: int) -> int:
    """Index to cut ``samples`` at: the middle of the quietest ``window`` in [boundary-search,
    boundary]. Ties go to the latest window, keeping chunks close to their nominal length."""
    lo = max(0, boundary - search)
    region = samples[lo:boundary]
    if window <= 0 or len(region) < 2 * window:
        return boundary
    hop = max(1, window // 20)
    squares = np.square(region, dtype=np.float64)
    cumulative = np.concatenate(([0.0], np.cumsum(squares)))
    starts = np.arange(0, len(region) - window + 1, hop)
    energy = cumulative[starts + window] - cumulative[starts]
    best = len(energy) - 1 - int(np.argmin(energy[::-1]))
    return lo + int(starts[best]) + window // 2


def _decoded(
    container: av.container.InputContainer,
    stream: av.stream.Stream,
    sr: int,
    name: str,
    position: Callable[[], float],
) -> Iterator[np.ndarray]:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1)
    except (av.error.FFmpegError, ValueError) as exc:
        raise InputError(
            f"{name}: cannot be decoded at {_clock(position())} ({_reason(exc)}); {_REEXPORT}"
        ) from exc


def iter_chunks(
    path: Path, name: str, *, chunk_seconds: float = 600.0, sr: int = SAMPLE_RATE
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(offset_seconds, samples)``: mono float32 audio at ``sr`` Hz, in order.

    Chunks are about ``chunk_seconds`` long; together they hold every decoded sample
    exactly once. A chunk is cut once enough audio for it plus a short tail
    (``MIN_TAIL_SECONDS``) is buffered, at the quietest window in the last
    ``CUT_SEARCH_SECONDS`` (at most half a chunk) before the nominal boundary, so the
    last chunk is never a sliver. Peak memory is about two chunks of samples.
    """
    if chunk_seconds <= 0:
        raise ValueError("chunk_seconds must be positive")
    path = Path(path)
    chunk_len = max(1, round(chunk_seconds * sr))
    search = round(min(CUT_SEARCH_SECONDS, chunk_seconds / 2) * sr)
    tail = round(min(MIN_TAIL_SECONDS, chunk_seconds / 4) * sr)
    window = round(CUT_WINDOW_SECONDS * sr)
    pending: list[np.ndarray] = []
    pending_len = 0
    emitted = 0  # samples already yielded

    with _open(path, name) as container:
        stream = _audio_stream(container, name)
        position = lambda: (emitted + pending_len) / sr  # noqa: E731
        for samples in _decoded(container, stream, sr, name, position):
            pending.append(samples)
            pending_len += len(samples)
            while pending_len >= chunk_len + tail:
                buffer = np.concatenate(pending)
                cut = quiet_cut(buffer, chunk_len, search, window)
                yield emitted / sr, buffer[:cut]
                emitted += cut
                rest = buffer[cut:].copy()  # a copy, so the yielded chunk can be freed
                del buffer
                pending, pending_len = [rest], len(rest)
        if pending_len:
            yield emitted / sr, np.concatenate(pending)
