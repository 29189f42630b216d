"""Tracing items into scope clauses, with the real spaCy and sentence-transformers models.

The labelled set below (three made-up scope documents from different trades and
what a seller said about each) is what ``Thresholds``' defaults were calibrated on;
``test_labelled_set_accuracy`` keeps them honest.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import docx
import numpy as np
import pytest

from handover.capture.scope import scope_blocks
from handover.clauses import split_clauses
from handover.trace import ClauseRef, Thresholds, TraceItem, TraceResult, trace
from handover.types import Category, Clause, ItemKind, Status, Subtype

# --- the labelled set ----------------------------------------------------------------

IT_SOW = """# Managed IT services: statement of work

## 1. Services

### 1.1 Service desk
- The Provider will operate a 24x7 service desk for up to 450 named users.
- Priority 1 incidents will receive a response within 30 minutes.
- Monthly service reports will be delivered by the fifth business day of each month.

### 1.2 Infrastructure monitoring
The Provider will monitor the Client's 60 servers and core network switches, with
automated alerting to the on-call engineer.

### 1.3 Patch management
Security patches for Windows servers will be applied within 14 days of release during
the agreed maintenance window.

### 1.4 Backup and recovery
- Nightly backups of all production databases, retained for 35 days.
- A full disaster-recovery test once a year.

## 2. Transition
Transition from the incumbent supplier will be complete by 31 January 2027.

| Milestone | Date |
|---|---|
| Knowledge transfer complete | December 2026 |
| Service commencement | 1 February 2027 |

## 3. Exclusions
- Development of new software applications.
- Support for personally owned mobile devices.
- On-site hardware repairs at branch offices.

## 4. Client responsibilities
- The Client will provide remote VPN access for Provider engineers.
- The Client will maintain valid vendor support contracts for all hardware.

## 5. Charges
The monthly service charge is GBP 38,500, reviewed annually.
"""

BUILD_SOW = """SCOPE OF WORKS
Rear extension and kitchen refit, 14 Alder Road

1. Works included
1.1 Demolition of the existing rear conservatory and removal of all waste from site.
1.2 Excavation and concrete strip foundations for a single-storey rear extension of
28 square metres.
1.3 Supply and installation of a flat roof with two roof lanterns.
1.4 Underfloor heating to the new extension, connected to the existing boiler.
1.5 Kitchen refit, including fitting of client-supplied units and worktops.
1.6 Electrical first and second fix, including 12 new double sockets and LED downlights.

2. Programme
Works start on 6 April 2027 and take 14 weeks.
Practical completion is expected by 16 July 2027.

3. Exclusions
- Landscaping and garden works.
- Decoration beyond mist-coat plastering.
- Party wall surveys and associated fees.
- Supply of kitchen units, appliances and worktops.

4. Client obligations
- The Client will obtain planning permission and building regulations approval before
  works start.
- The Client will provide site access and welfare facilities.

5. Price
The fixed price is EUR 96,000 excluding VAT, payable in four stage payments.
"""

AGENCY_SOW = """# Statement of Work: spring brand campaign

## Deliverables
1. A brand refresh: new logo variations, colour palette and typography guidelines.
2. Six social media videos of up to 30 seconds each for Instagram and TikTok.
3. A landing page for the campaign, built on the client's existing CMS.
4. Paid social media management with a media budget of up to USD 40,000 per month.

## Reporting
The agency will provide a performance dashboard, updated weekly, and a monthly call to
review results.

## Timeline

| Phase | Dates |
|---|---|
| Discovery and brand workshop | March 2027 |
| Creative production | April 2027 |
| Campaign launch | 3 May 2027 |

## Out of scope
- Television or radio advertising.
- Influencer fees and contracts.
- Translation into languages other than English.

## Assumptions
- The client will supply product photography.
- Feedback on each draft will be given within three working days.
"""

C, P = ItemKind.COMMITMENT, ItemKind.CUSTOMER_PHRASE
FIRM, HEDGED, NEG = Subtype.FIRM, Subtype.HEDGED, Subtype.NEGATIVE
CONFLICT, UNTRACED, WEAK, TRACED = Status.CONFLICT, Status.UNTRACED, Status.WEAK, Status.TRACED


@dataclass(frozen=True)
class Case:
    key: str
    kind: ItemKind
    subtype: Subtype
    texts: tuple[str, ...]
    expected: Status


# (document, format, document date, meeting date, cases)
LABELLED: list[tuple[str, str, str, str, list[Case]]] = [
    (
        IT_SOW,
        "md",
        "2026-10-12",
        "2026-10-05",
        [
            Case(
                "it1",
                C,
                FIRM,
                ("We'll run the service desk around the clock for all your 450 users",),
                TRACED,
            ),
            Case(
                "it2",
                C,
                FIRM,
                ("we'll respond to priority one incidents within 30 minutes",),
                TRACED,
            ),
            Case(
                "it3",
                C,
                FIRM,
                ("You'll get a monthly report on how the service performed",),
                TRACED,
            ),
            Case("it4", C, FIRM, ("We'll keep your database backups for 90 days",), CONFLICT),
            Case(
                "it5",
                C,
                FIRM,
                ("We will patch your Windows servers within two weeks of a release",),
                TRACED,
            ),
            Case("it6", C, FIRM, ("We'll build you a new customer portal application",), CONFLICT),
            Case(
                "it7",
                C,
                FIRM,
                ("Our engineers will repair the hardware at your branch offices",),
                CONFLICT,
            ),
            Case(
                "it8",
                C,
                FIRM,
                ("We'll have taken over from your current supplier by the end of November",),
                CONFLICT,
            ),
            Case("it9", C, FIRM, ("We'll migrate your email to the cloud",), UNTRACED),
            Case(
                "it10",
                C,
                FIRM,
                ("We'll set up the remote VPN access for our engineers ourselves",),
                CONFLICT,
            ),
            Case(
                "it11",
                C,
                NEG,
                ("We won't be supporting your staff's personal mobile phones",),
                TRACED,
            ),
            Case(
                "it12",
                P,
                Subtype.NEED,
                ("We need someone keeping an eye on the servers at night",),
                WEAK,
            ),
            Case(
                "it13",
                C,
                HEDGED,
                ("we could probably throw in a quarterly security review",),
                UNTRACED,
            ),
            Case("it14", C, FIRM, ("We'll monitor all sixty of your servers",), TRACED),
            Case("it15", C, FIRM, ("We'll do a disaster recovery test every year",), TRACED),
            Case(
                "it16",
                P,
                Subtype.CONCERN,
                ("we're worried about the cost of printer toner",),
                UNTRACED,
            ),
        ],
    ),
    (
        BUILD_SOW,
        "txt",
        "2027-02-20",
        "2027-02-10",
        [
            Case(
                "b1",
                C,
                FIRM,
                ("We'll knock down the old conservatory and take all the waste away",),
                TRACED,
            ),
            Case("b2", C, FIRM, ("We'll put underfloor heating in the extension",), TRACED),
            Case("b3", C, FIRM, ("We'll fit 20 new double sockets",), CONFLICT),
            Case("b4", C, FIRM, ("The flat roof will have two roof lanterns",), TRACED),
            Case("b5", C, FIRM, ("We'll have it all finished by the end of May",), CONFLICT),
            Case(
                "b6",
                C,
                FIRM,
                ("We'll do the landscaping and the garden once the build is done",),
                CONFLICT,
            ),
            Case("b7", C, FIRM, ("We'll get the planning permission for you",), CONFLICT),
            Case("b8", C, NEG, ("We won't be doing any decoration, just the plastering",), TRACED),
            Case("b9", C, FIRM, ("We'll supply the kitchen units and the worktops",), CONFLICT),
            Case(
                "b10",
                C,
                FIRM,
                ("We will replace all the windows at the front of the house",),
                UNTRACED,
            ),
            Case(
                "b11",
                P,
                Subtype.GOAL,
                ("we want a rear extension of about 28 square metres",),
                TRACED,
            ),
            Case("b12", C, FIRM, ("The works themselves take fourteen weeks",), TRACED),
            Case("b13", C, HEDGED, ("we might be able to add a utility room",), UNTRACED),
            Case("b14", P, Subtype.NEED, ("the new kitchen has to work with our boiler",), WEAK),
        ],
    ),
    (
        AGENCY_SOW,
        "md",
        "2027-01-25",
        "2027-01-20",
        [
            Case(
                "m1",
                C,
                FIRM,
                ("We'll refresh your brand with a new logo, colours and typography",),
                TRACED,
            ),
            Case("m2", C, FIRM, ("We'll produce ten short social media videos for you",), CONFLICT),
            Case(
                "m3",
                C,
                FIRM,
                ("We'll build the campaign landing page on your existing CMS",),
                TRACED,
            ),
            Case("m4", C, FIRM, ("We'll launch the campaign in May",), TRACED),
            Case("m5", C, FIRM, ("The campaign will launch by the end of March",), CONFLICT),
            Case("m6", C, FIRM, ("We'll also run a television advert",), CONFLICT),
            Case(
                "m7",
                C,
                FIRM,
                ("We'll handle the influencer contracts and pay their fees",),
                CONFLICT,
            ),
            Case(
                "m8",
                C,
                FIRM,
                ("You'll get a performance dashboard that updates every week",),
                TRACED,
            ),
            Case("m9", C, NEG, ("We won't translate anything, it will all be in English",), TRACED),
            Case("m10", C, FIRM, ("We'll shoot all the product photography",), CONFLICT),
            Case("m11", P, Subtype.NEED, ("We need to reach younger people on TikTok",), WEAK),
            Case("m12", C, FIRM, ("We'll write a weekly blog post for your website",), UNTRACED),
            Case("m13", P, Subtype.GOAL, ("our goal is to double newsletter sign-ups",), UNTRACED),
            Case("m14", C, FIRM, ("We'll meet every month to go through the results",), TRACED),
            Case(
                "m15",
                C,
                FIRM,
                ("We'll manage your paid social with a budget of up to 40,000 dollars a month",),
                TRACED,
            ),
        ],
    ),
]


def _hr_sow() -> bytes:
    """A Word SOW with heading styles, bullets and a timeline table."""
    document = docx.Document()
    document.add_heading("Statement of Work: payroll and HR platform implementation", 0)
    document.add_heading("1 Scope", 1)
    document.add_heading("1.1 Configuration", 2)
    for text in (
        "Configure the HR platform for up to 1,200 employees across two legal entities.",
        "Set up three approval workflows for leave, expenses and overtime.",
    ):
        document.add_paragraph(text, style="List Bullet")
    document.add_heading("1.2 Data migration", 2)
    document.add_paragraph(
        "Migrate active employee records and the last two years of payroll history from "
        "the current system."
    )
    document.add_heading("1.3 Training", 2)
    document.add_paragraph(
        "Deliver four remote training sessions for HR administrators and a recorded "
        "session for managers."
    )
    document.add_heading("2 Timeline", 1)
    rows = [
        ("Phase", "Target"),
        ("Design workshops", "June 2027"),
        ("Parallel payroll run", "August 2027"),
        ("Go-live", "1 September 2027"),
    ]
    table = document.add_table(rows=len(rows), cols=2)
    for r, row in enumerate(rows):
        for col, text in enumerate(row):
            table.cell(r, col).text = text
    document.add_heading("3 Not in scope", 1)
    for text in (
        "Integration with the time-and-attendance clocks.",
        "Pension scheme administration.",
        "Custom report development beyond the standard report library.",
    ):
        document.add_paragraph(text, style="List Bullet")
    document.add_heading("4 Customer dependencies", 1)
    for text in (
        "The Customer will cleanse employee data before migration.",
        "The Customer will nominate a payroll lead for parallel runs.",
    ):
        document.add_paragraph(text, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# Written after the defaults were set and never tuned on: the honest accuracy.
HELD_OUT: list[tuple[bytes, str, str, str, list[Case]]] = [
    (
        _hr_sow(),
        "docx",
        "2027-04-20",
        "2027-04-14",
        [
            Case("h1", C, FIRM, ("We'll configure it for all 1,200 of your employees",), TRACED),
            Case(
                "h2",
                C,
                FIRM,
                ("we'll set up your approval workflows for leave and expenses",),
                TRACED,
            ),
            Case("h3", C, FIRM, ("We'll bring over five years of payroll history",), CONFLICT),
            Case(
                "h4",
                C,
                FIRM,
                ("We'll run six training sessions for your HR administrators",),
                CONFLICT,
            ),
            Case("h5", C, FIRM, ("You'll be live on the new platform in September",), TRACED),
            Case("h6", C, FIRM, ("We'll have you live on the new platform by July",), CONFLICT),
            Case("h7", C, FIRM, ("We'll hook it up to your time and attendance clocks",), CONFLICT),
            Case("h8", C, NEG, ("We won't be administering your pension scheme",), TRACED),
            Case(
                "h9", C, FIRM, ("We'll clean up your employee data before we migrate it",), CONFLICT
            ),
            Case(
                "h10", C, FIRM, ("We'll give you a mobile app for employee self-service",), UNTRACED
            ),
            Case(
                "h11",
                P,
                Subtype.NEED,
                ("Our managers need to approve overtime on their phones",),
                WEAK,
            ),
            Case(
                "h12",
                P,
                Subtype.CONCERN,
                ("We're worried about running two payrolls in parallel",),
                WEAK,
            ),
            Case("h13", C, FIRM, ("We'll build any custom reports you need",), CONFLICT),
            Case(
                "h14",
                P,
                Subtype.GOAL,
                ("we want to cut payroll processing time in half",),
                UNTRACED,
            ),
        ],
    )
]


def _refs(document: str | bytes, fmt: str, doc_date: str) -> list[ClauseRef]:
    data = document.encode() if isinstance(document, str) else document
    clauses = split_clauses(scope_blocks(data, f"sow.{fmt}", fmt))
    return [ClauseRef(i, f"sow.{fmt}", c, doc_date) for i, c in enumerate(clauses)]


def run_labelled(
    nlp,
    embed: Callable[[list[str]], np.ndarray],
    thresholds: Thresholds = Thresholds(),
    sets: Sequence[tuple[str | bytes, str, str, str, list[Case]]] = tuple(LABELLED),
) -> list[tuple[Case, TraceResult, list[ClauseRef]]]:
    """Trace every labelled case; returns (case, result, clauses of its document)."""
    out = []
    for document, fmt, doc_date, meeting, cases in sets:
        refs = _refs(document, fmt, doc_date)
        items = [TraceItem(c.key, c.kind, c.subtype, c.texts, meeting) for c in cases]
        results = trace(items, refs, nlp=nlp, embed=embed, thresholds=thresholds)
        out.extend((case, result, refs) for case, result in zip(cases, results, strict=True))
    return out


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embed(embedder) -> Callable[[list[str]], np.ndarray]:
    def encode(texts: list[str]) -> np.ndarray:
        return embedder.encode(texts, normalize_embeddings=True, convert_to_numpy=True)

    return encode


@pytest.fixture(scope="module")
def labelled(nlp, embed) -> dict[str, tuple[Case, TraceResult, list[ClauseRef]]]:
    return {case.key: (case, result, refs) for case, result, refs in run_labelled(nlp, embed)}


def _clause(refs: list[ClauseRef], result: TraceResult, rank: int = 0) -> Clause:
    return refs[result.evidence[rank].clause_id].clause


# --- calibration ---------------------------------------------------------------------


def test_labelled_set_accuracy(labelled) -> None:
    """The defaults were chosen on this set: 41/45 when they were set."""
    right = [key for key, (case, result, _) in labelled.items() if result.status is case.expected]
    assert len(right) / len(labelled) >= 0.88, sorted(set(labelled) - set(right))


def test_held_out_accuracy(nlp, embed) -> None:
    """Never tuned on: 11/14 when the defaults were set."""
    out = run_labelled(nlp, embed, sets=HELD_OUT)
    right = sum(result.status is case.expected for case, result, _ in out)
    assert right / len(out) >= 0.7, [(c.key, str(r.status)) for c, r, _ in out]


# --- statuses ------------------------------------------------------------------------


def test_traced(labelled) -> None:
    _, result, refs = labelled["m3"]
    assert result.status is Status.TRACED
    assert result.score >= Thresholds().traced
    assert _clause(refs, result).text.startswith("A landing page for the campaign")
    assert result.evidence[0].reason is None


def test_weak(labelled) -> None:
    _, result, refs = labelled["b14"]
    assert result.status is Status.WEAK
    assert Thresholds().weak <= result.score < Thresholds().traced
    assert "boiler" in _clause(refs, result).text


def test_untraced(labelled) -> None:
    for key in ("it9", "b10", "m12"):
        _, result, _ = labelled[key]
        assert result.status is Status.UNTRACED, key
        assert result.score < Thresholds().weak


def test_conflict_by_exclusion(labelled) -> None:
    _, result, refs = labelled["m7"]
    assert result.status is Status.CONFLICT
    clause = _clause(refs, result)
    assert clause.category is Category.EXCLUSION
    assert clause.text == "Influencer fees and contracts."
    assert result.evidence[0].reason == "the clause is in 4 Out of scope"


def test_conflict_by_quantity(labelled) -> None:
    _, result, refs = labelled["b3"]
    assert result.status is Status.CONFLICT
    assert "12 new double sockets" in _clause(refs, result).text
    reason = result.evidence[0].reason or ""
    assert "20" in reason and "12" in reason


def test_conflict_by_date_in_a_timeline_row(labelled) -> None:
    _, result, refs = labelled["m5"]
    assert result.status is Status.CONFLICT
    assert _clause(refs, result).text == "Campaign launch | 3 May 2027"
    reason = result.evidence[0].reason or ""
    assert "2027-03-31" in reason and "3 May 2027" in reason


def test_date_inside_the_written_period_agrees(labelled) -> None:
    _, result, refs = labelled["m4"]  # "in May" against "3 May 2027"
    assert result.status is Status.TRACED
    assert _clause(refs, result).text == "Campaign launch | 3 May 2027"


def test_negative_commitment_agrees_with_exclusion(labelled) -> None:
    _, result, refs = labelled["b8"]
    assert result.status is Status.TRACED
    assert _clause(refs, result).category is Category.EXCLUSION
    assert result.evidence[0].reason is None


def test_vendor_promise_on_a_customer_duty_is_a_conflict(labelled) -> None:
    _, result, refs = labelled["b7"]
    assert result.status is Status.CONFLICT
    assert _clause(refs, result).category is Category.ASSUMPTION
    assert "customer's job" in (result.evidence[0].reason or "")


# --- mechanics -----------------------------------------------------------------------

HOTEL = [
    ClauseRef(
        10,
        "sow.md",
        Clause(
            0,
            "2.a",
            "Housekeeping",
            "The vendor will coordinate and realign housekeeping rotas across all four hotels.",
        ),
        "2027-03-01",
    ),
    ClauseRef(
        11,
        "sow.md",
        Clause(1, "2.b", "Housekeeping", "A 24 hour helpdesk for front-desk staff."),
        "2027-03-01",
    ),
    ClauseRef(
        12,
        "sow.md",
        Clause(2, "3.a", "Exclusions", "Laundry services.", Category.EXCLUSION),
        "2027-03-01",
    ),
]


def _phrase(key: str, text: str, *more: str) -> TraceItem:
    return TraceItem(key, ItemKind.CUSTOMER_PHRASE, Subtype.NEED, (text, *more), "2027-02-20")


def test_phrase_match_reads_ampersand_hyphen_and_number_words(nlp, embed) -> None:
    items = [
        _phrase("p1", "co-ordinate & re-align housekeeping rotas"),
        _phrase("p2", "a twenty-four hour helpdesk"),
    ]
    first, second = trace(items, HOTEL, nlp=nlp, embed=embed)
    assert first.status is Status.TRACED
    assert first.evidence[0].clause_id == 10
    assert "coordinate and realign housekeeping rotas" in first.evidence[0].matched_terms
    assert second.evidence[0].clause_id == 11
    assert "24 hour helpdesk" in second.evidence[0].matched_terms


def test_matched_terms_are_clause_wording_in_clause_order(labelled) -> None:
    _, result, refs = labelled["b4"]
    clause_text = _clause(refs, result).text
    terms = result.evidence[0].matched_terms
    assert "flat roof" in terms and "lanterns" in terms
    assert all(term in clause_text for term in terms)
    positions = [clause_text.index(term) for term in terms]
    assert positions == sorted(positions)


def test_best_of_several_quotes_counts(nlp, embed) -> None:
    vague = _phrase("v", "the thing we talked about")
    quoted = _phrase("q", "the thing we talked about", "realign the housekeeping rotas")
    alone, both = trace([vague, quoted], HOTEL, nlp=nlp, embed=embed)
    assert both.score > alone.score
    assert both.evidence[0].clause_id == 10


def test_evidence_is_at_most_three_and_deciding_first(labelled) -> None:
    for _, result, _ in labelled.values():
        assert 1 <= len(result.evidence) <= 3
        assert result.score == result.evidence[0].score
        if result.status is not Status.CONFLICT:
            scores = [e.score for e in result.evidence]
            assert scores[1:] == sorted(scores[1:], reverse=True)
        assert all(e.reason is None for e in result.evidence[1:])


def test_no_clauses_means_untraced(nlp, embed) -> None:
    (result,) = trace([_phrase("p", "anything at all")], [], nlp=nlp, embed=embed)
    assert result == TraceResult("p", Status.UNTRACED, 0.0, ())
    assert trace([], HOTEL, nlp=nlp, embed=embed) == []


def test_empty_item_text_does_not_raise(nlp, embed) -> None:
    (result,) = trace([_phrase("e", "", "  ")], HOTEL, nlp=nlp, embed=embed)
    assert result.status is Status.UNTRACED


def test_deterministic_and_embeds_once(nlp, embed) -> None:
    calls: list[list[str]] = []

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return embed(texts)

    items = [_phrase("p1", "realign housekeeping rotas", "realign housekeeping rotas")]
    once = trace(items, HOTEL, nlp=nlp, embed=counting)
    assert len(calls) == 1
    assert len(calls[0]) == len(set(calls[0])) == 4  # one item text, three clauses
    assert trace(items, HOTEL, nlp=nlp, embed=embed) == once


def test_thresholds_are_the_knobs(nlp, embed) -> None:
    items = [_phrase("p1", "co-ordinate & re-align housekeeping rotas")]
    (strict,) = trace(items, HOTEL, nlp=nlp, embed=embed, thresholds=Thresholds(traced=0.99))
    assert strict.status is Status.WEAK


RESORT = [
    ClauseRef(id_, "sow.docx", Clause(n, section, heading, text), "2027-03-01")
    for n, (id_, section, heading, text) in enumerate(
        [
            (
                20,
                "2.a",
                "Services",
                "Three days of on-site coaching for reception staff after launch.",
            ),
            (21, "3.b", "Timeline", "Booking system launch | September 2027"),
            (22, "4.a", "Fees", "Payment: 20% of the fee on signature."),
            (23, "2.b", "Services", "Reduce no-shows by 15% through reminder texts."),
        ]
    )
]


def _promise(key: str, text: str) -> TraceItem:
    return TraceItem(key, ItemKind.COMMITMENT, Subtype.FIRM, (text,), "2027-02-15")


def test_date_of_one_promise_in_a_long_quote_meets_its_timeline_row(nlp, embed) -> None:
    quote = (
        "We'll have the new booking system launched by the end of June, and after launch "
        "we'll give your reception staff three days of coaching on site"
    )
    (result,) = trace([_promise("d", quote)], RESORT, nlp=nlp, embed=embed)
    assert result.status is Status.CONFLICT
    assert result.evidence[0].clause_id == 21
    assert "September 2027" in (result.evidence[0].reason or "")


def test_numbers_are_only_compared_on_the_items_topic(nlp, embed) -> None:
    (result,) = trace(
        [_promise("f", "Twenty percent of the fee is due when you sign")],
        RESORT,
        nlp=nlp,
        embed=embed,
    )
    assert result.status is Status.TRACED
    assert result.evidence[0].clause_id == 22


def test_one_common_word_with_an_exclusion_is_no_conflict(nlp, embed) -> None:
    """An exclusion must share something particular with the item: two words, or a
    word no other clause has. "processes" alone, present elsewhere too, is not enough."""
    refs = _refs(
        "# Scope\n\n## 2 Services\n\n2.1 Map the intake processes at both clinics.\n\n"
        "2.2 Configure the booking system.\n\n## 3 Out of scope\n\n"
        "- Changes to billing processes.\n- Integration with Medibill or other finance tools.\n",
        "md",
        "2027-01-10",
    )
    wish = _phrase("w", "rethink & modernise our processes")
    excluded = TraceItem(
        "c",
        ItemKind.COMMITMENT,
        Subtype.FIRM,
        ("we'll build the integration with Medibill for you",),
        "2027-01-05",
    )
    first, second = trace([wish, excluded], refs, nlp=nlp, embed=embed)
    assert first.status is not Status.CONFLICT
    assert second.status is Status.CONFLICT
    assert "Out of scope" in (second.evidence[0].reason or "")
