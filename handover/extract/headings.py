"""Notes section headings: whether a paragraph is a title and what section it opens."""

from __future__ import annotations

import re

from handover.extract.lexicons import _headings
from handover.extract.text import _low

_TITLE_START = frozenset(
    "their our my his her what who whose how why where when about next other misc notes background "
    "summary who's".split()
)


def is_heading(text: str) -> bool:
    """Whether a notes paragraph reads as a title: short, no sentence punctuation, no label."""
    t = (text or "").strip()
    if not t or len(t) > 80 or t[-1] in ".!?;,":
        return False
    if len(t.split()) > 8 or not any(ch.isalpha() for ch in t):
        return False
    if t.startswith(('"', "“", "'", "‘")):
        return False
    body = t[:-1] if t.endswith(":") else t
    return ":" not in body and "=" not in body


def _heading_kind(text: str) -> str | None:
    low = " " + _low(text).strip().rstrip(":").strip() + " "
    low = re.sub(r"[^\w'\s-]", " ", low)
    for kind, rx in _headings():
        if rx.search(low):
            return kind
    return None


def _looks_like_title(text: str) -> bool:
    t = text.strip()
    if t.endswith(":"):
        return True
    words = t.split()
    first = words[0].lower().strip("'’\"") if words else ""
    if first in _TITLE_START:
        return True
    alpha = [w for w in words if w[:1].isalpha()]
    if len(alpha) >= 2 and all(w.isupper() for w in alpha):
        return True  # "PAST WORK MENTIONED": shouted titles in typed notes
    minor = {"of", "the", "and", "&", "for", "to", "in", "on", "a", "with"}
    return (
        len(alpha) >= 2
        and all(w[0].isupper() for w in alpha if w.lower() not in minor)
        and not any(w.isupper() and len(w) > 1 for w in alpha)
        and not any(ch.isdigit() for ch in t)
    )
