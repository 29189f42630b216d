"""Transcripts and recordings: promises, phrases and terms clause by clause, by side."""

from __future__ import annotations

from typing import Any

from handover.extract.commitments import _commitment
from handover.extract.context import _Ctx, _Hit, _Plan, _shift
from handover.extract.phrase_patterns import _first_person_patterns
from handover.extract.phrases import _phrase
from handover.extract.spans import _clauses, _is_question
from handover.extract.terms import _quoted_terms, _terms
from handover.extract.text import _doc_text, _low
from handover.types import Subtype


def _talk_hits(plan: _Plan, pieces: list[tuple[int, Any]], ctx: _Ctx) -> list[_Hit]:
    hits: list[_Hit] = []
    for off, doc in pieces:
        dtext = _doc_text(doc)
        for sent in doc.sents:
            sent_text = dtext[sent.start_char : sent.end_char]
            sent_low = _low(sent_text)
            question_sentence = sent_text.rstrip().endswith("?")
            for a, b in _clauses(sent):
                cs, ce = doc[a].idx, doc[b - 1].idx + len(doc[b - 1])
                low = sent_low[cs - sent.start_char : ce - sent.start_char]
                question = question_sentence or _is_question(doc, a, b, dtext[cs:ce])
                before = sent_low[: cs - sent.start_char]
                hit = None
                if plan.mode in ("vendor", "unknown") and not question:
                    hit = _commitment(doc, a, b, low, before, plan, ctx)
                phrase = None
                if plan.mode in ("customer", "unknown"):
                    phrase = _phrase(doc, a, b, low, plan, _first_person_patterns())
                    if phrase is not None and question and phrase.subtype != Subtype.CONCERN:
                        phrase = None
                if hit and phrase:
                    # Unknown side: whichever reading starts the clause wins.
                    if phrase.start < hit.start:
                        hit = None
                    else:
                        phrase = None
                for h in (hit, phrase):
                    if h is not None:
                        h.start += off
                        h.end += off
                        hits.append(h)
                if plan.mode == "customer" or (plan.mode == "unknown" and phrase is not None):
                    hits.extend(_shift(_terms(doc, a, b, plan, ctx), off))
        if plan.mode == "customer":
            hits.extend(_shift(_quoted_terms(_doc_text(doc), plan, ctx, confidence=0.7), off))
    return hits
