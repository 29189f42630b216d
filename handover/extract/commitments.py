"""Vendor promises in a clause: which promise form matched, how firm it is, and its owner."""

from __future__ import annotations

import re
from typing import Any

from handover.extract.context import C, _Ctx, _Hit, _Plan, _sided
from handover.extract.lexicons import _meeting_rx, _vague_rx
from handover.extract.promise_patterns import (
    _CONDITIONAL,
    _HEDGE_CUES,
    _HEDGE_WORDS,
    _HYPOTHETICAL,
    _INCLUDED,
    _NECESSITY,
    _OWN_PLAN,
    _PASSIVE,
    _PLAN_IS,
    _YOU_GET,
    _YOUR_X,
)
from handover.extract.spans import _trim_discourse
from handover.extract.text import _doc_text, _trim
from handover.types import Side, Subtype


def _commitment(
    doc: Any, a: int, b: int, low: str, before: str, plan: _Plan, ctx: _Ctx, *, notes: bool = False
) -> _Hit | None:
    """The vendor promise in clause doc[a:b], if any (``low`` is its lower-cased text)."""
    base = doc[a].idx
    clause_text = _doc_text(doc)[base : doc[b - 1].idx + len(doc[b - 1])]
    found = _match_commitment(low, plan, ctx, notes)
    if found is None:
        return None
    anchor, subtype, rule, conf, owner_key = found
    sentence_low = before + low
    if _HYPOTHETICAL.search(sentence_low[: len(before) + anchor + 1]):
        return None
    if _CONDITIONAL.search(before[-80:] + low[:anchor]):
        conf -= 0.1
    if plan.mode == "unknown":
        if _OWN_PLAN.search(low):
            return None
        # Without a speaker, who the words are for is the best clue to who said them:
        # a seller promises things to "you", a customer plans things for "our" side.
        if re.search(r"(?<![\w'])(?:you|your)(?![\w'])", low):
            conf += 0.05
        elif re.search(r"(?<![\w'])our(?![\w'])", low[anchor + 4 :]):
            conf -= 0.15
    start = anchor
    lead_i = _trim_discourse(doc, a, b)
    lead = doc[lead_i].idx - base if lead_i < b else anchor
    prefix = low[lead:anchor]
    if (
        lead < anchor
        and re.match(
            r"(?:once|after|when|as\s+soon\s+as|before|if|by\s+the\s+time|until"
            r"|whenever|from|during)\b",
            prefix,
        )
        and prefix.rstrip().endswith(",")
    ):
        start = lead
    if rule in ("inclusion", "not-included", "passive-will-be"):
        start = lead if lead < anchor else anchor
    s, e = _trim(clause_text, start, len(clause_text))
    if e <= s:
        return None
    side, inferred = _sided(plan, C)
    if inferred:
        conf *= 0.85
    owner = _owner(owner_key, plan, ctx)
    return _Hit(C, subtype, base + s, base + e, side, inferred, owner, round(conf, 2), rule)


def _match_commitment(
    low: str, plan: _Plan, ctx: _Ctx, notes: bool
) -> tuple[int, Subtype, str, float, str] | None:
    """(anchor, subtype, rule, confidence, owner key) of the first promise form in ``low``."""
    known_vendor = plan.side == Side.VENDOR
    for m in ctx.vendor_rx.finditer(low):
        got = _judge_vendor_match(m, low, plan, ctx)
        if got is not None:
            return got
    m = _YOU_GET.search(low)
    if m and not _followed_by_need(low, m.end()):
        conf = 0.85 if m.group("mod") else 0.7
        subtype = Subtype.HEDGED if _HEDGE_CUES.search(low[: m.end()]) else Subtype.FIRM
        if subtype == Subtype.HEDGED:
            conf = 0.5
        return m.start(), subtype, "you-will-get", conf, "vendor"
    m = _INCLUDED.search(low)
    if m and not re.search(
        r"(?<![\w'])(?:was|were|had\s+been)\s+(?:all\s+)?(?:included|covered)", low
    ):
        if m.group("neg"):
            return m.start(), Subtype.NEGATIVE, "not-included", 0.65, "vendor"
        subtype = Subtype.HEDGED if _HEDGE_CUES.search(low) else Subtype.FIRM
        return m.start(), subtype, "inclusion", 0.8 if subtype == Subtype.FIRM else 0.5, "vendor"
    if known_vendor or notes:
        m = _YOUR_X.search(low)
        if m:
            return m.start(), Subtype.FIRM, "your-x-will", 0.65, "vendor"
        m = _PLAN_IS.search(low)
        if m and not _vague_at(low, m.start("verb")):
            return m.start(), Subtype.FIRM, "our-plan-is", 0.6, "vendor"
    if known_vendor:
        m = _PASSIVE.search(low)
        if m and not re.match(
            r"(?:you|we|i|they)\b", low[max(0, m.start() - 6) : m.start()].strip()
        ):
            return m.start(), Subtype.FIRM, "passive-will-be", 0.6, "vendor"
    return None


def _followed_by_need(low: str, pos: int) -> bool:
    return bool(re.match(r"\s+(?:to|need|got)\b", low[pos:]))


def _vague_at(low: str, pos: int) -> bool:
    rest = low[pos:]
    m = _vague_rx().match(rest)
    if m:
        phrase = m.group()
        if phrase.split()[0] in ("get", "come", "follow", "circle", "revert"):
            obj = re.search(
                r"\bwith\s+(?:a|an|the|our|some|your|their)?\s*(?:[\w-]+\s+){0,2}?([\w-]+)", rest
            )
            if obj and obj.group(1) not in _VAGUE_OBJECTS:
                return False
        return not (phrase == "try" and re.match(r"try\s+(?:to|and)\b", rest))
    return bool(_meeting_rx().match(rest))


_VAGUE_OBJECTS = frozenset(
    "answer answers update updates response news thoughts feedback details something more info "
    "information idea ideas confirmation that it this view opinion".split()
)


def _judge_vendor_match(
    m: re.Match[str], low: str, plan: _Plan, ctx: _Ctx
) -> tuple[int, Subtype, str, float, str] | None:
    """Decide what a subject + modal match is: a firm, hedged or negative promise, or nothing
    (the speaker's own necessity, a vague follow-up, a refusal)."""
    verb_pos = m.start("verb")
    verb = m.group("verb")
    rest = low[verb_pos:]
    if m.group("name"):
        who = ctx.people.resolve(m.group("name"))
        if who is not None and who[1] == Side.CUSTOMER:
            return None
    if _NECESSITY.match(rest) and not m.group("try"):
        return None  # "we'll need to hire": the speaker's own necessity, not a promise
    if verb in ("have", "got") and re.match(r"(?:have|got)\s+(?:got\s+)?to\b", rest):
        return None
    if m.group("able") is None and m.group("try") is None and _vague_at(low, verb_pos):
        return None
    if verb in ("be",) and re.match(r"be\s+(?:able\s+to\s+)?(?:need|have\s+to)\b", rest):
        return None
    neg = bool(m.group("neg")) or bool(m.group("wont"))
    hedge_words = f"{m.group('adv1') or ''} {m.group('adv2') or ''} {m.group('adv3') or ''}"
    hedged = bool(
        m.group("hedge")
        or m.group("try")
        or m.group("offer")
        or re.search(rf"\b(?:{_HEDGE_WORDS})\b", hedge_words)
        or _HEDGE_CUES.search(low[: m.start()])
        or _HEDGE_CUES.search(low[m.start() : verb_pos])
    )
    if m.group("can") and neg:
        return None  # "we can't": a refusal, not a promise
    if hedged and neg:
        return None  # "we might not be able to": a warning, not a promise
    owner_key = _owner_key(m)
    if neg:
        return m.start(), Subtype.NEGATIVE, "negative", 0.85, owner_key
    if hedged:
        rule = (
            "hedged-try"
            if m.group("try")
            else "hedged-offer"
            if m.group("offer")
            else "hedged-modal"
        )
        conf = 0.4 if m.group("offer") else 0.5
        return m.start(), Subtype.HEDGED, rule, conf, owner_key
    if m.group("commit"):
        return m.start(), Subtype.FIRM, "we-commit", 0.92, owner_key
    if m.group("can"):
        if plan.mode == "unknown" and not m.group("we") and not m.group("team"):
            return None
        return m.start(), Subtype.FIRM, "we-can", 0.6, owner_key
    if m.group("happy"):
        return m.start(), Subtype.FIRM, "happy-to", 0.7, owner_key
    rule = {
        "we": "we-will",
        "i": "i-will",
        "team": "our-team-will",
        "my": "our-team-will",
        "someone": "our-team-will",
        "name": "named-owner-will",
    }.get(owner_key.split(":")[0], "we-will")
    future = m.group("fut") or ""
    if "going" in future or "gonna" in future:
        rule = {"we-will": "we-are-going-to", "i-will": "i-am-going-to"}.get(rule, rule)
    return m.start(), Subtype.FIRM, rule, 0.9, owner_key


def _owner_key(m: re.Match[str]) -> str:
    for group in ("we", "i", "team", "my", "someone", "name"):
        try:
            value = m.group(group)
        except IndexError:
            continue
        if value:
            return f"{group}:{value}"
    return "we:we"


def _owner(key: str, plan: _Plan, ctx: _Ctx) -> str:
    group, _, value = key.partition(":")
    if group == "i":
        if plan.seg.speaker:
            found = ctx.people.resolve(plan.seg.speaker)
            return found[0] if found else plan.seg.speaker
        return "vendor"
    if group == "team":
        words = value.split()[1:]
        return " ".join(words) if words else "vendor"
    if group == "my":
        return " ".join(value.split()[1:]) or "vendor"
    if group == "name":
        found = ctx.people.resolve(value)
        return found[0] if found else value.title()
    if group in ("someone",):
        return "vendor"
    return "vendor"
