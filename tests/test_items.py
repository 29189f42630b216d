"""Item ids, de-duplication across meetings, and decision re-attachment (pure)."""

from __future__ import annotations

import json

import pytest

from handover.items import OldItem, item_id, item_row, merge, overlap, reattach
from handover.normalise import find_loose, normalise


def row(
    text,
    *,
    kind="commitment",
    subtype="firm",
    source=1,
    quantities=(),
    owner="vendor",
    due=None,
    side="vendor",
    inferred=0,
    confidence=0.9,
):
    return {
        "kind": kind,
        "subtype": subtype,
        "text": text,
        "source_id": source,
        "segment_id": None,
        "speaker": None,
        "start": None,
        "end": None,
        "char_start": 0,
        "char_end": len(text),
        "quantities": json.dumps(list(quantities)),
        "owner": owner,
        "due": due,
        "due_text": None,
        "side": side,
        "side_inferred": inferred,
        "confidence": confidence,
        "rule": "we-will",
    }


@pytest.fixture(scope="module")
def vectors_for(embedder):
    def build(rows):
        norms = sorted({normalise(r["text"]) for r in rows})
        vecs = embedder.encode(norms, normalize_embeddings=True, convert_to_numpy=True)
        return dict(zip(norms, vecs, strict=True))

    return build


def test_ids_are_stable_and_loose_about_spelling():
    a = item_id("acme", "commitment", "We'll migrate twenty mailboxes & calendars.")
    b = item_id("acme", "commitment", "we will migrate 20 mailboxes and calendars")
    assert a == b and a.startswith("c-")
    assert item_id("other", "commitment", "we will migrate 20 mailboxes and calendars") != a
    assert item_id("acme", "customer_phrase", "we will migrate 20 mailboxes").startswith("p-")


def test_normalise_and_find_loose():
    assert normalise("Re-assess & Reinvigorate") == normalise("reassess and reinvigorate")
    assert normalise("twenty-five seats") == "25 seats"
    span = find_loose("they said: modernise and simplify billing, soon", "modernise & simplify")
    assert span is not None
    assert "they said: modernise and simplify billing, soon"[span[0] : span[1]] == (
        "modernise and simplify"
    )
    assert find_loose("planning", "plan") is None


@pytest.mark.parametrize(
    ("haystack", "phrase", "found"),
    [
        ("So we'll install twelve APs.", "we will install 12 APs", "we'll install twelve APs"),
        ("We won't touch payroll", "we will not touch payroll", "We won't touch payroll"),
        ("we will not touch payroll", "We won’t touch payroll", "we will not touch payroll"),
        ("they don't know yet", "they do not know", "they don't know"),
        ("I can't say", "i cannot say", "I can't say"),
        ("you will get it", "you'll get it", "you will get it"),
    ],
)
def test_find_loose_reads_contractions_both_ways(haystack, phrase, found):
    span = find_loose(haystack, phrase)
    assert span is not None and haystack[span[0] : span[1]] == found


def test_paraphrases_across_meetings_merge(vectors_for):
    rows = [
        row("we will send you a written progress report every Monday", source=1),
        row("you'll get a progress report from us every Monday", source=2),
        row("We'll install the new firewall at both offices", source=2),
    ]
    items = merge("acme", rows, vectors_for(rows))
    assert len(items) == 2
    first = items[0]
    assert [r["source_id"] for r in first.rows] == [1, 2]
    assert first.text == rows[0]["text"]
    assert first.id == item_id("acme", "commitment", rows[0]["text"])


def test_different_numbers_and_polarity_stay_apart(vectors_for):
    rows = [
        row("We'll train 12 site managers", quantities=["12 site managers"]),
        row("We'll train 30 site managers", quantities=["30 site managers"], source=2),
        row("we will touch the accounting system", source=1),
        row("we will not touch the accounting system", subtype="negative", source=2),
    ]
    items = merge("acme", rows, vectors_for(rows))
    assert len(items) == 4


def test_terms_merge_only_on_the_same_words(vectors_for):
    rows = [
        row(
            "modernise & simplify billing", kind="customer_phrase", subtype="term", side="customer"
        ),
        row(
            "modernise and simplify billing",
            kind="customer_phrase",
            subtype="term",
            side="customer",
            source=2,
        ),
        row(
            "simplify billing and modernise",
            kind="customer_phrase",
            subtype="term",
            side="customer",
            source=3,
        ),
    ]
    items = merge("acme", rows, vectors_for(rows))
    assert [len(i.rows) for i in items] == [2, 1]


def test_item_row_takes_the_strongest_attributes(vectors_for):
    rows = [
        row("we could probably add a reporting dashboard", subtype="hedged", confidence=0.5),
        row(
            "we will add a reporting dashboard by March",
            subtype="firm",
            owner="Sam Lee",
            due="2027-03-31",
            source=2,
            confidence=0.9,
        ),
    ]
    items = merge("acme", rows, vectors_for(rows))
    assert len(items) == 1
    out = item_row(items[0])
    assert out["subtype"] == "firm"
    assert out["owner"] == "Sam Lee"
    assert out["due"] == "2027-03-31"
    assert out["confidence"] == 0.9
    assert out["text"] == rows[0]["text"]


def test_reattach_follows_word_overlap_on_the_same_source():
    old = [
        OldItem("c-old1", "commitment", "we will migrate the ten mailboxes", frozenset({3})),
        OldItem("c-old2", "commitment", "we will paint the warehouse", frozenset({3})),
    ]
    new = [
        ("c-new1", "commitment", "we will migrate the ten mailboxes next week", frozenset({3})),
        ("c-new2", "commitment", "we will paint the warehouse", frozenset({4})),
    ]
    moves = reattach(old, new)
    assert [(a, b) for a, b, _ in moves] == [("c-old1", "c-new1")]
    assert overlap("migrate ten mailboxes", "we migrate the ten mailboxes") == 1.0


def test_a_terse_note_merges_with_the_spoken_promise(vectors_for):
    rows = [
        row("we will run a security awareness session for every new starter", source=1),
        row("Security awareness session for every new starter (asked twice)", source=2),
        row("we will run a phishing simulation every quarter", source=2),
    ]
    items = merge("acme", rows, vectors_for(rows))
    assert [len(i.rows) for i in items] == [2, 1]


def test_term_said_again_in_other_words_becomes_a_mention():
    from handover.items import MergedItem, add_term_mentions

    term = MergedItem("p-1", "customer_phrase", "term", "Lean & Green logistics")
    term.rows.append(row("Lean & Green logistics", kind="customer_phrase", subtype="term"))
    segments = [
        {
            "id": 7,
            "source_id": 2,
            "ordinal": 0,
            "speaker": None,
            "side": "unknown",
            "start": 12.0,
            "end": 15.0,
            "text": "so the lean and green logistics plan matters",
        },
        {
            "id": 8,
            "source_id": 2,
            "ordinal": 1,
            "speaker": "Vendor",
            "side": "vendor",
            "start": 16.0,
            "end": 18.0,
            "text": "lean and green logistics, sure",
        },
    ]
    assert add_term_mentions([term], segments) == 1
    added = term.rows[-1]
    assert added["text"] == "lean and green logistics" and added["start"] == 12.0
    assert segments[0]["text"][added["char_start"] : added["char_end"]] == added["text"]


def test_same_words_as_a_term_and_a_need_are_two_items_with_distinct_ids():
    rows = [
        row("a single source of truth", kind="customer_phrase", subtype="term", side="customer"),
        row("a single source of truth", kind="customer_phrase", subtype="need", side="customer"),
    ]
    items = merge("acme", rows, {})
    assert len(items) == 2 and items[0].id != items[1].id
    assert [i.id for i in merge("acme", rows, {})] == [i.id for i in items]  # stable
