"""Commitments and customer phrases in the segments of one source.

The rules are lexical patterns over each clause, checked against the spaCy tags and
sentence bounds: a promise is a first-person future or obligation by the vendor
("we'll map", "our data team will", "you'll get", "that's included"), a customer
phrase is the customer's own need, goal, success criterion, concern or coinage.
Patterns say why an item was found (``rule``) in words a reviewer understands, and
a pattern can be read and argued with, which a statistical classifier cannot.

Side decides a lot: "we will" is a promise from the vendor and a plan from the
customer. A segment's side comes from the transcript or the deal's people; where it
is unknown (a recording without diarization, seller notes) the words decide and the
result is marked ``side_inferred``.

Speed: the whole source goes through one ``nlp.pipe`` without NER, and only
segments that contain a trigger word are parsed at all. NER and dateparser run only
on the clauses that already are candidates and mention something date-like.

Modules, in the order a call runs through them:

- ``__init__`` (here): the entry point. ``_plan`` decides what each segment is (vendor,
  customer, unknown side, notes, or skipped), ``_parse_and_match`` parses the segments
  that need it in one batch and hands each to ``talk`` or ``notes``.
- ``talk`` (transcripts and recordings) and ``notes`` (seller notes) walk the clauses
  that ``spans`` finds and ask ``commitments``, ``phrases`` and ``terms`` for hits.
- ``commitments`` and ``phrases`` judge the regexes of ``promise_patterns`` and
  ``phrase_patterns``; ``headings`` reads notes section titles; ``speakers`` resolves
  names to sides; ``lexicons`` and ``text`` are shared helpers.
- ``finish`` attaches due dates and quantities and builds the ``Candidate`` list.
- ``context`` holds the dataclasses passed between them (``_Plan``, ``_Hit``, ``_Ctx``).

The other modules are internal to the package: their names keep the leading underscore
and only ``extract`` and ``is_heading`` are public.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from handover.dates import parse_iso
from handover.errors import HandoverError
from handover.extract.context import _Ctx, _Plan
from handover.extract.finish import _finish
from handover.extract.headings import _heading_kind, _looks_like_title, is_heading
from handover.extract.notes import _notes_hits
from handover.extract.phrase_patterns import _third_person_patterns
from handover.extract.promise_patterns import _vendor_rx_cached
from handover.extract.speakers import _People, _side_of
from handover.extract.talk import _talk_hits
from handover.extract.terms import _named_terms, _repeated_terms
from handover.types import Candidate, Segment, Side, SourceKind

__all__ = ["extract", "is_heading"]

log = logging.getLogger(__name__)

# Longest text handed to spaCy in one piece; longer segments are cut at sentence ends.
# ``_parse_and_match`` reads it from this module, so it can be patched here.
MAX_CHUNK = 50_000

# Cheap pre-filter: a segment without any of these words cannot match a rule, so it is
# not parsed at all. It must stay a superset of the words the rules look for.
_TRIGGER = re.compile(
    r"['’](?:ll|d|re|m)\b|n['’]t\b|[&\"“”‘’]|\b[A-Z][a-z]+-[A-Z]|(?<![\w'])(?:"
    r"will|shall|going\s+to|gonna|commit\w*|promis\w*|guarantee\w*|pledge\w*|undertake|vow"
    r"|can|cannot|could|might|may|should|able|try|tries|attempt|endeavou?r|best|utmost|effort"
    r"|happy|glad|willing|pleased|delighted|thrilled|satisfied|moon|get|gets|receive\w*"
    r"|includ\w*|cover\w*|part\s+of|on\s+(?:our|the)\s+(?:list|plan|roadmap)|cost|charge|free"
    r"|thrown|comes?\s+with|on\s+us|on\s+our\s+(?:side|end)|plan|plans"
    r"|need\w*|requir\w+|must\w*|have\s+to|has\s+to|got\s+to|gotta|critical|essential|vital"
    r"|crucial|imperative|non-negotiable|deal-?breaker|red\s+line|struggl\w+|battling|fighting"
    r"|drowning|wrestling|problem\w*|issue\w*|challenge\w*|pain\w*|bottleneck\w*|priorit\w+"
    r"|ask\w*|headache\w*|goal\w*|aim\w*|objective\w*|target\w*|ambition\w*|vision|intent\w*"
    r"|mission|north\s+star|hop\w+|purpose|idea|want\w*|wanna|like|love|wish\w*|looking|trying"
    r"|expect\w*|demand\w*|insist\w*|mandated|told|success\w*|win|know|outcome|result|scenario"
    r"|measure\w*|metric\w*|kpis?|yardstick|worr\w+|concern\w*|fear\w*|risk\w*|nightmare"
    r"|anxi\w+|hesitation|reservations?|danger|afford|nervous|scared|afraid|uneasy|wary"
    r"|s[ck]eptical|apprehensive|paranoid|terrified|frightened|twitchy|scares|bothers"
    r"|frightens|keeps?|burn\w*|last\s+thing|call|consider|count|class|deem|regard|judge)\b",
    re.IGNORECASE,
)


def extract(
    nlp: Any,
    segments: Sequence[Segment],
    *,
    meeting_date: str | None = None,
    source_kind: SourceKind = SourceKind.TRANSCRIPT,
    people: Mapping[str, Side] | None = None,
) -> list[Candidate]:
    """Commitments and customer phrases in a source's segments, in order."""
    segs = [s for s in (segments or ()) if isinstance(s, Segment) and isinstance(s.text, str)]
    if not segs or source_kind == SourceKind.SCOPE:
        return []
    ref = parse_iso(meeting_date)
    roster = _People(people)
    vendor_names = tuple(n for n in roster.names(Side.VENDOR) if len(n) >= 2)
    customer_names = tuple(n for n in roster.names(Side.CUSTOMER) if len(n) >= 2)
    ctx = _Ctx(
        nlp=nlp,
        meeting_date=ref.isoformat() if ref else None,
        kind=source_kind,
        people=roster,
        vendor_rx=_vendor_rx_cached(vendor_names),
        vendor_names=vendor_names,
        customer_names=customer_names,
        third=_third_person_patterns(customer_names),
    )
    plans = _plan(segs, ctx)
    try:
        _parse_and_match(plans, ctx)
        repeated = _repeated_terms(plans)
        for plan in plans:
            plan.hits.extend(repeated.get(plan.seg.ordinal, []))
            if plan.side != Side.VENDOR:
                plan.hits.extend(_named_terms(plan.seg.text, plan))
        return _finish(plans, ctx)
    except HandoverError:
        raise
    except MemoryError as exc:
        raise HandoverError(
            "ran out of memory while extracting; split the source into smaller files"
        ) from exc


def _plan(segs: list[Segment], ctx: _Ctx) -> list[_Plan]:
    plans: list[_Plan] = []
    notes = ctx.kind == SourceKind.NOTES
    notes_ctx = "neutral"
    prev_question = False
    for seg in segs:
        text = seg.text
        side = seg.side if isinstance(seg.side, Side) else _side_of(seg.side)
        if side == Side.UNKNOWN and seg.speaker:
            found = ctx.people.resolve(seg.speaker)
            if found:
                side = found[1]
        if notes:
            if is_heading(text):
                kind = _heading_kind(text)
                if kind is not None:
                    notes_ctx = kind
                    plans.append(_Plan(seg, "skip", side, notes_ctx, parse=False))
                    continue
                # Under a section heading a short line is an item ("Dust screens on every
                # corridor") unless it reads as a title itself ("Their setup", "Next Steps").
                if notes_ctx == "neutral" or _looks_like_title(text):
                    notes_ctx = "neutral"
                    plans.append(_Plan(seg, "skip", side, notes_ctx, parse=False))
                    continue
            plans.append(_Plan(seg, "notes", side, notes_ctx, parse=bool(text.strip())))
            continue
        mode = {Side.VENDOR: "vendor", Side.CUSTOMER: "customer"}.get(side, "unknown")
        parse = bool(text.strip()) and bool(_TRIGGER.search(text))
        plans.append(_Plan(seg, mode, side, after_question=prev_question, parse=parse))
        stripped = text.rstrip()
        prev_question = stripped.endswith("?") or (prev_question and not stripped)
    return plans


def _chunks(text: str, limit: int) -> list[tuple[int, str]]:
    """Cut a long text at sentence ends (else spaces) into pieces spaCy accepts."""
    if len(text) <= limit:
        return [(0, text)]
    out: list[tuple[int, str]] = []
    pos = 0
    while pos < len(text):
        end = min(len(text), pos + limit)
        if end < len(text):
            window = text[pos:end]
            cut = max(
                window.rfind(". "), window.rfind("? "), window.rfind("! "), window.rfind("\n")
            )
            if cut < limit // 2:
                cut = window.rfind(" ")
            if cut > 0:
                end = pos + cut + 1
        out.append((pos, text[pos:end]))
        pos = end
    return out


def _parse_and_match(plans: list[_Plan], ctx: _Ctx) -> None:
    limit = max(1000, min(MAX_CHUNK, int(getattr(ctx.nlp, "max_length", MAX_CHUNK)) - 1))
    jobs: list[tuple[_Plan, int, str]] = []
    for plan in plans:
        if plan.parse:
            pieces = _chunks(plan.seg.text, limit)
            # The trigger pre-filter again, per piece: in a long paragraph most pieces
            # have nothing to find, and parsing is what costs (about 1 s per 100 kB).
            jobs.extend(
                (plan, off, piece)
                for off, piece in pieces
                if len(pieces) == 1 or _TRIGGER.search(piece)
            )
    if not jobs:
        return
    # NER runs later on candidate clauses only; the attribute ruler and lemmatizer cost a
    # third of the parse and extraction reads POS from the tags (``coarse_pos``).
    names = getattr(ctx.nlp, "pipe_names", ())
    disable = [n for n in ("ner", "attribute_ruler", "lemmatizer") if n in names]
    texts = [piece for _, _, piece in jobs]
    try:
        docs: list[Any] = list(ctx.nlp.pipe(texts, disable=disable, batch_size=128))
    except (HandoverError, MemoryError):
        raise
    except Exception:  # spaCy failed on some text; parse one by one and skip the bad ones
        log.warning("batch parse failed; parsing segments one by one", exc_info=True)
        docs = [_parse_one(ctx.nlp, t, disable) for t in texts]
    by_plan: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    for (plan, off, _), doc in zip(jobs, docs, strict=True):
        if doc is not None:
            by_plan[id(plan)].append((off, doc))
    for plan in plans:
        pieces = by_plan.get(id(plan))
        if not pieces:
            continue
        plan.docs = pieces
        try:
            if plan.mode == "notes":
                plan.hits.extend(_notes_hits(plan, pieces, ctx))
            else:
                plan.hits.extend(_talk_hits(plan, pieces, ctx))
        except HandoverError:
            raise
        except Exception:  # one odd segment must not lose the rest of the source
            log.warning("extraction skipped segment %s", plan.seg.ordinal, exc_info=True)


def _parse_one(nlp: Any, text: str, disable: list[str]) -> Any:
    try:
        return next(iter(nlp.pipe([text], disable=disable)))
    except (HandoverError, MemoryError):
        raise
    except Exception:
        log.warning("could not parse a segment of %d characters", len(text), exc_info=True)
        return None
