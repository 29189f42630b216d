"""Probing and chunked decoding of recordings (handover.capture.audio), on real files.

The fixtures in tests/data/audio are short espeak clips in every container we accept
plus broken files; the synthetic clips here are written with the stdlib ``wave`` module.
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np
import pytest

from handover.capture import audio
from handover.capture.audio import AudioInfo, iter_chunks, probe, quiet_cut
from handover.errors import InputError

AUDIO = Path(__file__).parent / "data" / "audio"
SR = 16_000

FORMATS = {  # file: (codec family, has video)
    "hello.wav": ("pcm", False),
    "hello.mp3": ("mp3", False),
    "hello.m4a": ("aac", False),
    "hello.ogg": ("", False),  # vorbis or opus
    "hello.flac": ("flac", False),
    "hello.mp4": ("aac", True),
    "hello.webm": ("", True),  # opus or vorbis
}
BROKEN = {  # file: words the message must contain
    "empty.wav": "empty",
    "truncated.mp3": "truncated",
    "png-named.wav": "image",
    "noaudio.mp4": "no audio track",
    "garbage.ogg": "cannot be decoded",
}


def _assert_one_line_error(excinfo: pytest.ExceptionInfo[InputError], name: str, word: str):
    message = str(excinfo.value)
    assert message.startswith(f"{name}: "), message
    assert "\n" not in message and "\r" not in message
    assert word in message
    assert str(AUDIO) not in message  # the name the user knows, not our full path


def _write_wav(path: Path, samples: np.ndarray, sr: int = SR) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sr)
        handle.writeframes(pcm.tobytes())
    return path


def _tone(seconds: float, sr: int = SR, freq: float = 220.0) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="module")
def reference_samples() -> np.ndarray:
    return np.concatenate([chunk for _, chunk in iter_chunks(AUDIO / "hello.wav", "hello.wav")])


# --- probe -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_probe_every_format(name: str) -> None:
    codec, has_video = FORMATS[name]
    info = probe(AUDIO / name, name)
    assert isinstance(info, AudioInfo)
    wav = probe(AUDIO / "hello.wav", "hello.wav")
    assert 0.5 < info.duration <= wav.duration + 0.1  # video files may be cut shorter
    if not has_video:
        assert info.duration == pytest.approx(wav.duration, abs=0.1)
    assert codec in info.codec
    assert info.sample_rate >= 8000 and info.channels >= 1
    assert info.has_video is has_video


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_probe_broken_files_raise_one_line_input_error(name: str) -> None:
    with pytest.raises(InputError) as excinfo:
        probe(AUDIO / name, name)
    _assert_one_line_error(excinfo, name, BROKEN[name])


def test_probe_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        probe(tmp_path / "nope.wav", "nope.wav")
    _assert_one_line_error(excinfo, "nope.wav", "not found")
    with pytest.raises(InputError) as excinfo:
        probe(tmp_path, "folder")
    _assert_one_line_error(excinfo, "folder", "directory")


def test_probe_catches_a_file_cut_in_half(tmp_path: Path) -> None:
    """The header promises more audio than the file holds: a cheap seek near the end finds it."""
    data = (AUDIO / "hello.mp3").read_bytes()
    half = tmp_path / "half.mp3"
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as excinfo:
        probe(half, "half.mp3")
    assert "truncated" in str(excinfo.value) and str(excinfo.value).startswith("half.mp3: ")


def test_probe_rejects_a_sliver_of_audio(tmp_path: Path) -> None:
    path = _write_wav(tmp_path / "blip.wav", _tone(0.02))
    with pytest.raises(InputError, match=r"^blip\.wav: .*ms long"):
        probe(path, "blip.wav")


def test_duration_without_header_comes_from_packets() -> None:
    """The fallback used when a container (e.g. browser webm) states no duration."""
    import av

    with av.open(str(AUDIO / "hello.webm")) as container:
        stream = container.streams.audio[0]
        measured = audio._demuxed_duration(container, stream)
    assert measured == pytest.approx(probe(AUDIO / "hello.webm", "x").duration, abs=0.1)


# --- iter_chunks -----------------------------------------------------------------------


def test_short_file_is_one_mono_16k_chunk(reference_samples: np.ndarray) -> None:
    chunks = list(iter_chunks(AUDIO / "hello.wav", "hello.wav"))
    assert len(chunks) == 1
    offset, samples = chunks[0]
    assert offset == 0.0
    assert samples.dtype == np.float32 and samples.ndim == 1
    duration = probe(AUDIO / "hello.wav", "hello.wav").duration
    assert len(samples) == pytest.approx(duration * SR, abs=SR * 0.02)
    assert 0.01 < float(np.sqrt(np.mean(samples**2))) < 1.0  # real signal, sane scale


@pytest.mark.parametrize("name", ["hello.mp3", "hello.m4a", "hello.mp4", "hello.webm"])
def test_other_containers_decode_to_the_same_length(name: str) -> None:
    samples = np.concatenate([c for _, c in iter_chunks(AUDIO / name, name)])
    assert len(samples) == pytest.approx(probe(AUDIO / name, name).duration * SR, abs=SR * 0.1)


def test_chunks_cover_the_audio_exactly_once(reference_samples: np.ndarray) -> None:
    chunk_seconds = 2.0
    chunks = list(iter_chunks(AUDIO / "hello.wav", "hello.wav", chunk_seconds=chunk_seconds))
    assert len(chunks) >= 2
    position = 0
    for index, (offset, samples) in enumerate(chunks):
        assert offset == pytest.approx(position / SR)
        if index < len(chunks) - 1:  # cut in the last half-chunk before the boundary
            assert chunk_seconds / 2 * SR <= len(samples) <= chunk_seconds * SR
        position += len(samples)
    assert np.array_equal(np.concatenate([c for _, c in chunks]), reference_samples)


def test_cut_lands_in_the_pause(tmp_path: Path) -> None:
    """Tone, 0.3 s of silence at 1.5-1.8 s, tone: a 2 s chunk is cut inside the silence."""
    signal = np.concatenate([_tone(1.5), np.zeros(round(0.3 * SR), np.float32), _tone(2.5)])
    path = _write_wav(tmp_path / "pause.wav", signal)
    chunks = list(iter_chunks(path, "pause.wav", chunk_seconds=2.0))
    first_cut = len(chunks[0][1]) / SR
    assert 1.5 <= first_cut <= 1.8
    assert chunks[1][0] == pytest.approx(first_cut)


def test_cut_lands_in_a_quiet_spot_of_speech(reference_samples: np.ndarray) -> None:
    chunks = list(iter_chunks(AUDIO / "hello.wav", "hello.wav", chunk_seconds=2.0))
    loud = float(np.sqrt(np.mean(reference_samples**2)))
    for offset, _ in chunks[1:]:
        cut = round(offset * SR)
        around = reference_samples[max(0, cut - SR // 20) : cut + SR // 20]  # +-50 ms
        assert float(np.sqrt(np.mean(around**2))) < 0.25 * loud


def test_last_chunk_is_never_a_sliver(tmp_path: Path) -> None:
    path = _write_wav(tmp_path / "tone.wav", _tone(4.1))
    chunks = list(iter_chunks(path, "tone.wav", chunk_seconds=2.0))
    assert sum(len(c) for _, c in chunks) == round(4.1 * SR)
    assert len(chunks[-1][1]) >= 0.5 * SR  # MIN_TAIL_SECONDS, capped at a quarter chunk


def test_quiet_cut_prefers_the_latest_of_equal_windows() -> None:
    samples = np.ones(10 * SR, np.float32)
    samples[2 * SR : 3 * SR] = 0
    samples[7 * SR : 8 * SR] = 0
    cut = quiet_cut(samples, 9 * SR, 8 * SR, SR // 5)
    assert 7 * SR <= cut <= 8 * SR
    assert quiet_cut(samples, 100, 50, SR // 5) == 100  # region too short: the boundary


# Not truncated.mp3: a cut file decodes as far as it goes; probe() is what rejects it.
@pytest.mark.parametrize("name", sorted(set(BROKEN) - {"truncated.mp3"}))
def test_iter_chunks_refuses_broken_files_too(name: str) -> None:
    with pytest.raises(InputError) as excinfo:
        list(iter_chunks(AUDIO / name, name))
    assert str(excinfo.value).startswith(f"{name}: ")


def test_chunk_seconds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        next(iter_chunks(AUDIO / "hello.wav", "hello.wav", chunk_seconds=0))


def test_decoding_error_mid_file_names_the_file_and_the_position(tmp_path: Path) -> None:
    """A FLAC cut in half fails in the decoder at the cut (probe() would refuse it first)."""
    data = (AUDIO / "hello.flac").read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as excinfo:
        list(iter_chunks(cut, "kickoff.flac"))
    message = str(excinfo.value)
    assert re.match(r"kickoff\.flac: cannot be decoded at 00:00:0\d ", message), message
    assert "\n" not in message
