"""Files that ship beside the package: jinja2 templates and lexicons.

They are found from this file's location, never from the current directory, so
`python -m pipelines.flag_untraced` works from anywhere.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
LEXICONS = ROOT / "data" / "lexicons"


@cache
def lexicon(name: str) -> tuple[str, ...]:
    """The entries of ``data/lexicons/NAME.txt``: one per line, ``#`` starts a comment."""
    path = LEXICONS / f"{name}.txt"
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.append(entry)
    return tuple(entries)
