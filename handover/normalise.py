"""Loose text equality: the one normalisation used for item ids, de-duplication and
phrase matching.

Speech-to-text, notes and documents spell the same words differently: "&" against
"and", "re-assess" against "reassess", "twenty" against "20", curly quotes against
straight ones. Two texts that differ only in those ways normalise to the same string.
"""

from __future__ import annotations

import re
import unicodedata

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
# The contracted spelling of each expanded second word, for find_loose.
_CONTRACTED = {
    "will": r"['\u2019]ll",
    "not": r"n['\u2019]t",
    "are": r"['\u2019]re",
    "have": r"['\u2019]ve",
    "would": r"['\u2019]d",
    "am": r"['\u2019]m",
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


def _word_pattern(word: str) -> str:
    """A regex for one normalised word that also matches its spelled variants."""
    if word == "and":
        return r"(?:and|&)"
    if word.isdigit():
        names = [w for w, n in NUMBER_WORDS.items() if str(n) == word and " " not in w]
        return "(?:" + "|".join([re.escape(word), *names]) + ")"
    # Allow a hyphen or apostrophe between any two letters: "reassess" matches "re-assess".
    return r"[-'\u2019\u2010\u2011]?".join(re.escape(ch) for ch in word)


def find_loose(haystack: str, phrase: str) -> tuple[int, int] | None:
    """The span of ``phrase`` inside ``haystack`` under loose equality, or None.

    Word boundaries are respected, so "plan" is not found inside "planning".
    """
    words = normalise(phrase).split()
    if not words:
        return None
    gap = r"[\s,;:\"'()\[\]\u201c\u201d-]+"
    parts: list[str] = []
    i = 0
    while i < len(words):
        word, after = words[i], words[i + 1] if i + 1 < len(words) else None
        suffix = _CONTRACTED.get(after or "")
        if after == "will" and words[i + 2 : i + 3] == ["not"]:
            suffix = None  # "we won't": pair "will not" instead
        if suffix and after != word:
            # normalise() spelled "we'll" as "we will": accept either spelling.
            short = _word_pattern(word) + suffix
            if (word, after) == ("will", "not"):
                short = r"won['\u2019]t"
            parts.append(f"(?:{_word_pattern(word)}{gap}{_word_pattern(after)}|{short})")
            i += 2
            continue
        parts.append(
            r"(?:cannot|can['\u2019]t|can\s+not)" if word == "cannot" else _word_pattern(word)
        )
        i += 1
    pattern = r"(?<!\w)" + gap.join(parts) + r"(?!\w)"
    match = re.search(pattern, unicodedata.normalize("NFKC", haystack), flags=re.IGNORECASE)
    return (match.start(), match.end()) if match else None
