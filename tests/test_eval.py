"""`handover eval`: loading labels, matching items to them, scoring, and one real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handover.errors import InputError
from handover.evalset import load_set
from handover.evaluate import (
    ConversationResult,
    Found,
    Span,
    content_words,
    match,
    overlap,
    score,
)
from handover.types import ItemKind, Side, Status, Subtype

from .conftest import DATA

EVAL = DATA / "eval"


def text_span(start: int, end: int, source: str = "call.vtt") -> Span:
    return Span(source, start, end, frozenset(), recording=False)


def words_span(text: str, source: str = "call.ogg") -> Span:
    return Span(source, None, None, content_words(text), recording=True)


def found(kind: ItemKind, subtype: str, status: str, *spans: Span, section=None) -> Found:
    return Found(f"x{id(spans)}", kind, subtype, status, 0.5, section, None, "text", "rule", spans)


def test_text_spans_overlap_by_share_of_the_shorter():
    assert overlap(text_span(0, 40), text_span(10, 30)) == 1.0
    assert overlap(text_span(0, 20), text_span(10, 40)) == 0.5
    assert overlap(text_span(0, 10), text_span(10, 20)) == 0.0
    assert overlap(text_span(0, 10), text_span(0, 10, source="notes.md")) == 0.0


def test_recording_spans_overlap_by_content_words():
    said = words_span("We will install 12 access points in the east wing")
    scripted = words_span("we'll install twelve access points")
    assert overlap(said, scripted) == 1.0
    # One shared word is chance, not a match.
    assert overlap(words_span("the east wing gets a survey"), scripted) == 0.0


def write_conversation(root: Path, labels: str) -> Path:
    conv = root / "conv"
    conv.mkdir(parents=True)
    (conv / "call.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.000\n<v A>Hi.</v>\n")
    (conv / "notes.md").write_text("Hi there\n")
    (conv / "labels.yaml").write_text(labels)
    return conv


GOOD = """
deal: {name: Test}
sources: [{file: call.vtt, date: 2026-01-05}, {file: notes.md, date: 2026-01-05}]
items:
  - {quote: "Hi", source: call.vtt, kind: commitment, subtype: firm, side: vendor,
     status: traced, section: "2.1",
     also: ["Hello", {source: notes.md, quote: "Hi there"}]}
"""


def test_labels_load(tmp_path):
    [conv] = load_set(write_conversation(tmp_path, GOOD))
    [label] = conv.labels
    assert label.quotes == (("call.vtt", "Hi"), ("call.vtt", "Hello"), ("notes.md", "Hi there"))
    assert (label.kind, label.subtype, label.side, label.status, label.section) == (
        ItemKind.COMMITMENT,
        Subtype.FIRM,
        Side.VENDOR,
        Status.TRACED,
        "2.1",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("kind: commitment", "kind: promise"), "kind must be commitment or phrase"),
        (("subtype: firm", "subtype: need"), "does not go with kind"),
        (("status: traced", "status: accepted"), "status must be traced"),
        (("source: call.vtt,", "source: other.vtt,"), "is not under `sources`"),
        (("file: call.vtt", "file: missing.vtt"), "is not in"),
    ],
)
def test_bad_labels_name_the_file_and_item(tmp_path, change, message):
    conv = write_conversation(tmp_path, GOOD.replace(*change))
    with pytest.raises(InputError, match=message) as info:
        load_set(conv)
    assert "labels.yaml" in info.value.message


def test_empty_directory_says_what_is_expected(tmp_path):
    with pytest.raises(InputError, match=r"docs/eval\.md"):
        load_set(tmp_path)


def _conversation(tmp_path, items: str):
    labels = f"deal: {{name: T}}\nsources: [{{file: call.vtt, date: 2026-01-05}}]\nitems:\n{items}"
    return load_set(write_conversation(tmp_path, labels))[0]


def test_matching_is_one_to_one_and_reports_duplicates(tmp_path):
    conv = _conversation(
        tmp_path,
        "  - {quote: a, source: call.vtt, kind: commitment, subtype: firm, status: conflict}\n"
        "  - {quote: b, source: call.vtt, kind: phrase, subtype: need, status: untraced}\n",
    )
    label_spans = [(text_span(0, 30),), (text_span(100, 140),)]
    items = [
        found(ItemKind.COMMITMENT, "firm", "traced", text_span(0, 28)),
        found(ItemKind.COMMITMENT, "firm", "conflict", text_span(5, 30)),  # the same promise
        found(ItemKind.COMMITMENT, "hedged", "untraced", text_span(100, 140)),  # wrong kind
        found(ItemKind.CUSTOMER_PHRASE, "goal", "untraced", text_span(300, 320)),  # nothing
    ]
    matches, duplicates = match(conv.labels, label_spans, items)
    assert [(m.label, m.found) for m in matches] == [(0, 0)]
    assert duplicates == [1]

    report = score([ConversationResult(conv, items, label_spans, [], matches, duplicates)])
    assert report["commitments"] | {} == {
        "tp": 1,
        "fp": 1,
        "fn": 0,
        "precision": 0.5,
        "recall": 1.0,
        "f1": 0.667,
    }
    assert report["customer_phrases"]["fn"] == 1 and report["customer_phrases"]["fp"] == 1
    assert report["duplicates"] == 1
    # The labelled conflict came out traced: the headline error.
    assert report["untraced_or_conflict_reported_traced"] == 1
    assert report["trace"]["confusion"]["conflict"]["traced"] == 1
    assert [m["quote"] for m in report["misses"]] == ["b"]


def test_subtype_disagreement_counts_against_both_subtypes(tmp_path):
    conv = _conversation(
        tmp_path,
        "  - {quote: a, source: call.vtt, kind: phrase, subtype: need, status: traced,"
        ' section: "3"}\n',
    )
    spans = [(text_span(0, 30),)]
    items = [found(ItemKind.CUSTOMER_PHRASE, "goal", "traced", text_span(0, 30), section="3.1.b")]
    matches, duplicates = match(conv.labels, spans, items)
    report = score([ConversationResult(conv, items, spans, [], matches, duplicates)])
    assert report["customer_phrases"]["tp"] == 1
    assert report["subtypes"]["need"]["fn"] == 1 and report["subtypes"]["goal"]["fp"] == 1
    assert report["trace"]["section_accuracy"] == 1.0  # 3.1.b sits in section 3


@pytest.mark.slow
def test_eval_runs_the_real_pipeline(cli, tmp_path):
    res = cli("eval", EVAL, "--json", "--workdir", tmp_path / "work")
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert report["schema_version"] == 1 and report["conversations"] == 1
    # Every labelled item of this small, plain conversation is found, and nothing else.
    assert report["commitments"]["tp"] == 4 and report["customer_phrases"]["tp"] == 2
    assert report["misses"] == [] and report["hard_negatives_extracted"] == 0
    assert report["trace"]["matched"] == 6
    assert report["untraced_or_conflict_reported_traced"] == 0

    text = cli("eval", EVAL, "-v", "--workdir", tmp_path / "work")
    assert text.code == 0
    assert text.out.splitlines()[2] == "untraced or conflict reported as traced: 0"
    assert "misses (0)" in text.out


@pytest.mark.parametrize("split", ["data/eval", "data/eval/holdout"])
def test_the_committed_sets_load_and_every_quote_is_in_its_file(split):
    """The labels stay in step with the conversations: a quote that is not in its file
    could only ever be matched by chance."""
    import html

    from handover.normalise import find_loose

    from .conftest import REPO

    conversations = load_set(REPO / split)
    assert len(conversations) >= (25 if split == "data/eval" else 8)
    for conv in conversations:
        for label in conv.labels:
            for source, quote in label.quotes:
                path = conv.path / source
                if path.suffix == ".ogg":
                    path = path.with_name(path.stem + ".script.txt")
                if path.suffix == ".docx":
                    continue
                text = html.unescape(path.read_text(encoding="utf-8"))
                assert find_loose(text, quote), f"{conv.name}/{source}: {quote!r}"
