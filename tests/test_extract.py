"""Extraction of commitments and customer phrases, on the real spaCy model.

Every sentence here is made up for these tests, from several industries (IT services,
construction, marketing, managed services, facilities). The ``test_generalises_*``
tests hold sentences that were written before the rules were last changed and were
never used to shape them: they check that the rules carry over to new wording.
"""

from __future__ import annotations

import logging

import pytest

from handover import extract as extract_module
from handover.extract import extract, is_heading
from handover.types import Candidate, ItemKind, Segment, Side, SourceKind, Subtype

C, P = ItemKind.COMMITMENT, ItemKind.CUSTOMER_PHRASE
V, K, U = Side.VENDOR, Side.CUSTOMER, Side.UNKNOWN
PEOPLE = {
    "Priya Shah": V,
    "Owen Hart": V,
    "Lena Brooks": K,
    "Marco Diaz": K,
}
MONDAY = "2026-11-09"


def talk(nlp, *turns, people=PEOPLE, date=MONDAY, kind=SourceKind.TRANSCRIPT) -> list[Candidate]:
    """Turns are (speaker, side, text) or plain text (no speaker, side unknown)."""
    segs = []
    for i, turn in enumerate(turns):
        if isinstance(turn, str):
            segs.append(Segment(i, turn, start=10.0 * i, end=10.0 * i + 8))
        else:
            speaker, side, text = turn
            segs.append(
                Segment(i, text, start=10.0 * i, end=10.0 * i + 8, speaker=speaker, side=side)
            )
    return extract(nlp, segs, meeting_date=date, source_kind=kind, people=people)


def vendor(nlp, text: str, **kw) -> list[Candidate]:
    return talk(nlp, ("Priya Shah", V, text), **kw)


def customer(nlp, text: str, **kw) -> list[Candidate]:
    return talk(nlp, ("Lena Brooks", K, text), **kw)


def notes(nlp, *paras: str, people=PEOPLE, date=MONDAY) -> list[Candidate]:
    segs = [Segment(i, p, offset=100 * i) for i, p in enumerate(paras)]
    return extract(nlp, segs, meeting_date=date, source_kind=SourceKind.NOTES, people=people)


def kinds(cands: list[Candidate]) -> list[tuple[str, str]]:
    return [(c.kind.value, c.subtype.value) for c in cands]


def only(cands: list[Candidate], kind: ItemKind | None = None) -> Candidate:
    picked = [c for c in cands if kind is None or c.kind == kind]
    assert len(picked) == 1, [(c.kind, c.subtype, c.text, c.rule) for c in cands]
    return picked[0]


@pytest.fixture(autouse=True)
def _no_skipped_segments(caplog: pytest.LogCaptureFixture):
    """A rule that raises is caught per segment in production; in tests it is a failure."""
    with caplog.at_level(logging.WARNING, logger="handover.extract"):
        yield
    assert not [r for r in caplog.records if "skipped segment" in r.getMessage()]


# --- generalisation: sentences never used to shape the rules ----------------------------


@pytest.mark.parametrize(
    ("text", "subtype"),
    [
        ("Our creative team will deliver three concept boards by next Friday.", Subtype.FIRM),
        ("You'll have a dedicated account director for the whole retainer.", Subtype.FIRM),
        ("Media monitoring is included at no additional cost.", Subtype.FIRM),
        ("We won't bill you for the discovery workshop.", Subtype.NEGATIVE),
        ("We might be able to squeeze in a short video test, but no promises.", Subtype.HEDGED),
        ("I'm going to book the photographer for the second week of May.", Subtype.FIRM),
        (
            "Our engineers will be on call around the clock during the cutover weekend.",
            Subtype.FIRM,
        ),
    ],
)
def test_generalises_vendor_promises(nlp, text, subtype) -> None:
    c = only(vendor(nlp, text), C)
    assert c.subtype == subtype
    assert c.side == V and not c.side_inferred


@pytest.mark.parametrize(
    "text",
    [
        "We ran a similar campaign for a bakery chain in 2023.",
        "Could you share last year's brand guidelines before Thursday?",
        "Would it be useful if we drafted a content calendar for you?",
        "If we were to move the launch, we'd lose the trade show slot.",
        "I'll have a think about the budget and get back to you.",
        "That would need a separate statement of work.",
    ],
)
def test_generalises_vendor_non_promises(nlp, text) -> None:
    assert [c for c in vendor(nlp, text) if c.kind == C] == []


@pytest.mark.parametrize(
    ("text", "subtype"),
    [
        ("Our main objective is to double inbound leads before the autumn launch.", Subtype.GOAL),
        ("We need the brand to feel less corporate.", Subtype.NEED),
        ("Honestly, I'm worried about agency churn.", Subtype.CONCERN),
        (
            "We'd consider it a success if cost per acquisition falls below twenty dollars.",
            Subtype.SUCCESS,
        ),
        ("The thing that keeps me up at night is ransomware on the tills.", Subtype.CONCERN),
    ],
)
def test_generalises_customer_phrases(nlp, text, subtype) -> None:
    c = only(customer(nlp, text), P)
    assert c.subtype == subtype


def test_generalises_recording_without_speakers(nlp) -> None:
    cands = talk(
        nlp,
        "So what does a good year look like for you?",
        "Our priority is getting the warehouse scanners back online.",
        "Understood. We're going to patch every server within 48 hours of a critical release.",
        kind=SourceKind.RECORDING,
    )
    need = only([c for c in cands if c.segment_ordinal == 1])
    assert (need.kind, need.subtype, need.side, need.side_inferred) == (P, Subtype.NEED, K, True)
    promise = only([c for c in cands if c.segment_ordinal == 2])
    assert (promise.kind, promise.side, promise.side_inferred) == (C, V, True)
    assert promise.due is None and promise.due_text == "within 48 hours of a critical release"


def test_generalises_site_notes(nlp) -> None:
    cands = notes(
        nlp,
        "Commitments we made",
        "Weekly site photos to the client",
        "Parked",
        "Solar panels on the roof",
        "Action: Owen – issue the revised drawings by 14 December.",
    )
    assert [(c.text, c.rule) for c in cands] == [
        ("Weekly site photos to the client", "notes-under-commitment-heading"),
        ("issue the revised drawings by 14 December", "notes-action-line"),
    ]
    assert cands[1].owner == "Owen Hart" and cands[1].due == "2026-12-14"


# --- commitment forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule", "owner"),
    [
        ("We will migrate the mailboxes over two weekends.", "we-will", "vendor"),
        ("We'll replace the lobby glazing before the opening.", "we-will", "vendor"),
        ("Our network team will configure the new firewalls.", "our-team-will", "network team"),
        ("I'll make sure the scaffolding is down by the handover.", "i-will", "Priya Shah"),
        ("We're going to run the pilot in the Leeds office first.", "we-are-going-to", "vendor"),
        ("We commit to a four-hour response for critical incidents.", "we-commit", "vendor"),
        ("We guarantee 99.9% uptime on the hosted platform.", "we-commit", "vendor"),
        (
            "Owen will send the cabling plan to the facilities team.",
            "named-owner-will",
            "Owen Hart",
        ),
        ("You'll have a dedicated architect throughout the project.", "you-will-get", "vendor"),
        ("You will get monthly reports on ticket volumes.", "you-will-get", "vendor"),
        ("That's included at no extra cost.", "inclusion", "vendor"),
        ("The price includes two rounds of revisions.", "inclusion", "vendor"),
        ("Out-of-hours support is included in the retainer.", "inclusion", "vendor"),
    ],
)
def test_commitment_forms(nlp, text, rule, owner) -> None:
    c = only(vendor(nlp, text), C)
    assert (c.subtype, c.rule, c.owner) == (Subtype.FIRM, rule, owner)
    assert c.confidence >= 0.75


@pytest.mark.parametrize(
    "text",
    [
        "We could probably add the car park lighting as well.",
        "I might be able to get you a second engineer in March.",
        "We'll try to finish the snagging before Christmas.",
        "We should be able to reuse the existing racks.",
        "Hopefully we can have the portal live by the spring.",
    ],
)
def test_hedged_commitments(nlp, text) -> None:
    c = only(vendor(nlp, text), C)
    assert c.subtype == Subtype.HEDGED
    assert c.confidence <= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "We won't charge for the site survey.",
        "We will not touch the ERP.",
        "We're not going to change your HR system.",
    ],
)
def test_negative_commitments(nlp, text) -> None:
    c = only(vendor(nlp, text), C)
    assert (c.subtype, c.rule) == (Subtype.NEGATIVE, "negative")


@pytest.mark.parametrize(
    "text",
    [
        "Shall we put together a shared tracker for your foremen?",
        "Could you send us the floor plans?",
        "Will we need a second visit for the roof?",
        "We delivered this for a housing association last year.",
        "We did something similar at a hospital trust in Leeds.",
        "If we were to add the basement, it would push the dates.",
        "That would be a separate work package.",
        "We would normally recommend a pilot first.",
        "Let me check with the team.",
        "I'll look into it.",
        "I'll come back to you on the licensing.",
        "I'll get back to you after the call.",
        "Sure, I'll share my screen and walk you through it.",
        "We will need to order the switches this week.",
        "We can't guarantee the steel prices.",
    ],
)
def test_not_commitments(nlp, text) -> None:
    assert [c for c in vendor(nlp, text) if c.kind == C] == []


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("You get a named engineer for every site.", "you-will-get"),
        ("The firewall upgrade is still on our list.", "inclusion"),
        ("Travel isn't included.", "not-included"),
        ("We're happy to add a second training day.", "happy-to"),
        ("We can do the install on a Saturday.", "we-can"),
    ],
)
def test_other_promise_forms_pass_the_prefilter(nlp, text, rule) -> None:
    assert only(vendor(nlp, text), C).rule == rule


def test_concrete_follow_up_is_firm(nlp) -> None:
    c = only(vendor(nlp, "I'll send you the draft proposal by Thursday."), C)
    assert (c.subtype, c.owner, c.due, c.due_text) == (
        Subtype.FIRM,
        "Priya Shah",
        "2026-11-12",
        "by Thursday",
    )


def test_customer_plans_are_not_commitments(nlp) -> None:
    cands = talk(
        nlp,
        ("Marco Diaz", K, "We will hire two more technicians ourselves."),
        ("Marco Diaz", K, "We're going to repaint the showroom in February."),
        ("Marco Diaz", K, "We will need to recruit a night porter first."),
    )
    assert [c for c in cands if c.kind == C] == []


def test_two_owners_in_one_sentence(nlp) -> None:
    cands = vendor(
        nlp, "So next steps, I'll send the revised quote by Friday, and Owen will book the survey."
    )
    assert [(c.text, c.owner) for c in cands] == [
        ("I'll send the revised quote by Friday", "Priya Shah"),
        ("Owen will book the survey", "Owen Hart"),
    ]
    assert cands[0].due == "2026-11-13" and cands[1].due is None


def test_coordinated_clause_behind_a_subordinate_one(nlp) -> None:
    text = (
        "We'll finish the kitchen by the end of May, and once you reopen, "
        "we'll give you a week of snagging support."
    )
    assert [(c.text, c.due_text) for c in vendor(nlp, text)] == [
        ("We'll finish the kitchen by the end of May", "by the end of May"),
        ("once you reopen, we'll give you a week of snagging support", None),
    ]


def test_commitment_attributes(nlp) -> None:
    c = only(
        vendor(
            nlp, "Our trainers will run sessions for up to 12 store managers by the end of March."
        ),
        C,
    )
    assert c.owner == "trainers"
    assert c.quantities == ("up to 12 store managers",)
    assert (c.due, c.due_text) == ("2027-03-31", "by the end of March")
    assert (c.start, c.end, c.speaker, c.segment_ordinal) == (0.0, 8.0, "Priya Shah", 0)


def test_relative_due_kept_raw(nlp) -> None:
    c = only(vendor(nlp, "We'll hand over the as-built drawings within six weeks of kickoff."), C)
    assert c.due is None and c.due_text == "within six weeks of kickoff"
    c = only(vendor(nlp, "We'll have the quote to you within two weeks."), C)
    assert (c.due, c.due_text) == ("2026-11-23", "within two weeks")


def test_recurring_is_not_a_due_date(nlp) -> None:
    c = only(vendor(nlp, "We will email you a cost report every Monday."), C)
    assert c.due is None and c.due_text is None


def test_clause_text_not_whole_paragraph(nlp) -> None:
    text = "Great question, thanks. Um, so yes, we'll move the servers over a weekend. Any more?"
    c = only(vendor(nlp, text), C)
    assert c.text == "we'll move the servers over a weekend"
    assert text[c.char_start : c.char_end] == c.text


# --- customer phrases ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "subtype", "expected"),
    [
        ("We need one booking system for every clinic.", Subtype.NEED, None),
        ("We can't keep chasing invoices by email.", Subtype.NEED, None),
        ("We have to be out of the old data centre by June.", Subtype.NEED, None),
        ("We must keep the shop open during the works.", Subtype.NEED, None),
        ("It has to work offline on the shop floor.", Subtype.NEED, None),
        ("Our goal is to halve the time to onboard a new starter.", Subtype.GOAL, None),
        ("We want to stop paying for three separate ticketing tools.", Subtype.GOAL, None),
        ("The board wants us to cut energy use by a fifth.", Subtype.GOAL, None),
        ("The aim is to open the new wing before winter.", Subtype.GOAL, None),
        ("Success looks like engineers closing jobs on their phones.", Subtype.SUCCESS, None),
        ("We'd call it a win if complaints drop below ten a month.", Subtype.SUCCESS, None),
        ("We'll know it worked when nobody prints a rota.", Subtype.SUCCESS, None),
        ("Our biggest worry is losing the weekend trade.", Subtype.CONCERN, None),
        ("We can't afford another outage at month end.", Subtype.CONCERN, None),
        ("I'm nervous about moving the pension data.", Subtype.CONCERN, None),
        ("The risk is that the landlord blocks the access.", Subtype.CONCERN, None),
        ("It's critical that the tills keep working.", Subtype.NEED, None),
        ("Offline mode is a must-have.", Subtype.NEED, None),
        ("We're struggling with slow onboarding.", Subtype.NEED, None),
        ("If we get to 95% first-time fix, that's a win.", Subtype.SUCCESS, None),
        (
            "For the record, the brief says we need to plan & streamline workflows.",
            Subtype.NEED,
            "we need to plan & streamline workflows",
        ),
    ],
)
def test_customer_phrase_subtypes(nlp, text, subtype, expected) -> None:
    phrases = [c for c in customer(nlp, text) if c.subtype != Subtype.TERM]
    c = only(phrases)
    assert (c.kind, c.subtype, c.side, c.side_inferred) == (P, subtype, K, False)
    if expected:
        assert c.text == expected


def test_customer_phrases_only_from_the_customer(nlp) -> None:
    cands = vendor(nlp, "We need your VPN details, and our goal is to finish by June.")
    assert [c for c in cands if c.kind == P] == []


def test_term_with_ampersand_kept_verbatim(nlp) -> None:
    cands = customer(nlp, "Their memo said we need to plan & streamline workflows.")
    term = only([c for c in cands if c.subtype == Subtype.TERM])
    assert term.text == "plan & streamline workflows"
    assert term.rule == "term-ampersand"
    need = only([c for c in cands if c.subtype == Subtype.NEED])
    assert need.text == "we need to plan & streamline workflows"


def test_term_with_hyphens_and_capitals(nlp) -> None:
    cands = customer(nlp, "Internally we call it Zero-Touch Onboarding, and the team loves it.")
    term = only([c for c in cands if c.subtype == Subtype.TERM])
    assert (term.text, term.rule) == ("Zero-Touch Onboarding", "term-coinage")
    cands = customer(nlp, "We want to re-plan & re-route deliveries every morning.")
    assert "re-plan & re-route deliveries" in [c.text for c in cands if c.subtype == Subtype.TERM]


def test_term_quoted_in_customer_speech(nlp) -> None:
    cands = customer(nlp, 'Our people call it the "single pane of glass" for the whole estate.')
    assert [c.text for c in cands if c.subtype == Subtype.TERM] == ["single pane of glass"]


def test_repeated_customer_phrase_is_a_term(nlp) -> None:
    cands = talk(
        nlp,
        ("Lena Brooks", K, "What matters is one version of truth for stock."),
        ("Priya Shah", V, "Okay."),
        ("Marco Diaz", K, "Yes, one version of truth for stock, that is the whole point."),
    )
    terms = [c for c in cands if c.rule == "term-repeated"]
    assert [(c.segment_ordinal, c.text) for c in terms] == [
        (0, "one version of truth for stock"),
        (2, "one version of truth for stock"),
    ]


# --- sides ---------------------------------------------------------------------------------


def test_unknown_side_inferred_from_words(nlp) -> None:
    cands = talk(
        nlp,
        "What made you start looking now?",
        "We can't keep copying tickets between the two helpdesks.",
        "We'll connect the two tools through the API in the first month.",
        kind=SourceKind.RECORDING,
        people=None,
    )
    need, promise = cands
    assert (need.kind, need.side, need.side_inferred) == (P, K, True)
    assert (promise.kind, promise.side, promise.side_inferred) == (C, V, True)
    assert need.speaker is None and promise.owner == "vendor"
    # Inferred sides are less sure than known ones.
    known = only(vendor(nlp, "We'll connect the two tools through the API in the first month."))
    assert promise.confidence < known.confidence


def test_unknown_side_customer_own_plans_are_skipped(nlp) -> None:
    cands = talk(nlp, "We will train our own cleaners ourselves.", kind=SourceKind.RECORDING)
    assert cands == []


def test_side_from_people_when_segment_side_unknown(nlp) -> None:
    cands = talk(nlp, ("Owen", U, "We will install the access points on Monday."))
    c = only(cands)
    assert (c.side, c.side_inferred, c.owner) == (V, False, "vendor")
    cands = talk(nlp, ("Marco Diaz", U, "We will install the access points on Monday."))
    assert cands == []


def test_named_customer_action_is_not_a_vendor_commitment(nlp) -> None:
    assert [c for c in vendor(nlp, "Marco will send us the floor plans.") if c.kind == C] == []


# --- notes ---------------------------------------------------------------------------------


def test_is_heading() -> None:
    assert is_heading("What we promised")
    assert is_heading("Next steps:")
    assert not is_heading("We will send the report every Friday.")
    assert not is_heading("Goal: halve the onboarding time")
    assert not is_heading("A very long line that goes on and on past eight words of text")
    assert not is_heading("")


def test_notes_sections(nlp) -> None:
    cands = notes(
        nlp,
        "Harbourview Clinic – fit-out notes",
        "Pain points (their words)",
        'They keep asking for a "calm & clutter-free waiting area" for patients.',
        '"We can\'t keep closing the clinic every time a contractor turns up."',
        "Goal: reopen the second floor before the flu season.",
        "Success = patients never hear drilling during opening hours.",
        "Biggest worry (Lena): noise during surgery hours. They had complaints last year.",
        "Their setup",
        "Four treatment rooms and one dental suite.",
        "They will repaint the reception themselves in August.",
        "What we promised",
        "Night and weekend working for all noisy jobs",
        "Handover of the second floor by the end of January",
        "No work inside the X-ray room",
        "Owen thinks we might reuse the old flooring, to be confirmed",
        "Open questions",
        "Lena asked whether we could also resurface the car park.",
        "Actions",
        "Action: Priya – send the revised programme to Lena by Friday.",
        "Action: Owen – check the asbestos survey with the landlord.",
        "Action: Lena – confirm the access hours.",
    )
    got = [(c.segment_ordinal, c.kind.value, c.subtype.value, c.text, c.rule) for c in cands]
    assert got == [
        (
            2,
            "customer_phrase",
            "need",
            'They keep asking for a "calm & clutter-free waiting area" for patients',
            "notes-under-customer-heading",
        ),
        (2, "customer_phrase", "term", "calm & clutter-free waiting area", "term-ampersand"),
        (
            3,
            "customer_phrase",
            "need",
            "We can't keep closing the clinic every time a contractor turns up",
            "quoted-we-cant-keep",
        ),
        (
            4,
            "customer_phrase",
            "goal",
            "reopen the second floor before the flu season",
            "notes-label-goal",
        ),
        (
            5,
            "customer_phrase",
            "success",
            "patients never hear drilling during opening hours",
            "notes-label-success",
        ),
        (6, "customer_phrase", "concern", "noise during surgery hours", "notes-label-concern"),
        (
            11,
            "commitment",
            "firm",
            "Night and weekend working for all noisy jobs",
            "notes-under-commitment-heading",
        ),
        (
            12,
            "commitment",
            "firm",
            "Handover of the second floor by the end of January",
            "notes-under-commitment-heading",
        ),
        (
            13,
            "commitment",
            "negative",
            "No work inside the X-ray room",
            "notes-under-commitment-heading",
        ),
        (
            14,
            "commitment",
            "hedged",
            "we might reuse the old flooring, to be confirmed",
            "hedged-modal",
        ),
        (
            18,
            "commitment",
            "firm",
            "send the revised programme to Lena by Friday",
            "notes-action-line",
        ),
    ]
    by_text = {c.text: c for c in cands}
    assert by_text["Handover of the second floor by the end of January"].due == "2027-01-31"
    action = by_text["send the revised programme to Lena by Friday"]
    assert (action.owner, action.due, action.side, action.side_inferred) == (
        "Priya Shah",
        "2026-11-13",
        V,
        True,
    )
    assert all(c.side == K and c.side_inferred for c in cands if c.kind == P)
    # Commitments under a heading carry less confidence than spoken ones.
    assert by_text["Night and weekend working for all noisy jobs"].confidence < 0.75


def test_notes_third_person_and_run_together_actions(nlp) -> None:
    cands = notes(
        nlp,
        "They need the dental suite kept running throughout. They will hire a cleaner themselves.",
        "Action: Priya – send the risk register by Friday. Action: Owen – order the hoarding.",
    )
    assert [(c.kind.value, c.subtype.value, c.text, c.owner) for c in cands] == [
        ("customer_phrase", "need", "They need the dental suite kept running throughout", None),
        ("commitment", "firm", "send the risk register by Friday", "Priya Shah"),
        ("commitment", "firm", "order the hoarding", "Owen Hart"),
    ]
    assert cands[0].rule == "they-need"


def test_notes_first_person_promise_outside_headings(nlp) -> None:
    cands = notes(nlp, "Told them we'll send the revised layout on Wednesday.")
    c = only(cands)
    assert (c.kind, c.subtype, c.side, c.side_inferred) == (C, Subtype.FIRM, V, True)
    assert c.due == "2026-11-11"


# --- invariants ----------------------------------------------------------------------------

ODD_TEXTS = [
    "",
    "   ",
    "🙂🚀 we'll ship it 🎉",
    "<script>alert('we will')</script>",
    "we will\x00 send\x07 the\x1b[31m report",
    "?",
    "&&&& & &",
    '""""',
    "We will " * 1500,
    "a" * 10_000,
    "Action:",
    "Goal:",
    "\u202ewe will send it\u202c",
]


def test_never_raises_and_offsets_are_exact(nlp) -> None:
    for kind in (SourceKind.TRANSCRIPT, SourceKind.RECORDING, SourceKind.NOTES):
        segs = [Segment(i, t) for i, t in enumerate(ODD_TEXTS)]
        for c in extract(nlp, segs, meeting_date="not a date", source_kind=kind, people={"": V}):
            text = segs[c.segment_ordinal].text
            assert 0 <= c.char_start < c.char_end <= len(text)
            assert text[c.char_start : c.char_end] == c.text
            assert 0.0 < c.confidence <= 1.0


def test_long_segments_are_chunked(nlp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_module, "MAX_CHUNK", 120)
    filler = "The weather was fine and the meeting ran long. " * 6
    text = filler + "We will replace every ceiling tile in the east wing. " + filler
    c = only(vendor(nlp, text), C)
    assert c.text == "We will replace every ceiling tile in the east wing"
    assert text[c.char_start : c.char_end] == c.text


def test_deterministic(nlp) -> None:
    lines = [
        (
            "Priya Shah",
            V,
            "We'll migrate 400 mailboxes by the end of March, and Owen will train the admins.",
        ),
        ("Lena Brooks", K, "Our biggest worry is the month-end close. We need it untouched."),
        ("Marco Diaz", K, "The board wants us to simplify & consolidate the supplier list."),
    ]
    first = talk(nlp, *lines)
    assert first == talk(nlp, *lines) == talk(nlp, *lines)
    assert [c.segment_ordinal for c in first] == sorted(c.segment_ordinal for c in first)


def test_scope_documents_are_not_extracted(nlp) -> None:
    segs = [Segment(0, "We will migrate all mailboxes.")]
    assert extract(nlp, segs, source_kind=SourceKind.SCOPE) == []
    assert extract(nlp, [], source_kind=SourceKind.TRANSCRIPT) == []


def test_parses_once_without_ner_and_skips_trigger_free_segments(nlp) -> None:
    calls: list[tuple[int, tuple[str, ...]]] = []

    class Spy:
        pipe_names = nlp.pipe_names
        max_length = nlp.max_length

        def pipe(self, texts, disable=(), **kw):
            texts = list(texts)
            calls.append((len(texts), tuple(disable)))
            return nlp.pipe(texts, disable=disable, **kw)

        def get_pipe(self, name):
            return nlp.get_pipe(name)

    segs = [
        Segment(0, "Thanks everyone, good to see you all."),
        Segment(1, "We will survey the roof by Friday.", speaker="Owen Hart", side=V),
        Segment(2, "Lovely weather today."),
    ]
    cands = extract(Spy(), segs, meeting_date=MONDAY, people=PEOPLE)
    assert [c.due for c in cands] == ["2026-11-13"]
    assert len(calls) == 1 and calls[0][0] == 1 and "ner" in calls[0][1]


def test_shouted_heading_ends_a_commitments_section_and_client_actions_are_theirs(nlp) -> None:
    from handover.extract.headings import is_heading

    assert is_heading("PAST WORK MENTIONED")
    found = notes(
        nlp,
        "WHAT WE SAID WE'D DO",
        "Weekly status report every Friday",
        "PAST WORK MENTIONED",
        "Medway Vets: chilled deliveries to 30 practices",
        "Action: Rob (their side) – set up read-only access to the CRM",
    )
    texts = [c.text for c in found if c.kind == ItemKind.COMMITMENT]
    assert texts == ["Weekly status report every Friday"]


@pytest.mark.parametrize(
    ("said", "term"),
    [
        ("Honestly it's what we call the back forty, nobody goes there.", "the back forty"),
        ("Internally we call it the spreadsheet graveyard.", "the spreadsheet graveyard"),
        ("Well, the Dome is what everybody calls the reading room.", "the Dome"),
        ('Monica calls it "the Summit" and wants the agenda soon.', "the Summit"),
        ("The idea we keep coming back to is what we call the switch story.", "the switch story"),
    ],
)
def test_a_thing_the_customer_names_is_their_term(nlp, said, term) -> None:
    found = only(customer(nlp, said), ItemKind.CUSTOMER_PHRASE)
    assert (found.subtype, found.text, found.rule) == (Subtype.TERM, term, "term-named")


def test_naming_without_a_name_or_by_the_vendor_is_no_term(nlp) -> None:
    assert customer(nlp, "What we call it doesn't matter.") == []
    assert vendor(nlp, "We call it the rapid start package.") == []
    assert customer(nlp, "Phone call with Mike about the budget.") == []
