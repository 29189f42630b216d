"""Seller notes: action lines, "Goal:" labels, bullets under headings and quotes."""

from __future__ import annotations

import re
from typing import Any

from handover.extract.commitments import _commitment, _vague_at
from handover.extract.context import C, P, _Ctx, _Hit, _Plan, _shift, _sided
from handover.extract.phrase_patterns import _first_person_patterns
from handover.extract.phrases import _phrase
from handover.extract.spans import _clauses
from handover.extract.terms import _content_words, _terms
from handover.extract.text import _QUOTE, _low, _trim, _words
from handover.types import Side, Subtype

# No "^": both are used with .match(), which anchors at the position it is given, and
# "^" would not match there (``_notes_items`` matches at every sentence start in place).
_ACTION_LINE = re.compile(
    r"\s*(?:action(?:\s+items?|\s+points?)?|todo|to-do|to\s+do|next\s+steps?|follow[\s-]?ups?)"
    r"\s*(?:\((?P<n1>[^)]{1,40})\))?\s*[:\-–—]\s*"
    r"(?:(?P<n2>(?:[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,2})|we|us|me|I)"
    r"(?:\s*\((?P<tag>[^)]{1,30})\))?\s*(?:[:\-–—]|(?=\bto\b))\s*)?"
    r"(?:to\s+)?(?P<body>\S.*)$",
    re.IGNORECASE,
)
_NAME_TO = re.compile(
    r"^\s*(?P<n2>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)?)(?:\s*\((?P<tag>[^)]{1,30})\))?"
    r"\s*(?:[:\-–—]\s*|\s+to\s+|\s+will\s+|'ll\s+)"
    r"(?P<body>[a-z]\S*.*)$"
)
# A name tagged as the customer's: "Diane (client)", "Rob (their side)".
_CUSTOMER_TAG = re.compile(r"\b(?:client|customer|their\s+side|them|theirs)\b", re.IGNORECASE)
_TRAILING_NAME = re.compile(r"\s*[(\[](?P<n>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)?)[)\]]\s*\.?\s*$")
_LABEL = re.compile(
    r"\s*(?P<label>(?:(?:the|their|his|her|main|key|biggest|big|top|primary|other|one|number\s+one"
    r"|stated|customer|customer's|real)\s+){0,2}(?:goals?|aims?|objectives?|targets?|ambitions?|vision"
    r"|success(?:\s+(?:criteria|looks\s+like|metrics?|measures?|means))?|wins?|definition\s+of\s+done"
    r"|needs?|requirements?|must-haves?|pains?(?:\s+points?)?|problems?|challenges?|issues?|worry"
    r"|worries|concerns?|risks?|fears?|priority|priorities|ask))\s*(?:\((?P<who>[^)]{1,40})\))?"
    r"\s*(?P<sep>:|=|–|—|-(?=\s))\s*(?P<body>\S.*)$",
    re.IGNORECASE,
)
_SENT_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z\"“(])")
_NOTES_NEG = re.compile(
    r"^(?:\W*\w+\W+){0,3}?(?:not|no|never|won't|will\s+not|don't|do\s+not|nothing|without|exclude)\b"
)
_NOTES_HEDGE = re.compile(
    r"(?<![\w'])(?:could|might|may|probably|possibly|maybe|perhaps|hopefully|tbc|tbd|not\s+committed"
    r"|not\s+confirmed|tentative(?:ly)?|if\s+possible|try\s+to|checking|to\s+be\s+confirmed|subject\s+to"
    r"|not\s+promised|no\s+promises|floated|option(?:al)?)\b"
)


def _notes_items(text: str) -> list[tuple[int, int, str]]:
    """Split a notes paragraph where an "Action:" or "Goal:" line starts after a sentence.

    Plain-text notes often run such lines together into one paragraph.
    """
    starts = [0] + [m.end() for m in re.finditer(r"[.!?][\"”’)]?\s+", text)]
    marked: list[tuple[int, str]] = []
    for pos in starts:
        # Matched in place: slicing text[pos:] at every sentence made long paragraphs
        # quadratic (a 10 MB line took minutes).
        if _ACTION_LINE.match(text, pos):
            marked.append((pos, "action"))
        elif _LABEL.match(text, pos):
            marked.append((pos, "label"))
        elif pos == 0:
            marked.append((0, "plain"))
    out = []
    for k, (pos, kind) in enumerate(marked):
        end = marked[k + 1][0] if k + 1 < len(marked) else len(text)
        out.append((pos, end, kind))
    return out


def _notes_hits(plan: _Plan, pieces: list[tuple[int, Any]], ctx: _Ctx) -> list[_Hit]:
    text = plan.seg.text
    nctx = plan.notes_ctx
    hits: list[_Hit] = []
    covered: list[tuple[int, int]] = []
    for s, e, kind in _notes_items(text):
        if kind == "action":
            got = _action_from(text, s, e, _ACTION_LINE.match(text[s:e]), plan, ctx)
            hits.extend([got] if got is not None else [])
            covered.append((s, e))
        elif kind == "label" and nctx != "commit":
            label = _label_line(text, s, e)
            if label is not None:
                hits.append(label)
                hits.extend(
                    _quote_hits(text, plan, ctx, skip=(label.start, label.end), within=(s, e))
                )
                covered.append((s, e))
    if nctx == "action" and not covered:
        named = _NAME_TO.match(text)
        if named:
            got = _action_from(text, 0, len(text), named, plan, ctx)
            return [got] if got is not None else []
    if nctx == "commit":
        return hits + _commit_bullet(plan, pieces, ctx, covered)
    customer_ctx = nctx.startswith("customer")
    quote_spans = [(m.start(), m.end()) for m in _QUOTE.finditer(text)]
    for off, doc in pieces:
        for sent in doc.sents:
            sent_low = _low(sent.text)
            for a, b in _clauses(sent):
                span = doc[a:b]
                cs, ce = off + span.start_char, off + span.end_char
                if any(qs <= cs and ce <= qe for qs, qe in quote_spans):
                    continue
                if any(s <= cs < e for s, e in covered):
                    continue
                low = sent_low[span.start_char - sent.start_char : span.end_char - sent.start_char]
                if nctx in ("neutral", "action") and not sent.text.rstrip().endswith("?"):
                    before = sent_low[: span.start_char - sent.start_char]
                    hit = _commitment(doc, a, b, low, before, plan, ctx, notes=True)
                    if hit is not None and hit.rule in _NOTES_EXPLICIT:
                        hit.confidence = round(min(hit.confidence, 0.7), 2)
                        hits.append(_shift([hit], off)[0])
                        continue
                patterns = ctx.third + (_first_person_patterns() if customer_ctx else [])
                phrase = _phrase(
                    doc,
                    a,
                    b,
                    low,
                    plan,
                    patterns,
                    confidence=0.65 if customer_ctx else 0.6,
                    inferred=True,
                )
                if phrase is not None and not _vendor_subject(low, phrase.start - doc[a].idx, ctx):
                    hits.append(_shift([phrase], off)[0])
                if customer_ctx:
                    hits.extend(_shift(_terms(doc, a, b, plan, ctx), off))
    hits.extend(
        h for h in _quote_hits(text, plan, ctx) if not any(s <= h.start < e for s, e in covered)
    )
    if customer_ctx and not any(h.subtype != Subtype.TERM for h in hits):
        first = _first_sentence(text)
        if first is not None:
            s, e = first
            subtype = Subtype(nctx.split("-", 1)[1]) if "-" in nctx else Subtype.NEED
            hits.append(
                _Hit(
                    P,
                    subtype,
                    s,
                    e,
                    Side.CUSTOMER,
                    True,
                    None,
                    0.55,
                    "notes-under-customer-heading",
                    subtype in (Subtype.GOAL, Subtype.SUCCESS),
                )
            )
    return hits


_NOTES_EXPLICIT = frozenset(
    {
        "we-will",
        "i-will",
        "our-team-will",
        "named-owner-will",
        "we-commit",
        "negative",
        "we-are-going-to",
        "i-am-going-to",
        "hedged-modal",
        "hedged-try",
    }
)


def _vendor_subject(low: str, pos: int, ctx: _Ctx) -> bool:
    head = low[max(0, pos) : max(0, pos) + 40]
    return any(re.match(rf"{re.escape(n)}\b", head) for n in ctx.vendor_names)


def _first_sentence(text: str) -> tuple[int, int] | None:
    m = _SENT_END.search(text)
    end = m.start() if m else len(text)
    s, e = _trim(text, 0, end)
    return (s, e) if e > s and len(_words(text[s:e])) >= 2 else None


def _quote_hits(
    text: str,
    plan: _Plan,
    ctx: _Ctx,
    skip: tuple[int, int] | None = None,
    within: tuple[int, int] | None = None,
) -> list[_Hit]:
    """Quoted words in notes: the customer's phrase when they match a pattern, else a term."""
    out: list[_Hit] = []
    customer_ctx = plan.notes_ctx.startswith("customer")
    lo, hi = within or (0, len(text))
    for m in _QUOTE.finditer(text, lo, hi):
        group = next(g for g in ("a", "b", "c") if m.group(g) is not None)
        qs, qe = _trim(text, m.start(group), m.end(group))
        if qe <= qs:
            continue
        lead = _low(text[max(0, m.start() - 60) : m.start()])
        if _vendor_attributed(lead, ctx):
            continue
        inner = text[qs:qe]
        low = _low(inner)
        best = None
        for order, (subtype, rule, rx, _clause) in enumerate(_first_person_patterns()):
            hit = rx.search(low)
            if hit and (best is None or (hit.start(), order) < (best[0], best[1])):
                best = (hit.start(), order, subtype, rule)
        words = _words(inner)
        if best is not None and len(words) >= 3:
            s, e = _trim(text, qs + best[0], qe)
            if skip is None or not (skip[0] <= s and e <= skip[1]):
                out.append(
                    _Hit(
                        P,
                        best[2],
                        s,
                        e,
                        Side.CUSTOMER,
                        True,
                        None,
                        0.75,
                        f"quoted-{best[3]}",
                        best[2] in (Subtype.GOAL, Subtype.SUCCESS),
                    )
                )
            continue
        if 2 <= len(words) <= 8 and _content_words(words) >= 2:
            out.append(
                _Hit(P, Subtype.TERM, qs, qe, Side.CUSTOMER, True, None, 0.7, "term-quoted", False)
            )
        elif customer_ctx and len(words) > 8:
            subtype = Subtype(plan.notes_ctx.split("-", 1)[1])
            out.append(
                _Hit(
                    P,
                    subtype,
                    qs,
                    qe,
                    Side.CUSTOMER,
                    True,
                    None,
                    0.6,
                    "notes-under-customer-heading",
                    False,
                )
            )
    return out


def _vendor_attributed(lead: str, ctx: _Ctx) -> bool:
    tail = lead[-40:]
    if re.search(r"(?<![\w'])(?:we|i)\s+(?:said|told|promised|mentioned|offered|wrote)\b", tail):
        return True
    return any(re.search(rf"(?<![\w']){re.escape(n)}\b", tail) for n in ctx.vendor_names)


def _label_line(text: str, lo: int, hi: int) -> _Hit | None:
    """A "Goal: ..." / "Biggest worry (Name): ..." line: the customer's phrase after the label."""
    m = _LABEL.match(text[lo:hi])
    if m is None:
        return None
    label = m.group("label").lower()
    if re.search(r"goal|aim|objective|target|ambition|vision", label):
        subtype = Subtype.GOAL
    elif re.search(r"success|win|done", label):
        subtype = Subtype.SUCCESS
    elif re.search(r"worr|concern|risk|fear", label):
        subtype = Subtype.CONCERN
    else:
        subtype = Subtype.NEED
    body = lo + m.start("body")
    end_m = _SENT_END.search(text, body, hi)
    s, e = _trim(text, body, end_m.start() if end_m else hi)
    if e <= s or len(_words(text[s:e])) < 2:
        return None
    return _Hit(
        P,
        subtype,
        s,
        e,
        Side.CUSTOMER,
        True,
        None,
        0.75,
        f"notes-label-{subtype.value}",
        subtype in (Subtype.GOAL, Subtype.SUCCESS),
    )


def _action_from(
    text: str, lo: int, hi: int, m: re.Match[str] | None, plan: _Plan, ctx: _Ctx
) -> _Hit | None:
    """An "Action: Name – do X by Friday" line (``m`` matched on text[lo:hi]): a promise
    owned by Name, unless Name is on the customer's side."""
    if m is None:
        return None
    groups = m.groupdict()
    name = (groups.get("n1") or groups.get("n2") or "").strip()
    if _CUSTOMER_TAG.search(groups.get("tag") or ""):
        return None  # "Rob (their side) – set up access": the customer's own action
    body_start = lo + m.start("body")
    body = text[body_start:hi]
    trailing = _TRAILING_NAME.search(body)
    if not name and trailing:
        name = trailing.group("n")
    owner = "vendor"
    conf = 0.8
    if name and name.lower() not in ("we", "us", "me", "i"):
        who = ctx.people.resolve(name)
        if who is not None:
            if who[1] == Side.CUSTOMER:
                return None
            owner = who[0]
        else:
            owner = name
            conf = 0.7
    low = _low(body)
    if _vague_at(low, len(low) - len(low.lstrip())):
        return None
    s, e = _trim(text, body_start, hi)
    if e <= s:
        return None
    subtype = Subtype.HEDGED if _NOTES_HEDGE.search(low) else Subtype.FIRM
    side, inferred = _sided(plan, C)
    return _Hit(
        C,
        subtype,
        s,
        e,
        side,
        inferred,
        owner,
        conf if subtype == Subtype.FIRM else 0.45,
        "notes-action-line",
    )


def _commit_bullet(
    plan: _Plan, pieces: list[tuple[int, Any]], ctx: _Ctx, covered: list[tuple[int, int]]
) -> list[_Hit]:
    """A bullet under "what we said we'd do": a promise even without a verb."""
    text = plan.seg.text
    hits: list[_Hit] = []
    side, inferred = _sided(plan, C)
    first_done = False
    for off, doc in pieces:
        for sent in doc.sents:
            if any(s <= off + sent.start_char < e for s, e in covered):
                continue
            sent_low = _low(sent.text)
            explicit = None
            if not _QUOTE_CHARS.search(sent.text):
                for a, b in _clauses(sent):
                    span = doc[a:b]
                    low = sent_low[
                        span.start_char - sent.start_char : span.end_char - sent.start_char
                    ]
                    before = sent_low[: span.start_char - sent.start_char]
                    explicit = _commitment(doc, a, b, low, before, plan, ctx, notes=True)
                    if explicit is not None:
                        explicit.confidence = round(min(explicit.confidence, 0.75), 2)
                        hits.append(_shift([explicit], off)[0])
                        break
            if explicit is not None or first_done:
                first_done = True
                continue
            first_done = True
            s, e = _trim(text, off + sent.start_char, off + sent.end_char)
            if e <= s or len(_words(text[s:e])) < 2:
                continue
            low = _low(text[s:e])
            if _vague_at(low, 0) or re.match(r"(?:told|asked)\b", low):
                continue
            bare = re.sub(r"\([^)]*\)", " ", low)
            if _NOTES_NEG.match(bare):
                subtype, conf = Subtype.NEGATIVE, 0.6
            elif _NOTES_HEDGE.search(low):
                subtype, conf = Subtype.HEDGED, 0.4
            else:
                subtype, conf = Subtype.FIRM, 0.6
            owner = "vendor"
            for name in ctx.vendor_names:
                if re.search(rf"(?<![\w']){re.escape(name)}\b", low):
                    found = ctx.people.resolve(name)
                    owner = found[0] if found else owner
                    break
            hits.append(
                _Hit(
                    C, subtype, s, e, side, inferred, owner, conf, "notes-under-commitment-heading"
                )
            )
    return hits


_QUOTE_CHARS = re.compile(r"[\"“”]")
