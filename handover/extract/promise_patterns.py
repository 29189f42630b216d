"""Regexes for the vendor's promises: subject + modal + verb, "you'll get", "that's
included", and the cues that make a promise hedged, conditional or hypothetical."""

from __future__ import annotations

import re
from functools import lru_cache

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


@lru_cache(maxsize=64)
def _vendor_rx_cached(names: tuple[str, ...]) -> re.Pattern[str]:
    return _vendor_rx(names)
