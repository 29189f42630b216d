"""Regexes for the customer's own words: concerns, success criteria, goals and needs, in
the first person (the customer speaking) or the third (seller notes about them)."""

from __future__ import annotations

import re
from functools import lru_cache

from handover.types import Subtype

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
