"""Attributes and output: due dates and quantities on the hits, duplicates dropped, and
the ``Candidate`` list in order."""

from __future__ import annotations

import logging
import re
from typing import Any

from handover.dates import find_due
from handover.extract.context import C, _Ctx, _Hit, _Plan
from handover.extract.text import _doc_text
from handover.quantities import find_quantities
from handover.types import Candidate, Subtype

log = logging.getLogger(__name__)


_DATEISH = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)[a-z]*\b"
    r"|\b(?:today|tonight|tomorrow|weeks?|months?|years?|quarter|q[1-4]|h[12]|spring|summer|autumn"
    r"|fall|winter|end|eod|cob|christmas|xmas|days?|fortnight|go-?live|kick-?off|launch|signature"
    r"|signing|sign-?off|cutover|handover|acceptance|pilot|completion|rollout|deployment|onboarding"
    r"|installation|within|before|until|by)\b",
    re.IGNORECASE,
)


def _finish(plans: list[_Plan], ctx: _Ctx) -> list[Candidate]:
    """Attach due dates and quantities, drop duplicates, and build the candidates in order."""
    items: list[tuple[_Plan, _Hit]] = []
    for plan in plans:
        seen: set[tuple[str, str, int, int]] = set()
        text = plan.seg.text
        for h in plan.hits:
            if h.rule == "skip" or not (0 <= h.start < h.end <= len(text)):
                continue
            key = (h.kind.value, h.subtype.value, h.start, h.end)
            if key in seen:
                continue
            seen.add(key)
            items.append((plan, h))
    spans = [_span_of(plan, h) for plan, h in items]
    dues = _dues(items, spans, ctx)
    out: list[Candidate] = []
    for (plan, h), span, due in zip(items, spans, dues, strict=True):
        seg = plan.seg
        quantities: tuple[str, ...] = ()
        if h.subtype != Subtype.TERM and span is not None:
            try:
                quantities = tuple(dict.fromkeys(q.text for q in find_quantities(span)))
            except Exception:  # a quantity is an extra; never lose the item over one
                log.debug("quantities failed", exc_info=True)
        out.append(
            Candidate(
                kind=h.kind,
                subtype=h.subtype,
                text=seg.text[h.start : h.end],
                segment_ordinal=seg.ordinal,
                char_start=h.start,
                char_end=h.end,
                speaker=seg.speaker,
                side=h.side,
                side_inferred=h.inferred,
                start=seg.start,
                end=seg.end,
                owner=h.owner if h.kind == C else None,
                due=due.iso if due else None,
                due_text=due.text if due else None,
                quantities=quantities,
                confidence=max(0.05, min(1.0, round(h.confidence, 2))),
                rule=h.rule,
            )
        )
    out.sort(
        key=lambda c: (
            c.segment_ordinal,
            c.char_start,
            c.char_end,
            c.kind.value,
            c.subtype.value,
            c.rule,
        )
    )
    return out


def _span_of(plan: _Plan, h: _Hit) -> Any:
    for off, doc in plan.docs:
        if off <= h.start and h.end <= off + len(_doc_text(doc)):
            return doc.char_span(h.start - off, h.end - off, alignment_mode="expand")
    return None


def _dues(items: list[tuple[_Plan, _Hit]], spans: list[Any], ctx: _Ctx) -> list[Any]:
    """find_due for the items that want one, with NER run only on their clauses."""
    out: list[Any] = [None] * len(items)
    todo = [
        k
        for k, ((plan, h), span) in enumerate(zip(items, spans, strict=True))
        if h.want_due and _DATEISH.search(plan.seg.text[h.start : h.end])
    ]
    if not todo:
        return out
    docs: list[Any] = []
    for k in todo:
        plan, h = items[k]
        try:
            docs.append(spans[k].as_doc())
        except Exception:  # no span (or an odd one): the regex grammar still reads the text
            docs.append(plan.seg.text[h.start : h.end])
    ner = None
    if "ner" in getattr(ctx.nlp, "pipe_names", ()):
        ner = ctx.nlp.get_pipe("ner")
    real = [d for d in docs if not isinstance(d, str)]
    if ner is not None and real:
        try:
            tagged = iter(list(ner.pipe(real, batch_size=64)))
            docs = [d if isinstance(d, str) else next(tagged) for d in docs]
        except Exception:  # NER is a help for dates, not a requirement
            log.debug("ner failed", exc_info=True)
    for k, doc in zip(todo, docs, strict=True):
        try:
            out[k] = find_due(doc, ctx.meeting_date)
        except Exception:
            log.debug("find_due failed", exc_info=True)
    return out
