"""Notes: plain text and Markdown paragraphs with offsets, and Word documents."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from handover.capture.notes import (
    MAX_DOCX_UNCOMPRESSED,
    docx_blocks,
    markdown_lines,
    parse_notes,
    parse_notes_docx,
)
from handover.errors import InputError
from handover.types import Segment

VERBATIM = "re-assess & reinvigorate processes"


def _assert_offsets(text: str, segments: list[Segment]) -> None:
    """Every offset points at the first word of its paragraph in the source."""
    for seg in segments:
        assert seg.offset is not None
        first_word = seg.text.split()[0]
        assert text[seg.offset :].startswith(first_word), (seg, text[seg.offset :][:20])
    assert [s.ordinal for s in segments] == list(range(len(segments)))
    assert all(s.start is None and s.end is None for s in segments)


# --- plain text ----------------------------------------------------------------------

TXT = """Call with Acme, 3 March

Maria wants to re-assess & reinvigorate processes
at the Reno depot.

- Raj to send the NetSuite export plan
• Dana to book the SSO workshop
  before Friday
1. Confirm hosting region

Closing remark in *stars* stays as typed.
"""


def test_txt_paragraphs_and_offsets() -> None:
    segments = parse_notes(TXT, "n.txt", "txt")
    _assert_offsets(TXT, segments)
    assert [s.text for s in segments] == [
        "Call with Acme, 3 March",
        "Maria wants to re-assess & reinvigorate processes at the Reno depot.",
        "Raj to send the NetSuite export plan",
        "Dana to book the SSO workshop before Friday",
        "Confirm hosting region",
        "Closing remark in *stars* stays as typed.",
    ]
    assert segments[1].offset == TXT.index("Maria")


def test_txt_without_paragraphs_is_an_error() -> None:
    with pytest.raises(InputError, match=r"^n\.txt: has no paragraphs"):
        parse_notes("\n\n   \n", "n.txt", "txt")


def test_unknown_notes_format() -> None:
    with pytest.raises(InputError, match="unknown notes format"):
        parse_notes("text", "n.rtf", "rtf")


# --- Markdown ------------------------------------------------------------------------

MD = """# Kickoff *with* Acme

Maria wants to **re-assess & reinvigorate processes** at the
[Reno depot](https://maps.example/reno?a=1&b=2). Keep `snake_case_ids` and
Re-Platforming as written.

## Actions
- [ ] Raj: send the __NetSuite__ export plan
* Dana to book the SSO workshop
  before Friday
+ Third bullet
1. Numbered item
2) Another numbered item

> Quoted: the customer's own words

Setext heading
--------------

| Item | Owner |
|------|-------|
| SSO  | Dana  |

---

```
literal **code** & stuff
```
"""


def test_markdown_paragraphs_headings_and_items() -> None:
    segments = parse_notes(MD, "n.md", "md")
    _assert_offsets(MD, segments)
    assert [s.text for s in segments] == [
        "Kickoff with Acme",
        "Maria wants to re-assess & reinvigorate processes at the Reno depot. Keep "
        "snake_case_ids and Re-Platforming as written.",
        "Actions",
        "Raj: send the NetSuite export plan",
        "Dana to book the SSO workshop before Friday",
        "Third bullet",
        "Numbered item",
        "Another numbered item",
        "Quoted: the customer's own words",
        "Setext heading",
        "Item | Owner",
        "SSO | Dana",
        "literal **code** & stuff",
    ]


def test_markdown_offsets_skip_the_markup() -> None:
    segments = parse_notes(MD, "n.md", "md")
    heading = segments[0]
    assert heading.offset == 2  # after "# "
    item = next(s for s in segments if s.text.startswith("Raj"))
    assert MD[item.offset :].startswith("Raj: send")  # after "- [ ] "


def test_markdown_never_changes_words() -> None:
    text = "Customer: we must **Re-Assess & Reinvigorate Processes** -- fast & well-run.\n"
    (segment,) = parse_notes(text, "n.md", "md")
    assert segment.text == (
        "Customer: we must Re-Assess & Reinvigorate Processes -- fast & well-run."
    )


def test_markdown_with_only_rules_is_an_error() -> None:
    with pytest.raises(InputError, match="has no paragraphs"):
        parse_notes("---\n\n***\n", "n.md", "md")


def test_markdown_lines_heading_levels() -> None:
    lines = markdown_lines("# One\n### Three ###\nTwo\n===\n")
    headings = [(ln.text, ln.level) for ln in lines if ln.kind == "heading"]
    assert headings == [("One", 1), ("Three", 3), ("Two", 1)]


# --- Word documents ------------------------------------------------------------------


def _docx_bytes(document: docx.document.Document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _sample_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Acme kickoff", 0)
    document.add_heading("Context", 1)
    document.add_paragraph(f"Maria wants to {VERBATIM} at the Reno depot.")
    document.add_paragraph("")  # empty paragraphs are skipped
    document.add_heading("Actions", 2)
    document.add_paragraph("Raj sends the export plan", style="List Bullet")
    document.add_paragraph("Dana books the workshop", style="List Number")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Deliverable"
    table.cell(0, 1).text = "Owner"
    table.cell(1, 0).text = "SSO"
    table.cell(1, 1).text = "Dana"
    merged = document.add_table(rows=1, cols=2)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Merged cell once"
    document.add_paragraph("After the table.")
    return _docx_bytes(document)


def test_docx_blocks_order_styles_and_tables() -> None:
    blocks = docx_blocks(_sample_docx(), "notes.docx")
    assert [(b.text, b.style, b.level) for b in blocks] == [
        ("Acme kickoff", "heading", 0),
        ("Context", "heading", 1),
        (f"Maria wants to {VERBATIM} at the Reno depot.", "body", None),
        ("Actions", "heading", 2),
        ("Raj sends the export plan", "bullet", None),
        ("Dana books the workshop", "bullet", None),
        ("Deliverable | Owner", "row", None),
        ("SSO | Dana", "row", None),
        ("Merged cell once", "row", None),
        ("After the table.", "body", None),
    ]
    assert [b.ordinal for b in blocks] == list(range(len(blocks)))


def test_docx_table_row_is_one_block_with_nested_tables_flattened() -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for col, text in enumerate(("Milestone", "", "Due")):
        table.cell(0, col).text = text  # the empty header cell is skipped
    table.cell(1, 0).text = "Foundations poured"
    table.cell(1, 2).text = "Week 6"
    cell = table.cell(2, 0)
    cell.text = "Handover"
    cell.add_paragraph("with snag list")
    nested = cell.add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "keys"
    nested.cell(0, 1).text = "manuals"
    table.cell(2, 2).text = "Week 30"
    blocks = docx_blocks(_docx_bytes(document), "plan.docx")
    assert [(b.text, b.style) for b in blocks] == [
        ("Milestone | Due", "row"),
        ("Foundations poured | Week 6", "row"),
        ("Handover with snag list keys manuals | Week 30", "row"),
    ]


def test_docx_numbered_paragraph_without_list_style_is_a_bullet() -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("Auto-numbered clause")
    num_pr = OxmlElement("w:numPr")
    for tag, value in (("w:ilvl", "0"), ("w:numId", "1")):
        child = OxmlElement(tag)
        child.set(qn("w:val"), value)
        num_pr.append(child)
    paragraph._p.get_or_add_pPr().append(num_pr)
    (block,) = docx_blocks(_docx_bytes(document), "n.docx")
    assert (block.text, block.style) == ("Auto-numbered clause", "bullet")


def test_docx_keeps_non_breaking_hyphens_and_tracked_insertions() -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("re")
    run = paragraph.runs[0]._r
    run.append(OxmlElement("w:noBreakHyphen"))
    text = OxmlElement("w:t")
    text.text = "assess & reinvigorate"
    run.append(text)
    insertion = OxmlElement("w:ins")
    inserted_run = OxmlElement("w:r")
    inserted_text = OxmlElement("w:t")
    inserted_text.text = " processes"
    inserted_text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    inserted_run.append(inserted_text)
    insertion.append(inserted_run)
    paragraph._p.append(insertion)
    (block,) = docx_blocks(_docx_bytes(document), "n.docx")
    assert block.text == "re-assess & reinvigorate processes"


def test_parse_notes_docx_segments() -> None:
    segments = parse_notes_docx(_sample_docx(), "notes.docx")
    assert segments[2].text == f"Maria wants to {VERBATIM} at the Reno depot."
    assert [s.ordinal for s in segments] == list(range(len(segments)))
    assert all(s.speaker is None and s.start is None for s in segments)


def test_empty_docx_is_an_error() -> None:
    with pytest.raises(InputError, match=r"^empty\.docx: has no text"):
        docx_blocks(_docx_bytes(docx.Document()), "empty.docx")


def test_non_zip_docx_is_an_error() -> None:
    with pytest.raises(InputError, match=r"^notes\.docx: is not a Word document"):
        docx_blocks(b"This is plain text pretending to be a docx.", "notes.docx")


def test_zip_without_document_xml_is_an_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(InputError, match=r"no word/document\.xml"):
        docx_blocks(buffer.getvalue(), "notes.docx")


def test_zip_bomb_by_ratio_is_refused_before_parsing() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/media/filler.bin", bytes(8 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 64 * 1024  # small on disk, 8 MB inflated
    with pytest.raises(InputError, match="zip bombs"):
        docx_blocks(data, "bomb.docx")


def test_zip_bomb_by_declared_total_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    data = bytearray(buffer.getvalue())
    # Rewrite the central directory's declared uncompressed size to just over the cap.
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = (MAX_DOCX_UNCOMPRESSED + 1).to_bytes(4, "little")
    with pytest.raises(InputError, match="over the 200 MB limit"):
        docx_blocks(bytes(data), "huge.docx")


def test_docx_with_broken_xml_is_an_input_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("word/document.xml", "<not xml")
    with pytest.raises(InputError, match=r"^broken\.docx: could not be read as a Word document"):
        docx_blocks(buffer.getvalue(), "broken.docx")


def test_labelled_lines_are_not_joined_as_wrapped_text() -> None:
    text = "Action: Carla – draft the proposal\nAction: Greg – check the crane\nand the hoist\n"
    segments = parse_notes(text, "n.md", "md")
    assert [s.text for s in segments] == [
        "Action: Carla – draft the proposal",
        "Action: Greg – check the crane and the hoist",
    ]
