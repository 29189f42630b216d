"""Shared fixtures. Models are loaded once per test session (they are cached per process)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from handover.config import Settings

DATA = Path(__file__).parent / "data"
AUDIO = DATA / "audio"
REPO = Path(__file__).parent.parent


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """The real cache `make install` filled, so Whisper base is assembled once."""
    return Settings.load().cache


@pytest.fixture(scope="session")
def whisper(model_cache: Path):
    from handover.models import load_whisper

    return load_whisper(None, model_cache)


@pytest.fixture(scope="session")
def nlp():
    """The real spaCy pipeline, loaded once per test session."""
    from handover.config import DEFAULT_SPACY_MODEL
    from handover.models import load_spacy

    return load_spacy(DEFAULT_SPACY_MODEL)


@pytest.fixture(scope="session")
def embedder():
    """The real sentence-transformers model, loaded once per test session."""
    from handover.models import load_embedder

    return load_embedder(None)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run_cli(home: Path, *args: str | os.PathLike[str]) -> int:
    """Run the real `handover` entry point in-process against ``home`` (the models stay
    loaded between runs); its exit code."""
    from handover.cli import main

    try:
        main(["--home", str(home), *map(str, args)])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run the real `handover` entry point in-process against a fresh home."""

    def run(*args: str | os.PathLike[str]) -> CliResult:
        capsys.readouterr()
        code = run_cli(home, *args)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
