"""Word lists from the lexicon resources and the regexes built from them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from handover.resources import lexicon


def _lex(name: str, fallback: Iterable[str] = ()) -> tuple[str, ...]:
    try:
        return lexicon(name)
    except OSError:
        return tuple(fallback)


def _phrase_alt(phrases: Iterable[str]) -> str:
    parts = [r"\s+".join(re.escape(w) for w in p.lower().split()) for p in phrases if p.strip()]
    return "|".join(sorted(set(parts), key=len, reverse=True)) or r"(?!x)x"


@lru_cache(maxsize=1)
def _vague_rx() -> re.Pattern[str]:
    return re.compile(rf"(?:{_phrase_alt(_lex('vague_verbs'))})\b")


@lru_cache(maxsize=1)
def _meeting_rx() -> re.Pattern[str]:
    return re.compile(rf"(?:{_phrase_alt(_lex('meeting_verbs'))})\b")


@lru_cache(maxsize=1)
def _headings() -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for entry in _lex("note_headings"):
        kind, _, words = entry.partition(":")
        if words.strip():
            out.append(
                (kind.strip(), re.compile(rf"(?<![\w'])(?:{_phrase_alt([words])})(?![\w'])"))
            )
    order = {"not": 0, "action": 1, "commit": 2, "neutral": 4}
    out.sort(key=lambda kw: order.get(kw[0], 3))
    return out


@lru_cache(maxsize=1)
def _common_hyphenated() -> frozenset[str]:
    return frozenset(w.lower() for w in _lex("common_hyphenated"))


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | {"yeah", "okay", "ok", "um", "uh", "like", "really", "just"}
