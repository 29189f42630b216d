"""Due dates of promises and the dates a scope clause names."""

from __future__ import annotations

import pytest

from handover.dates import Due, date_disagreement, find_dates, find_due, parse_iso

NOV_2 = "2026-11-02"  # a Monday
NOV_9 = "2026-11-09"  # a Monday


def due(
    text: str, ref: str | None = NOV_2
) -> tuple[str, str | None, str | None, str | None] | None:
    got = find_due(text, ref)
    return None if got is None else (got.text, got.iso, got.first, got.last)


@pytest.mark.parametrize(
    ("text", "ref", "expected"),
    [
        (
            "We'll open the new wing by the end of March.",
            NOV_2,
            ("by the end of March", "2027-03-31", "2027-03-31", "2027-03-31"),
        ),
        (
            "I'll send it by Thursday.",
            NOV_9,
            ("by Thursday", "2026-11-12", "2026-11-12", "2026-11-12"),
        ),
        ("By Friday, then.", NOV_9, ("By Friday", "2026-11-13", "2026-11-13", "2026-11-13")),
        (
            "We'll finish next Thursday.",
            NOV_9,
            ("next Thursday", "2026-11-19", "2026-11-19", "2026-11-19"),
        ),
        (
            "The survey is in May 2027.",
            NOV_2,
            ("in May 2027", "2027-05-31", "2027-05-01", "2027-05-31"),
        ),
        ("Kick-off mid-March.", NOV_2, ("mid-March", "2027-03-15", "2027-03-15", "2027-03-15")),
        (
            "Early April at the latest.",
            NOV_2,
            ("Early April", "2027-04-10", "2027-04-01", "2027-04-10"),
        ),
        ("Delivery in Q1.", NOV_2, ("in Q1", "2027-03-31", "2027-01-01", "2027-03-31")),
        (
            "Done by the first quarter of next year.",
            NOV_2,
            ("by the first quarter of next year", "2027-03-31", "2027-01-01", "2027-03-31"),
        ),
        ("Open next spring.", NOV_2, ("next spring", "2027-05-31", "2027-03-01", "2027-05-31")),
        ("Live by the summer.", NOV_2, ("by the summer", "2027-08-31", "2027-06-01", "2027-08-31")),
        (
            "A quote in two weeks.",
            NOV_2,
            ("in two weeks", "2026-11-16", "2026-11-16", "2026-11-16"),
        ),
        (
            "A quote within two weeks.",
            NOV_2,
            ("within two weeks", "2026-11-16", "2026-11-02", "2026-11-16"),
        ),
        (
            "Fixed within 10 business days.",
            NOV_9,
            ("within 10 business days", "2026-11-23", "2026-11-09", "2026-11-23"),
        ),
        (
            "Close the old office by the end of next year.",
            NOV_9,
            ("by the end of next year", "2027-12-31", "2027-12-31", "2027-12-31"),
        ),
        (
            "Wrap up by the end of the month.",
            NOV_9,
            ("by the end of the month", "2026-11-30", "2026-11-30", "2026-11-30"),
        ),
        (
            "Send it by Friday 13 Nov.",
            NOV_9,
            ("by Friday 13 Nov", "2026-11-13", "2026-11-13", "2026-11-13"),
        ),
        (
            "Start on 2026-12-01.",
            NOV_9,
            ("on 2026-12-01", "2026-12-01", "2026-12-01", "2026-12-01"),
        ),
        (
            "Before March, please.",
            NOV_2,
            ("Before March", "2027-02-28", "2027-03-01", "2027-03-31"),
        ),
        ("Ready by Christmas.", NOV_9, ("by Christmas", "2026-12-25", "2026-12-25", "2026-12-25")),
        ("Walkthrough tomorrow.", NOV_9, ("tomorrow", "2026-11-10", "2026-11-10", "2026-11-10")),
        ("By H1 2027.", None, ("By H1 2027", "2027-06-30", "2027-01-01", "2027-06-30")),
        (
            "Live by the first of September.",
            NOV_2,
            ("by the first of September", "2027-09-01", "2027-09-01", "2027-09-01"),
        ),
        (
            "Done on the twenty-first of March.",
            NOV_2,
            ("on the twenty-first of March", "2027-03-21", "2027-03-21", "2027-03-21"),
        ),
    ],
)
def test_due_forms(text, ref, expected) -> None:
    assert due(text, ref) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Handover within six weeks of kickoff.", "within six weeks of kickoff"),
        ("Hypercare for three weeks after go-live.", "for three weeks after go-live"),
        ("Everything signed off before go-live.", "before go-live"),
    ],
)
def test_relative_to_an_event_keeps_text(text, expected) -> None:
    assert due(text) == (expected, None, None, None)


def test_month_without_a_meeting_date_keeps_text() -> None:
    assert due("Live by March.", None) == ("by March", None, None, None)


@pytest.mark.parametrize(
    "text",
    [
        "We send a stock report every Monday.",  # recurring
        "Three days of training on site.",  # a duration, not a date
        "We did this for them last year.",  # past
        "Ten years of invoices in the archive.",
        "We may be able to help.",  # "may" the verb
        "Costs fall by twelve percent.",
        "Jan will send the drawings.",  # a name
        "Check tomorrow's bookings.",
        "How the process works today at the warehouse.",
        "",
    ],
)
def test_not_due_dates(text) -> None:
    assert due(text) is None


def test_deadline_wins_over_bare_date() -> None:
    got = find_due("In March we start, and we finish by 30 April.", NOV_2)
    assert got == Due("by 30 April", "2027-04-30", "2027-04-30", "2027-04-30")


def test_uses_ner_entities_and_works_without_them(nlp) -> None:
    text = "We will open the new wing by the end of June."
    full = find_due(nlp(text), NOV_2)
    bare = find_due(nlp(text, disable=["ner"]), NOV_2)
    assert full == bare == Due("by the end of June", "2027-06-30", "2027-06-30", "2027-06-30")
    span = list(nlp("Intro here. We will finish by Friday.").sents)[1]
    assert find_due(span, NOV_9) == Due("by Friday", "2026-11-13", "2026-11-13", "2026-11-13")


def test_find_dates_in_scope_clauses() -> None:
    text = (
        "Go-live in May 2027; training on 7 December 2026; hypercare December 2026 – January 2027."
    )
    assert find_dates(text, "2026-11-12") == [
        Due("in May 2027", "2027-05-31", "2027-05-01", "2027-05-31"),
        Due("on 7 December 2026", "2026-12-07", "2026-12-07", "2026-12-07"),
        Due("December 2026 – January 2027", "2027-01-31", "2026-12-01", "2027-01-31"),
    ]
    assert find_dates("No dates here at all.", None) == []


def test_date_disagreement() -> None:
    said = find_due("We'll open the new wing by the end of March.", NOV_2)
    written = find_dates("Go-live: May 2027", "2026-11-12")[0]
    assert said is not None
    assert date_disagreement(said, written) == (
        'said "by the end of March" (2027-03-31), scope says "May 2027"'
    )
    agreeing = find_due("Live by the end of May.", NOV_2)
    assert agreeing is not None and date_disagreement(agreeing, written) is None
    # A week either side of the written period still agrees.
    near = Due("by 5 June", "2027-06-05", "2027-06-05", "2027-06-05")
    assert date_disagreement(near, written) is None
    unresolved = Due("within six weeks of kickoff", None, None, None)
    assert date_disagreement(unresolved, written) is None
    assert date_disagreement(said, unresolved) is None


def test_parse_iso() -> None:
    assert str(parse_iso("2026-11-02")) == "2026-11-02"
    assert str(parse_iso("2026-11-02T10:00:00")) == "2026-11-02"
    assert parse_iso("yesterday") is None
    assert parse_iso(None) is None


def test_a_deadline_is_kept_by_an_earlier_written_date():
    from handover.dates import Due, date_disagreement

    said = Due("by the end of September", "2027-09-30", "2027-09-30", "2027-09-30")
    assert date_disagreement(said, Due("June 2027", None, "2027-06-01", "2027-06-30")) is None
    late = date_disagreement(said, Due("November 2027", None, "2027-11-01", "2027-11-30"))
    assert late and "November 2027" in late
    point = Due("on 3 March", "2027-03-03", "2027-03-03", "2027-03-03")
    assert date_disagreement(point, Due("January 2027", None, "2027-01-01", "2027-01-31"))
