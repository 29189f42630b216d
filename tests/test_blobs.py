from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from handover.blobs import BlobStore


def test_put_is_content_addressed_read_only_and_idempotent(tmp_path: Path) -> None:
    src = tmp_path / "call.vtt"
    src.write_bytes(b"WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n")
    blobs = BlobStore(tmp_path / "blobs")
    sha, size = blobs.put(src, src.name)
    assert sha == hashlib.sha256(src.read_bytes()).hexdigest() and size == src.stat().st_size
    path = blobs.path(sha)
    assert path == tmp_path / "blobs" / sha[:2] / sha[2:]
    assert path.read_bytes() == src.read_bytes()
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert path.stat().st_mode & 0o222 == 0
    assert blobs.put(src, src.name) == (sha, size)
    assert blobs.all() == [sha]
    assert not list((tmp_path / "blobs").glob(".incoming-*"))


def test_path_rejects_anything_but_a_digest(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    for bad in ["../../etc/passwd", "A" * 64, "ab"]:
        with pytest.raises(ValueError):
            blobs.path(bad)


def test_delete(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("x")
    blobs = BlobStore(tmp_path / "blobs")
    sha, _ = blobs.put(src, "a.txt")
    assert blobs.delete(sha) and not blobs.exists(sha) and not blobs.delete(sha)
