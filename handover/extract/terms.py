"""Customer terms: "A & B" phrases, capitalised coinages, quoted and repeated phrases."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from handover.extract.context import P, _Ctx, _Hit, _Plan, _sided
from handover.extract.lexicons import _common_hyphenated, _stop_words
from handover.extract.text import _QUOTE, _doc_text, _trim, _words
from handover.normalise import NUMBER_WORDS
from handover.quantities import coarse_pos
from handover.types import Side, Subtype


def _word_groups(doc: Any, a: int, b: int) -> list[tuple[int, int]]:
    """Token ranges of whitespace words: "re-plan" is one word, "workflows." ends before "."."""
    groups: list[tuple[int, int]] = []
    i = a
    while i < b:
        j = i + 1
        while (
            j < b
            and not doc[j - 1].whitespace_
            and (
                doc[j].text in ("-", "‑", "'s", "’s")
                or doc[j - 1].text in ("-", "‑")
                or (not doc[j].is_punct and not doc[j - 1].is_punct)
            )
        ):
            j += 1
        groups.append((i, j))
        i = j
    return groups


def _group_pos(doc: Any, g: tuple[int, int]) -> str:
    toks = [doc[k] for k in range(*g) if not doc[k].is_punct]
    if not toks:
        return "PUNCT"
    return coarse_pos(toks[-1])


def _terms(doc: Any, a: int, b: int, plan: _Plan, ctx: _Ctx) -> list[_Hit]:
    """Coinages in clause doc[a:b]: "A & B objects" and capitalised hyphenated phrases."""
    out: list[_Hit] = []
    dtext = _doc_text(doc)
    groups = _word_groups(doc, a, b)
    side, inferred = _sided(plan, P)
    for gi, g in enumerate(groups):
        if doc[g[0]].text != "&" or g[1] - g[0] != 1 or gi == 0 or gi + 1 >= len(groups):
            continue
        left, right = gi - 1, gi + 1
        if _group_pos(doc, groups[left]) == "PUNCT" or _group_pos(doc, groups[right]) == "PUNCT":
            continue
        if _group_pos(doc, groups[left]) in ("NOUN", "PROPN", "ADJ"):
            while (
                left - 1 >= 0
                and gi - (left - 1) <= 3
                and _group_pos(doc, groups[left - 1]) in ("NOUN", "PROPN", "ADJ")
                and doc[groups[left - 1][0]].lower_ not in _stop_words()
            ):
                left -= 1
        stop = right
        while (
            stop + 1 < len(groups)
            and stop + 1 - right <= 3
            and _group_pos(doc, groups[stop + 1]) in ("NOUN", "PROPN")
            and doc[groups[stop + 1][0]].lower_ not in _stop_words()
        ):
            stop += 1
        s, e = (
            doc[groups[left][0]].idx,
            doc[groups[stop][1] - 1].idx + len(doc[groups[stop][1] - 1].text),
        )
        words = [w for w in _words(dtext[s:e]) if w != "&"]
        if not 2 <= len(words) <= 8:
            continue
        if all(ctx.people.resolve(w) for w in words):
            continue
        out.append(_Hit(P, Subtype.TERM, s, e, side, inferred, None, 0.75, "term-ampersand", False))
    out.extend(_coinages(doc, dtext, groups, side, inferred))
    return out


def _coinages(
    doc: Any, dtext: str, groups: list[tuple[int, int]], side: Side, inferred: bool
) -> list[_Hit]:
    out: list[_Hit] = []
    minor = {"of", "the", "and", "&", "for", "to", "in", "on", "a"}
    i = 0
    texts = []
    for g in groups:
        first, last = doc[g[0]], doc[g[1] - 1]
        texts.append(dtext[first.idx : last.idx + len(last.text)])
    while i < len(groups):
        t = texts[i]
        capital_run = i + 1 < len(groups) and texts[i + 1][:1].isupper()
        if t[:1].isupper() and (re.search(r"[A-Za-z]-[A-Za-z]", t) or capital_run):
            j = i
            while j + 1 < len(groups) and (
                texts[j + 1][:1].isupper()
                or (
                    texts[j + 1].lower() in minor
                    and j + 2 < len(groups)
                    and texts[j + 2][:1].isupper()
                )
            ):
                j += 1
            run = texts[i : j + 1]
            hyphenated = any(re.search(r"[A-Za-z]-[A-Za-z]", w) and w[:1].isupper() for w in run)
            at_start = doc[groups[i][0]].is_sent_start
            if hyphenated and len(run) >= 2 and (not at_start or len(run) >= 3):
                s = doc[groups[i][0]].idx
                last = doc[groups[j][1] - 1]
                out.append(
                    _Hit(
                        P,
                        Subtype.TERM,
                        s,
                        last.idx + len(last.text),
                        side,
                        inferred,
                        None,
                        0.6,
                        "term-coinage",
                        False,
                    )
                )
            i = j + 1
            continue
        low = t.lower()
        if (
            low.count("-") >= 2
            and re.fullmatch(r"[a-z]+(?:-[a-z]+){2,}", low)
            and (low not in _common_hyphenated())
        ):
            s = doc[groups[i][0]].idx
            out.append(
                _Hit(
                    P, Subtype.TERM, s, s + len(t), side, inferred, None, 0.5, "term-coinage", False
                )
            )
        i += 1
    return out


def _content_words(words: list[str]) -> int:
    stop = _stop_words()
    return sum(1 for w in words if w.lower().strip("'’") not in stop and not w.isdigit())


def _quoted_terms(text: str, plan: _Plan, ctx: _Ctx, *, confidence: float) -> list[_Hit]:
    """Short quoted spans (2–8 words) as the customer's terms."""
    out: list[_Hit] = []
    side, inferred = _sided(plan, P)
    for m in _QUOTE.finditer(text):
        group = next(g for g in ("a", "b", "c") if m.group(g) is not None)
        s, e = _trim(text, m.start(group), m.end(group))
        words = _words(text[s:e])
        if 2 <= len(words) <= 8 and _content_words(words) >= 2:
            out.append(
                _Hit(P, Subtype.TERM, s, e, side, inferred, None, confidence, "term-quoted", False)
            )
    return out


def _repeated_terms(plans: list[_Plan]) -> dict[int, list[_Hit]]:
    """Phrases of 3–6 words the customer says in two or more segments."""
    customer = [p for p in plans if p.mode == "customer" or p.notes_ctx.startswith("customer")]
    if len(customer) < 2:
        return {}
    # Number words may open or close a phrase: "one version of the truth".
    edge_stop = _stop_words() - set(NUMBER_WORDS)
    seen: dict[tuple[str, ...], list[tuple[_Plan, int, int]]] = defaultdict(list)
    for plan in customer:
        text = plan.seg.text
        local: set[tuple[str, ...]] = set()
        for piece in re.finditer(r"[^.!?;:,()\"“”\n]+", text):
            tokens = list(re.finditer(r"[A-Za-z][\w'’&-]*|\d+", piece.group()))
            for n in range(3, 7):
                for i in range(len(tokens) - n + 1):
                    window = tokens[i : i + n]
                    key = tuple(t.group().lower() for t in window)
                    if key[0] in edge_stop or key[-1] in edge_stop or key in local:
                        continue
                    if _content_words(list(key)) < 2:
                        continue
                    local.add(key)
                    start = piece.start() + window[0].start()
                    end = piece.start() + window[-1].end()
                    seen[key].append((plan, start, end))
    repeated = {k: v for k, v in seen.items() if len({id(p) for p, _, _ in v}) >= 2}
    keys = sorted(repeated, key=len, reverse=True)
    kept: list[tuple[str, ...]] = []
    for key in keys:
        joined = " " + " ".join(key) + " "
        if any(joined in " " + " ".join(k) + " " for k in kept):
            continue
        kept.append(key)
    out: dict[int, list[_Hit]] = defaultdict(list)
    for key in kept:
        for plan, s, e in repeated[key]:
            side, inferred = _sided(plan, P)
            out[plan.seg.ordinal].append(
                _Hit(P, Subtype.TERM, s, e, side, inferred, None, 0.45, "term-repeated", False)
            )
    return out


# The naming construction: "what we call the back forty", "we call it the Friday
# freeze", "Monica calls it "the Summit"". Whoever names a thing is handing over their
# word for it; the term runs to the end of the clause, at most six words.
_NAMING = re.compile(
    r"\b(?P<who>we|i|they|everyone|everybody|people|staff|folks|[A-Z][a-z]+)\s+"
    r"(?:all\s+|always\s+|just\s+|sometimes\s+|internally\s+)?(?:call|calls|called|nicknamed?)\s+"
    r"(?:it|them|this|that|these|those)?\s*(?:as\s+)?[\"“‘']?"
    r"(?P<term>[\w][^.,;:!?\"“”‘’()\n]{2,80})"
)
# "the Dome is what everybody calls the reading room": the name comes first.
_NAMED_FIRST = re.compile(
    r"(?P<term>[\w'’-]+(?:\s+[\w'’-]+){0,4})\s+(?:is|are)\s+what\s+"
    r"(?P<who>we|i|they|everyone|everybody|people|staff|folks)\s+(?:all\s+)?calls?\b"
)
_CALL = re.compile(r"call|nicknam", re.IGNORECASE)
_IS_WHAT = re.compile(r"\b(?:is|are)\s+what\s+$")
_PLAIN = frozenset(
    "we i you they it this that problem thing things idea issue one bit part".split()
)


def _plain(phrase: str) -> bool:
    """A description rather than a name: it has a pronoun or a generic noun in it."""
    return any(w.lower().strip("'’") in _PLAIN for w in phrase.split())


_TERM_STOP = re.compile(
    r"\s+(?:and|but|because|so|which|when|where|if|since|who|that|is|are|was|were|do|does|"
    r"did|don't|doesn't|will|would|can|could|should|has|have|had|for|to|in|on|at|from|with|"
    r"about|you|me|him|her|us)\b.*$",
    re.IGNORECASE,
)
_LEAD_IN = re.compile(r"^.*\b(?:and|but|so|well|yes|yeah|ok|okay|oh|because)\b[\s,]*", re.I)


def _named_terms(text: str, plan: _Plan) -> list[_Hit]:
    """Terms someone introduces by naming them; the caller passes only segments not
    known to be the vendor's (the vendor's names for its own work are no terms)."""
    out: list[_Hit] = []
    if not _CALL.search(text):
        return out  # both patterns need one of these words; most text has neither
    side, inferred = _sided(plan, P)
    for m in [*_NAMING.finditer(text), *_NAMED_FIRST.finditer(text)]:
        s = m.start("term")
        raw = m.group("term")
        # "X is what we call Y" names X ("the Dome is what everybody calls the
        # reading room") unless X is a plain description ("our other problem is what
        # we call the wet play problem"), when Y is the name.
        if m.re is _NAMED_FIRST and _plain(raw):
            continue
        if m.re is _NAMING and _IS_WHAT.search(text[: m.start()]):
            before = _NAMED_FIRST.search(text[: m.end()])
            if before is not None and not _plain(before.group("term")):
                continue
        if m.re is _NAMED_FIRST:
            lead = _LEAD_IN.match(raw)
            s += lead.end() if lead else 0
            raw = text[s : m.end("term")]
        else:
            if _TERM_STOP.match(" " + raw):
                continue  # "what we call it doesn't matter": no name follows
            raw = _TERM_STOP.sub("", raw)
        words = raw.split()[:6]
        if not words:
            continue
        s, e = _trim(text, s, s + len(" ".join(words)))
        words = _words(text[s:e])
        # Being named is the evidence, so "the back forty" counts although both of
        # its words are on spaCy's stop list; a bare determiner does not.
        named = [w for w in words if w.lower() not in ("the", "a", "an", "our", "my", "this")]
        if 1 <= len(words) <= 6 and named and e - s >= 4:
            out.append(_Hit(P, Subtype.TERM, s, e, side, inferred, None, 0.7, "term-named", False))
    return out
