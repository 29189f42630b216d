"""Who is speaking: participant names resolved to a full name and a side."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from handover.types import Side


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
