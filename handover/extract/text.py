"""Text helpers: lower case that keeps offsets, trimming spans to their words, word and
quote finding."""

from __future__ import annotations

import re
from typing import Any

_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


def _low(text: str) -> str:
    """Lower case with straight quotes, the same length as ``text`` so offsets carry over."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    return low.translate(_APOS)


_TRAIL = " \t\r\n.,;:!?–—-•*/\\"
_LEAD = " \t\r\n,;:–—-•*/\\.!?"


_FILLER_END = re.compile(
    r"(?:\s*,\s*(?:uh|um|er|erm|you\s+know|i\s+mean|right|ok|okay)|\s+(?:uh|um|er|erm))+$", re.I
)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past edge punctuation, trailing fillers ("..., uh") and
    unbalanced quotes or brackets."""
    for _ in range(6):
        while start < end and text[start] in _LEAD:
            start += 1
        while end > start and text[end - 1] in _TRAIL:
            end -= 1
        filler = _FILLER_END.search(text, start, end)
        if filler and filler.start() > start:
            end = filler.start()
        piece = text[start:end]
        if not piece:
            break
        if piece[-1] in ")]" and piece.count("(["[")]".index(piece[-1])]) < piece.count(piece[-1]):
            end -= 1
        elif piece[0] in "([" and piece.count(piece[0]) > piece.count(")]"["([".index(piece[0])]):
            start += 1
        elif piece.count('"') % 2 == 1 and (piece[0] == '"' or piece[-1] == '"'):
            if piece[-1] == '"':
                end -= 1
            else:
                start += 1
        elif piece[-1] == "\u201d" and piece.count("\u201c") < piece.count("\u201d"):
            end -= 1
        elif piece[0] == "\u201c" and piece.count("\u201c") > piece.count("\u201d"):
            start += 1
        else:
            break
    return start, end


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9][\w'’&-]*", text)


_QUOTE = re.compile(r"\"(?P<a>[^\"\n]{2,400}?)\"|“(?P<b>[^”\n]{2,400}?)”|‘(?P<c>[^’\n]{2,200}?)’")


def _doc_text(doc: Any) -> str:
    """``doc.text`` rebuilds the string on every access; keep one copy per Doc."""
    cached = doc.user_data.get("handover_text")
    if cached is None:
        cached = doc.user_data["handover_text"] = doc.text
    return cached
