"""Review decisions: append-only, the latest per item wins, and what they make of
an item's status.

The machine's verdict (``auto_status``) is never overwritten; the effective
``status`` is computed from it and the latest decision, so reopening a decision
brings the machine's verdict back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from handover.errors import InputError
from handover.types import Decision, Status

_EFFECT = {
    Decision.CONFIRMED: Status.TRACED,
    Decision.LINKED: Status.TRACED,
    Decision.ACCEPTED_GAP: Status.ACCEPTED,
    Decision.NOT_A_COMMITMENT: Status.DISMISSED,
}


def parse_decision(value: str) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        names = ", ".join(d.value for d in Decision)
        raise InputError(f"unknown decision {value!r}; use one of: {names}") from None


def latest(decisions: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The latest decision per item id (decisions come in insertion order)."""
    out: dict[str, Mapping[str, Any]] = {}
    for decision in decisions:
        out[decision["item_id"]] = decision
    return out


def effective_status(auto_status: str | None, decision: Mapping[str, Any] | None) -> Status:
    """The status a person sees: the latest decision's effect, else the machine's."""
    if decision is not None and decision["decision"] != Decision.REOPEN:
        return _EFFECT[Decision(decision["decision"])]
    return Status(auto_status or Status.UNTRACED)


def check_decision(decision: Decision, clause_id: int | None) -> None:
    if decision == Decision.LINKED and clause_id is None:
        raise InputError(
            "--decision linked needs --clause ID; see `handover clauses SLUG` for the ids"
        )
    if decision != Decision.LINKED and clause_id is not None:
        raise InputError("--clause only goes with --decision linked")
