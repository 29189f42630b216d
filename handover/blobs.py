"""Content-addressed, write-once storage of the original uploads.

``blobs/ab/cdef…`` holds the bytes whose sha256 is ``abcdef…``. A blob is written to a
temporary file in the same directory, fsynced and renamed into place, then made
read-only: a reader sees a complete file or none, and nothing rewrites an original.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from handover.errors import InputError

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, source: Path, name: str) -> tuple[str, int]:
        """Copy ``source`` in, hashing as it streams; return (sha256, size).

        The file is read once: hashing and copying share the pass, so a huge
        recording is not read twice and never held in memory.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", dir=self.root)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as handle:
                for chunk in iter(lambda: handle.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path(sha)
            if final.is_file():
                tmp.unlink()
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp, 0o444)
                os.replace(tmp, final)
            return sha, size
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(f"{name}: cannot store the file ({exc.strerror or exc})") from exc

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def delete(self, sha256: str) -> bool:
        path = self.path(sha256)
        if not path.exists():
            return False
        path.unlink()
        return True

    def all(self) -> list[str]:
        """Every stored sha256 (for integrity checks)."""
        if not self.root.is_dir():
            return []
        return sorted(
            d.name + f.name
            for d in self.root.iterdir()
            if d.is_dir() and len(d.name) == 2
            for f in d.iterdir()
            if f.is_file()
        )
