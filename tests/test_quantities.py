"""Numbers with their nouns, and when a said number and a written one disagree."""

from __future__ import annotations

import pytest

from handover.quantities import Quantity, disagreement, find_quantities, parse_number


def found(nlp, text: str, *, ner: bool = False) -> list[tuple[str, float, str, str]]:
    doc = nlp(text) if ner else nlp(text, disable=["ner"])
    return [(q.text, q.value, q.unit, q.bound) for q in find_quantities(doc)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We'll train 20 cashiers.", [("20 cashiers", 20.0, "cashier", "exact")]),
        (
            "We'll interview around thirty of your suppliers.",
            [("thirty of your suppliers", 30.0, "supplier", "exact")],
        ),
        ("An on-site team of 6 all week.", [("team of 6", 6.0, "team", "exact")]),
        (
            "We'll train all twenty technicians.",
            [("twenty technicians", 20.0, "technician", "exact")],
        ),
        ("Twenty-five users need licences.", [("Twenty-five users", 25.0, "user", "exact")]),
        ("We need a dozen site visits.", [("a dozen site visits", 12.0, "visit", "exact")]),
        (
            "Fit out two hundred and fifty desks.",
            [("two hundred and fifty desks", 250.0, "desk", "exact")],
        ),
        (
            "Sessions for up to 10 store managers.",
            [("up to 10 store managers", 10.0, "manager", "max")],
        ),
        ("At least 5 engineers on site.", [("At least 5 engineers", 5.0, "engineer", "min")]),
        (
            "No more than 3 site visits a month.",
            [("No more than 3 site visits", 3.0, "visit", "max")],
        ),
        ("Support for over 200 stores.", [("over 200 stores", 200.0, "store", "min")]),
        ("Licences for 20+ users.", [("20+ users", 20.0, "user", "min")]),
        ("Licences for 30 seats or more.", [("30 seats or more", 30.0, "seat", "min")]),
        ("We guarantee 99.9% uptime.", [("99.9% uptime", 99.9, "% uptime", "exact")]),
        ("Cut returns by 15%.", [("15%", 15.0, "%", "exact")]),
        (
            "Get above eighty-five percent on time.",
            [("above eighty-five percent", 85.0, "%", "min")],
        ),
        ("A fixed fee of $40k.", [("$40k", 40000.0, "usd", "exact")]),
        ("Budget €2.5 million.", [("€2.5 million", 2500000.0, "eur", "exact")]),
        ("About £3,000 a month.", [("£3,000", 3000.0, "gbp", "exact")]),
        ("Roughly 40,000 dollars.", [("40,000 dollars", 40000.0, "usd", "exact")]),
        ("A two-week pilot.", [("two-week", 2.0, "week", "exact")]),
        ("Three weeks of hypercare after go-live.", [("Three weeks", 3.0, "week", "exact")]),
        ("Move 5 years of ticket history.", [("5 years", 5.0, "year", "exact")]),
        ("Two more electricians.", [("Two more electricians", 2.0, "electrician", "exact")]),
        ("Migrate 1,200 mailboxes.", [("1,200 mailboxes", 1200.0, "mailbox", "exact")]),
        ("Onboard 2000 users.", [("2000 users", 2000.0, "user", "exact")]),
    ],
)
def test_quantities(nlp, text, expected) -> None:
    assert found(nlp, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Go-live is planned for 2027.",  # a year
        "The workshop is on 12 November.",  # a date
        "Call me at 3pm or at 10:30.",  # times of day
        "Ring 020 7946 0958 or 555-123-4567.",  # phone numbers
        "See section 2.5 and clause 4.1 of the contract.",  # section numbers
        "This is the 2nd floor and the third phase.",  # ordinals
        "Phase 2 covers Windows 11 only.",  # labels
        "Sure, all 30.",  # a number with no noun
        "One team for every region.",  # "one" as a determiner
        "",
    ],
)
def test_not_quantities(nlp, text) -> None:
    assert found(nlp, text) == []


def test_works_on_spans_and_with_ner(nlp) -> None:
    doc = nlp("Intro. We will train 12 site leads and 3 apprentices.")
    span = list(doc.sents)[1]
    assert [q.text for q in find_quantities(span)] == ["12 site leads", "3 apprentices"]
    assert found(nlp, "We will train 12 site leads.", ner=True) == [
        ("12 site leads", 12.0, "lead", "exact")
    ]


def test_parse_number() -> None:
    assert parse_number("1,200") == 1200
    assert parse_number("twenty-five") == 25
    assert parse_number("a dozen") == 12
    assert parse_number("three thousand") == 3000
    assert parse_number("banana") is None


def q(text: str, value: float, unit: str, bound: str = "exact") -> Quantity:
    return Quantity(text, value, unit, bound)


def test_disagreement() -> None:
    said_20 = q("20 cashiers", 20, "cashier")
    written_10 = q("up to 10 store cashiers", 10, "cashier", "max")
    assert disagreement(said_20, written_10) == (
        'said "20 cashiers", scope says "up to 10 store cashiers"'
    )
    assert disagreement(q("8 cashiers", 8, "cashier"), written_10) is None
    assert disagreement(q("two weeks", 2, "week"), q("2 weeks", 2, "weeks")) is None
    assert disagreement(q("two weeks", 2, "week"), q("3 weeks", 3, "week")) is not None
    # Different things are not compared.
    assert disagreement(said_20, q("10 stores", 10, "store")) is None
    assert disagreement(q("15%", 15, "%"), q("99.9% uptime", 99.9, "% uptime")) is None
    # Bounds on both sides: ranges that overlap agree.
    assert (
        disagreement(
            q("at least 5 engineers", 5, "engineer", "min"), q("6 engineers", 6, "engineer")
        )
        is None
    )
    assert (
        disagreement(q("6 engineers", 6, "engineer"), q("at least 8", 8, "engineer", "min"))
        is not None
    )
    assert (
        disagreement(q("up to 20 users", 20, "user", "max"), q("at least 5", 5, "user", "min"))
        is None
    )
    assert disagreement(q("$40k", 40000, "usd"), q("$40,000", 40000.0, "usd")) is None
    assert disagreement(q("$40k", 40000, "usd"), q("$45,000", 45000.0, "usd")) is not None
