"""Customer phrases in a clause: the earliest need, goal, success or concern pattern."""

from __future__ import annotations

import re
from typing import Any

from handover.extract.context import P, _Hit, _Plan, _sided
from handover.extract.spans import _trim_discourse
from handover.extract.text import _doc_text, _trim, _words
from handover.types import Subtype


def _phrase(
    doc: Any,
    a: int,
    b: int,
    low: str,
    plan: _Plan,
    patterns: list[tuple[Subtype, str, re.Pattern[str], bool]],
    *,
    confidence: float | None = None,
    rule_prefix: str = "",
    inferred: bool | None = None,
) -> _Hit | None:
    """The customer's need/goal/success/concern in clause doc[a:b], if any."""
    best: tuple[int, int, Subtype, str, bool] | None = None
    for order, (subtype, rule, rx, clause_anchor) in enumerate(patterns):
        m = rx.search(low)
        if m is None:
            continue
        if best is None or (m.start(), order) < (best[0], best[1]):
            best = (m.start(), order, subtype, rule, clause_anchor)
    if best is None:
        return None
    anchor, _, subtype, rule, clause_anchor = best
    base = doc[a].idx
    text = _doc_text(doc)[base : doc[b - 1].idx + len(doc[b - 1])]
    start = anchor
    if clause_anchor:
        lead_i = _trim_discourse(doc, a, b)
        start = min(anchor, doc[lead_i].idx - base) if lead_i < b else anchor
    s, e = _trim(text, start, len(text))
    if e <= s or len(_words(text[s:e])) < 2:
        return None
    side, side_inferred = _sided(plan, P)
    if inferred is not None:
        side_inferred = inferred
    conf = confidence if confidence is not None else (0.85 if not side_inferred else 0.7)
    if side_inferred and plan.after_question:
        conf += 0.05
    return _Hit(
        P,
        subtype,
        base + s,
        base + e,
        side,
        side_inferred,
        None,
        round(conf, 2),
        rule_prefix + rule,
        want_due=subtype in (Subtype.GOAL, Subtype.SUCCESS),
    )
