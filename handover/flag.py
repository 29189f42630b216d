"""The batch job: find items across deals whose effective status needs attention.

It reads stored statuses only and never loads a model, so it is cheap enough for
cron or CI. Each run is recorded as an event, so the next run can say which items
are new; a lease keeps two overlapping runs apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handover.errors import InputError
from handover.report import SCHEMA_VERSION, checklist_document
from handover.store import Row, Store, now
from handover.types import ItemKind, Status

# What --fail-on accepts: the effective statuses, plus "suspect" (a flag beside them).
FAIL_ON_CHOICES = (*(str(s) for s in Status), "suspect")
DEFAULT_FAIL_ON = ("untraced", "conflict")
DEFAULT_KINDS = tuple(str(k) for k in ItemKind)
LOCK = "flag"


@dataclass(frozen=True, slots=True)
class FlagOptions:
    kinds: tuple[str, ...] = DEFAULT_KINDS
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON
    since: str | None = None  # ISO time, or "last" for the previous run


def parse_list(value: str | None, choices: Sequence[str], option: str) -> tuple[str, ...]:
    """ "a,b" → ("a", "b"), every entry checked against the choices."""
    if value is None:
        return ()
    entries = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [e for e in entries if e not in choices]
    if unknown or not entries:
        raise InputError(
            f"{option} {value!r}: unknown value {', '.join(unknown) or '(empty)'}; "
            f"use a comma-separated list of {', '.join(choices)}"
        )
    return entries


def _matches(item: dict[str, Any], options: FlagOptions) -> bool:
    if item["kind"] not in options.kinds:
        return False
    return item["status"] in options.fail_on or ("suspect" in options.fail_on and item["suspect"])


def previous_run(store: Store) -> Row | None:
    return store.last_event("flag.run")


def flag_report(store: Store, deals: Sequence[Row], options: FlagOptions) -> dict[str, Any]:
    """The flagged items of each deal, as checklist documents holding only those items."""
    generated = now()
    last = previous_run(store)
    previously: dict[str, set[str]] = {}
    if last is not None:
        for slug, ids in json.loads(last["detail"]).get("flagged", {}).items():
            previously[slug] = set(ids)
    since = options.since
    if since == "last":
        since = last["at"] if last else None
    reports = []
    total = 0
    for deal in deals:
        doc = checklist_document(store, deal, generated)
        flagged = [i for i in doc["items"] if _matches(i, options)]
        if since:
            created = {row["id"]: row["created_at"] for row in store.items(deal["id"])}
            flagged = [i for i in flagged if created.get(i["id"], "") > since]
        seen = previously.get(deal["slug"])
        for item in flagged:
            item["new"] = seen is None or item["id"] not in seen
            item["deal_owner"] = deal["owner"]  # whom to chase, even if the item travels alone
        doc["items"] = flagged
        total += len(flagged)
        reports.append(doc)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated,
        "fail_on": list(options.fail_on),
        "kinds": list(options.kinds),
        "since": since,
        "previous_run": last["at"] if last else None,
        "total": total,
        "deals": reports,
    }


def run(store: Store, deals: Sequence[Row], options: FlagOptions) -> dict[str, Any]:
    """Build the report under the flag lease and record the run for the next one."""
    store.acquire_lock(LOCK)
    try:
        report = flag_report(store, deals, options)
        store.add_event(
            None,
            "flag.run",
            None,
            {
                "deals": [d["deal"] for d in report["deals"]],
                "flagged": {d["deal"]: [i["id"] for i in d["items"]] for d in report["deals"]},
                "fail_on": report["fail_on"],
                "kinds": report["kinds"],
            },
        )
        return report
    finally:
        store.release_lock(LOCK)
