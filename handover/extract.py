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
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from handover.dates import find_due, parse_iso
from handover.errors import HandoverError
from handover.normalise import NUMBER_WORDS
from handover.quantities import coarse_pos, find_quantities
from handover.resources import lexicon
from handover.types import Candidate, ItemKind, Segment, Side, SourceKind, Subtype

__all__ = ["extract", "is_heading"]

log = logging.getLogger(__name__)

# Longest text handed to spaCy in one piece; longer segments are cut at sentence ends.
MAX_CHUNK = 50_000

C, P = ItemKind.COMMITMENT, ItemKind.CUSTOMER_PHRASE


# --- lexicons --------------------------------------------------------------------------


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


# --- text helpers ----------------------------------------------------------------------

_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


def _low(text: str) -> str:
    """Lower case with straight quotes, the same length as ``text`` so offsets carry over."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    return low.translate(_APOS)


_TRAIL = " \t\r\n.,;:!?–—-•*/\\"
_LEAD = " \t\r\n,;:–—-•*/\\.!?"


_FILLER_END = re.compile(
    r"(?:\s*,\s*(?:uh|um|er|erm|you\s+know|i\s+mean|right|ok|okay)|\s+(?:uh|um|er|erm))+$", re.I
)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past edge punctuation, trailing fillers ("..., uh") and
    unbalanced quotes or brackets."""
    for _ in range(6):
        while start < end and text[start] in _LEAD:
            start += 1
        while end > start and text[end - 1] in _TRAIL:
            end -= 1
        filler = _FILLER_END.search(text, start, end)
        if filler and filler.start() > start:
            end = filler.start()
        piece = text[start:end]
        if not piece:
            break
        if piece[-1] in ")]" and piece.count("(["[")]".index(piece[-1])]) < piece.count(piece[-1]):
            end -= 1
        elif piece[0] in "([" and piece.count(piece[0]) > piece.count(")]"["([".index(piece[0])]):
            start += 1
        elif piece.count('"') % 2 == 1 and (piece[0] == '"' or piece[-1] == '"'):
            if piece[-1] == '"':
                end -= 1
            else:
                start += 1
        elif piece[-1] == "\u201d" and piece.count("\u201c") < piece.count("\u201d"):
            end -= 1
        elif piece[0] == "\u201c" and piece.count("\u201c") > piece.count("\u201d"):
            start += 1
        else:
            break
    return start, end


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9][\w'’&-]*", text)


# --- people ----------------------------------------------------------------------------


class _People:
    """Participant names, resolvable from a full name, a first name or a last name."""

    def __init__(self, people: Mapping[str, Side] | None) -> None:
        self.full: dict[str, tuple[str, Side]] = {}
        by_part: dict[str, list[tuple[str, Side]]] = defaultdict(list)
        for name, side in (people or {}).items():
            if not isinstance(name, str) or not name.strip():
                continue
            clean = " ".join(name.split())
            side = side if isinstance(side, Side) else _side_of(side)
            self.full[clean.lower()] = (clean, side)
            parts = clean.split()
            for part in {parts[0], parts[-1]}:
                # "Will", "May" or "Bill" alone would match ordinary words.
                if len(part) >= 2 and part[0].isalpha() and part.lower() not in _NOT_NAMES:
                    by_part[part.lower()].append((clean, side))
        self.part = {k: v[0] for k, v in by_part.items() if len({n for n, _ in v}) == 1}

    def resolve(self, name: str | None) -> tuple[str, Side] | None:
        if not name:
            return None
        key = " ".join(name.split()).lower().strip(" .:-–—()'’")
        if key in self.full:
            return self.full[key]
        if key in self.part:
            return self.part[key]
        first = key.split()[0] if key.split() else ""
        return self.part.get(first) if first and len(key.split()) <= 2 else None

    def names(self, *sides: Side) -> list[str]:
        """Lower-case full and unambiguous partial names of people on ``sides``."""
        out = [k for k, (_, s) in self.full.items() if s in sides]
        out += [k for k, (_, s) in self.part.items() if s in sides]
        return sorted(set(out), key=len, reverse=True)


_NOT_NAMES = frozenset(
    "will may can mark bill sue pat rob don art hope grace june april august joy max ray guy "
    "rose faith dawn summer autumn jan sun sat wed".split()
)


def _side_of(value: Any) -> Side:
    try:
        return Side(str(value).lower())
    except ValueError:
        return Side.UNKNOWN


# --- patterns: vendor promises ---------------------------------------------------------

_ADV_WORDS = (
    r"also|then|still|definitely|certainly|absolutely|of\s+course|just|really|both|all|personally"
    r"|actually|obviously|now|first|always|even|totally|fully|happily|gladly|naturally|basically"
    r"|surely|immediately|again|together|jointly|directly|too|very|quickly|ourselves|myself|then"
    r"|initially|later|separately|additionally|further|also\s+then|each|honestly"
    r"|uh|um|er|erm|like|you\s+know|i\s+mean|basically|obviously"
)
_HEDGE_WORDS = r"probably|possibly|perhaps|maybe|hopefully|likely|ideally|potentially"
# Adverbs and fillers between subject, modal and verb: "we will, of course, also cover".
_ADV = rf"(?:,?\s+(?:{_ADV_WORDS}|{_HEDGE_WORDS})(?![\w']))*,?"
_TEAM = (
    r"team|teams|people|staff|engineers?|consultants?|architects?|specialists?|experts?"
    r"|developers?|analysts?|trainers?|crew|crews|pm|project\s+manager|account\s+manager"
    r"|manager|managers|lead|leads|support\s+desk|helpdesk|service\s+desk|company|firm|group"
    r"|office|department|squad|designers?|technicians?|installers?|fitters?|surveyors?"
)


def _vendor_rx(names: tuple[str, ...]) -> re.Pattern[str]:
    name_alt = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in names)
    subj = (
        rf"(?P<we>we)|(?P<i>i)|(?P<team>our(?:\s+[\w-]+){{0,2}}?\s+(?:{_TEAM}))"
        rf"|(?P<my>my\s+(?:[\w-]+\s+)?(?:team|colleagues?|people|engineers?))"
        r"|(?P<someone>someone\s+from\s+(?:our|my)\s+(?:team|side|office)|one\s+of\s+our\s+[\w-]+)"
    )
    # The group always exists, so callers need not ask whether the deal has people.
    subj += rf"|(?P<name>{name_alt or '(?!x)x'})"
    be = r"(?:\s+(?:are|am|is)|'(?:re|m|s))"
    return re.compile(
        rf"""(?<![\w'])(?:{subj})(?P<adv1>{_ADV})
        (?:(?P<wont>\s+won't|\s+wont|\s+shan't|\s+will\s+not|'ll\s+not|\s+will\s+never|'ll\s+never
              |{be}\s+not\s+going\s+to|\s+aren't\s+going\s+to|\s+isn't\s+going\s+to)
          |(?P<fut>\s+will|'ll|\s+shall|{be}{_ADV}\s+(?:going\s+to|gonna))
          |(?P<commit>\s+(?:commit|promise|guarantee|pledge|undertake|vow)(?:\s+to)?
              |{be}\s+(?:fully\s+)?committed\s+to)
          |(?P<can>\s+can(?!'t|not)|{be}\s+able\s+to)
          |(?P<hedge>\s+(?:could|might|may|should)|\s+(?:hope|aim)\s+to|'d\s+hope\s+to
              |\s+would\s+hope\s+to|{be}\s+(?:hoping|aiming)\s+to)
          |(?P<happy>{be}\s+(?:more\s+than\s+)?(?:happy|glad|willing|pleased)\s+to)
          |(?P<offer>(?:'d|\s+would)\s+be\s+(?:more\s+than\s+)?(?:happy|glad|willing|delighted)\s+to)
        )
        (?P<adv2>{_ADV})(?P<neg>\s+not|\s+never|n't)?(?P<adv3>{_ADV})
        (?P<able>\s+be\s+able\s+to)?
        (?P<try>\s+(?:try|attempt|endeavour|endeavor|aim|look|hope)\s+to
            |\s+do\s+(?:our|my)\s+(?:very\s+)?(?:best|utmost)\s+to
            |\s+make\s+(?:every|an)\s+effort\s+to)?
        \s+(?P<verb>[a-z0-9$£€][\w'.%-]*)""",
        re.VERBOSE,
    )


_YOU_GET = re.compile(
    rf"""(?<![\w'])you(?:{_ADV})
    (?:(?P<mod>\s+will|'ll|\s+(?:are|'re)\s+going\s+to|'re\s+gonna|\s+are\s+gonna)(?:{_ADV})
        \s+(?P<verb>get|have|receive|be\s+getting|be\s+given|be\s+assigned|be\s+provided\s+with
            |see|own|keep|enjoy|benefit|be\s+able\s+to|never\s+have\s+to|always\s+have|be\s+working)
      |\s+(?P<pverb>get|receive|also\s+get|always\s+get))\b
    (?!\s+to\b|\s+got\b)""",
    re.VERBOSE,
)
_YOUR_X = re.compile(
    r"(?<![\w'])your\s+(?:[\w-]+\s+){0,2}?[\w-]+(?:\s+will|'ll)"
    rf"(?:{_ADV})\s+(?P<verb>be|have|get|receive)\b"
    r"(?!\s+(?:to|able|responsible|required|expected|needed|asked|expected|in\s+charge)\b)"
)
_INCLUDED = re.compile(
    r"""(?<![\w'])(?:
      (?P<neg>(?:is|are|'s|'re|will\s+be|'ll\s+be)\s*(?:not|n't)|isn't|aren't|won't\s+be|wont\s+be)?
        (?(neg)|(?:is|are|'s|'re|will\s+be|'ll\s+be|comes?|come))
        \s+(?:(?:all|also|fully|already|automatically|always|still|definitely|of\s+course)\s+)*
        (?:included|covered
          |part\s+of\s+(?:the|our|your|this)\s+(?:[\w-]+\s+)?(?:package|scope|offer|offering|proposal
             |price|pricing|fee|fees|deal|engagement|service|services|plan|subscription|contract
             |bundle|licen[cs]e|quote|bid|retainer|sow|statement\s+of\s+work)
          |on\s+(?:our|the)\s+(?:list|plan|roadmap)
          |in\s+(?:the|our)\s+(?:price|quote|fee|proposal|package|scope|sow|contract))\b
      |at\s+no\s+(?:extra|additional|further)\s+(?:cost|charge)|free\s+of\s+charge
      |no\s+(?:extra|additional)\s+(?:cost|charge)|at\s+no\s+cost|thrown\s+in|for\s+free\b
      |(?:the|our)\s+(?:[\w-]+\s+)?(?:price|pricing|fee|fees|quote|proposal|package|offer|contract
         |subscription|licen[cs]e|retainer|bundle)\s+(?:also\s+|already\s+)?
         (?:includes|covers|comes\s+with|include|cover)\b
      |(?:that's|that\s+is|this\s+is|it's|that'll\s+be|that\s+will\s+be)\s+(?:all\s+)?on\s+(?:us|our\s+side|our\s+end)\b
    )""",
    re.VERBOSE,
)
_PLAN_IS = re.compile(
    r"(?<![\w'])(?:the|our)\s+plan\s+is\s+(?:still\s+)?to\s+(?P<verb>[a-z][\w-]*)"
)
_PASSIVE = re.compile(
    r"(?<![\w'])(?:will|'ll)\s+be\s+(?:fully\s+|all\s+)?(?P<verb>provided|delivered|supplied|installed|migrated"
    r"|configured|handled|done|completed|set\s+up|built|trained|hosted|managed|maintained|supported"
    r"|tested|documented|translated|upgraded|replaced|integrated|deployed|rolled\s+out|carried\s+out"
    r"|taken\s+care\s+of|dedicated|assigned|available|on\s+site|onsite)\b(?!\s+by\s+(?:you|your)\b)"
)
_HYPOTHETICAL = re.compile(
    r"(?<![\w'])(?:if\s+(?:we|i|you|they|it)\s+(?:were|was|had|did|went|decided|wanted|chose)\b"
    r"|were\s+we\s+to|suppose|supposing|imagine|hypothetically|let's\s+say|in\s+theory|what\s+if"
    r"|if\s+we\s+(?:ever|somehow))"
)
_CONDITIONAL = re.compile(r"(?<![\w'])(?:if|unless|provided\s+that|as\s+long\s+as)\s")
_HEDGE_CUES = re.compile(
    r"(?<![\w'])(?:probably|possibly|perhaps|maybe|hopefully|ideally|potentially|i\s+think|i\s+believe"
    r"|i\s+guess|i\s+reckon|i'd\s+say|not\s+committed|best\s+effort|where\s+possible|if\s+possible"
    r"|tentative(?:ly)?|fingers\s+crossed|in\s+principle|should\s+be\s+able|all\s+being\s+well"
    r"|subject\s+to|tbc|tbd|to\s+be\s+confirmed|no\s+promises|can't\s+promise|not\s+promising"
    r"|don't\s+want\s+to\s+over-?promise)\b"
)
_OWN_PLAN = re.compile(
    r"(?<![\w'])(?:ourselves|in-house|in\s+house|internally|our\s+own\s+(?:team|people|staff|it|resources))\b"
)
_NECESSITY = re.compile(r"(?:need|needs|have\s+to|has\s+to|have\s+got\s+to|want\s+to|wanna)\b")
_INTERROGATIVE = frozenset(
    "would could can will shall should do does did is are am was were have has may might".split()
)
_WH = frozenset("what how why when where who which whom whose".split())

# --- patterns: customer phrases --------------------------------------------------------

_AUTHORITY = (
    r"board|ceo|cfo|coo|cio|cto|boss|management|leadership|executive\s+team|exec\s+team|exec"
    r"|directors|owners|investors|founders|shareholders|head\s+office|parent\s+company"
    r"|regulators?|auditors?|business|chairman|managing\s+director|president|owner|trustees"
    r"|council|partners|senior\s+team|senior\s+leadership|group"
)
_VAGUE_AFTER_TO = (
    r"check|think|discuss|talk|see|ask|confirm|look|decide|say|know|understand|hear|clarify"
    r"|mention|add|share|go\s+back|get\s+back|come\s+back|run\s+it|sign\s+off|jump|start\s+by|touch"
    r"|follow\s+up|speak|chat|sync|wrap|move|leave|get\s+going|go|make\s+sure\s+we\s+cover"
)
_MOD_ADV = (
    r"really|just|still|absolutely|definitely|also|urgently|desperately|badly|simply|all|both"
    r"|now|actually|genuinely|obviously|clearly|first|ultimately|basically|honestly|do|does"
)


def _phrase_patterns(
    subj: str, poss: str, third: bool
) -> list[tuple[Subtype, str, re.Pattern[str], bool]]:
    """(subtype, rule, pattern, anchor-at-clause-start) for the customer's own words.

    ``subj`` is "we|i" for the customer speaking, "they|he|she|<names>" in seller notes;
    ``poss`` the matching possessive. Concerns come first: "we can't afford another"
    is a concern before it is a need.
    """
    s = rf"(?<![\w'])(?:{subj})"
    o = rf"(?<![\w'])(?:{poss})"
    mods = rf"(?:\s+(?:{_MOD_ADV}))*"
    be = r"(?:'m|'re|'s|\s+(?:am|are|is|was|were|get|gets|got|feel|feels|felt|seem|seems))"
    vs = "s?" if third else ""
    rules: list[tuple[Subtype, str, str, bool]] = [
        (
            Subtype.CONCERN,
            "our-worry-is",
            rf"{o}\s+(?:(?:biggest|main|big|real|key|only|one|other|major|greatest|number\s+one|top|primary"
            r"|overriding|first|second|last|immediate|real)\s+)*(?:worry|worries|concern|concerns|fear|fears"
            r"|risk|risks|nightmare|anxiety|hesitation|reservation|reservations|danger)"
            r"(?:\s+[\w'-]+){0,3}?\s+(?:is|are|was|were|would\s+be|=)\b",
            False,
        ),
        (
            Subtype.CONCERN,
            "cant-afford",
            rf"{s}{mods}\s*(?:\s+can't|\s+cannot|\s+can\s+not|\s+couldn't|\s+can\s+ill)\s+afford\b",
            False,
        ),
        (
            Subtype.CONCERN,
            "worried-about",
            rf"(?<![\w'])(?:{subj}|people|everyone|everybody|the\s+team|my\s+team|our\s+team|the\s+board"
            rf"|management|[\w-]+){be}(?:\s+(?:a\s+bit|a\s+little|really|quite|very|slightly|so|pretty|also"
            r"|still|particularly|genuinely|getting|more|honestly|increasingly|always|kind\s+of|somewhat"
            r"|most|a\s+lot))*\s+(?:nervous|worried|concerned|anxious|scared|afraid|uneasy|wary|sceptical"
            r"|skeptical|apprehensive|paranoid|terrified|frightened|twitchy)\b",
            True,
        ),
        (
            Subtype.CONCERN,
            "what-worries-us",
            r"(?<![\w'])(?:what\s+(?:worries|concerns|scares|bothers|frightens)\s+(?:me|us|them|him|her)"
            r"|keeps?\s+(?:me|us|them|him|her)\s+(?:up|awake)\s+at\s+night)\b",
            True,
        ),
        (
            Subtype.CONCERN,
            "been-burned",
            rf"{s}(?:'ve|\s+have|\s+had|'d)?(?:\s+been|\s+got|\s+were|\s+was)\s+burn(?:ed|t)\b",
            True,
        ),
        (
            Subtype.CONCERN,
            "last-thing-we-need",
            rf"(?<![\w'])the\s+last\s+thing\s+(?:{subj})\s+(?:need|want){vs}\b",
            False,
        ),
        (
            Subtype.CONCERN,
            "dont-want-another",
            rf"{s}{mods}\s+(?:don't|do\s+not|doesn't|does\s+not)\s+want\s+(?:another|a\s+repeat|to\s+end\s+up"
            r"|a\s+rerun|to\s+go\s+through|to\s+repeat|the\s+same)\b",
            False,
        ),
        (
            Subtype.CONCERN,
            "is-the-worry",
            r"(?<![\w'])(?:is|are|was|'s)\s+(?:the|our|my|their|his|her|a|one|another)\s+(?:(?:other|biggest"
            r"|main|big|real|key|major|only|second|huge|massive|constant)\s+)*(?:worry|concern|fear|risk"
            r"|headache|nightmare)\b",
            True,
        ),
        (
            Subtype.SUCCESS,
            "success-looks-like",
            r"(?<![\w'])(?:what\s+)?success(?:\s+for\s+(?:us|me|them|this\s+project|the\s+business|the\s+team))?"
            r"(?:\s+(?:here|really|honestly|simply|basically|for\s+me|for\s+us|to\s+me|to\s+us))?\s+"
            r"(?:looks\s+like|would\s+look\s+like|will\s+look\s+like|means|would\s+mean|will\s+mean|is"
            r"|would\s+be|will\s+be|=)(?![\w'])",
            False,
        ),
        (
            Subtype.SUCCESS,
            "call-it-a-win",
            rf"{s}(?:'d|\s+would|'ll|\s+will|\s+could|\s+can)?\s+(?:call|consider|count|see|class|deem"
            r"|regard|judge)s?\s+(?:it|this|that|the\s+project|the\s+rollout|the\s+programme|the\s+program)"
            r"\s+(?:a\s+|as\s+a\s+|as\s+)?(?:win|success|successful|a\s+result)\b",
            False,
        ),
        (
            Subtype.SUCCESS,
            "thats-a-win",
            r"(?<![\w'])(?:that's|that\s+is|that'd\s+be|that\s+would\s+be|that\s+will\s+be"
            r"|that'll\s+be)\s+(?:a\s+)?(?:big\s+|huge\s+|real\s+|massive\s+)?(?:win|success)(?![\w'])",
            True,
        ),
        (
            Subtype.SUCCESS,
            "its-a-win-if",
            r"(?<![\w'])(?:it's|it\s+is|it'd\s+be|it\s+would\s+be|that's|that\s+would\s+be|that'd\s+be"
            r"|it\s+will\s+be|it'll\s+be)\s+(?:a\s+)?(?:big\s+|huge\s+|real\s+)?(?:win|success"
            r"|great\s+outcome|good\s+outcome)\s+(?:for\s+(?:us|me|them)\s+)?(?:if|when)\b",
            False,
        ),
        (
            Subtype.SUCCESS,
            "we-will-know",
            rf"{s}(?:'ll|\s+will)\s+know\s+(?:it's|it\s+has|it\s+is|it|this|we've|we\s+have|we|they)\b",
            False,
        ),
        (
            Subtype.SUCCESS,
            "good-outcome",
            r"(?<![\w'])(?:a\s+good|the\s+ideal|a\s+great|the\s+best|a\s+successful|the\s+dream|the\s+perfect"
            r"|a\s+win|the\s+win)\s+(?:outcome|result|end\s+state|scenario|for\s+(?:us|me|them))?"
            r"(?:\s+for\s+(?:us|me|them))?\s+(?:would\s+be|is|looks\s+like|will\s+be)\b",
            False,
        ),
        (
            Subtype.SUCCESS,
            "happy-if",
            rf"{s}(?:'d|\s+would|'ll|\s+will)\s+be\s+(?:really\s+|very\s+|more\s+than\s+)?(?:happy|delighted"
            r"|thrilled|pleased|satisfied|over\s+the\s+moon)\s+if\b",
            False,
        ),
        (
            Subtype.SUCCESS,
            "measure-of-success",
            r"(?<![\w'])(?:the\s+|our\s+|my\s+|their\s+)?(?:main\s+|key\s+|real\s+)?(?:measure|measures|metric"
            r"|metrics|kpi|kpis|yardstick|test)\s+(?:of|for)\s+success\s+(?:is|are|would\s+be|will\s+be)\b",
            False,
        ),
        (
            Subtype.GOAL,
            "our-goal-is",
            rf"{o}\s+(?:(?:main|primary|overall|big|biggest|key|ultimate|long-term|short-term|real|stated"
            r"|number\s+one|top|first|immediate|strategic|business|end|whole|other|own)\s+)*(?:goal|goals|aim"
            r"|aims|objective|objectives|target|targets|ambition|ambitions|vision|intention|mission"
            r"|north\s+star|hope|purpose)\b(?:\s+[\w'-]+){0,6}?\s+(?:is|are|was|would\s+be|=)\b",
            False,
        ),
        (
            Subtype.GOAL,
            "the-aim-is",
            r"(?<![\w'])the\s+(?:(?:main|whole|real|overall|ultimate)\s+)?(?:goal|aim|objective|idea|target"
            r"|ambition|intent|intention)\s+(?:here\s+|for\s+us\s+|really\s+)?(?:is|was)\s+(?:to|that)\b",
            False,
        ),
        (
            Subtype.GOAL,
            "we-want-to",
            rf"{s}(?:\s+(?:really|just|also|ultimately|basically|all|definitely|still|do|does|genuinely"
            rf"|desperately))*(?:\s+(?:want{vs}|wanna|would\s+like|would\s+love|hope{vs}|aim{vs}|wish(?:es)?"
            r"|are\s+(?:aiming|trying|looking|hoping)|am\s+(?:aiming|trying|looking|hoping)"
            r"|is\s+(?:aiming|trying|looking|hoping))|'d\s+(?:like|love)|'(?:re|m|s)\s+(?:aiming|trying"
            rf"|looking|hoping))\s+(?:to|for)\b(?!\s+(?:{_VAGUE_AFTER_TO})\b)",
            False,
        ),
        (
            Subtype.GOAL,
            "we-want",
            rf"{s}(?:\s+(?:really|just|also|ultimately|all|definitely|still|do|does|genuinely))*\s+want{vs}"
            r"\s+(?!to\b|you\b|it\b|that\b|this\b|them\b|him\b|her\b|me\b|us\b)[\w-]+",
            False,
        ),
        (
            Subtype.GOAL,
            "authority-wants",
            rf"(?<![\w'])(?:(?:the|our|my|their|his|her)\s+)?(?:{_AUTHORITY})\s+(?:really\s+|also\s+)?"
            r"(?:wants?|would\s+like|'d\s+like)\s+(?:us\s+|me\s+|them\s+|him\s+|her\s+)?to\b",
            False,
        ),
        (
            Subtype.NEED,
            "authority-asked",
            rf"(?<![\w'])(?:(?:the|our|my|their|his|her)\s+)?(?:{_AUTHORITY})(?:'s)?\s+(?:has\s+|have\s+|had\s+"
            r"|is\s+|are\s+|'s\s+)?(?:asked|asking|requires?|required|requiring|expects?|expected|expecting"
            r"|demands?|demanded|insists?|insisted|mandated|told|needs?)\s+(?:us|me|them|him|her)\s+to\b",
            False,
        ),
        (
            Subtype.NEED,
            "we-cant-keep",
            rf"{s}{mods}\s*(?:\s+can't|\s+cannot|\s+can\s+not|\s+can\s+no\s+longer|\s+won't|\s+will\s+not"
            r"|\s+just\s+can't)\s+(?:keep|continue|carry\s+on|go\s+on|accept|tolerate|live\s+with|have|rely"
            r"|be|see|track|get|handle|scale|cope|manage|run|operate|work|trust|grow|deal)\b",
            False,
        ),
        (
            Subtype.NEED,
            "we-need",
            rf"{s}{mods}(?:\s+need{vs}|\s+require{vs}|\s+must|\s+have\s+to|\s+has\s+to|'ve\s+got\s+to"
            r"|\s+have\s+got\s+to|\s+has\s+got\s+to|'s\s+got\s+to|\s+got\s+to|\s+gotta|'d\s+need"
            rf"|\s+would\s+need)\b(?!\s+to\s+(?:{_VAGUE_AFTER_TO})\b)",
            False,
        ),
        (
            Subtype.NEED,
            "it-has-to",
            r"(?<![\w'])(?:it|this|everything|whatever\s+we\s+\w+|(?:the|our|any|a|their)\s+(?:new\s+)?"
            r"(?:[\w-]+\s+){0,2}?(?:system|platform|solution|tool|app|software|process|data|service|product"
            r"|rollout|migration|training|partner|vendor|supplier|dashboard|report|reporting|integration"
            r"|design|build|site|website|campaign|network|kit|equipment|contract|fix|change|handover))"
            r"\s+(?:has\s+to|have\s+to|must|needs\s+to|need\s+to|has\s+got\s+to|'s\s+got\s+to|got\s+to)\b"
            r"(?!\s+be\s+said\b)",
            False,
        ),
        (
            Subtype.NEED,
            "our-need-is",
            rf"{o}\s+(?:(?:main|key|big|biggest|real|top|first|number\s+one|core|primary|immediate|urgent"
            r"|most\s+important|only|other)\s+)*(?:need|needs|requirement|requirements|priority|priorities"
            r"|must-have|must-haves|problem|problems|pain|pain\s+point|pain\s+points|challenge|challenges"
            r"|issue|issues|bottleneck|ask|headache)(?:\s+(?:here|now|really|right\s+now|today|honestly))?"
            r"\s+(?:is|are|was|=)\b",
            False,
        ),
        (
            Subtype.NEED,
            "the-problem-is",
            r"(?<![\w'])the\s+(?:(?:main|real|big|biggest|key|whole)\s+)?(?:problem|issue|challenge"
            r"|pain\s+point|bottleneck|requirement)\s+(?:here\s+|today\s+|right\s+now\s+)?(?:is|was)\b",
            False,
        ),
        (
            Subtype.NEED,
            "what-we-need",
            rf"(?<![\w'])what\s+(?:{subj})\s+(?:really\s+)?(?:need{vs}|require{vs})\s+is\b",
            False,
        ),
        (
            Subtype.NEED,
            "it-is-critical",
            r"(?<![\w'])(?:it's|it\s+is|it'll\s+be|it\s+will\s+be)\s+(?:absolutely\s+|really\s+|just\s+)?"
            r"(?:critical|essential|vital|crucial|imperative|non-negotiable|a\s+must)\s+(?:that|to|for)\b",
            False,
        ),
        (
            Subtype.NEED,
            "must-have",
            r"(?<![\w'])(?:is|are|'s|'re)\s+(?:an?\s+)?(?:absolute\s+)?(?:must-have|must\s+have|must"
            r"|non-negotiable|deal-?breaker|red\s+line)(?![\w'-])",
            True,
        ),
        (
            Subtype.NEED,
            "struggling-with",
            rf"{s}{be}(?:\s+(?:really|just|still|honestly|constantly))*\s+(?:struggling|battling"
            r"|fighting|drowning|wrestling)\s+(?:with|in|against)\b",
            False,
        ),
    ]
    if third:
        # Rule names say who spoke: "they-need" in seller notes, "we-need" in the customer's mouth.
        rules = [(st, _third_rule(rule), rx, clause) for st, rule, rx, clause in rules]
    return [(st, rule, re.compile(rx), clause) for st, rule, rx, clause in rules]


def _third_rule(rule: str) -> str:
    for first, third in (
        ("we-", "they-"),
        ("our-", "their-"),
        ("-us", "-them"),
        ("-we-", "-they-"),
    ):
        rule = rule.replace(first, third)
    return rule


@lru_cache(maxsize=1)
def _first_person_patterns() -> list[tuple[Subtype, str, re.Pattern[str], bool]]:
    return _phrase_patterns("we|i", "our|my|the", third=False)


@lru_cache(maxsize=64)
def _third_person_patterns(
    names: tuple[str, ...],
) -> list[tuple[Subtype, str, re.Pattern[str], bool]]:
    extra = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in names)
    subj = r"they|he|she|the\s+customer|the\s+client" + (f"|{extra}" if extra else "")
    return _phrase_patterns(subj, r"their|his|her|the", third=True)


# --- notes ---------------------------------------------------------------------------

_ACTION_LINE = re.compile(
    r"^\s*(?:action(?:\s+items?|\s+points?)?|todo|to-do|to\s+do|next\s+steps?|follow[\s-]?ups?)"
    r"\s*(?:\((?P<n1>[^)]{1,40})\))?\s*[:\-–—]\s*"
    r"(?:(?P<n2>(?:[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,2})|we|us|me|I)\s*(?:[:\-–—]|(?=\bto\b))\s*)?"
    r"(?:to\s+)?(?P<body>\S.*)$",
    re.IGNORECASE,
)
_NAME_TO = re.compile(
    r"^\s*(?P<n2>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)?)\s*(?:[:\-–—]\s*|\s+to\s+|\s+will\s+|'ll\s+)"
    r"(?P<body>[a-z]\S*.*)$"
)
_TRAILING_NAME = re.compile(r"\s*[(\[](?P<n>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)?)[)\]]\s*\.?\s*$")
_LABEL = re.compile(
    r"^\s*(?P<label>(?:(?:the|their|his|her|main|key|biggest|big|top|primary|other|one|number\s+one"
    r"|stated|customer|customer's|real)\s+){0,2}(?:goals?|aims?|objectives?|targets?|ambitions?|vision"
    r"|success(?:\s+(?:criteria|looks\s+like|metrics?|measures?|means))?|wins?|definition\s+of\s+done"
    r"|needs?|requirements?|must-haves?|pains?(?:\s+points?)?|problems?|challenges?|issues?|worry"
    r"|worries|concerns?|risks?|fears?|priority|priorities|ask))\s*(?:\((?P<who>[^)]{1,40})\))?"
    r"\s*(?P<sep>:|=|–|—|-(?=\s))\s*(?P<body>\S.*)$",
    re.IGNORECASE,
)
_SENT_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z\"“(])")
_QUOTE = re.compile(r"\"(?P<a>[^\"\n]{2,400}?)\"|“(?P<b>[^”\n]{2,400}?)”|‘(?P<c>[^’\n]{2,200}?)’")
_NOTES_NEG = re.compile(
    r"^(?:\W*\w+\W+){0,3}?(?:not|no|never|won't|will\s+not|don't|do\s+not|nothing|without|exclude)\b"
)
_NOTES_HEDGE = re.compile(
    r"(?<![\w'])(?:could|might|may|probably|possibly|maybe|perhaps|hopefully|tbc|tbd|not\s+committed"
    r"|not\s+confirmed|tentative(?:ly)?|if\s+possible|try\s+to|checking|to\s+be\s+confirmed|subject\s+to"
    r"|not\s+promised|no\s+promises|floated|option(?:al)?)\b"
)
_TITLE_START = frozenset(
    "their our my his her what who whose how why where when about next other misc notes background "
    "summary who's".split()
)

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


def is_heading(text: str) -> bool:
    """Whether a notes paragraph reads as a title: short, no sentence punctuation, no label."""
    t = (text or "").strip()
    if not t or len(t) > 80 or t[-1] in ".!?;,":
        return False
    if len(t.split()) > 8 or not any(ch.isalpha() for ch in t):
        return False
    if t.startswith(('"', "“", "'", "‘")):
        return False
    body = t[:-1] if t.endswith(":") else t
    return ":" not in body and "=" not in body


def _heading_kind(text: str) -> str | None:
    low = " " + _low(text).strip().rstrip(":").strip() + " "
    low = re.sub(r"[^\w'\s-]", " ", low)
    for kind, rx in _headings():
        if rx.search(low):
            return kind
    return None


def _looks_like_title(text: str) -> bool:
    t = text.strip()
    if t.endswith(":"):
        return True
    words = t.split()
    first = words[0].lower().strip("'’\"") if words else ""
    if first in _TITLE_START:
        return True
    alpha = [w for w in words if w[:1].isalpha()]
    minor = {"of", "the", "and", "&", "for", "to", "in", "on", "a", "with"}
    return (
        len(alpha) >= 2
        and all(w[0].isupper() for w in alpha if w.lower() not in minor)
        and not any(w.isupper() and len(w) > 1 for w in alpha)
        and not any(ch.isdigit() for ch in t)
    )


# --- per-call context --------------------------------------------------------------------


@dataclass
class _Hit:
    kind: ItemKind
    subtype: Subtype
    start: int
    end: int
    side: Side
    inferred: bool
    owner: str | None
    confidence: float
    rule: str
    want_due: bool = True


@dataclass
class _Plan:
    """What one segment is, decided before parsing."""

    seg: Segment
    mode: str  # "vendor" | "customer" | "unknown" | "notes" | "skip"
    side: Side
    # notes only: "commit" | "not" | "action" | "customer-<subtype>" | "neutral"
    notes_ctx: str = "neutral"
    after_question: bool = False
    parse: bool = True
    hits: list[_Hit] = field(default_factory=list)
    docs: list[tuple[int, Any]] = field(default_factory=list)  # (offset in text, Doc)


@dataclass
class _Ctx:
    nlp: Any
    meeting_date: str | None
    kind: SourceKind
    people: _People
    vendor_rx: re.Pattern[str]
    vendor_names: tuple[str, ...]
    customer_names: tuple[str, ...]
    third: list[tuple[Subtype, str, re.Pattern[str], bool]]


@lru_cache(maxsize=64)
def _vendor_rx_cached(names: tuple[str, ...]) -> re.Pattern[str]:
    return _vendor_rx(names)


# --- entry point -------------------------------------------------------------------------


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
            jobs.extend((plan, off, piece) for off, piece in _chunks(plan.seg.text, limit))
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


# --- clauses -------------------------------------------------------------------------------

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


# --- transcripts and recordings ------------------------------------------------------------


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


def _doc_text(doc: Any) -> str:
    """``doc.text`` rebuilds the string on every access; keep one copy per Doc."""
    cached = doc.user_data.get("handover_text")
    if cached is None:
        cached = doc.user_data["handover_text"] = doc.text
    return cached


def _shift(hits: list[_Hit], off: int) -> list[_Hit]:
    for h in hits:
        h.start += off
        h.end += off
    return hits


def _sided(plan: _Plan, kind: ItemKind) -> tuple[Side, bool]:
    want = Side.VENDOR if kind == C else Side.CUSTOMER
    if plan.side == want:
        return want, False
    return want, True


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


# --- terms -----------------------------------------------------------------------------


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


# --- notes -------------------------------------------------------------------------------


def _notes_items(text: str) -> list[tuple[int, int, str]]:
    """Split a notes paragraph where an "Action:" or "Goal:" line starts after a sentence.

    Plain-text notes often run such lines together into one paragraph.
    """
    starts = [0] + [m.end() for m in re.finditer(r"[.!?][\"”’)]?\s+", text)]
    marked: list[tuple[int, str]] = []
    for pos in starts:
        rest = text[pos:]
        if _ACTION_LINE.match(rest):
            marked.append((pos, "action"))
        elif _LABEL.match(rest):
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


# --- attributes and output -----------------------------------------------------------------

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
