"""A labelled evaluation set: conversations, their scope documents and what a careful
reader would list in them (``labels.yaml``; the format is in docs/eval.md).

Loading is pure and strict: a label that does not parse is an error naming its file
and item, because a silently skipped label would make the figures look better.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from handover.errors import InputError
from handover.types import (
    COMMITMENT_SUBTYPES,
    PHRASE_SUBTYPES,
    ItemKind,
    Side,
    SourceKind,
    Status,
    Subtype,
)

LABELS = "labels.yaml"
TRACE_STATUSES = (Status.CONFLICT, Status.UNTRACED, Status.WEAK, Status.TRACED)
_KINDS = {
    "commitment": ItemKind.COMMITMENT,
    "phrase": ItemKind.CUSTOMER_PHRASE,
    "customer_phrase": ItemKind.CUSTOMER_PHRASE,
}


@dataclass(frozen=True, slots=True)
class SourceSpec:
    file: str
    date: str
    title: str | None = None
    as_kind: SourceKind | None = None


@dataclass(frozen=True, slots=True)
class Label:
    quotes: tuple[tuple[str, str], ...]  # (source, quote): the quote, then `also` repeats
    source: str
    kind: ItemKind
    subtype: Subtype
    side: Side
    status: Status
    section: str | None = None
    note: str = ""

    @property
    def quote(self) -> str:
        return self.quotes[0][1]


@dataclass(frozen=True, slots=True)
class Negative:
    quote: str
    source: str
    why: str = ""


@dataclass(frozen=True, slots=True)
class Conversation:
    name: str  # the directory name, used as the deal slug
    path: Path
    title: str
    industry: str
    vendor: str
    customer: str
    vendor_people: tuple[str, ...]
    customer_people: tuple[str, ...]
    sources: tuple[SourceSpec, ...]
    labels: tuple[Label, ...]
    negatives: tuple[Negative, ...]


def load_set(path: Path) -> list[Conversation]:
    """The conversations under ``path``: the directory itself when it has a
    labels.yaml, else each sub-directory that has one (not recursively, so
    ``data/eval`` does not take in ``data/eval/holdout``)."""
    if not path.is_dir():
        raise InputError(f"{path}: not a directory; give a labelled set such as data/eval")
    if (path / LABELS).is_file():
        return [load_conversation(path)]
    convs = [load_conversation(d) for d in sorted(path.iterdir()) if (d / LABELS).is_file()]
    if not convs:
        raise InputError(f"{path}: no */{LABELS} found; see docs/eval.md for the format")
    return convs


def load_conversation(path: Path) -> Conversation:
    where = path / LABELS
    try:
        doc = yaml.safe_load(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{where}: cannot read it ({exc.__class__.__name__})") from exc
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a mapping with deal, people, sources and items")
    deal = _mapping(doc.get("deal"), where, "deal")
    people = _mapping(doc.get("people") or {}, where, "people")
    sources = tuple(_source(s, where, i) for i, s in enumerate(_list(doc, "sources", where)))
    files = {s.file for s in sources}
    for spec in sources:
        if not (path / spec.file).is_file():
            raise InputError(f"{where}: source {spec.file!r} is not in {path}")
    labels = tuple(_label(x, where, i, files) for i, x in enumerate(_list(doc, "items", where)))
    negatives = tuple(
        _negative(x, where, i, files) for i, x in enumerate(doc.get("negatives") or [])
    )
    return Conversation(
        name=path.name,
        path=path,
        title=str(deal.get("name") or path.name),
        industry=str(deal.get("industry") or ""),
        vendor=str(deal.get("vendor") or "Vendor"),
        customer=str(deal.get("customer") or "Customer"),
        vendor_people=tuple(str(p) for p in people.get("vendor") or []),
        customer_people=tuple(str(p) for p in people.get("customer") or []),
        sources=sources,
        labels=labels,
        negatives=negatives,
    )


def _mapping(value: Any, where: Path, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where}: `{what}` must be a mapping")
    return value


def _list(doc: dict[str, Any], key: str, where: Path) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list) or not value:
        raise InputError(f"{where}: `{key}` must be a non-empty list")
    return value


def _source(raw: Any, where: Path, i: int) -> SourceSpec:
    raw = _mapping(raw, where, f"sources[{i}]")
    date = raw.get("date")
    if isinstance(date, dt.date):
        date = date.isoformat()
    if not raw.get("file") or not date:
        raise InputError(f"{where}: sources[{i}] needs `file` and `date`")
    as_kind = raw.get("as")
    try:
        kind = SourceKind(as_kind) if as_kind else None
    except ValueError:
        raise InputError(f"{where}: sources[{i}]: unknown kind {as_kind!r}") from None
    return SourceSpec(str(raw["file"]), str(date), raw.get("title"), kind)


def _enum(enum: type, value: Any, where: Path, what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise InputError(f"{where}: {what}: {value!r} is not one of {choices}") from None


def _label(raw: Any, where: Path, i: int, files: set[str]) -> Label:
    what = f"items[{i}]"
    raw = _mapping(raw, where, what)
    quote = raw.get("quote")
    if not isinstance(quote, str) or not quote.strip():
        raise InputError(f"{where}: {what} needs a `quote`")
    source = raw.get("source")
    if source not in files:
        raise InputError(f"{where}: {what}: source {source!r} is not under `sources`")
    also = raw.get("also") or []
    repeats = []
    for entry in [also] if isinstance(also, str | dict) else also:
        # A repeat in the same source is a string; one in another source says where.
        if isinstance(entry, dict):
            if entry.get("source") not in files or not entry.get("quote"):
                raise InputError(f"{where}: {what}: `also` needs a `quote` and a listed `source`")
            repeats.append((str(entry["source"]), str(entry["quote"]).strip()))
        else:
            repeats.append((source, str(entry).strip()))
    kind = _KINDS.get(str(raw.get("kind")))
    if kind is None:
        raise InputError(f"{where}: {what}: kind must be commitment or phrase")
    subtype = _enum(Subtype, raw.get("subtype"), where, what)
    allowed = COMMITMENT_SUBTYPES if kind is ItemKind.COMMITMENT else PHRASE_SUBTYPES
    if subtype not in allowed:
        raise InputError(f"{where}: {what}: subtype {subtype} does not go with kind {kind}")
    status = _enum(Status, raw.get("status"), where, what)
    if status not in TRACE_STATUSES:
        raise InputError(f"{where}: {what}: status must be traced, weak, untraced or conflict")
    section = raw.get("section")
    return Label(
        quotes=((source, quote.strip()), *repeats),
        source=source,
        kind=kind,
        subtype=subtype,
        side=_enum(Side, raw.get("side", "unknown"), where, what),
        status=status,
        section=str(section) if section is not None else None,
        note=str(raw.get("note") or ""),
    )


def _negative(raw: Any, where: Path, i: int, files: set[str]) -> Negative:
    raw = _mapping(raw, where, f"negatives[{i}]")
    if not raw.get("quote") or raw.get("source") not in files:
        raise InputError(f"{where}: negatives[{i}] needs a `quote` and a listed `source`")
    return Negative(str(raw["quote"]).strip(), raw["source"], str(raw.get("why") or ""))
