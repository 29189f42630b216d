from __future__ import annotations

import pytest

from handover.errors import HandoverError
from handover.glossary import distinctive_terms, hotwords
from handover.people import parse_people, side_resolver
from handover.types import Side


def test_parse_people_splits_commas_repeats_and_emails() -> None:
    assert parse_people(["Dana Whitfield, Raj Patel", "Lee <lee@x.io>", " ,"]) == [
        ("Dana Whitfield", None),
        ("Raj Patel", None),
        ("Lee", "lee@x.io"),
    ]
    with pytest.raises(HandoverError, match="Name <email>"):
        parse_people(["Bad <not an email"])


def test_side_resolver_exact_then_unique_first_name() -> None:
    side_of = side_resolver(
        [
            {"name": "Maria Gonzalez", "side": "customer"},
            {"name": "Dana Whitfield", "side": "vendor"},
            {"name": "Tom Becker", "side": "customer"},
            {"name": "Tom Ames", "side": "vendor"},
        ]
    )
    assert side_of("maria  gonzalez") == Side.CUSTOMER
    assert side_of("Maria") == Side.CUSTOMER
    assert side_of("Dana") == Side.VENDOR
    assert side_of("Tom") == Side.UNKNOWN  # two Toms: no guessing
    assert side_of("Speaker 1") == Side.UNKNOWN
    assert side_of(None) == Side.UNKNOWN


def test_distinctive_terms_follow_general_rules() -> None:
    text = (
        "Kickoff with Harlow Biotech. They run LIMS on ServiceNow and want to "
        "de-risk & streamline sample intake. Priya Raman owns the cut-over plan.\n"
        "The board signed off. Harlow Biotech needs LIMS reports weekly."
    )
    terms = distinctive_terms([text])
    for expected in ["Harlow Biotech", "LIMS", "ServiceNow", "Priya Raman", "cut-over"]:
        assert expected in terms
    assert any(t.startswith("de-risk & streamline") for t in terms)
    assert "The" not in terms and "Kickoff" not in terms  # sentence openers are not names
    assert terms.index("Harlow Biotech") < terms.index("Priya Raman")  # frequency ranks


def test_hotwords_dedupe_in_priority_order() -> None:
    words = hotwords(
        names=["Meridian Freight", None, "maria gonzalez"],
        manual=["Guidewire"],
        documents=["We met Maria Gonzalez at Meridian Freight about Guidewire."],
    )
    assert words[:3] == ["Guidewire", "Meridian Freight", "maria gonzalez"]
    assert len({w.casefold() for w in words}) == len(words)
