"""Clause and sentence bounds on the spaCy parse: independent clauses, discourse openers
and questions."""

from __future__ import annotations

from typing import Any

from handover.quantities import coarse_pos

_INTERROGATIVE = frozenset(
    "would could can will shall should do does did is are am was were have has may might".split()
)
_WH = frozenset("what how why when where who which whom whose".split())
_SUBJ_PRON = frozenset({"i", "we", "you", "they", "he", "she", "it"})
_COORD = frozenset({"and", "but", "or", "so", "plus", "then"})
_DETS = frozenset(
    {"the", "our", "your", "my", "their", "his", "her", "this", "that", "these", "those"}
)
_FINITE = frozenset({"MD", "VBZ", "VBP", "VBD"})
_CONTRACTED = frozenset(
    {
        "'ll",
        "'re",
        "'m",
        "'s",
        "'d",
        "'ve",
        "wo",
        "will",
        "ca",
        "’ll",
        "’re",
        "’m",
        "’s",
        "’d",
        "’ve",
    }
)
_DISCOURSE = frozenset(
    "so well um uh er erm hmm yes yeah yep ok okay right sure also then now and but plus look "
    "listen honestly basically actually anyway great good perfect absolutely definitely fine "
    "alright oh totally understood exactly indeed cool brilliant lovely excellent no".split()
)


def _subject_then_finite(toks: list[Any], j: int) -> bool:
    n = len(toks)
    t = toks[j]
    low = t.lower_
    if low in _SUBJ_PRON:
        k = j + 1
    elif coarse_pos(t) == "PROPN":
        k = j + 1
        while k < n and coarse_pos(toks[k]) == "PROPN":
            k += 1
    elif low in _DETS:
        k, count = j + 1, 0
        while k < n and coarse_pos(toks[k]) in ("NOUN", "ADJ", "PROPN") and count < 4:
            k += 1
            count += 1
        if count == 0 and low not in ("this", "that"):
            return False
    elif coarse_pos(t) == "NOUN":
        k = j + 1
        while k < n and coarse_pos(toks[k]) == "NOUN":
            k += 1
    else:
        return False
    while k < n and coarse_pos(toks[k]) == "ADV":
        k += 1
    return k < n and (toks[k].tag_ in _FINITE or toks[k].lower_ in _CONTRACTED)


_SUBORDINATORS = frozenset("once when after if before until whenever while as".split())


def _clause_opens(toks: list[Any], j: int) -> bool:
    """Whether an independent clause starts at toks[j], possibly behind a subordinate one
    ("..., and once you go live, we'll give you...")."""
    if _subject_then_finite(toks, j):
        return True
    if toks[j].lower_ not in _SUBORDINATORS:
        return False
    for c in range(j + 2, min(len(toks) - 1, j + 12)):
        if toks[c].text == ",":
            return _subject_then_finite(toks, c + 1)
    return False


def _clauses(sent: Any) -> list[tuple[int, int]]:
    """Token ranges [start, end) of the independent clauses of a sentence.

    A new clause starts after ";" or at a coordinator followed by its own subject and
    finite verb ("..., and Sam will book"); the coordinator itself belongs to neither.
    """
    toks = list(sent)
    cuts: list[tuple[int, int]] = []  # (end of the previous clause, start of the next)
    last_start = 0
    for k, tok in enumerate(toks):
        if k == 0:
            continue
        if tok.text == ";" and k + 1 < len(toks):
            cuts.append((k, k + 1))
            last_start = k + 1
        elif tok.lower_ in _COORD:
            j = k + 1
            while j < len(toks) and toks[j].lower_ in {"then", "also", "now", ",", "um", "uh"}:
                j += 1
            if j < len(toks) and j > last_start and _clause_opens(toks, j):
                end = k
                while end > last_start and toks[end - 1].is_punct:
                    end -= 1
                cuts.append((max(end, last_start + 1), j))
                last_start = j
    out: list[tuple[int, int]] = []
    start = 0
    for end, nxt in cuts:
        if end > start:
            out.append((toks[start].i, toks[end - 1].i + 1))
        start = nxt
    if start < len(toks):
        out.append((toks[start].i, toks[-1].i + 1))
    return out


def _trim_discourse(doc: Any, start: int, end: int) -> int:
    """First token of a clause after fillers, "like I said," and similar openers."""
    i = start
    while i < end:
        tok = doc[i]
        low = tok.lower_
        if coarse_pos(tok) in ("PUNCT", "CCONJ", "INTJ", "SPACE") or low in _DISCOURSE:
            i += 1
            continue
        if low in ("like", "as", "just", "to", "for") and i + 1 < end:
            window = [doc[k] for k in range(i, min(end, i + 8))]
            texts = [t.lower_ for t in window]
            comma = next((k for k, t in enumerate(window) if t.text == ","), None)
            said = any(
                w in texts
                for w in (
                    "said",
                    "mentioned",
                    "discussed",
                    "promised",
                    "agreed",
                    "clear",
                    "honest",
                    "record",
                    "worth",
                )
            )
            if comma is not None and said:
                i = window[comma].i + 1
                continue
        break
    return i


def _is_question(doc: Any, start: int, end: int, text: str) -> bool:
    piece = text.rstrip()
    if piece.endswith("?"):
        return True
    i = _trim_discourse(doc, start, end)
    if i + 1 < end:
        first, second = doc[i], doc[i + 1]
        if first.lower_ in _INTERROGATIVE and (
            coarse_pos(second) == "PRON" or second.lower_ in _SUBJ_PRON
        ):
            return True
        if first.lower_ in _WH and (coarse_pos(second) == "AUX" or second.tag_ == "MD"):
            return True
    return False
