"""Trace items (vendor commitments, customer phrases) into scope clauses.

A pure core: the caller passes the spaCy pipeline and an ``embed`` function (it
caches vectors by text hash), so this module never loads a model itself.

Scoring
    Every item text is compared with every clause by a hybrid score in 0..1:

    * the cosine of their sentence embeddings (meaning, whatever the words);
    * how much of the item's content lemmas the clause contains, each lemma
      weighted by its rarity among the document's clauses, so "payroll" counts
      for more than "depot" in a depot project. Containment, not Jaccard:
      clauses are longer than what people say;
    * the longest run of words the two share in order, under loose equality
      ("&" = "and", "re-assess" = "reassess", "twenty" = "20", plural = singular),
      which rewards a customer's own phrase quoted back.

    An item's score against a clause is the best over its texts (the item, then
    the other quotes of the same promise).

Status, most dangerous first
    * conflict: a clause in an exclusion section matches about as well as the
      best clause; or a clause on the item's topic states a quantity or date that
      disagrees with what was said ("20 supervisors" vs "up to 10 supervisors");
      or a vendor promise matches a clause that makes the same thing the
      customer's job (see below).
    * untraced / weak / traced: by the best scope clause's score against
      ``Thresholds.weak`` and ``Thresholds.traced``.

    Negative commitments ("we will not touch payroll") agree with exclusion and
    assumption clauses: a good match there traces them. A negative best matching
    a scope clause is at most weak: the document does not say the thing is left
    out, and may even do it, so a human should look.

    Assumption clauses are customer duties. A vendor promise is never traced to
    one: "we'll supply the scanners" against "The client will supply scanners"
    is a clash of who does the work, so a strong match (>= traced) is a conflict
    and a plausible one weak. A scope clause about as good as the assumption wins,
    because SOWs often state both sides of one activity ("we run workshops" /
    "the customer makes staff available for workshops"). Customer phrases may
    trace to assumption clauses: the document does address the need.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from handover.dates import Due, date_disagreement, find_dates, find_due
from handover.faults import fault_point
from handover.normalise import normalise
from handover.quantities import Quantity, disagreement, find_quantities
from handover.types import Category, Clause, ItemKind, Status, Subtype


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The one place trace thresholds and weights live (calibrated in tests/test_trace.py)."""

    traced: float = 0.50  # best score >= traced -> traced (unless conflict)
    weak: float = 0.34  # weak <= best < traced -> weak; below -> untraced
    cosine: float = 0.55  # weight of the embedding cosine
    overlap: float = 0.35  # weight of the weighted containment of content lemmas
    phrase: float = 0.10  # weight of the shared in-order phrase
    phrase_words: int = 4  # a shared run of this many content words is a full phrase match
    conflict_min: float = 0.34  # an exclusion clause must score this much to conflict
    exclusion_margin: float = 0.05  # an exclusion this close below the best still conflicts
    assumption_margin: float = 0.05  # a scope clause this close to an assumption wins
    topic_min: float = 0.30  # clauses checked for disagreeing numbers/dates score this much
    topic_margin: float = 0.15  # ... and this close to the best: they are on the item's topic
    topic_count: int = 5  # at most this many topic clauses are checked for numbers/dates
    date_window: int = 6  # words either side of a said date that tell what it is the date of
    max_terms: int = 8  # matched terms kept per evidence
    top_k: int = 40  # clauses nearest by cosine that get the full hybrid score


@dataclass(frozen=True, slots=True)
class TraceItem:
    key: str  # the item id
    kind: ItemKind
    subtype: Subtype  # NEGATIVE commitments agree with exclusions
    texts: tuple[str, ...]  # the item text first, then other quotes of the same promise
    meeting_date: str | None  # ISO, to resolve relative dates in the texts


@dataclass(frozen=True, slots=True)
class ClauseRef:
    id: int  # database id
    document: str  # the document's name
    clause: Clause
    doc_date: str | None  # ISO date of the document, to resolve its dates


@dataclass(frozen=True, slots=True)
class Evidence:
    clause_id: int
    score: float  # 0..1
    matched_terms: tuple[str, ...]  # clause wording shared with the item, for highlighting
    reason: str | None  # for a conflict: why, in words


@dataclass(frozen=True, slots=True)
class TraceResult:
    key: str
    status: Status  # exactly one of CONFLICT, UNTRACED, WEAK, TRACED
    score: float  # score of the first evidence (0 when there are no clauses)
    evidence: tuple[Evidence, ...]  # the deciding clause first, then by score; at most 3


# --- text analysis -------------------------------------------------------------------

_FRAME = re.compile(
    r"^(?:(?:so|and|but|well|yes|yeah|ok|okay|right|um|uh|look|honestly|also|then|"
    r"absolutely|definitely|of course|sure)\b[,\s]*)*"
    r"(?:(?:we|i|you|our team|they)\s*(?:'ll|’ll|\s+will|\s+would|\s+can|\s+could|\s+should|"
    r"'re going to|’re going to|\s+are going to|\s+am going to|'m going to|’m going to)"
    r"(?:\s+(?:also|definitely|certainly|probably|absolutely|then|just|be able to|try to|"
    r"have|get)\b)*[,\s]*)?",
    re.IGNORECASE,
)


def core_text(text: str) -> str:
    """What was promised without how it was said: "So we'll also run two workshops"
    -> "run two workshops". Empty when nothing is left or nothing was stripped."""
    core = _FRAME.sub("", text.strip(), count=1).strip(" ,.")
    return core if core != text.strip() and len(core.split()) >= 2 else ""


_KEEP_POS = {"NOUN", "PROPN", "VERB", "ADJ", "ADV"}
# Words of talk and of dates that say nothing about the work: "we need", "by the end
# of March". spaCy's stop list covers "get", "make", "go"; dates are compared apart.
_GENERIC = frozenset(
    "need want like think sure able keep end thing lot way kind bit stuff okay yes yeah "
    "basically actually really definitely probably maybe perhaps hopefully "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# Derivational endings, so "translate" meets "translation" and "advert" "advertising".
# Agentive "-er" stays: an engineer is not an engine.
_SUFFIXES = tuple(
    sorted(
        "ions ion ments ment ings ing ness ance ence ally ly al ive ity ised ized ise ize "
        "ed es s e".split(),
        key=len,
        reverse=True,
    )
)
_MIN_STEM = 4
_DASHES = {"-", "\u2010", "\u2011", "\u2012", "\u2013"}
_LETTER_PART = re.compile(r"^[a-z]+$")


@dataclass(frozen=True, slots=True)
class _Unit:
    """A word as compared: its loose lemma, whether it carries meaning, its span."""

    lemma: str
    content: bool
    start: int
    end: int
    parts: tuple[str, ...] = ()  # stems of a hyphenated compound's meaningful parts


@dataclass(frozen=True, slots=True)
class _Text:
    doc: Any  # the spaCy Doc, kept for quantities and dates
    units: tuple[_Unit, ...]
    content: frozenset[str]  # content lemmas (stems): what the text is about
    parts: dict[str, tuple[str, ...]]  # a compound's parts: "golive" -> ("live",)
    vocab: frozenset[str]  # content lemmas and compound parts: what it can match


def _loose(text: str) -> str:
    return normalise(text).replace(" ", "")


def _stem(word: str) -> str:
    """A crude stem of a lemma: one derivational ending off, then "-is"/"-iz"."""
    if not word.isalpha() or len(word) <= _MIN_STEM:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            word = word[: -len(suffix)]
            break
    if word.endswith(("is", "iz")) and len(word) - 2 >= _MIN_STEM:
        word = word[:-2]
    return word


def _analyse(doc: Any, stop_words: set[str]) -> _Text:
    """Units of a text: tokens joined across in-word hyphens ("go-live" is one unit,
    "golive", as "re-assess" is "reassess"), with punctuation left out."""
    units: list[_Unit] = []
    tokens = list(doc)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.is_space or not _loose(tok.text):  # "&" stays: it reads "and"
            i += 1
            continue
        parts = [tok]
        while (
            i + 2 < len(tokens)
            and tokens[i + 1].text in _DASHES
            and not parts[-1].whitespace_
            and not tokens[i + 1].whitespace_
            and tokens[i + 2].is_alpha
        ):
            parts.append(tokens[i + 2])
            i += 2
        i += 1
        part_stems: list[str] = []
        if len(parts) == 1:
            lemma = _loose(tok.lemma_ or tok.text) or _loose(tok.text)
            content = (
                tok.pos_ in _KEEP_POS
                and not tok.is_stop
                and not tok.like_num
                and tok.lower_ not in stop_words
                and lemma not in _GENERIC
                and len(lemma) > 1
            )
        else:
            # The surface, normalised: "re-assess" -> "reassess", "twenty-four" -> "24".
            lemma = _loose(doc.text[parts[0].idx : parts[-1].idx + len(parts[-1].text)])
            content = not lemma.replace(".", "").isdigit()
            for part in parts:
                part_lemma = _loose(part.lemma_ or part.text)
                if not part.is_stop and part.lower_ not in stop_words and len(part_lemma) > 2:
                    part_stems.append(_stem(part_lemma))
        end = parts[-1].idx + len(parts[-1].text)
        units.append(_Unit(_stem(lemma), content, parts[0].idx, end, tuple(part_stems)))
    content_set = frozenset(u.lemma for u in units if u.content)
    compounds = {u.lemma: u.parts for u in units if u.content and u.parts}
    vocab = content_set.union(*compounds.values())
    return _Text(doc, tuple(units), content_set, compounds, vocab)


def _longest_run(item: _Text, clause: _Text) -> tuple[int, int, int]:
    """The shared in-order run of units with the most content words:
    (content words in it, clause start unit, clause end unit exclusive)."""
    positions: dict[str, list[int]] = {}
    for j, unit in enumerate(clause.units):
        positions.setdefault(unit.lemma, []).append(j)
    best = (0, 0, 0)
    previous: dict[int, tuple[int, int]] = {}  # clause end index -> (length, content count)
    for unit in item.units:
        current: dict[int, tuple[int, int]] = {}
        for j in positions.get(unit.lemma, ()):
            length, content = previous.get(j - 1, (0, 0))
            current[j] = (length + 1, content + int(unit.content))
            if current[j][1] > best[0]:
                best = (current[j][1], j - length, j + 1)
        previous = current
    return best


# --- scoring -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Match:
    ref: ClauseRef
    score: float
    text: str  # the item text that scored best against this clause
    run: tuple[int, int, int]  # their shared phrase, from _longest_run


def _idf(clauses: Sequence[_Text]) -> dict[str, float]:
    df: dict[str, int] = {}
    for text in clauses:
        for lemma in text.vocab:
            df[lemma] = df.get(lemma, 0) + 1
    n = len(clauses)
    return {lemma: math.log((n + 1) / (count + 1)) + 1 for lemma, count in df.items()}


def _terms(
    item: _Text, clause: _Text, clause_text: str, run: tuple[int, int, int], th: Thresholds
) -> tuple[str, ...]:
    """Clause wording shared with the item, in clause order: the shared phrase, then
    single shared content words outside it."""
    found: list[tuple[int, str]] = []
    taken: set[int] = set()
    content, start, end = run

    def filler(unit: _Unit) -> bool:  # "a", "the", "and" at the edge of a phrase
        return not unit.content and not unit.lemma.replace(".", "").isdigit()

    while content >= 2 and filler(clause.units[start]):
        start += 1
    while content >= 2 and filler(clause.units[end - 1]):
        end -= 1
    if content >= 2:
        a, b = clause.units[start].start, clause.units[end - 1].end
        found.append((a, clause_text[a:b]))
        taken.update(range(start, end))
    seen: set[str] = set()
    for j, unit in enumerate(clause.units):
        shared = unit.lemma in item.vocab or any(p in item.vocab for p in unit.parts)
        if j in taken or not unit.content or unit.lemma in seen or not shared:
            continue
        seen.add(unit.lemma)
        found.append((unit.start, clause_text[unit.start : unit.end]))
    found.sort()
    return tuple(dict.fromkeys(term for _, term in found))[: th.max_terms]


def _pair(
    item: _Text,
    clause: _Text,
    cosine: float,
    idf: dict[str, float],
    default_idf: float,
    th: Thresholds,
) -> tuple[float, tuple[int, int, int]]:
    """The hybrid score of one item text against one clause, and their shared run."""
    weights = {lemma: idf.get(lemma, default_idf) for lemma in item.content}
    total = sum(weights.values())
    # "go live" said meets "go-live" written through the compound's parts.
    shared = [
        lemma
        for lemma in item.content
        if lemma in clause.vocab or any(p in clause.vocab for p in item.parts.get(lemma, ()))
    ]
    containment = sum(weights[lemma] for lemma in shared) / total if total else 0.0
    run = _longest_run(item, clause) if len(shared) >= 2 else (0, 0, 0)
    wanted = min(th.phrase_words, max(len(item.content), 2))
    phrase = min(1.0, run[0] / wanted) if run[0] >= 2 else 0.0
    score = th.cosine * max(cosine, 0.0) + th.overlap * containment + th.phrase * phrase
    return min(1.0, max(0.0, score)), run


# --- quantities and dates ------------------------------------------------------------


def _same_unit(said: Quantity, written: Quantity) -> bool:
    """Whether two quantities count the same thing, asked of ``disagreement`` itself
    (it answers None for other units): a far-off value in the written unit must
    disagree with what was said."""
    return any(
        disagreement(said, replace(written, value=far, bound="exact")) is not None
        for far in (-1e18, 1e18)
    )


def _quantity_conflict(
    said: Sequence[Quantity], topic: Sequence[tuple[_Match, _Text]]
) -> tuple[_Match, str] | None:
    """The first topic clause stating a quantity in the same unit decides: a
    disagreement there is a conflict, unless another topic clause agrees."""
    for quantity in said:
        if not quantity.unit:
            continue  # a bare number ("yes, all 20") has nothing to compare
        verdict: tuple[_Match, str] | None = None
        agreed = False
        for match, text in topic:
            written = [q for q in find_quantities(text.doc) if _same_unit(quantity, q)]
            if not written:
                continue
            reasons = [disagreement(quantity, w) for w in written]
            if any(r is None for r in reasons):
                agreed = True
            elif verdict is None:
                verdict = (match, next(r for r in reasons if r))
        if verdict is not None and not agreed:
            return verdict
    return None


def _overlaps(said: Due, written: Due) -> bool:
    """Whether the said period shares a day with the written one: "in May" agrees
    with "3 May 2027" even though May's last day, its deadline, is weeks later."""
    if not (said.first and said.last and written.first and written.last):
        return False
    return said.first <= written.last and written.first <= said.last


def _near(text: _Text, due: Due, width: int) -> frozenset[str]:
    """Content lemmas within ``width`` words of where the date is said: what it is
    the date of, even in a long quote that promises two things."""
    at = text.doc.text.find(due.text)
    if at < 0 or not due.text:
        return text.vocab
    end = at + len(due.text)
    hits = [i for i, u in enumerate(text.units) if u.start < end and u.end > at]
    if not hits:
        return text.vocab
    near = text.units[max(0, hits[0] - width) : hits[-1] + 1 + width]
    lemmas = {u.lemma for u in near if u.content}
    return frozenset(lemmas.union(*(text.parts.get(lemma, ()) for lemma in lemmas)))


def _date_conflict(
    said: Sequence[tuple[Due, frozenset[str]]],
    topic: Sequence[tuple[_Match, _Text]],
    others: Sequence[tuple[_Match, _Text]],
    count: int,
) -> tuple[_Match, str] | None:
    """The best clause on the date's topic that states a date decides; a clause with
    no date (the scope bullet) defers to the next one (the timeline row). On topic:
    the item's topic clauses, and clauses sharing a word with the date's context."""
    for due, near in said:
        chosen = {id(m) for m, _ in topic}
        on_topic = [(m, t) for m, t in others if id(m) in chosen or near & t.vocab][:count]
        for match, text in on_topic:
            # "three days after launch" has no date until launch has one: not a date here.
            written = [w for w in find_dates(text.doc, match.ref.doc_date) if w.first and w.last]
            if not written:
                continue
            reasons = [None if _overlaps(due, w) else date_disagreement(due, w) for w in written]
            if all(reasons):
                return match, str(reasons[0])
            break
    return None


def _section_of(clause: Clause) -> str:
    """The heading's number for a clause: "5.c" -> "5", "3.2.1" -> "3.2"."""
    parts = clause.section.split(".")
    if parts and _LETTER_PART.match(parts[-1]):
        while parts and _LETTER_PART.match(parts[-1]):
            parts.pop()
    else:
        parts = parts[:-1]
    number = ".".join(parts)
    return "" if number in ("", "0") else number


def _where(clause: Clause) -> str:
    return " ".join(part for part in (_section_of(clause), clause.heading) if part)


# --- the trace -----------------------------------------------------------------------


def _decide(
    item: TraceItem,
    item_texts: Sequence[str],
    matches: list[_Match],
    texts: dict[str, _Text],
    th: Thresholds,
    specific: Callable[[_Match], bool],
) -> tuple[Status, _Match, str | None]:
    """Status, deciding clause and conflict reason for one item; matches sorted best first.

    ``specific`` says whether a match shares something particular with its clause;
    an exclusion conflicts only then, since "processes" in "payroll processes" is no
    reason to call a customer's wish to improve their processes excluded.
    """
    best = matches[0]

    def first(category: Category) -> _Match | None:
        return next((m for m in matches if m.ref.clause.category is category), None)

    def by_score(match: _Match | None) -> Status:
        if match is None or match.score < th.weak:
            return Status.UNTRACED
        return Status.TRACED if match.score >= th.traced else Status.WEAK

    excl, assume = first(Category.EXCLUSION), first(Category.ASSUMPTION)
    commitment = item.kind is ItemKind.COMMITMENT
    if commitment and item.subtype is Subtype.NEGATIVE:
        # "We will not touch payroll" agrees with "Changes to payroll are out of scope".
        agree = max(
            (m for m in (excl, assume) if m is not None), key=lambda m: m.score, default=None
        )
        if (
            agree is not None
            and by_score(agree) is not Status.UNTRACED
            and agree.score >= best.score - th.exclusion_margin
        ):
            # An exclusion on the same topic says what was promised: the document
            # leaves the thing out. Exclusions are terse ("Telephone systems and
            # handsets."), so a plausible match there is enough.
            if agree is excl:
                return Status.TRACED, agree, None
            return by_score(agree), agree, None
        status = by_score(best)
        return (Status.WEAK if status is Status.TRACED else status), best, None

    if (
        excl is not None
        and excl.score >= th.conflict_min
        and excl.score >= best.score - th.exclusion_margin
        and specific(excl)
    ):
        return Status.CONFLICT, excl, f"the clause is in {_where(excl.ref.clause)}"

    scope = [m for m in matches if m.ref.clause.category is Category.SCOPE]
    if (
        commitment
        and assume is best
        and (not scope or scope[0].score < best.score - th.assumption_margin)
    ):
        if best.score >= th.traced:
            where = _where(best.ref.clause)
            return Status.CONFLICT, best, f"the scope makes this the customer's job ({where})"
        return (Status.WEAK if best.score >= th.weak else Status.UNTRACED), best, None

    # Customer phrases may trace to assumption clauses; vendor promises only to scope.
    candidates = (
        scope
        if commitment
        else [m for m in matches if m.ref.clause.category is not Category.EXCLUSION]
    )
    lead = candidates[0] if candidates else best
    status = by_score(lead)

    # Numbers and dates are compared only with clauses on the item's topic, so a
    # "20% of the fee" said is never held against "15% fewer empty miles" written.
    topic = [
        (m, texts[m.ref.clause.text])
        for m in candidates
        if m.score >= th.topic_min and m.score >= lead.score - th.topic_margin
    ][: th.topic_count]
    if topic:
        # Numbers and dates are read from what was said, not again from its core.
        said = [texts[t] for t in item_texts if t in item.texts or t == item_texts[0]]
        found = _quantity_conflict([q for t in said for q in find_quantities(t.doc)], topic)
        if found is None:
            dues = [(find_due(t.doc, item.meeting_date), t) for t in said]
            others = [(m, texts[m.ref.clause.text]) for m in candidates if m.score >= th.topic_min]
            found = _date_conflict(
                [(due, _near(t, due, th.date_window)) for due, t in dues if due is not None],
                topic,
                others,
                th.topic_count,
            )
        if found is not None:
            return Status.CONFLICT, found[0], found[1]
    return status, lead, None


def trace(
    items: Sequence[TraceItem],
    clauses: Sequence[ClauseRef],
    *,
    nlp: Any,
    embed: Callable[[list[str]], np.ndarray],
    thresholds: Thresholds = Thresholds(),
) -> list[TraceResult]:
    """Trace every item against the deal's clauses; one result per item, in order.

    ``embed`` is called once with every unique text (items and clauses together)
    and must return L2-normalised vectors; each text is parsed by ``nlp`` once.
    """
    th = thresholds
    if not items:
        return []
    if not clauses:
        return [TraceResult(i.key, Status.UNTRACED, 0.0, ()) for i in items]
    # An item always has at least one text to compare, even if it came in empty. Each
    # text is also compared without its spoken frame ("so, we'll", "you'll get"):
    # a clause never says "we'll", and the frame pulls the embedding towards talk.
    item_texts = [
        tuple(dict.fromkeys(x for t in i.texts if t.strip() for x in (t, core_text(t)) if x))
        or ("",)
        for i in items
    ]
    unique = list(
        dict.fromkeys([*(t for ts in item_texts for t in ts), *(c.clause.text for c in clauses)])
    )
    stop_words = set(getattr(nlp.Defaults, "stop_words", ()))
    texts = {
        text: _analyse(doc, stop_words)
        for text, doc in zip(unique, nlp.pipe(unique, disable=["ner"]), strict=True)
    }
    vectors = np.asarray(embed(unique), dtype=np.float32)
    fault_point("trace")
    row = {text: n for n, text in enumerate(unique)}
    clause_texts = [texts[c.clause.text] for c in clauses]
    idf = _idf(clause_texts)
    default_idf = math.log(len(clauses) + 1) + 1
    clause_vectors = vectors[[row[c.clause.text] for c in clauses]]
    only_here = math.log((len(clauses) + 1) / 2) + 1  # the idf of a word in one clause

    def specific(match: _Match) -> bool:
        """Two shared content words, or one that no other clause has."""
        said, written = texts[match.text], texts[match.ref.clause.text]
        shared = said.vocab & written.vocab
        return len(shared) >= 2 or any(idf.get(w, 0.0) >= only_here - 1e-9 for w in shared)

    results: list[TraceResult] = []
    for item, its_texts in zip(items, item_texts, strict=True):
        cosines = vectors[[row[t] for t in its_texts]] @ clause_vectors.T
        # Only the clauses closest in meaning get the lexical, quantity and date
        # checks: the cost grows with the number of clauses, not with its square.
        nearest = cosines.max(axis=0)
        if len(clauses) > th.top_k:
            candidates = np.argpartition(-nearest, th.top_k)[: th.top_k]
        else:
            candidates = range(len(clauses))
        matches: list[_Match] = []
        for j in candidates:
            ref = clauses[j]
            best: _Match | None = None
            for k, text in enumerate(its_texts):
                score, run = _pair(
                    texts[text], clause_texts[j], float(cosines[k, j]), idf, default_idf, th
                )
                # Rounded before deciding, so the score shown always explains the status.
                score = round(score, 4)
                if best is None or score > best.score:
                    best = _Match(ref, score, text, run)
            if best is not None:
                matches.append(best)
        matches.sort(key=lambda m: (-m.score, m.ref.id))
        status, deciding, reason = _decide(item, its_texts, matches, texts, th, specific)
        ordered = [deciding, *(m for m in matches if m is not deciding)][:3]
        evidence = tuple(
            Evidence(
                m.ref.id,
                m.score,
                _terms(texts[m.text], texts[m.ref.clause.text], m.ref.clause.text, m.run, th),
                reason if m is deciding else None,
            )
            for m in ordered
        )
        results.append(TraceResult(item.key, status, evidence[0].score, evidence))
    return results
