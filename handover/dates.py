"""When a promise is due, and the dates and periods a scope clause names.

People say "by the end of March", "mid-May", "next spring", "by Thursday",
"within six weeks of kickoff"; scope documents write "May 2027" or "December 2026 –
January 2027". A promise and a clause disagree when the promised day falls well
outside the written period, so each mention becomes a raw text (for the reviewer),
the period it names (first and last day) and, for a deadline, the last day it
allows. Relative dates resolve against the meeting date and prefer the future: a
seller in November promising "the end of March" means next March.

Most forms are read by the small grammar below, which is fast and predictable;
dateparser is the fallback for the text of DATE entities the grammar does not
know. It costs milliseconds per call, so it never sees a whole sentence and its
answers are cached by (text, reference). Mentions relative to an event ("six weeks
after go-live") keep their text but resolve to nothing: the event has no date yet.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from handover.quantities import NUMBER_PATTERN, parse_number
from handover.resources import lexicon

__all__ = ["Due", "date_disagreement", "find_dates", "find_due", "parse_iso"]


@dataclass(frozen=True, slots=True)
class Due:
    text: str
    iso: str | None
    first: str | None
    last: str | None


# --- vocabulary ----------------------------------------------------------------------

_MONTHS = {
    name: n
    for n, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_FULL_MONTHS = [m for m in _MONTHS if len(m) > 4 or m in ("may", "june", "july")]
_WEEKDAYS = {
    name: n
    for n, names in enumerate(
        (
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        )
    )
    for name in names
}
_FULL_WEEKDAYS = [w for w in _WEEKDAYS if w.endswith("day")]
# Month names that are also ordinary words; they count only when capitalised.
_AMBIGUOUS_MONTHS = frozenset({"may", "march"})
_SEASONS = {
    "spring": (3, 5),
    "summer": (6, 8),
    "autumn": (9, 11),
    "fall": (9, 11),
    "winter": (12, 2),
}


def _alt(words: list[str] | dict[str, int]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_M_ANY = rf"(?P<{{g}}>{_alt(_MONTHS)})\.?"
_M_FULL = rf"(?P<{{g}}>{_alt(_FULL_MONTHS)})"
_WD_ANY = rf"(?:{_alt(_WEEKDAYS)})\.?"
_WD_FULL = rf"(?P<wd>{_alt(_FULL_WEEKDAYS)})"
_ORDINALS = {
    word: n
    for n, word in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
        "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth "
        "twentieth".split(),
        start=1,
    )
}
_ORDINALS.update({f"twenty-{w}": 20 + n for w, n in list(_ORDINALS.items())[:9]})
_ORDINALS.update({f"twenty {w}": 20 + n for w, n in list(_ORDINALS.items())[:9]})
_ORDINALS.update({"thirtieth": 30, "thirty-first": 31, "thirty first": 31})
# "the 1st", "15", or spelled out as people say it: "the first of September".
_ORDINAL_WORDS = "|".join(
    sorted((w.replace(" ", r"\s+") for w in _ORDINALS), key=len, reverse=True)
)
_D = rf"(?:(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?|{_ORDINAL_WORDS})"
_Y = r"(?:19|20)\d{2}"
_NUM = rf"(?:{NUMBER_PATTERN}|a\s+couple\s+of|a\s+few|couple\s+of|few|a|an)"
_UNIT = r"(?P<u>days?|weeks?|months?|years?|hours?|fortnights?)"
_BIZ = r"(?P<biz>business\s+|working\s+|calendar\s+)?"


def _m(g: str, full: bool = False) -> str:
    return (_M_FULL if full else _M_ANY).format(g=g)


def _events() -> str:
    try:
        words = lexicon("events")
    except OSError:
        words = ("go-live", "kickoff", "launch", "signature")
    parts = [r"\s+".join(re.escape(p) for p in w.split()) for w in words]
    return "|".join(sorted(parts, key=len, reverse=True))


_EVENT = rf"(?:the\s+|our\s+|your\s+|their\s+)?(?:{_events()})"
# The words that can follow "within six weeks of ...": an event, not a date.
_TAIL_STOP = r"(?:and|or|but|so|to|we|you|which|that|then|for|with|at|in|on|by)\b"
_EVENT_TAIL = rf"(?P<event>(?:the\s+|our\s+|your\s+)?[\w-]+(?:\s+(?!{_TAIL_STOP})[\w-]+){{0,2}})"

_PATTERNS: list[tuple[str, str]] = [
    ("iso", r"\b(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})\b"),
    ("numeric", r"(?<![\d/.])\d{1,2}[/.]\d{1,2}[/.](?:\d{4}|\d{2})(?![\d/.])"),
    (
        "range",
        rf"\b{_m('m1')}(?:\s+(?P<y1>{_Y}))?\s*(?:–|—|-|to|through|until|till)\s*"
        rf"{_m('m2')}\s+(?P<y2>{_Y})\b",
    ),
    (
        "day_month",
        rf"\b(?:{_WD_ANY},?\s+)?(?:the\s+)?(?P<d>{_D})(?:\s+of)?\s+{_m('mo')}(?:,?\s+(?P<y>{_Y}))?\b",
    ),
    (
        "month_day",
        rf"\b(?:{_WD_ANY},?\s+)?{_m('mo')}\s+(?:the\s+)?(?P<d>{_D})(?:,?\s+(?P<y>{_Y}))?\b(?!\d)",
    ),
    (
        "month",
        r"\b(?:(?:the\s+)?(?:very\s+)?(?P<mod>end|close|start|beginning|middle)\s+of\s+"
        r"(?:the\s+month\s+of\s+)?|(?P<mod2>early|late|mid|middle)[\s-]+|(?P<rel>next|this|coming)\s+)?"
        rf"{_m('mo', full=True)}(?:,?\s+(?P<y>{_Y})|\s+(?P<yrel>this|next)\s+year)?\b",
    ),
    (
        "quarter",
        r"\b(?:(?:the\s+)?(?P<mod>end|start|beginning|close|middle)\s+of\s+)?(?:"
        r"(?:the\s+)?(?P<ord>first|second|third|fourth|last|1st|2nd|3rd|4th)\s+quarter"
        r"|q(?P<qn>[1-4])|(?P<rel>this|next|the|the\s+current|the\s+next)\s+quarter)"
        rf"(?:\s+(?:of\s+)?(?:(?P<y>{_Y})|(?P<yrel>this|next)\s+year|the\s+year))?\b",
    ),
    (
        "half",
        r"\b(?:h(?P<hn>[12])|(?:the\s+)?(?P<ord>first|second)\s+half\s+of)\s+"
        rf"(?:(?P<y>{_Y})|(?P<yrel>this|next)\s+year|the\s+year)\b",
    ),
    (
        "season",
        r"\b(?:(?:the\s+)?(?P<mod>end|start|beginning|middle)\s+of\s+(?:the\s+)?|(?P<mod2>early|late|mid)[\s-]+)?"
        r"(?:(?P<rel>this|next|the|coming|the\s+coming)\s+)?(?P<season>spring|summer|autumn|fall|winter)"
        rf"(?:\s+(?:of\s+)?(?P<y>{_Y})|\s+(?P<yrel>this|next)\s+year)?\b",
    ),
    ("weekday", rf"\b(?:(?P<rel>this|next|coming|the\s+coming)\s+)?{_WD_FULL}\b(?!s\b|'s\b)"),
    (
        "relative",
        r"\b(?P<rel>today|tonight|tomorrow|end\s+of\s+(?:the\s+)?day|eod|cob|close\s+of\s+business"
        r"|end\s+of\s+play)\b(?!'s|’s)",
    ),
    (
        "period",
        r"\b(?:(?:the\s+)?(?P<mod>end|start|beginning|middle|close)\s+of\s+|(?P<mod2>early|late|mid)[\s-]+)?"
        r"(?P<rel>this|next|the|the\s+following|the\s+coming)\s+(?P<u>week|month|year|fortnight)"
        r"(?P<after>\s+after\s+next)?\b",
    ),
    (
        "yearend",
        r"\b(?:the\s+)?(?:(?P<u>year|month|quarter)[\s-]end|end\s+of\s+(?P<u2>year|month|quarter|week))\b",
    ),
    (
        "within",
        r"\b(?P<kw>within(?:\s+the\s+next)?|in(?:\s+the\s+next)?|inside(?:\s+of)?|over\s+the\s+next"
        rf"|during\s+the\s+next)\s+(?P<n>{_NUM})\s+{_BIZ}{_UNIT}"
        rf"(?:\s+(?P<rel>of|after|from|following|post)\s+{_EVENT_TAIL})?",
    ),
    (
        "after_event",
        rf"\b(?P<n>{_NUM})\s+{_BIZ}{_UNIT}\s+(?P<rel>after|before|from|following|prior\s+to|post)\s+"
        rf"{_EVENT_TAIL}",
    ),
    ("holiday", r"\b(?P<h>christmas|xmas|new\s+year's(?:\s+day)?|the\s+new\s+year)\b"),
    (
        "event",
        rf"\b(?P<kw>by|before|at|after|ahead\s+of|prior\s+to|in\s+time\s+for|until|following|post|upon)\s+(?P<event>{_EVENT})\b",
    ),
]
_COMPILED = [(kind, re.compile(rx, re.IGNORECASE)) for kind, rx in _PATTERNS]

_PREFIX = re.compile(
    r"(?:^|(?<=\W))(?P<p>by|before|until|till|til|no\s+later\s+than|not\s+later\s+than"
    r"|on\s+or\s+before|at\s+the\s+latest\s+by|ahead\s+of|prior\s+to|in\s+time\s+for|due(?:\s+by)?"
    r"|from|starting(?:\s+from|\s+in|\s+on)?|as\s+of|on|in|during|for|at|around|after|over"
    r"|throughout|through|within)\s+$",
    re.IGNORECASE,
)
_DEADLINE = frozenset(
    {
        "by",
        "before",
        "until",
        "till",
        "til",
        "due",
        "due by",
        "within",
        "no later than",
        "not later than",
        "on or before",
        "at the latest by",
        "ahead of",
        "prior to",
        "in time for",
    }
)
_START = frozenset(
    {
        "from",
        "starting",
        "starting from",
        "starting in",
        "starting on",
        "as of",
        "after",
        "for",
        "over",
        "throughout",
        "through",
    }
)
_RECURRING = re.compile(r"\b(?:every|each|per|a|an)\s+(?:other\s+|single\s+)?$", re.IGNORECASE)
_PAST = re.compile(
    r"(?<!the\s)\b(?:last|previous|past)\s+(?:week|month|year|quarter|spring|summer|autumn|fall"
    rf"|winter|{_alt(_FULL_WEEKDAYS)}|{_alt(_FULL_MONTHS)})\b(?!\s+of\b)"
    rf"|\b{_NUM}\s+(?:days?|weeks?|months?|years?)\s+ago\b|\byesterday\b"
    r"|\bearlier\s+this\s+(?:week|month|year)\b",
    re.IGNORECASE,
)
_DURATION_ENT = re.compile(
    rf"^(?:about\s+|around\s+|roughly\s+|the\s+)?{_NUM}\s+(?:more\s+)?(?:days?|weeks?|months?|years?|hours?"
    r"|minutes?|decades?)(?:'s)?$|(?:daily|weekly|monthly|yearly|annual|quarterly|fortnightly|every|each"
    r"|ago|last|past|previous|once|twice)",
    re.IGNORECASE,
)
_DATEY = re.compile(
    rf"\d|\b(?:{_alt(_MONTHS)}|{_alt(_WEEKDAYS)}|today|tonight|tomorrow|weeks?|months?|years?"
    r"|quarters?|q[1-4]|h[12]|spring|summer|autumn|fall|winter|end|eod|cob|christmas|xmas"
    rf"|days?|fortnights?|hours?|new\s+year)\b|{_EVENT}",
    re.IGNORECASE,
)


# --- small date arithmetic -----------------------------------------------------------


def _day_number(text: str) -> int:
    digits = re.match(r"\d+", text)
    if digits:
        return int(digits.group())
    return _ORDINALS[re.sub(r"\s+", " ", text.lower())]


def parse_iso(value: str | None) -> date | None:
    """A date from 'YYYY-MM-DD' (a longer ISO timestamp is cut to its date), else None."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _add_business_days(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _upcoming_month_year(month: int, ref: date) -> int:
    """The year in which ``month`` has not yet ended, seen from ``ref``."""
    return ref.year if month >= ref.month else ref.year + 1


def _week_bounds(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=4)


# --- mentions --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int
    end: int
    kind: str
    prefix: str
    first: date | None
    last: date | None
    iso: date | None
    event: bool = False

    def rank(self) -> int:
        if self.prefix in _DEADLINE or (self.kind == "within" and self.prefix == ""):
            return 0
        if self.prefix in _START:
            return 2
        return 1


def _window(m: re.Match[str], ref: date | None, kind: str) -> tuple[date, date] | None:
    """The first and last day a matched mention names, or None when it cannot be placed."""
    g = m.groupdict()
    low = {k: (v.lower() if isinstance(v, str) else v) for k, v in g.items()}
    if kind == "iso":
        try:
            day = date(int(g["y"]), int(g["mo"]), int(g["d"]))
        except ValueError:
            return None
        return day, day
    if kind == "numeric":
        got = _dateparser(m.group(), ref.isoformat() if ref else None)
        return got
    if kind == "range":
        m1, m2 = _MONTHS[low["m1"]], _MONTHS[low["m2"]]
        y2 = int(g["y2"])
        y1 = int(g["y1"]) if g["y1"] else (y2 if m1 <= m2 else y2 - 1)
        return date(y1, m1, 1), _month_end(y2, m2)
    if kind in ("day_month", "month_day"):
        month = _MONTHS[low["mo"]]
        day_num = _day_number(g["d"])
        if g["y"]:
            year = int(g["y"])
        elif ref is not None:
            year = ref.year
            try:
                if date(year, month, day_num) < ref - timedelta(days=14):
                    year += 1
            except ValueError:
                return None
        else:
            return None
        try:
            day = date(year, month, day_num)
        except ValueError:
            return None
        return day, day
    if kind == "month":
        month = _MONTHS[low["mo"]]
        if g["y"]:
            year = int(g["y"])
        elif low["yrel"] and ref is not None:
            year = ref.year + (1 if low["yrel"] == "next" else 0)
        elif ref is not None:
            year = _upcoming_month_year(month, ref)
        else:
            return None
        first, last = date(year, month, 1), _month_end(year, month)
        return _modified(first, last, low["mod"] or low["mod2"])
    if kind == "quarter":
        if low["qn"]:
            q = int(low["qn"])
        elif low["ord"]:
            q = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}.get(
                low["ord"], 4
            )
        else:
            if ref is None:
                return None
            q = (ref.month - 1) // 3 + 1
            if low["rel"] and "next" in low["rel"]:
                q += 1
        year_shift = 0
        if g["y"]:
            year = int(g["y"])
        elif ref is None:
            return None
        else:
            year = ref.year
            if low["yrel"] == "next" or (
                not low["yrel"] and (low["qn"] or low["ord"]) and _month_end(year, q * 3) < ref
            ):
                year += 1
        while q > 4:
            q -= 4
            year_shift += 1
        year += year_shift
        first, last = date(year, q * 3 - 2, 1), _month_end(year, q * 3)
        return _modified(first, last, low["mod"])
    if kind == "half":
        h = int(low["hn"]) if low["hn"] else (1 if low["ord"] == "first" else 2)
        if g["y"]:
            year = int(g["y"])
        elif ref is None:
            return None
        else:
            year = ref.year + (1 if low["yrel"] == "next" else 0)
        return date(year, 1 if h == 1 else 7, 1), _month_end(year, 6 if h == 1 else 12)
    if kind == "season":
        start_m, end_m = _SEASONS[low["season"]]
        if g["y"]:
            year = int(g["y"])
        elif ref is None:
            return None
        else:
            year = ref.year + (1 if low["yrel"] == "next" else 0)
            if not low["yrel"]:
                # The season that has not ended yet; "next" wants one not yet begun.
                if start_m == 12 and ref.month <= 2:
                    year -= 1
                end_year = year + (1 if start_m == 12 else 0)
                if _month_end(end_year, end_m) < ref:
                    year += 1
                if low["rel"] == "next" and date(year, start_m, 1) <= ref:
                    year += 1
        end_year = year + (1 if start_m == 12 else 0)
        first, last = date(year, start_m, 1), _month_end(end_year, end_m)
        return _modified(first, last, low["mod"] or low["mod2"])
    if ref is None:
        return None
    if kind == "weekday":
        target = _WEEKDAYS[low["wd"]]
        delta = (target - ref.weekday()) % 7
        rel = (low["rel"] or "").replace("the ", "")
        if delta == 0 and rel != "this":
            delta = 7
        day = ref + timedelta(days=delta)
        if rel == "next" and day.isocalendar()[:2] == ref.isocalendar()[:2]:
            day += timedelta(days=7)
        return day, day
    if kind == "relative":
        rel = low["rel"]
        day = ref + timedelta(days=1) if rel == "tomorrow" else ref
        return day, day
    if kind in ("period", "yearend"):
        unit = low.get("u") or low.get("u2")
        rel = (low.get("rel") or "this").replace("the ", "")
        if kind == "yearend":
            mod = "end"
        else:
            mod = low["mod"] or low["mod2"]
            if rel == "the" and not mod:
                return None  # "the week" alone names no particular week
        shift = 1 if rel in ("next", "following", "coming") else 0
        if low.get("after"):
            shift = 2
        if unit in ("week", "fortnight"):
            first, last = _week_bounds(ref + timedelta(weeks=shift))
            if unit == "fortnight":
                last += timedelta(days=7)
            if shift == 0 and mod == "end" and last < ref:
                first, last = _week_bounds(ref + timedelta(weeks=1))
        elif unit == "month":
            anchor = _add_months(ref.replace(day=1), shift)
            first, last = anchor, _month_end(anchor.year, anchor.month)
        elif unit == "quarter":
            q0 = (ref.month - 1) // 3
            first = date(ref.year, q0 * 3 + 1, 1)
            last = _month_end(ref.year, q0 * 3 + 3)
        else:
            year = ref.year + shift
            first, last = date(year, 1, 1), date(year, 12, 31)
            if mod in ("early", "late", "mid", "middle"):
                first, last = {
                    "early": (date(year, 1, 1), date(year, 3, 31)),
                    "late": (date(year, 10, 1), date(year, 12, 31)),
                }.get(mod, (date(year, 5, 1), date(year, 8, 31)))
                return first, last
        return _modified(first, last, mod)
    if kind == "holiday":
        name = low["h"]
        if "christmas" in name or "xmas" in name:
            day = date(ref.year, 12, 25)
            if day < ref:
                day = date(ref.year + 1, 12, 25)
        else:
            day = date(ref.year + 1, 1, 1)
        return day, day
    return None


def _modified(first: date, last: date, mod: str | None) -> tuple[date, date]:
    """Narrow a period by "end of", "start of", "mid-", "early" or "late"."""
    if not mod:
        return first, last
    if mod in ("end", "close"):
        return last, last
    if mod in ("start", "beginning"):
        return first, first
    span = (last - first).days + 1
    if span <= 31:
        if mod in ("mid", "middle"):
            mid = first + timedelta(days=14)
            return mid, mid
        if mod == "early":
            return first, first + timedelta(days=9)
        if mod == "late":
            return first + timedelta(days=20), last
    else:
        # Seasons and quarters: early/mid/late pick one of the months.
        months = []
        day = first
        while day <= last:
            months.append(day)
            day = _add_months(day, 1)
        pick = {"early": months[0], "late": months[-1]}.get(mod, months[len(months) // 2])
        return pick, _month_end(pick.year, pick.month)
    return first, last


def _count(text: str) -> float | None:
    low = " ".join(text.lower().split())
    if low in ("a", "an"):
        return 1.0
    if low in ("a couple of", "couple of"):
        return 2.0
    if low in ("a few", "few"):
        return 3.0
    return parse_number(low)


def _relative(
    m: re.Match[str], ref: date | None
) -> tuple[date | None, date | None, date | None, bool]:
    """(first, last, iso, event) for "within six weeks", "in two days", "3 weeks after go-live"."""
    rel = (m.group("rel") or "").lower()
    event = " ".join((m.groupdict().get("event") or "").lower().split())
    if rel and not (rel == "from" and event in ("now", "today")):
        return None, None, None, True
    n = _count(m.group("n"))
    if n is None or ref is None:
        return None, None, None, False
    unit = m.group("u").lower().rstrip("s")
    whole = int(n)
    if (
        m.group("biz")
        and m.group("biz").strip().lower() in ("business", "working")
        and unit == "day"
    ):
        end = _add_business_days(ref, whole)
    elif unit == "day":
        end = ref + timedelta(days=n)
    elif unit == "hour":
        end = ref + timedelta(days=max(1, round(n / 24)))
    elif unit == "week":
        end = ref + timedelta(days=round(7 * n))
    elif unit == "fortnight":
        end = ref + timedelta(days=round(14 * n))
    elif unit == "month":
        end = _add_months(ref, whole) + timedelta(days=round((n - whole) * 30))
    else:
        end = _add_months(ref, round(12 * n))
    kw = (m.groupdict().get("kw") or "").lower()
    if kw.startswith("in") and "next" not in kw and "inside" not in kw:
        return end, end, end, False
    return ref, end, end, False


@lru_cache(maxsize=4096)
def _dateparser(text: str, ref_iso: str | None) -> tuple[date, date] | None:
    """dateparser on the text of one date mention, cached: it costs milliseconds a call."""
    try:
        from dateparser.date import DateDataParser
    except ImportError:  # pragma: no cover - dateparser is a dependency
        return None
    settings: dict[str, Any] = {"PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False}
    if ref_iso:
        settings["RELATIVE_BASE"] = datetime.fromisoformat(ref_iso)
    try:
        data = DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    except Exception:  # dateparser raises many types on odd input; a mention is optional
        return None
    if data is None or data.date_obj is None:
        return None
    day = data.date_obj.date()
    period = data.period or "day"
    if period == "month":
        return day.replace(day=1), _month_end(day.year, day.month)
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    if period == "week":
        return _week_bounds(day)
    return day, day


def _accept(kind: str, m: re.Match[str], text: str) -> bool:
    """Reject matches that only look like dates: "may" the verb, "fall" behind, "Jan" the name."""
    matched = m.group()
    if kind in ("month", "day_month", "month_day", "range"):
        for g in ("mo", "m1", "m2"):
            name = m.groupdict().get(g)
            if not name:
                continue
            if name.lower() in _AMBIGUOUS_MONTHS and not name[0].isupper():
                return False
            if (
                kind == "month"
                and name.lower() == "may"
                and not (
                    m.group("y")
                    or m.group("mod")
                    or m.group("mod2")
                    or m.group("rel")
                    or _PREFIX.search(text[: m.start()])
                )
            ):
                return False
    if (
        kind in ("period", "quarter")
        and (m.group("rel") or "").lower() == "the"
        and not (m.group("mod") or m.groupdict().get("mod2"))
    ):
        return False  # "the week", "the quarter" alone name no particular one
    if (
        kind == "relative"
        and m.group("rel").lower() in ("today", "tonight")
        and not (
            _PREFIX.search(text[: m.start()])
            or re.search(r"\blater\s+$", text[: m.start()], re.I)
            or not re.search(r"\w", text[m.end() :])
        )
    ):
        return False  # "how it works today" is the present, not a deadline
    if (
        kind == "season"
        and m.group("season").lower() == "fall"
        and not (
            m.group("rel")
            or m.group("y")
            or m.group("mod")
            or m.group("mod2")
            or _PREFIX.search(text[: m.start()])
        )
    ):
        return False
    return bool(matched.strip())


def _regex_mentions(text: str, ref_iso: str | None) -> tuple[_Mention, ...]:
    # Clauses repeat (tracing asks about the same texts again); long texts rarely do.
    if len(text) <= 2000:
        return _regex_mentions_cached(text, ref_iso)
    return _regex_mentions_uncached(text, ref_iso)


@lru_cache(maxsize=4096)
def _regex_mentions_cached(text: str, ref_iso: str | None) -> tuple[_Mention, ...]:
    return _regex_mentions_uncached(text, ref_iso)


def _regex_mentions_uncached(text: str, ref_iso: str | None) -> tuple[_Mention, ...]:
    if not text or not _DATEY.search(text):
        return ()
    ref = parse_iso(ref_iso)
    found: list[_Mention] = []
    for kind, rx in _COMPILED:
        for m in rx.finditer(text):
            if not _accept(kind, m, text):
                continue
            mention = _mention(kind, m, text, ref)
            if mention is not None:
                found.append(mention)
    past = [(p.start(), p.end()) for p in _PAST.finditer(text)]
    kept = [x for x in found if not any(s < x.end and x.start < e for s, e in past)]
    return tuple(_non_overlapping(kept))


def _mention(kind: str, m: re.Match[str], text: str, ref: date | None) -> _Mention | None:
    start, end = m.start(), m.end()
    event = False
    prefix = ""
    if kind in ("within", "after_event"):
        first, last, iso, event = _relative(m, ref)
        if kind == "within":
            prefix = "within" if m.group("kw").lower().startswith(("within", "inside")) else "in"
        if kind == "after_event":
            before = _PREFIX.search(text[:start])
            if before:
                prefix = " ".join(before.group("p").lower().split())
                start = before.start("p")
        if _RECURRING.search(text[:start]):
            return None
        return _Mention(start, end, kind, prefix, first, last, iso, event)
    if kind == "event":
        kw = " ".join(m.group("kw").lower().split())
        return _Mention(start, end, kind, kw, None, None, None, True)
    if _RECURRING.search(text[:start]):
        return None
    window = _window(m, ref, kind)
    before = _PREFIX.search(text[:start])
    if before:
        prefix = " ".join(before.group("p").lower().split())
        start = before.start("p")
    if window is None:
        return _Mention(start, end, kind, prefix, None, None, None)
    first, last = window
    iso = _deadline(prefix, first, last)
    return _Mention(start, end, kind, prefix, first, last, iso)


def _deadline(prefix: str, first: date, last: date) -> date:
    if prefix in ("before", "prior to", "ahead of"):
        return first - timedelta(days=1)
    if prefix in ("from", "starting", "starting from", "starting in", "starting on", "as of"):
        return first
    if prefix == "after":
        return last + timedelta(days=1)
    return last


def _non_overlapping(mentions: list[_Mention]) -> list[_Mention]:
    """Longest mention first wins its characters; the result is in text order."""
    chosen: list[_Mention] = []
    for x in sorted(mentions, key=lambda x: (-(x.end - x.start), x.start, x.kind)):
        if all(x.end <= c.start or c.end <= x.start for c in chosen):
            chosen.append(x)
    return sorted(chosen, key=lambda x: (x.start, x.end))


def _span_parts(span: Any) -> tuple[str, list[tuple[int, int, str]]]:
    """The text of a Doc/Span/str and its DATE entities as (start, end, text) in that text."""
    if isinstance(span, str):
        return span, []
    text = span.text
    doc = getattr(span, "doc", span)
    base = getattr(span, "start_char", 0)
    ents: list[tuple[int, int, str]] = []
    try:
        has_ner = doc.has_annotation("ENT_IOB")
    except (AttributeError, ValueError):
        has_ner = False
    if has_ner:
        for ent in span.ents:
            if ent.label_ == "DATE":
                ents.append((ent.start_char - base, ent.end_char - base, ent.text))
    return text, ents


def _mentions(span: Any, reference: str | None) -> list[_Mention]:
    text, ents = _span_parts(span)
    ref_date = parse_iso(reference)
    ref_iso = ref_date.isoformat() if ref_date else None
    found = list(_regex_mentions(text, ref_iso))
    past = [(p.start(), p.end()) for p in _PAST.finditer(text)] if ents else []
    for start, end, ent_text in ents:
        if any(x.start < end and start < x.end for x in found):
            continue
        if any(s < end and start < e for s, e in past) or _DURATION_ENT.search(ent_text):
            continue
        if _RECURRING.search(text[:start]) or re.match(r"['’]s\b", text[end:]):
            continue
        if any(rx.search(ent_text) for _, rx in _COMPILED):
            continue  # a form the grammar reads and rejected here ("works today", "may")
        window = _dateparser(ent_text, ref_iso)
        if window is None:
            continue
        before = _PREFIX.search(text[:start])
        prefix = " ".join(before.group("p").lower().split()) if before else ""
        if before:
            start = before.start("p")
        first, last = window
        found.append(
            _Mention(start, end, "ner", prefix, first, last, _deadline(prefix, first, last))
        )
    return sorted(found, key=lambda x: (x.start, x.end))


def _to_due(text: str, x: _Mention) -> Due:
    def iso(d: date | None) -> str | None:
        return d.isoformat() if d else None

    raw = text[x.start : x.end].strip().rstrip(",;:")
    return Due(text=raw, iso=iso(x.iso), first=iso(x.first), last=iso(x.last))


def find_due(span: Any, meeting_date: str | None) -> Due | None:
    """The due date of a commitment in this Doc/Span, resolved against ``meeting_date``.

    A deadline ("by", "before", "within", "no later than") wins over a bare date,
    which wins over a start ("from", "after"); among equals the first in the text.
    """
    try:
        mentions = _mentions(span, meeting_date)
    except (ValueError, OverflowError):
        return None
    if not mentions:
        return None
    best = min(mentions, key=lambda x: (x.rank(), x.start))
    text = span if isinstance(span, str) else span.text
    return _to_due(text, best)


def find_dates(span: Any, reference: str | None) -> list[Due]:
    """Every date or period written in a Doc/Span, in text order (for scope clauses)."""
    try:
        mentions = _mentions(span, reference)
    except (ValueError, OverflowError):
        return []
    text = span if isinstance(span, str) else span.text
    return [_to_due(text, x) for x in mentions]


_DEADLINE_WORDS = re.compile(
    r"(?:by|before|until|till|no later than|not later than|ahead of|in time for|within)\b",
    re.IGNORECASE,
)


def date_disagreement(said: Due, written: Due) -> str | None:
    """None when either is unresolved or they agree; else the reason in words.

    A deadline ("by the end of March", "before peak", "within six weeks") agrees
    with any written date up to a week after it: delivering earlier keeps the
    promise. Any other date agrees when it falls within a week of the written period.
    """
    said_day = parse_iso(said.iso)
    first, last = parse_iso(written.first), parse_iso(written.last)
    if said_day is None or first is None or last is None:
        return None
    slack = timedelta(days=7)
    if _DEADLINE_WORDS.match(said.text.strip()):
        if first <= said_day + slack:
            return None
    elif first - slack <= said_day <= last + slack:
        return None
    return f'said "{said.text}" ({said.iso}), scope says "{written.text}"'
