"""Splitting scope documents into numbered, categorised clauses (md, txt, docx, pdf)."""

from __future__ import annotations

import io

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from handover.capture.scope import scope_blocks
from handover.clauses import clause_sha256, heading_categories, split_clauses
from handover.types import Block, Category, Clause
from tests.test_scope import make_pdf

SCOPE, EXCL, ASSUME = Category.SCOPE, Category.EXCLUSION, Category.ASSUMPTION


def _rows(clauses: list[Clause]) -> list[tuple[str, str, str, Category]]:
    return [(c.section, c.heading, c.text, c.category) for c in clauses]


def _split(text: str, fmt: str) -> list[Clause]:
    return split_clauses(scope_blocks(text.encode(), f"sow.{fmt}", fmt))


# --- Markdown ------------------------------------------------------------------------

MD = """# Statement of Work: warehouse racking upgrade

Prepared for Harbour Cold Storage.

## 1. Scope of works

The contractor will deliver the following.

### 1.1 Racking
- Remove the existing pallet racking in chambers A and B.
- Install 1,400 new pallet positions.

### 1.2 Commissioning
Load testing of every bay, with a signed certificate.

| Milestone | Week |
|---|---|
| Chamber A handover | 6 |

### Out of scope
- Refrigeration plant changes.

#### Electrical
Any new lighting circuits.

## 2. Assumptions and client responsibilities
- The client will empty each chamber before work starts.

## 3. Fees
Fixed fee: GBP 180,000.
"""


def test_markdown_sections_categories_and_tables() -> None:
    assert _rows(_split(MD, "md")) == [
        ("0.a", "Statement of Work: warehouse racking upgrade",
         "Prepared for Harbour Cold Storage.", SCOPE),
        ("1.a", "Scope of works", "The contractor will deliver the following.", SCOPE),
        ("1.1.a", "Racking", "Remove the existing pallet racking in chambers A and B.", SCOPE),
        ("1.1.b", "Racking", "Install 1,400 new pallet positions.", SCOPE),
        ("1.2.a", "Commissioning", "Load testing of every bay, with a signed certificate.", SCOPE),
        ("1.2.b", "Commissioning", "Milestone | Week", SCOPE),
        ("1.2.c", "Commissioning", "Chamber A handover | 6", SCOPE),
        # An unnumbered heading gets the next sub-number the document does not use.
        ("1.3.a", "Out of scope", "Refrigeration plant changes.", EXCL),
        # A nested heading inherits its parent's category.
        ("1.3.1.a", "Electrical", "Any new lighting circuits.", EXCL),
        ("2.a", "Assumptions and client responsibilities",
         "The client will empty each chamber before work starts.", ASSUME),
        ("3.a", "Fees", "Fixed fee: GBP 180,000.", SCOPE),
    ]  # fmt: skip


def test_unnumbered_document_gets_generated_numbers() -> None:
    text = "# Proposal\n\n## Services\n- Weekly window cleaning\n\n## Exclusions\n- Roof access\n"
    assert _rows(_split(text, "md")) == [
        ("1.a", "Services", "Weekly window cleaning", SCOPE),
        ("2.a", "Exclusions", "Roof access", EXCL),
    ]


def test_numbered_lines_keep_their_numbers_and_own_their_items() -> None:
    text = (
        "## 4 Support\n\n"
        "4.1 The supplier will answer calls within 2 hours.\n\n"
        "4.2 The supplier will provide:\n\n"
        "- a named account manager\n"
        "- quarterly reviews\n"
    )
    assert _rows(_split(text, "md")) == [
        ("4.1", "Support", "The supplier will answer calls within 2 hours.", SCOPE),
        ("4.2", "Support", "The supplier will provide:", SCOPE),
        ("4.2.a", "Support", "a named account manager", SCOPE),
        ("4.2.b", "Support", "quarterly reviews", SCOPE),
    ]


def test_heading_with_body_on_the_same_line_is_a_clause() -> None:
    text = "## 2.5 Training: two sessions for up to 12 chefs\n\nMenus are out of scope.\n"
    assert _rows(_split(text, "md")) == [
        ("2.5.a", "Training", "two sessions for up to 12 chefs", SCOPE),
        # Its own wording makes a clause an exclusion in any section.
        ("2.5.b", "Training", "Menus are out of scope.", EXCL),
    ]


def test_lead_in_and_labels_pass_their_category_to_the_list() -> None:
    text = (
        "## 3 Services\n\n"
        "- Monthly pest inspections\n\n"
        "The following items are not included:\n\n"
        "- Bird netting\n"
        "- Structural repairs\n\n"
        "Ongoing reporting in the customer portal.\n\n"
        "**Client obligations**\n\n"
        "- Keep bait stations clear\n\n"
        "**In scope**\n\n"
        "- Emergency call-outs\n"
    )
    assert _rows(_split(text, "md")) == [
        ("3.a", "Services", "Monthly pest inspections", SCOPE),
        ("3.b", "Services", "The following items are not included:", EXCL),
        ("3.c", "Services", "Bird netting", EXCL),
        ("3.d", "Services", "Structural repairs", EXCL),
        ("3.e", "Services", "Ongoing reporting in the customer portal.", SCOPE),
        ("3.f", "Client obligations", "Keep bait stations clear", ASSUME),
        ("3.g", "In scope", "Emergency call-outs", SCOPE),
    ]


def test_mixed_assumptions_and_exclusions_heading_decides_per_clause() -> None:
    text = (
        "## 6 Assumptions and exclusions\n\n"
        "- Site access is available from 7am.\n"
        "- Asbestos removal is excluded.\n"
    )
    assert [c.category for c in _split(text, "md")] == [ASSUME, EXCL]


def test_customer_duty_wording_in_a_scope_section_is_an_assumption() -> None:
    text = "## 2 Scope\n\n- The Client will supply sample products.\n- Photography of 40 items.\n"
    assert [c.category for c in _split(text, "md")] == [ASSUME, SCOPE]


def test_heading_categories_lexicons() -> None:
    assert heading_categories("5 Out-of-scope items") == {EXCL}
    assert heading_categories("Not included") == {EXCL}
    assert heading_categories("Customer's responsibilities") == {ASSUME}
    assert heading_categories("Dependencies") == {ASSUME}
    assert heading_categories("Assumptions & Exclusions") == {ASSUME, EXCL}
    assert heading_categories("Scope of services") == set()
    assert heading_categories("Roles and responsibilities") == set()


# --- plain text and PDF ---------------------------------------------------------------

TXT = """SCOPE OF SERVICES

1. Cleaning
1.1 Daily cleaning of all office floors.
1.2 Washroom restocking twice a day.

2. Security
2.1 Night patrols of the car park.

OUT OF SCOPE
Window cleaning above the ground floor.

Assumptions:
- The client provides storage for cleaning materials.

PRICING
Monthly fee of EUR 9,500.
"""


def test_txt_sections_from_numbers_and_caps_headings() -> None:
    assert _rows(_split(TXT, "txt")) == [
        ("1.1", "Cleaning", "Daily cleaning of all office floors.", SCOPE),
        ("1.2", "Cleaning", "Washroom restocking twice a day.", SCOPE),
        ("2.1", "Security", "Night patrols of the car park.", SCOPE),
        ("3.a", "OUT OF SCOPE", "Window cleaning above the ground floor.", EXCL),
        # A title-case heading under a caps one is its sub-section.
        ("3.1.a", "Assumptions", "The client provides storage for cleaning materials.", ASSUME),
        ("4.a", "PRICING", "Monthly fee of EUR 9,500.", SCOPE),
    ]


def test_pdf_clauses() -> None:
    pages = [
        [
            "STATEMENT OF WORK",
            "2. Services",
            "2.1 Quarterly penetration test of the public web applications.",
            "2.2 A written report within ten working days of each test.",
            "Exclusions:",
            "Social engineering and physical intrusion testing.",
        ]
    ]
    clauses = split_clauses(scope_blocks(make_pdf(pages), "sow.pdf", "pdf"))
    assert _rows(clauses) == [
        ("2.1", "Services", "Quarterly penetration test of the public web applications.", SCOPE),
        ("2.2", "Services", "A written report within ten working days of each test.", SCOPE),
        ("2.3.a", "Exclusions", "Social engineering and physical intrusion testing.", EXCL),
    ]


# --- Word ----------------------------------------------------------------------------


def _numbered(document: docx.document.Document, text: str) -> None:
    """A paragraph numbered by Word itself (numPr), with no list style."""
    paragraph = document.add_paragraph(text)
    num_pr = OxmlElement("w:numPr")
    for tag, value in (("w:ilvl", "0"), ("w:numId", "1")):
        child = OxmlElement(tag)
        child.set(qn("w:val"), value)
        num_pr.append(child)
    paragraph._p.get_or_add_pPr().append(num_pr)


def _sow_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Statement of Work: event production", 0)
    document.add_heading("1 Services", 1)
    document.add_heading("1.1 Staging", 2)
    document.add_paragraph("Stage, lighting and sound for 600 guests.", style="List Bullet")
    _numbered(document, "Two rehearsals on the day before the event.")
    document.add_heading("1.2 Schedule", 2)
    table = document.add_table(rows=2, cols=2)
    for col, text in enumerate(("Milestone", "Date")):
        table.cell(0, col).text = text
    table.cell(1, 0).text = "Venue load-in"
    table.cell(1, 1).text = "12 June 2027"
    document.add_heading("2 Not in scope", 1)
    document.add_paragraph("Catering and bar staff.", style="List Bullet")
    document.add_heading("2.1 Travel", 2)
    document.add_paragraph("Speaker flights and hotels.")
    document.add_heading("3 Client responsibilities", 1)
    document.add_paragraph("Venue booking and insurance.", style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_clauses_with_tables_and_auto_numbering() -> None:
    clauses = split_clauses(scope_blocks(_sow_docx(), "sow.docx", "docx"))
    assert _rows(clauses) == [
        ("1.1.a", "Staging", "Stage, lighting and sound for 600 guests.", SCOPE),
        ("1.1.b", "Staging", "Two rehearsals on the day before the event.", SCOPE),
        ("1.2.a", "Schedule", "Milestone | Date", SCOPE),
        ("1.2.b", "Schedule", "Venue load-in | 12 June 2027", SCOPE),
        ("2.a", "Not in scope", "Catering and bar staff.", EXCL),
        ("2.1.a", "Travel", "Speaker flights and hotels.", EXCL),
        ("3.a", "Client responsibilities", "Venue booking and insurance.", ASSUME),
    ]
    assert [c.ordinal for c in clauses] == list(range(len(clauses)))


# --- odd input and hashes ------------------------------------------------------------


def test_empty_and_odd_blocks_never_raise() -> None:
    assert split_clauses([]) == []
    odd = [
        Block(0, "", "heading", 1),
        Block(1, "   ", "body"),
        Block(2, "3.", "numbered", 1),
        Block(3, "Out of scope:", "heading", None),
        Block(4, "| |", "row"),
        Block(5, "Something", "mystery-style", 7),
        Block(6, "99.99.99 Thing", "heading", 2),
        Block(7, "(iv) Fourth item", "numbered", None),
    ]
    clauses = split_clauses(odd)
    assert [c.text for c in clauses] == ["3.", "| |", "Something", "Fourth item"]
    assert all(c.section for c in clauses)


def test_split_is_deterministic() -> None:
    blocks = scope_blocks(MD.encode(), "sow.md", "md")
    assert split_clauses(blocks) == split_clauses(list(blocks))


def test_clause_sha256_ignores_spelling_differences() -> None:
    assert clause_sha256("Re-assess & reinvigorate  the process.") == clause_sha256(
        "reassess and reinvigorate the process"
    )
    assert clause_sha256("Twenty supervisors") == clause_sha256("20 supervisors")
    assert clause_sha256("10 supervisors") != clause_sha256("20 supervisors")
    assert len(clause_sha256("")) == 64


def test_colon_in_a_heading_is_a_title_unless_a_clause_follows_it() -> None:
    text = "## Phase 2: Build and test\n\n- Load testing\n\n## Fees: USD 12,000 fixed\n"
    assert _rows(_split(text, "md")) == [
        ("1.a", "Phase 2: Build and test", "Load testing", SCOPE),
        ("2.a", "Fees", "USD 12,000 fixed", SCOPE),
    ]


def test_a_lone_title_still_sets_the_category() -> None:
    assert _rows(_split("# Exclusions\n\n- Roof repairs\n", "md")) == [
        ("0.a", "Exclusions", "Roof repairs", EXCL)
    ]
