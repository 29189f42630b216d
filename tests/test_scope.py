"""Scope documents: Markdown, plain text, Word and PDF into layout blocks."""

from __future__ import annotations

import io

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from handover.capture.scope import blocks_to_segments, scope_blocks
from handover.errors import InputError
from handover.types import Block

VERBATIM = "re-assess & reinvigorate processes"


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF with one Helvetica line per string, one list per page.

    pypdf can't lay out text, so the objects and the xref table are written by hand.
    """

    def escape(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, lines in enumerate(pages):
        shown = " ".join(f"({escape(line)}) Tj T*" for line in lines)
        content = f"BT /F1 11 Tf 14 TL 72 760 Td {shown} ET".encode("cp1252")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _styles(blocks: list[Block]) -> list[tuple[str, str, int | None]]:
    return [(b.style, b.text, b.level) for b in blocks]


# --- Markdown ------------------------------------------------------------------------

SCOPE_MD = """# Statement of Work

## 1. Scope

The vendor will **re-assess & reinvigorate processes** across the
[Reno depot](https://maps.example/reno).

3.2.1 Data migration of all records
3.2.2. Cut-over weekend
- SSO via Okta
- Two *training* sessions
1. Kick-off workshop

### Out of scope
Hardware procurement.
"""


def test_markdown_scope_blocks() -> None:
    blocks = scope_blocks(SCOPE_MD.encode(), "sow.md", "md")
    assert _styles(blocks) == [
        ("heading", "Statement of Work", 1),
        ("heading", "1. Scope", 2),
        ("body", f"The vendor will {VERBATIM} across the Reno depot.", None),
        ("numbered", "3.2.1 Data migration of all records", 3),
        ("numbered", "3.2.2. Cut-over weekend", 3),
        ("bullet", "SSO via Okta", None),
        ("bullet", "Two training sessions", None),
        ("numbered", "1. Kick-off workshop", 1),
        ("heading", "Out of scope", 3),
        ("body", "Hardware procurement.", None),
    ]
    assert [b.ordinal for b in blocks] == list(range(len(blocks)))


def test_markdown_scope_offsets_point_into_the_text() -> None:
    text = SCOPE_MD
    for block in scope_blocks(text.encode(), "sow.md", "md"):
        assert block.offset is not None
        assert text[block.offset :].startswith(block.text.split()[0].strip("*")), block


def test_markdown_table_rows_are_row_blocks() -> None:
    text = "## Timeline\n\n| Phase | Week |\n|---|---|\n| Site survey | 2 |\n"
    blocks = scope_blocks(text.encode(), "plan.md", "md")
    assert _styles(blocks) == [
        ("heading", "Timeline", 2),
        ("row", "Phase | Week", None),
        ("row", "Site survey | 2", None),
    ]


# --- plain text ----------------------------------------------------------------------

SCOPE_TXT = """STATEMENT OF WORK

1. Scope
The vendor will re-assess & reinvigorate processes across all regional
offices, which takes 3 to 4 weeks, and will deliver a migration plan in
3.5 days after kick-off.

3.2.1 Data migration
The vendor will migrate all records from the legacy CRM into the new
platform.
3.2.2.
Cut-over weekend

Deliverables:
- SSO via Okta
* Two training sessions
(a) Hosting in the EU region
ii) Daily backups

Payment terms

Invoices are due within thirty days.
"""


def test_txt_scope_blocks() -> None:
    blocks = scope_blocks(SCOPE_TXT.encode(), "sow.txt", "txt")
    assert _styles(blocks) == [
        ("heading", "STATEMENT OF WORK", None),
        ("numbered", "1. Scope", 1),
        (
            "body",
            "The vendor will re-assess & reinvigorate processes across all regional offices, "
            "which takes 3 to 4 weeks, and will deliver a migration plan in 3.5 days after "
            "kick-off.",
            None,
        ),
        ("numbered", "3.2.1 Data migration", 3),
        (
            "body",
            "The vendor will migrate all records from the legacy CRM into the new platform.",
            None,
        ),
        ("numbered", "3.2.2. Cut-over weekend", 3),
        ("heading", "Deliverables:", None),
        ("bullet", "SSO via Okta", None),
        ("bullet", "Two training sessions", None),
        ("numbered", "(a) Hosting in the EU region", None),
        ("numbered", "ii) Daily backups", None),
        ("heading", "Payment terms", None),
        ("body", "Invoices are due within thirty days.", None),
    ]
    for block in blocks:
        assert block.offset is not None
        assert SCOPE_TXT[block.offset :].startswith(block.text.split()[0])


def test_txt_scope_in_cp1252_keeps_accents() -> None:
    data = "Café rollout\n\nThe vendor will re-assess.\n".encode("cp1252")
    blocks = scope_blocks(data, "s.txt", "txt")
    assert blocks[0].text == "Café rollout"
    assert blocks[0].style == "heading"


def test_indented_wrap_of_a_list_item_stays_with_it() -> None:
    text = "- The vendor will provide\n  Training for all staff\n- Hosting\n"
    blocks = scope_blocks(text.encode(), "s.txt", "txt")
    assert _styles(blocks) == [
        ("bullet", "The vendor will provide Training for all staff", None),
        ("bullet", "Hosting", None),
    ]


def test_wrapped_hyphen_is_joined_without_a_space() -> None:
    text = "The vendor will re-\nassess & reinvigorate processes.\n"
    (block,) = scope_blocks(text.encode(), "s.txt", "txt")
    assert block.text == f"The vendor will {VERBATIM}."


def test_empty_scope_is_an_error() -> None:
    with pytest.raises(InputError, match="has no text"):
        scope_blocks(b"  \n\n", "s.txt", "txt")
    with pytest.raises(InputError, match="has no text"):
        scope_blocks(b"---\n***\n", "s.md", "md")


def test_unknown_scope_format() -> None:
    with pytest.raises(InputError, match="unknown scope format"):
        scope_blocks(b"hello", "s.rtf", "rtf")


# --- Word ----------------------------------------------------------------------------


def test_docx_scope_blocks() -> None:
    document = docx.Document()
    document.add_heading("Statement of Work", 0)
    document.add_heading("3.2 Data migration", 2)
    document.add_paragraph("3.2.1 The vendor migrates all records.")
    document.add_paragraph(f"We will {VERBATIM}.")
    document.add_paragraph("SSO via Okta", style="List Bullet")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Training"
    table.cell(0, 1).text = "Two sessions"
    buffer = io.BytesIO()
    document.save(buffer)
    blocks = scope_blocks(buffer.getvalue(), "sow.docx", "docx")
    assert _styles(blocks) == [
        ("heading", "Statement of Work", 0),
        ("heading", "3.2 Data migration", 2),
        ("numbered", "3.2.1 The vendor migrates all records.", 3),
        ("body", f"We will {VERBATIM}.", None),
        ("bullet", "SSO via Okta", None),
        ("row", "Training | Two sessions", None),
    ]


def test_docx_scope_that_is_not_a_zip() -> None:
    with pytest.raises(InputError, match="is not a Word document"):
        scope_blocks(b"%PDF-1.4 nope", "sow.docx", "docx")


# --- PDF -----------------------------------------------------------------------------

PDF_PAGES = [
    [
        "STATEMENT OF WORK",
        "1. Scope",
        "The vendor will re-assess & reinvigorate processes across all regional",
        "offices and will deliver a migration plan for the legacy CRM system.",
        "3.2.1 Data migration",
        "The vendor will migrate all records from the legacy system into the",
        "new platform within 30 days.",
        "Payment terms",
        "Invoices are due within thirty days of the signed acceptance form.",
        "• SSO integration",
        "• Two training sessions",
        "Page 1 of 2",
    ],
    ["Out of scope:", "Hardware procurement is excluded.", "2"],
]


def test_pdf_scope_blocks() -> None:
    blocks = scope_blocks(make_pdf(PDF_PAGES), "sow.pdf", "pdf")
    assert _styles(blocks) == [
        ("heading", "STATEMENT OF WORK", None),
        ("numbered", "1. Scope", 1),
        (
            "body",
            f"The vendor will {VERBATIM} across all regional offices and will deliver a "
            "migration plan for the legacy CRM system.",
            None,
        ),
        ("numbered", "3.2.1 Data migration", 3),
        (
            "body",
            "The vendor will migrate all records from the legacy system into the new platform "
            "within 30 days.",
            None,
        ),
        ("heading", "Payment terms", None),
        ("body", "Invoices are due within thirty days of the signed acceptance form.", None),
        ("bullet", "SSO integration", None),
        ("bullet", "Two training sessions", None),
        ("heading", "Out of scope:", None),
        ("body", "Hardware procurement is excluded.", None),
    ]
    assert all(b.offset is None for b in blocks)  # no decoded text to point into


def _encrypt(data: bytes, user_password: str, algorithm: str | None = None) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    if algorithm:
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    else:
        writer.encrypt(user_password=user_password, owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_with_a_user_password_is_refused() -> None:
    data = _encrypt(make_pdf([["Scope", "The vendor will deliver SSO."]]), "secret")
    with pytest.raises(InputError, match=r"^sow\.pdf: is password-protected; export an"):
        scope_blocks(data, "sow.pdf", "pdf")


@pytest.mark.parametrize("algorithm", [None, "AES-128"])
def test_pdf_with_only_an_owner_password_is_read(algorithm: str | None) -> None:
    data = _encrypt(make_pdf([["Scope", "The vendor will deliver SSO."]]), "", algorithm)
    blocks = scope_blocks(data, "sow.pdf", "pdf")
    assert [b.text for b in blocks] == ["Scope", "The vendor will deliver SSO."]


def test_pdf_without_text_layer() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(InputError, match=r"^scan\.pdf: has no text layer \(scanned\?\); "):
        scope_blocks(buffer.getvalue(), "scan.pdf", "pdf")


@pytest.mark.parametrize(
    "data", [b"%PDF-1.4\ngarbage", b"not a pdf at all", make_pdf([["Scope"]])[:150], b""]
)
def test_corrupt_pdf_is_an_input_error(data: bytes) -> None:
    with pytest.raises(InputError, match=r"^bad\.pdf: could not be read as a PDF"):
        scope_blocks(data, "bad.pdf", "pdf")


def test_blocks_to_segments() -> None:
    blocks = scope_blocks(SCOPE_MD.encode(), "sow.md", "md")
    segments = blocks_to_segments(blocks)
    assert [s.text for s in segments] == [b.text for b in blocks]
    assert [s.offset for s in segments] == [b.offset for b in blocks]
    assert [s.ordinal for s in segments] == list(range(len(blocks)))
    assert all(s.start is None and s.speaker is None for s in segments)
