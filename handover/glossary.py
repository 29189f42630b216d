"""A deal's glossary: the words Whisper should spell the way the customer spells them.

The glossary is built only from what the deal states up front (its names, its
participants, terms added by hand, and distinctive terms in its notes and scope
documents), never from earlier transcripts, so a transcript depends on its inputs
and not on the order in which recordings were processed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# Capitalised words that open sentences or headings without naming anything.
_FUNCTION_WORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be we you they "
    "i it this that these those our your their my he she his her its not no yes so do does "
    "will would can could should may might must shall all any each every some".split()
)
_WORD = r"[A-Za-z][\w'\u2019]*"
_CAP = r"[A-Z][\w'\u2019]*"
_NAME_RUN = re.compile(rf"{_CAP}(?:\s+(?:&\s+|of\s+|and\s+)?{_CAP})*")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9/&]{1,9}\b")
_CAMEL = re.compile(r"\b[A-Z]?[a-z]+[A-Z][A-Za-z0-9]+\b")
_JOINED = re.compile(
    rf"\b{_WORD}(?:-{_WORD})+(?:\s+&\s+{_WORD}(?:-{_WORD})*)?|\b{_WORD}\s+&\s+{_WORD}"
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*(?:[-*•#>]+\s*|\d+(?:\.\d+)*\.?\s+)?)$")


def distinctive_terms(texts: Iterable[str], limit: int = 40) -> list[str]:
    """Terms a general English model is likely to misspell, most frequent first.

    General rules only: multi-word capitalised names (anywhere) and single
    capitalised words that do not open a sentence, acronyms, CamelCase product
    names, and hyphen- or ``&``-joined phrases.
    """
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}

    def keep(term: str, weight: int = 1) -> None:
        term = " ".join(term.split()).strip("-&' ")
        if len(term) < 2 or term.casefold() in _FUNCTION_WORDS:
            return
        key = term.casefold()
        spelling.setdefault(key, term)
        counts[key] += weight

    for text in texts:
        for match in _NAME_RUN.finditer(text):
            words = match.group().split()
            at_start = bool(_SENTENCE_START.search(text[: match.start()]))
            while words and words[0].casefold() in _FUNCTION_WORDS:
                words = words[1:]
                at_start = False
            if len(words) >= 2 or (words and not at_start):
                keep(" ".join(words), 2 if len(words) >= 2 else 1)
        for pattern in (_ACRONYM, _CAMEL, _JOINED):
            for match in pattern.finditer(text):
                keep(match.group(), 2)
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    return [spelling[k] for k in ranked[:limit]]


def hotwords(
    *,
    names: Iterable[str | None],
    manual: Iterable[str],
    documents: Iterable[str],
) -> list[str]:
    """The glossary in priority order (hand-added, then names, then found terms), deduplicated."""
    seen: set[str] = set()
    out: list[str] = []
    for term in [*manual, *(n for n in names if n), *distinctive_terms(documents)]:
        term = " ".join(term.split())
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            out.append(term)
    return out
