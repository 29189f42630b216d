"""Loose text equality: the one normalisation used for item ids, de-duplication and
phrase matching.

Speech-to-text, notes and documents spell the same words differently: "&" against
"and", "re-assess" against "reassess", "twenty" against "20", curly quotes against
straight ones. Two texts that differ only in those ways normalise to the same string.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
NUMBER_WORDS: dict[str, int] = {word: n for n, word in enumerate(_ONES)}
NUMBER_WORDS.update({word: 20 + 10 * n for n, word in enumerate(_TENS)})
NUMBER_WORDS.update({"hundred": 100, "a dozen": 12, "dozen": 12})

_TENS_ONES = re.compile(
    rf"\b({'|'.join(_TENS)})[\s-]({'|'.join(_ONES[1:10])})\b", flags=re.IGNORECASE
)
_NUMBER_WORD = re.compile(
    rf"\b({'|'.join(sorted((w for w in NUMBER_WORDS if ' ' not in w), key=len, reverse=True))})\b"
)
# A hyphen or dash between two letters joins the word ("re-assess" → "reassess").
_INNER_HYPHEN = re.compile(r"(?<=\w)[-\u2010\u2011\u2012\u2013](?=\w)")
_NON_WORD = re.compile(r"[^\w%$€£.]+|(?<!\d)\.|\.(?!\d)")
_SPACES = re.compile(r"\s+")
_CONTRACTIONS = {
    "won't": "will not",
    "can't": "cannot",
    "n't": " not",
    "'ll": " will",
    "'re": " are",
    "'ve": " have",
    "'d": " would",
    "'m": " am",
}
_CONTRACTION = re.compile(r"(won't|can't|n't|'ll|'re|'ve|'d|'m)\b")


def numbers_to_digits(text: str) -> str:
    """ "twenty-five supervisors" → "25 supervisors"; expects casefolded text."""
    text = _TENS_ONES.sub(
        lambda m: str(NUMBER_WORDS[m.group(1).lower()] + NUMBER_WORDS[m.group(2).lower()]), text
    )
    return _NUMBER_WORD.sub(lambda m: str(NUMBER_WORDS[m.group(1).lower()]), text)


def normalise(text: str) -> str:
    """Casefolded words separated by single spaces, "&" read as "and", hyphens
    inside words dropped, number words as digits, other punctuation gone."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("&", " and ").replace("\u2019", "'")
    text = numbers_to_digits(text)
    text = _CONTRACTION.sub(lambda m: _CONTRACTIONS[m.group(1)], text)
    text = _INNER_HYPHEN.sub("", text)
    text = text.replace("'", "")
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


# A word as people write it, with what joins its parts ("re-assess", "we'll", "1,000",
# "returns/recalls"), or a spelled number in two words ("twenty four"), or "&".
_LOOSE_TOKEN = re.compile(
    _TENS_ONES.pattern + r"|&|[^\W_]+(?:['\u2019\-\u2010\u2011\u2012\u2013.,/][^\W_]+)*",
    flags=re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def _loose_index(
    text: str,
) -> tuple[tuple[tuple[int, int], ...], str, dict[int, int], dict[int, int]]:
    """``text`` cut into written words, each normalised on its own ("we'll" gives "we"
    and "will", both spanning "we'll"): their spans, the normalised words run together,
    and which word starts and which ends at each position of that string."""
    spans: list[tuple[int, int]] = []
    parts: list[str] = []
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    pos = 0
    for m in _LOOSE_TOKEN.finditer(text):
        for word in normalise(m.group()).split():
            starts.setdefault(pos, len(spans))
            pos += len(word)
            ends[pos] = len(spans)
            spans.append((m.start(), m.end()))
            parts.append(word)
    return tuple(spans), "".join(parts), starts, ends


def find_loose(haystack: str, phrase: str) -> tuple[int, int] | None:
    """The span of ``phrase`` inside ``haystack`` under loose equality, or None.

    Both are cut into written words, each normalised on its own so the span maps back
    to the original characters. The words are then compared with the spaces between
    them ignored, so "fifteen-minute", "fifteen minute" and "15 minute" meet, as do
    "re-assess" and "reassess". The match must start and end on word boundaries:
    "plan" is not found inside "planning".
    """
    wanted = _loose_index(phrase)[1]
    spans, joined, starts, ends = _loose_index(haystack)
    if not wanted or not spans:
        return None
    at = joined.find(wanted)
    while at >= 0:
        last = ends.get(at + len(wanted))
        if at in starts and last is not None:
            return spans[starts[at]][0], spans[last][1]
        at = joined.find(wanted, at + 1)
    return None
