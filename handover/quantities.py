"""Numbers with their nouns ("20 cashiers", "up to 10 store managers", "$40k").

A promise and a scope clause can name the same thing with different numbers; that
is the most concrete kind of conflict a reviewer can be shown. So a quantity keeps
the words as written (for the reviewer) and a value, a unit and a bound (for the
comparison). Numbers that are not amounts (years, dates, times of day, section and
version numbers, phone numbers, ordinals) are left out: a false "conflict" between
"2027" and "10 cashiers" would cost the tool its credibility.

Detection is a regex over the text for the number and its bound words; the spaCy
tags only decide which noun the number counts. That keeps it working on spans from
docs parsed without NER, and it tolerates the small model's noisy dependency arcs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from handover.normalise import NUMBER_WORDS

__all__ = [
    "NUMBER_PATTERN",
    "Quantity",
    "coarse_pos",
    "disagreement",
    "find_quantities",
    "parse_number",
]


@dataclass(frozen=True, slots=True)
class Quantity:
    text: str
    value: float
    unit: str
    bound: str = "exact"


_ONES = sorted(
    (w for w, n in NUMBER_WORDS.items() if n < 20 and w.isalpha() and w != "dozen"),
    key=len,
    reverse=True,
)
_DIGIT_WORDS = [w for w in _ONES if 0 < NUMBER_WORDS[w] < 10]
_TENS = [w for w, n in NUMBER_WORDS.items() if 20 <= n < 100]
_SMALL = rf"(?:(?:{'|'.join(_TENS)})(?:[\s-](?:{'|'.join(_DIGIT_WORDS)}))?|{'|'.join(_ONES)})"
# "two hundred and fifty", "three thousand", "a hundred", "a dozen"
_WORD_NUMBER = (
    rf"(?:{_SMALL}|a|an)(?:\s+(?:hundred|thousand)(?:\s+(?:and\s+)?{_SMALL})?)"
    rf"|{_SMALL}|(?:a\s+)?dozen"
)
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
# Any number as written, digits or words; dates.py reads "within six weeks" with it.
NUMBER_PATTERN = rf"(?:{_DIGITS}|{_WORD_NUMBER})"
_BOUND_MAX = (
    r"up\s+to(?:\s+a\s+max(?:imum)?\s+of)?|at\s+most|no\s+more\s+than|not\s+more\s+than"
    r"|a\s+max(?:imum)?\s+of|max(?:imum)?(?:\s+of)?|less\s+than|fewer\s+than|under|below"
    r"|not\s+(?:to\s+)?exceed(?:ing)?|capped\s+at"
)
_BOUND_MIN = (
    r"at\s+least|a\s+min(?:imum)?\s+of|min(?:imum)?(?:\s+of)?|more\s+than|over|above"
    r"|no\s+less\s+than|no\s+fewer\s+than|not\s+less\s+than|in\s+excess\s+of|upwards\s+of"
)
_CURRENCY_SIGN = {"$": "usd", "us$": "usd", "£": "gbp", "€": "eur"}
_CURRENCY_WORD = {
    "usd": "usd",
    "dollar": "usd",
    "dollars": "usd",
    "bucks": "usd",
    "eur": "eur",
    "euro": "eur",
    "euros": "eur",
    "gbp": "gbp",
    "pound": "gbp",
    "pounds": "gbp",
    "quid": "gbp",
}
_SCALE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "mm": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "billion": 1e9,
}

_QUANTITY = re.compile(
    rf"""
    (?:\b(?P<max>{_BOUND_MAX})\s+|\b(?P<min>{_BOUND_MIN})\s+)?
    (?:(?P<sign>us\$|[$£€])\s?|(?P<code>usd|eur|gbp)\s+)?
    (?<![\w.,/:#-])
    (?P<num>{_DIGITS}|{_WORD_NUMBER})
    (?:(?P<gscale>k|m|mn|mm|bn)\b|\s+(?P<wscale>thousand|million|billion)\b)?
    (?P<pct>\s?%|\s+percent\b|\s+per\s+cent\b)?
    (?P<cur>\s+(?:dollars|dollar|bucks|euros|euro|pounds|pound|quid|usd|eur|gbp)\b)?
    (?P<plus>\+)?
    (?![\w/:]|[.,]\d|-\d|\s?(?:am|pm|a\.m\.|p\.m\.|o'clock|o’clock)\b)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING_MIN = re.compile(r"\s*(?:or\s+more|or\s+above|or\s+higher|plus)\b", re.IGNORECASE)
_TRAILING_MAX = re.compile(
    r"\s*(?:or\s+less|or\s+fewer|or\s+below|max(?:imum)?|at\s+most)\b", re.IGNORECASE
)
_HYPHEN_UNIT = re.compile(r"-(?P<unit>[a-z]+)\b", re.IGNORECASE)
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_TIME_UNITS = frozenset("second minute hour day week month year quarter".split())
# Words before a number that make it a label ("phase 2", "section 2.5"), not an amount.
_LABEL_WORDS = frozenset(
    "section clause phase version release step stage level tier page line item chapter part "
    "appendix annex schedule figure table room floor unit building block wave sprint number "
    "no no. # ref reference option week day q h v windows iso soc".split()
)


# Penn tags to universal POS, for docs parsed without spaCy's attribute_ruler (extraction
# skips it: it costs a third of the parse and only copies the tag into ``pos_``).
_TAG_POS = {
    "NN": "NOUN",
    "NNS": "NOUN",
    "NNP": "PROPN",
    "NNPS": "PROPN",
    "MD": "AUX",
    "VB": "VERB",
    "VBD": "VERB",
    "VBG": "VERB",
    "VBN": "VERB",
    "VBP": "VERB",
    "VBZ": "VERB",
    "JJ": "ADJ",
    "JJR": "ADJ",
    "JJS": "ADJ",
    "AFX": "ADJ",
    "RB": "ADV",
    "RBR": "ADV",
    "RBS": "ADV",
    "WRB": "ADV",
    "DT": "DET",
    "PDT": "DET",
    "WDT": "DET",
    "PRP": "PRON",
    "PRP$": "PRON",
    "WP": "PRON",
    "WP$": "PRON",
    "EX": "PRON",
    "IN": "ADP",
    "RP": "ADP",
    "CC": "CCONJ",
    "CD": "NUM",
    "UH": "INTJ",
    "TO": "PART",
    "POS": "PART",
    "SYM": "SYM",
    "$": "SYM",
    "FW": "X",
    "XX": "X",
    "ADD": "X",
    "_SP": "SPACE",
    "NFP": "PUNCT",
}
_AUX_WORDS = frozenset(
    [
        *"be is are was were been being am 's 're 'm have has had 've 'd do does did".split(),
        *("\u2019s", "\u2019re", "\u2019m", "\u2019ve", "\u2019d"),
    ]
)


def coarse_pos(tok: Any) -> str:
    """The universal POS of a token: spaCy's when set, else read from the Penn tag."""
    pos = tok.pos_
    if pos:
        return pos
    tag = tok.tag_
    if tag in _TAG_POS:
        coarse = _TAG_POS[tag]
        if coarse == "VERB" and tok.lower_ in _AUX_WORDS:
            return "AUX"
        return coarse
    return "PUNCT" if tok.is_punct else "X"


def parse_number(text: str) -> float | None:
    """The value of a number as written: "1,200", "2.5", "twenty-five", "a dozen"."""
    words = text.lower().replace("-", " ").split()
    if not words:
        return None
    if len(words) == 1 and re.fullmatch(_DIGITS, words[0]):
        return float(words[0].replace(",", ""))
    total, current = 0.0, 0.0
    for word in words:
        if word in ("a", "an"):
            current = max(current, 1.0)
        elif word == "and":
            continue
        elif word == "dozen":
            current = max(current, 1.0) * 12
        elif word == "hundred":
            current = max(current, 1.0) * 100
        elif word == "thousand":
            total += max(current, 1.0) * 1000
            current = 0.0
        elif word in NUMBER_WORDS:
            current += NUMBER_WORDS[word]
        else:
            return None
    return total + current


def _tokens_from(span: Any, char: int) -> list[Any]:
    """Tokens of ``span`` starting at or after document character ``char``."""
    return [t for t in span if t.idx >= char]


# Nouns that a following "of N" sizes; only these, so "one of 3" stays a bare number.
_GROUP_OF = re.compile(
    r"\b(team|teams|group|groups|crew|crews|cohort|cohorts|panel|squad|pool|batch|batches|"
    r"class|classes|set|sets|pack|packs|bundle|bundles|total|maximum|minimum)\s+of\s+"
    r"(?:up\s+to\s+|at\s+least\s+|around\s+|about\s+)?$",
    re.IGNORECASE,
)
_PARTITIVE_DETS = frozenset("the your our their its these those his her my".split())


def _unit_after(span: Any, char: int, limit: int) -> tuple[Any, Any] | None:
    """The noun a number counts: the last noun of the noun run right after it.

    Returns (head token, last token of the run). "10 store managers" -> managers;
    "five years of history" -> years (the run stops at "of").
    """
    run: list[Any] = []
    forced: set[int] = set()
    tokens = _tokens_from(span, char)
    # A partitive counts the noun after "of": "thirty of your suppliers" -> suppliers.
    if len(tokens) > 2 and tokens[0].lower_ == "of" and tokens[1].lower_ in _PARTITIVE_DETS:
        tokens = tokens[2:]
    for tok in tokens:
        if tok.idx >= limit:
            break
        if tok.is_punct and tok.text in ("-", "‑") and run and not tok.whitespace_:
            run.append(tok)
            continue
        if coarse_pos(tok) in ("NOUN", "PROPN", "ADJ") or tok.tag_ in ("VBN", "VBG", "JJR"):
            if tok.text.lower() in _MONTHS or tok.like_num:
                break
            run.append(tok)
            if len(run) >= 5:
                break
            continue
        if tok.tag_ == "VBZ" and run and _nounish(run[-1]) and tok.lower_.endswith("s"):
            # "3 site visits", "12 team leads": after a counted noun, a third-person verb
            # form is the small model mis-tagging a plural noun.
            run.append(tok)
            forced.add(tok.i)
        break
    nouns = [t for t in run if _nounish(t) or t.i in forced]
    if not nouns:
        return None
    head = nouns[-1]
    # A noun run must end on its noun: "20 more" has no unit.
    last = run[run.index(head)]
    return head, last


def _nounish(tok: Any) -> bool:
    return coarse_pos(tok) in ("NOUN", "PROPN")


def _lemma(tok: Any) -> str:
    # Not ``lemma_``: docs parsed with and without the lemmatizer must give the same unit.
    return _singular(tok.text.lower())


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _is_phone(text: str, start: int, end: int) -> bool:
    for m in _PHONE.finditer(text, max(0, start - 20), min(len(text), end + 20)):
        if m.start() <= start and end <= m.end():
            digits = sum(ch.isdigit() for ch in m.group())
            if digits >= 7 and re.search(r"\d[\s().-]+\d", m.group()):
                return True
    return False


def _previous_word(text: str, start: int) -> str:
    m = re.search(r"([\w.#]+)\W*$", text[:start])
    return m.group(1).lower().rstrip(".") if m else ""


def _next_word(text: str, end: int) -> str:
    m = re.match(r"\W*?([A-Za-z]+)", text[end:])
    return m.group(1).lower() if m else ""


def find_quantities(span: Any) -> list[Quantity]:
    """Numbers with their nouns in a spaCy Doc or Span (tagger needed, NER not)."""
    text = span.text
    if not text or not re.search(r"\d|[a-z]", text, re.IGNORECASE):
        return []
    base = span[0].idx if len(span) else 0
    out: list[Quantity] = []
    for m in _QUANTITY.finditer(text):
        q = _quantity(span, text, base, m)
        if q is not None:
            out.append(q)
    return out


def _quantity(span: Any, text: str, base: int, m: re.Match[str]) -> Quantity | None:
    num = m.group("num")
    value = parse_number(num)
    if value is None:
        return None
    lowered = num.lower()
    sign = (m.group("sign") or "").lower()
    code = (m.group("code") or "").lower()
    cur_word = (m.group("cur") or "").strip().lower()
    currency = _CURRENCY_SIGN.get(sign) or code or _CURRENCY_WORD.get(cur_word, "")
    scale_word = (m.group("gscale") or m.group("wscale") or "").lower()
    pct = bool(m.group("pct"))
    start = m.start()
    num_start, num_end = m.start("num"), m.end("num")
    end = m.end()
    if scale_word in ("m", "mn", "mm") and not currency:
        # "5m" alone could be metres; only a following plural noun makes it millions.
        unit_tok = _unit_after(span, base + end, base + len(text))
        if unit_tok is None or unit_tok[0].tag_ not in ("NNS", "NNPS"):
            return None
    if scale_word:
        value *= _SCALE[scale_word]
    prev = _previous_word(
        text, m.start("sign") if sign else (m.start("code") if code else num_start)
    )
    nxt = _next_word(text, end)
    is_digits = num[0].isdigit() or num[0] == "."
    # Dates, times and identifiers are not amounts.
    if nxt in _MONTHS or prev in _MONTHS:
        return None
    if is_digits and not currency and not pct and _is_phone(text, num_start, num_end):
        return None
    if is_digits and re.fullmatch(r"\d+\.\d+", num) and not pct and not currency:
        before = text[:num_start].rstrip()
        if (not before or before[-1] in ".:;\n") and text[num_end:].lstrip()[:1].isupper():
            return None  # "2.5 Training": a section number opening a clause
    if (
        not currency
        and not pct
        and m.group("max") is None
        and m.group("min") is None
        and (prev in _LABEL_WORDS or (is_digits and _is_label_noun(span, base + num_start)))
    ):
        return None
    if lowered == "one" and not (currency or pct):
        unit_tok = _unit_after(span, base + num_end, base + len(text))
        if unit_tok is None or _lemma(unit_tok[0]) not in _TIME_UNITS:
            return None
    bound = "max" if m.group("max") else "min" if m.group("min") else "exact"
    if m.group("plus"):
        bound = "min"
    if currency:
        unit = currency
    elif pct:
        unit = "%"
        tail = _unit_after(span, base + end, base + len(text))
        # Only a noun directly after the sign names what the percentage is of.
        if tail is not None and _directly_after(text, end, tail[0].idx - base):
            unit = f"% {_lemma(tail[0])}"
            end = tail[1].idx - base + len(tail[1].text)
    else:
        hyphen = _HYPHEN_UNIT.match(text, num_end)
        if hyphen and not re.match(_WORD_NUMBER, hyphen.group("unit"), re.IGNORECASE):
            # "two-week pilot", "5-day workshop": the unit sits inside the hyphenated word.
            unit = _singular(hyphen.group("unit").lower())
            end = hyphen.end()
        else:
            tail = _unit_after(span, base + end, base + len(text))
            if tail is None:
                group = _GROUP_OF.search(text[:start])
                if group is None:
                    return None
                # "a team of 6", "groups of twelve": the number sizes the noun before it.
                unit = _singular(group.group(1).lower())
                return Quantity(
                    text=text[group.start(1) : end].strip(), value=value, unit=unit, bound=bound
                )
            head, last = tail
            if _is_year(num, value) and head.tag_ not in ("NNS", "NNPS"):
                return None
            unit = _lemma(head)
            if unit in _MONTHS:
                return None
            end = last.idx - base + len(last.text)
    after = text[end:]
    trailing = _TRAILING_MIN.match(after)
    if trailing and bound == "exact":
        bound = "min"
        end += trailing.end()
    else:
        trailing = _TRAILING_MAX.match(after)
        if trailing and bound == "exact" and not currency:
            bound = "max"
            end += trailing.end()
    if (
        not currency
        and not pct
        and unit in ("am", "pm", "o'clock", "h", "hr", "hrs")
        and (prev == "at")
    ):
        return None
    return Quantity(text=text[start:end].strip(), value=value, unit=unit, bound=bound)


def _directly_after(text: str, end: int, tok_start: int) -> bool:
    return 0 <= tok_start - end <= 1 and not text[end:tok_start].strip()


def _is_year(num: str, value: float) -> bool:
    return bool(re.fullmatch(r"\d{4}", num)) and 1900 <= value <= 2100


def _is_label_noun(span: Any, char: int) -> bool:
    """Whether the word right before the number is a noun it labels ("Windows 11")."""
    prev = None
    for tok in span:
        if tok.idx >= char:
            break
        prev = tok
    if prev is None:
        return False
    adjacent = prev.idx + len(prev.text) + 1 >= char
    return adjacent and coarse_pos(prev) == "PROPN" and not prev.is_sent_start


def _unit_key(unit: str) -> str:
    unit = unit.lower().strip()
    if unit.startswith("%"):
        rest = unit[1:].strip()
        return "%" + (" " + _singular(rest) if rest else "")
    return _singular(unit.split()[-1]) if unit else unit


def _range(q: Quantity) -> tuple[float, float]:
    if q.bound == "max":
        return (float("-inf"), q.value)
    if q.bound == "min":
        return (q.value, float("inf"))
    return (q.value, q.value)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def disagreement(said: Quantity, written: Quantity) -> str | None:
    """None when the units differ or the values agree; else the reason in words.

    A said exact number agrees when the written range contains it (8 inside "up to
    10"); a said bound agrees when the two ranges overlap.
    """
    if _unit_key(said.unit) != _unit_key(written.unit):
        return None
    s_lo, s_hi = _range(said)
    w_lo, w_hi = _range(written)
    if said.bound == "exact":
        ok = (w_lo <= said.value or _close(w_lo, said.value)) and (
            said.value <= w_hi or _close(said.value, w_hi)
        )
    else:
        ok = max(s_lo, w_lo) <= min(s_hi, w_hi) or _close(max(s_lo, w_lo), min(s_hi, w_hi))
    if ok:
        return None
    return f'said "{said.text}", scope says "{written.text}"'
