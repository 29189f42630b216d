"""Reading scope documents (statements of work, proposals) into layout blocks.

The clause splitter later needs to know where sections start, so every block
carries a layout hint: "heading" (with its depth when the format has one),
"numbered" (a line that opens with a section number such as "3.2.1", kept in
the text because the number *is* the clause reference), "bullet", "row" (a
table row, cells joined with " | ", from Markdown and Word tables) or "body".
Plain text and PDFs have no explicit structure, so the same general line rules
infer it for both: numbers, bullets, ALL-CAPS lines and short title lines.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from pypdf import PasswordType, PdfReader

from handover.capture.notes import Line, docx_blocks, markdown_lines, plain_lines
from handover.capture.text import decode_text, squash_spaces, strip_inline_markdown
from handover.errors import InputError
from handover.types import Block, Segment

# "3.2.1 Title", "3.2.1. Title" or a bare "3.2.1." whose title is on the next line.
_SECTION = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,3})+\.?)(?=\s+\S|$)")
_NUMBER_ONLY = re.compile(r"^\d{1,3}(?:\.\d{1,3})*\.?$")
_ENDS_SENTENCE = re.compile(r"[.,;!?]$")
_TITLE_MAX_WORDS = 8
_TITLE_MAX_CHARS = 60
_COLON_HEADING_MAX_WORDS = 5
_CAPS_HEADING_MAX_WORDS = 12
# A PDF line this much shorter than the usual line length ended its paragraph.
_SHORT_LINE = 0.65
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?(?:\s*[-–—])?$", re.IGNORECASE
)
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}
)


@dataclass
class _Draft:
    style: str
    level: int | None
    offset: int
    lines: list[str] = field(default_factory=list)
    verbatim: bool = False


def _starts_upper(text: str) -> bool:
    first = text[:1]
    return first.isupper() or first.isdigit()


def _title_like(text: str) -> bool:
    """Short, capitalised and not ending like a sentence: how section titles look."""
    words = text.split()
    return (
        0 < len(words) <= _TITLE_MAX_WORDS
        and len(text) <= _TITLE_MAX_CHARS
        and _starts_upper(text)
        and not _ENDS_SENTENCE.search(text)
    )


def _heading_line(text: str) -> bool:
    """ALL-CAPS lines and short "Label:" lines are headings in plain-text documents."""
    words = text.split()
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 3 and all(ch.isupper() for ch in letters):
        return len(words) <= _CAPS_HEADING_MAX_WORDS
    return text.endswith(":") and len(words) <= _COLON_HEADING_MAX_WORDS and _starts_upper(text)


def _decimal_continues(previous: str, after_number: str) -> bool:
    """Whether "3.5 days ..." is the wrap of a sentence rather than section 3.5."""
    rest = after_number.strip()
    return bool(rest) and rest[0].islower() and not re.search(r"[.:;!?]$", previous)


def _typical_width(lines: list[Line]) -> int:
    widths = sorted(len(ln.text) for ln in lines if ln.kind in ("text", "item"))
    if not widths:
        return 0
    return widths[min(len(widths) - 1, int(len(widths) * 0.8))]


def _joins(current: _Draft, line: Line, mode: str, previous_short: bool) -> bool:
    """Whether a text line continues the current block rather than starting one."""
    if current.style == "heading":
        return False
    previous = current.lines[-1]
    if _NUMBER_ONLY.match(previous):
        return True  # "3.2.1." alone: the title follows on the next line
    if mode == "md" or current.verbatim:
        return True  # Markdown separates paragraphs with blank lines
    if line.indent and current.style in ("bullet", "numbered"):
        return True  # the indented wrap of a list item
    if not _starts_upper(line.text):
        return True
    if len(current.lines) == 1 and _title_like(previous):
        return False  # a title line, then its body
    return not (mode == "pdf" and previous_short)


def _draft_blocks(lines: list[Line], mode: str) -> list[_Draft]:
    """Classify lines into drafts; ``mode`` is "md", "txt" or "pdf"."""
    drafts: list[_Draft] = []
    current: _Draft | None = None
    typical = _typical_width(lines) if mode == "pdf" else 0
    previous_short = False
    for ln in lines:
        short = mode == "pdf" and len(ln.text) < _SHORT_LINE * typical
        if ln.kind in ("blank", "rule"):
            current = None
        elif ln.kind in ("heading", "row"):
            style = ln.kind  # "heading", or "row": a table row, its cells joined by " | "
            drafts.append(_Draft(style, ln.level, ln.offset, [ln.text]))
            current = None
        elif ln.kind == "code":
            # Blank lines at the top of a fence start nothing: the offset is the words'.
            if (current is None or not current.verbatim) and ln.text:
                current = _Draft("body", None, ln.offset, verbatim=True)
                drafts.append(current)
            if current is not None and current.verbatim:
                current.lines.append(ln.text)
        elif ln.kind == "item" and ln.marker is not None and ln.marker_offset is not None:
            marker = ln.marker
            if marker[0].isdigit():
                current = _Draft("numbered", 1, ln.marker_offset, [f"{marker} {ln.text}"])
            elif marker.strip("()").isalpha():
                current = _Draft("numbered", None, ln.marker_offset, [f"{marker} {ln.text}"])
            else:
                current = _Draft("bullet", None, ln.offset, [ln.text])
            drafts.append(current)
        else:
            section = _SECTION.match(ln.text)
            continues = (
                current is not None
                and current.style == "body"
                and section is not None
                and _decimal_continues(current.lines[-1], ln.text[section.end() :])
            )
            if section and not continues:
                depth = section.group("num").rstrip(".").count(".") + 1
                current = _Draft("numbered", depth, ln.offset, [ln.text])
                drafts.append(current)
            elif mode != "md" and _heading_line(ln.text):
                drafts.append(_Draft("heading", None, ln.offset, [ln.text]))
                current = None
            elif current is not None and _joins(current, ln, mode, previous_short):
                current.lines.append(ln.text)
            else:
                current = _Draft("body", None, ln.offset, [ln.text])
                drafts.append(current)
        previous_short = short
    if mode != "md":
        # A lone short title line followed by more text is a heading: "Payment terms".
        for draft in drafts[:-1]:
            if draft.style == "body" and len(draft.lines) == 1 and _title_like(draft.lines[0]):
                draft.style = "heading"
    return drafts


def _join_lines(lines: list[str]) -> str:
    """Join wrapped lines with spaces, except after a hyphen that wrapped
    ("re-" / "assess"), where the hyphen is kept and no space is added, so the
    phrase reads as the author wrote it."""
    text = ""
    for line in lines:
        line = line.strip()
        if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[:1].islower():
            text += line
        else:
            text = f"{text} {line}" if text else line
    return squash_spaces(text)


def _to_blocks(drafts: list[_Draft], markdown: bool, keep_offsets: bool) -> list[Block]:
    blocks: list[Block] = []
    for draft in drafts:
        text = _join_lines(draft.lines)
        if markdown and not draft.verbatim:
            text = squash_spaces(strip_inline_markdown(text))
        if text:
            blocks.append(
                Block(
                    ordinal=len(blocks),
                    text=text,
                    style=draft.style,
                    level=draft.level,
                    offset=draft.offset if keep_offsets else None,
                )
            )
    return blocks


def _refine_docx(blocks: list[Block]) -> list[Block]:
    """Word body paragraphs that open with a typed section number are numbered too."""
    refined: list[Block] = []
    for block in blocks:
        if block.style == "body":
            section = _SECTION.match(block.text)
            if section:
                depth = section.group("num").rstrip(".").count(".") + 1
                block = Block(block.ordinal, block.text, "numbered", depth, block.offset)
        refined.append(block)
    return refined


def _pdf_text(data: bytes, name: str) -> str:
    """Extract the text layer of a PDF, page by page, without headers' page numbers.

    Many "protected" PDFs only have an owner password (no password to open), so
    the empty password is tried before giving up.
    """
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                result = reader.decrypt("")
            except Exception:  # unsupported or broken encryption
                result = PasswordType.NOT_DECRYPTED
            if result == PasswordType.NOT_DECRYPTED:
                raise InputError(
                    f"{name}: is password-protected; export an unencrypted copy and add it again"
                )
        pages: list[str] = []
        for page in reader.pages:
            lines = [ln.strip() for ln in (page.extract_text() or "").splitlines()]
            lines = [ln for ln in lines if ln]
            if lines and _PAGE_NUMBER.match(lines[-1]):
                lines.pop()
            if lines and _PAGE_NUMBER.match(lines[0]):
                lines.pop(0)
            pages.append("\n".join(lines))
    except InputError:
        raise
    except Exception as exc:  # pypdf raises many types (PdfReadError, KeyError, ...)
        raise InputError(
            f"{name}: could not be read as a PDF ({type(exc).__name__}); it may be damaged, "
            "so export it again and add the new copy"
        ) from None
    text = "\n".join(pages).translate(_LIGATURES).replace("\x00", "")
    if not text.strip():
        raise InputError(
            f"{name}: has no text layer (scanned?); run it through OCR or export the "
            "original document as PDF, .docx or text and add it again"
        )
    return text


def scope_blocks(data: bytes, name: str, fmt: str) -> list[Block]:
    """Read a scope document into layout blocks for the clause splitter.

    Offsets are kept for md/txt (they point into the decoded text); PDF and Word
    documents have no such text, so their offsets are None.
    """
    if fmt == "docx":
        return _refine_docx(docx_blocks(data, name))
    if fmt == "pdf":
        blocks = _to_blocks(_draft_blocks(plain_lines(_pdf_text(data, name)), "pdf"), False, False)
    elif fmt == "md":
        text = decode_text(data, name)
        blocks = _to_blocks(_draft_blocks(markdown_lines(text), "md"), True, True)
    elif fmt == "txt":
        text = decode_text(data, name)
        blocks = _to_blocks(_draft_blocks(plain_lines(text), "txt"), False, True)
    else:
        raise InputError(f"{name}: unknown scope format {fmt!r}; use md, txt, docx or pdf")
    if not blocks:
        raise InputError(f"{name}: has no text in it; check you picked the right document")
    return blocks


def blocks_to_segments(blocks: list[Block]) -> list[Segment]:
    """Scope blocks as plain segments, for stages that only need the words."""
    return [
        Segment(ordinal=i, text=block.text, offset=block.offset) for i, block in enumerate(blocks)
    ]
