"""Who is on which side: speaker names from transcripts mapped to deal participants."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from handover.errors import HandoverError
from handover.types import Side

_EMAIL = re.compile(r"^(?P<name>[^<>]+?)\s*<(?P<email>[^<>@\s]+@[^<>@\s]+)>$")


def normalise_name(name: str) -> str:
    return " ".join(name.casefold().split())


def parse_people(values: Iterable[str]) -> list[tuple[str, str | None]]:
    """Names from repeatable, comma-separated options; ``Name <email>`` keeps the email."""
    people: list[tuple[str, str | None]] = []
    for value in values:
        for part in value.split(","):
            part = " ".join(part.split())
            if not part:
                continue
            match = _EMAIL.match(part)
            if match:
                people.append((match["name"].strip(), match["email"]))
            elif "<" in part or ">" in part:
                raise HandoverError(
                    f"cannot read {part!r}; write a person as 'Name' or 'Name <email>'"
                )
            else:
                people.append((part, None))
    return people


def side_resolver(participants: Iterable[Mapping[str, str]]) -> Callable[[str | None], Side]:
    """A function from a speaker label to a side.

    Exact (case- and space-insensitive) names win. Otherwise a label that equals one
    participant's first name, and no other participant's, maps to that person:
    pasted transcripts often say "Maria:" for "Maria Gonzalez". Anything else is
    ``unknown``, never a guess.
    """
    exact: dict[str, Side] = {}
    first: dict[str, set[Side]] = {}
    first_count: dict[str, int] = {}
    for person in participants:
        key = normalise_name(person["name"])
        side = Side(person["side"])
        exact[key] = side
        given = key.split(" ")[0]
        first.setdefault(given, set()).add(side)
        first_count[given] = first_count.get(given, 0) + 1

    def side_of(speaker: str | None) -> Side:
        if not speaker:
            return Side.UNKNOWN
        key = normalise_name(speaker)
        if key in exact:
            return exact[key]
        if first_count.get(key) == 1:
            return next(iter(first[key]))
        return Side.UNKNOWN

    return side_of
