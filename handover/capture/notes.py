"""Parsing meeting notes: plain text, Markdown and Word documents.

Notes have no timings, so each paragraph carries its character offset in the
decoded text instead; later stages use it to point a reviewer back at the exact
place a promise was written down. Markup is removed, words never are: a
customer's "re-assess & reinvigorate processes" must survive untouched.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docx
from docx.text.paragraph import Paragraph

from handover.capture.text import squash_spaces, strip_inline_markdown
from handover.errors import InputError
from handover.types import Block, Segment

# --- plain text and Markdown ---------------------------------------------------------

_MD_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MD_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)")
_MD_ATX_CLOSE = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_MD_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_MD_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_MD_QUOTE = re.compile(r"^ {0,3}(?:>[ \t]?)+")
_MD_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_CELLS_LEAD = re.compile(r"[\s|]*")  # what comes before a table row's first word
_MD_TASK = re.compile(r"\[[ xX]\][ \t]+")
# Bullets people type (incl. what Word and PDFs turn bullets into), Markdown's list
# markers, and ordered markers: "1.", "2)", "a)", "(iv)".
LIST_ITEM = re.compile(
    r"^(?P<indent>\s*)(?P<marker>[-*+•·▪◦‣–—●○■□➢✓✔\uf0b7]|\d{1,3}[.)]"
    r"|\(?[A-Za-z]\)|\(?(?:[ivx]{1,5}|[IVX]{1,5})\))[ \t]+(?=\S)"
)


@dataclass(frozen=True, slots=True)
class Line:
    """One source line with its block markup identified and removed.

    ``kind`` is "blank", "text", "heading", "item", "row" (a table row), "code"
    (inside a fence) or "rule". ``offset`` is where ``text`` starts in the
    document; ``marker``/``marker_offset`` keep a list marker as written, because
    in scope documents "3." is a section number, not decoration. ``indent`` tells
    a wrapped, indented list item from a new paragraph in plain text.
    """

    kind: str
    text: str
    offset: int
    level: int | None = None
    marker: str | None = None
    marker_offset: int | None = None
    indent: int = 0


def _line_offsets(lines: list[str]) -> list[int]:
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    return offsets


def _lead(line: str) -> int:
    return len(line) - len(line.lstrip())


def _item_line(line: str, start: int, markdown: bool) -> Line | None:
    item = LIST_ITEM.match(line)
    if item is None:
        return None
    skip = item.end()
    if markdown:
        task = _MD_TASK.match(line, skip)
        skip = task.end() if task else skip
    skip += _lead(line[skip:])  # a form feed or no-break space after the box is not a word
    return Line(
        "item",
        line[skip:].rstrip(),
        start + skip,
        marker=item.group("marker"),
        marker_offset=start + item.start("marker"),
    )


def plain_lines(text: str) -> list[Line]:
    """Split plain text into blank, list-item and text lines."""
    lines = text.split("\n")
    out: list[Line] = []
    for line, start in zip(lines, _line_offsets(lines), strict=True):
        if not line.strip():
            out.append(Line("blank", "", start))
            continue
        out.append(
            _item_line(line, start, markdown=False)
            or Line("text", line.strip(), start + _lead(line), indent=_lead(line))
        )
    return out


def markdown_lines(text: str) -> list[Line]:
    """A small line-based Markdown reader: enough block structure for notes and scope.

    Handles ATX and setext headings, list items (incl. task boxes), quotes,
    fenced code, tables and rules; inline markup is left for
    ``strip_inline_markdown`` so offsets stay exact.
    """
    lines = text.split("\n")
    out: list[Line] = []
    fence: str | None = None
    for raw, line_start in zip(lines, _line_offsets(lines), strict=True):
        if fence is not None:
            if raw.strip().startswith(fence):
                fence = None
                out.append(Line("blank", "", line_start))
            else:
                out.append(Line("code", raw.strip(), line_start + _lead(raw)))
            continue
        fence_match = _MD_FENCE.match(raw)
        if fence_match:
            fence = fence_match.group(1)[:3]
            out.append(Line("blank", "", line_start))
            continue
        quote = _MD_QUOTE.match(raw)
        line = raw[quote.end() :] if quote else raw
        start = line_start + (quote.end() if quote else 0)
        if not line.strip():
            out.append(Line("blank", "", start))
            continue
        setext = _MD_SETEXT.match(line)
        if setext and out and out[-1].kind == "text":
            prev = out[-1]
            out[-1] = Line("heading", prev.text, prev.offset, 1 if setext.group(1)[0] == "=" else 2)
            continue
        if _MD_RULE.match(line):
            out.append(Line("rule", "", start))
            continue
        atx = _MD_ATX.match(line)
        if atx:
            body = _MD_ATX_CLOSE.sub("", line[atx.end() :]).strip()
            words_at = atx.end() + _lead(line[atx.end() :])
            out.append(Line("heading", body, start + words_at, len(atx.group(1))))
            continue
        if _MD_TABLE_ROW.match(line):
            if not _MD_TABLE_RULE.match(line):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                first_cell = _CELLS_LEAD.match(line).end()
                out.append(Line("row", " | ".join(c for c in cells if c), start + first_cell))
            continue
        out.append(
            _item_line(line, start, markdown=True)
            or Line("text", line.strip(), start + _lead(line), indent=_lead(line))
        )
    return out


_LABELLED = re.compile(r"^[A-Z][\w'’]*(?:\s+[\w'’]+){0,3}\s*(?:\([^)]{1,30}\)\s*)?[:–—]\s")


def _group_notes(lines: list[Line]) -> list[tuple[int, list[str], bool]]:
    """Group lines into (offset, lines, verbatim) paragraphs: blank lines end a
    paragraph, headings, items and table rows each start one, and following text
    lines continue an item (a wrapped bullet)."""
    paras: list[tuple[int, list[str], bool]] = []
    current: list[str] | None = None
    current_kind = ""
    for ln in lines:
        if ln.kind in ("blank", "rule"):
            current = None
        elif ln.kind in ("heading", "row"):
            paras.append((ln.offset, [ln.text], False))
            current = None
        elif ln.kind == "item":
            current, current_kind = [ln.text], "item"
            paras.append((ln.offset, current, False))
        elif ln.kind == "code":
            # Blank lines at the top of a fence start nothing: the offset is the words'.
            if (current is None or current_kind != "code") and ln.text:
                current, current_kind = [], "code"
                paras.append((ln.offset, current, True))
            if current is not None and current_kind == "code":
                current.append(ln.text)
        else:
            # A typed line that opens with a label ("Action: Greg – …") is its own
            # line, not the wrapped end of the one above.
            if current is None or current_kind == "code" or _LABELLED.match(ln.text):
                current, current_kind = [], "text"
                paras.append((ln.offset, current, False))
            elif not any(current):  # an empty item ("- [ ]"): its words start here
                paras[-1] = (ln.offset, current, False)
            current.append(ln.text)
    return paras


def parse_notes(text: str, name: str, fmt: str) -> list[Segment]:
    """Split decoded notes into paragraph segments with their offsets.

    ``offset`` is where the paragraph's words begin in ``text`` (after any
    heading hashes or bullet marker), so ``text[offset:]`` starts with them.
    Typed bullets in a .txt are list items too: a list of action items is as much
    a list there as in Markdown.
    """
    if fmt == "md":
        lines = markdown_lines(text)
    elif fmt == "txt":
        lines = plain_lines(text)
    else:
        raise InputError(f"{name}: unknown notes format {fmt!r}; use md or txt")
    segments: list[Segment] = []
    for offset, para, verbatim in _group_notes(lines):
        words = squash_spaces(" ".join(para))
        if fmt == "md" and not verbatim:
            words = squash_spaces(strip_inline_markdown(words))
        if words:
            segments.append(Segment(ordinal=len(segments), text=words, offset=offset))
    if not segments:
        raise InputError(f"{name}: has no paragraphs of text; check you picked the right file")
    return segments


# --- Word documents ------------------------------------------------------------------

MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
_BOMB_RATIO = 100
_BOMB_MIN_MEMBER = 1024 * 1024  # small members compress absurdly well legitimately

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RUN_TEXT_XPATH = (
    ".//w:r[not(ancestor::w:txbxContent)]/*[self::w:t or self::w:tab or self::w:br"
    " or self::w:cr or self::w:noBreakHyphen]"
)
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def check_docx_zip(data: bytes, name: str) -> None:
    """Refuse non-zips, zip bombs and zips without a Word body before parsing.

    python-docx would inflate every part into memory, so the declared sizes are
    checked first; zipfile never returns more than the declared size of a member
    (and fails the CRC if the stream lies), so the declared sizes are a real cap.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise InputError(
            f"{name}: is not a Word document (.docx) or is damaged; "
            "open it in Word, save it as .docx and add it again"
        ) from None
    total = sum(info.file_size for info in infos)
    if total > MAX_DOCX_UNCOMPRESSED:
        raise InputError(
            f"{name}: would unpack to {total // (1024 * 1024)} MB, over the "
            f"{MAX_DOCX_UNCOMPRESSED // (1024 * 1024)} MB limit; remove embedded media "
            "or split the document and add it again"
        )
    for info in infos:
        if info.file_size >= _BOMB_MIN_MEMBER and (
            info.file_size > _BOMB_RATIO * max(info.compress_size, 1)
        ):
            raise InputError(
                f"{name}: is compressed suspiciously well ({info.filename} inflates over "
                f"{_BOMB_RATIO}x), which is how zip bombs look; re-save it from Word "
                "and add it again"
            )
    if not any(info.filename == "word/document.xml" for info in infos):
        raise InputError(
            f"{name}: is a zip file but not a Word document (no word/document.xml); "
            "save it from Word as .docx and add it again"
        )
    for info in infos:
        _check_member(data, info, name)


_ZIP_LOCAL_HEADER = 30
_INFLATE_STEP = 256 * 1024


def _check_member(data: bytes, info: zipfile.ZipInfo, name: str) -> None:
    """Refuse a member that inflates past its declared size, inflating it step by step.

    zipfile stops returning data at the declared size, but reading a whole member (as
    python-docx does) first inflates everything the stream holds, so a header that
    understates the size would let a small file fill gigabytes of memory. Word only
    stores or deflates; other methods (bzip2, lzma) inflate without any bound in zipfile.
    """
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1:
        raise InputError(
            f"{name}: {info.filename} is encrypted or compressed in a way Word never uses; "
            "open it in Word, save it as .docx and add it again"
        )
    header = data[info.header_offset : info.header_offset + _ZIP_LOCAL_HEADER]
    if len(header) < _ZIP_LOCAL_HEADER or header[:4] != b"PK\x03\x04":
        return  # python-docx reports the damage
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = info.header_offset + _ZIP_LOCAL_HEADER + name_len + extra_len
    raw = memoryview(data)[start : start + info.compress_size]
    produced = len(raw)
    if info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        produced = 0
        try:
            for pos in range(0, len(raw), _INFLATE_STEP):
                pending = bytes(raw[pos : pos + _INFLATE_STEP])
                while pending and not inflater.eof and produced <= info.file_size:
                    produced += len(inflater.decompress(pending, _INFLATE_STEP))
                    pending = inflater.unconsumed_tail
                if inflater.eof or produced > info.file_size:
                    break
        except zlib.error:
            return  # a damaged stream: python-docx reports it
    if produced > info.file_size:
        raise InputError(
            f"{name}: {info.filename} inflates to more than its header says, which is how "
            "zip bombs look; re-save it from Word and add it again"
        )


def _paragraph_text(p: Any) -> str:
    """Visible text of a paragraph, including tracked insertions and fields that
    python-docx's ``Paragraph.text`` skips, with Word's non-breaking hyphen kept
    as "-" so hyphenated phrases match what the customer typed."""
    parts: list[str] = []
    for el in p.xpath(_RUN_TEXT_XPATH):
        tag = el.tag
        if tag == f"{_W}t":
            parts.append(el.text or "")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
        else:
            parts.append(" ")
    return squash_spaces("".join(parts))


def _style_of(paragraph: Any) -> tuple[str, int | None]:
    """Map Word styles to the layout hints: heading (with level), bullet or body.

    Custom styles are followed up their "based on" chain, and an explicit outline
    level counts as a heading, because people restyle "Heading 2" as "Clause Head".
    """
    p = paragraph._p
    ppr = p.pPr
    if ppr is not None:
        outline = ppr.find(f"{_W}outlineLvl")
        if outline is not None:
            value = outline.get(f"{_W}val", "")
            if value.isdigit() and int(value) < 9:
                return "heading", int(value) + 1
    try:
        style = paragraph.style
    except (KeyError, ValueError, AttributeError):
        style = None
    hops = 0
    while style is not None and hops < 10:
        style_name = (style.name or "").strip()
        heading = _HEADING_STYLE.match(style_name)
        if heading:
            return "heading", int(heading.group(1))
        if style_name.lower() == "title":
            return "heading", 0
        if style_name.lower().startswith("list"):
            return "bullet", None
        style = style.base_style
        hops += 1
    if ppr is not None:
        num = ppr.find(f"{_W}numPr")
        if num is not None:
            num_id = num.find(f"{_W}numId")
            if num_id is None or num_id.get(f"{_W}val") != "0":
                return "bullet", None
    return "body", None


def _unwrapped(container: Any, tag: str) -> Iterator[Any]:
    """Children with ``tag``, looking through content controls and custom XML, which
    Word may wrap around a paragraph, a row or a cell."""
    for child in container.iterchildren():
        if child.tag == tag:
            yield child
        elif child.tag in (f"{_W}sdt", f"{_W}customXml"):
            content = child.find(f"{_W}sdtContent")
            yield from _unwrapped(content if content is not None else child, tag)


def _body_items(container: Any) -> Iterator[Any]:
    """Paragraph elements and table rows (``w:tr``) in reading order, descending into
    content controls."""
    for child in container.iterchildren():
        if child.tag == f"{_W}p":
            yield child
        elif child.tag == f"{_W}tbl":
            yield from _unwrapped(child, f"{_W}tr")
        elif child.tag in (f"{_W}sdt", f"{_W}customXml"):
            content = child.find(f"{_W}sdtContent")
            yield from _body_items(content if content is not None else child)


def _cell_text(cell: Any) -> str:
    """All the words of a cell on one line: its paragraphs and any nested table,
    which is flattened in reading order because a row is one block."""
    parts = [_paragraph_text(p) for p in cell.xpath(".//w:p[not(ancestor::w:txbxContent)]")]
    return squash_spaces(" ".join(part for part in parts if part))


def _row_text(row: Any) -> str:
    """A table row as one line, cells joined with " | ", empty cells skipped.

    A row is one block because its cells only mean something together: a timeline
    row "Go-live | May 2027" ties the date to the milestone. A merged cell appears
    once (python-docx would repeat it); vertically merged continuations are empty.
    """
    cells = (_cell_text(cell) for cell in _unwrapped(row, f"{_W}tc"))
    return " | ".join(cell for cell in cells if cell)


def docx_blocks(data: bytes, name: str) -> list[Block]:
    """Read a .docx into blocks in body order, tables included, one block per row
    (style "row", header rows too).

    Tables matter: scope documents often keep deliverables and timelines in them.
    """
    check_docx_zip(data, name)
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
        blocks: list[Block] = []
        for element in _body_items(body):
            if element.tag == f"{_W}tr":
                text, style, level = _row_text(element), "row", None
            else:
                text = _paragraph_text(element)
                style, level = _style_of(Paragraph(element, document)) if text else ("", None)
            if text:
                blocks.append(Block(ordinal=len(blocks), text=text, style=style, level=level))
    except InputError:
        raise
    except Exception as exc:  # python-docx/lxml raise many types for broken files
        raise InputError(
            f"{name}: could not be read as a Word document ({type(exc).__name__}); "
            "open it in Word, save it as .docx and add it again"
        ) from None
    if not blocks:
        raise InputError(f"{name}: has no text in it; check you picked the right document")
    return blocks


def parse_notes_docx(data: bytes, name: str) -> list[Segment]:
    """Notes from a Word document: one segment per non-empty paragraph."""
    return [
        Segment(ordinal=i, text=block.text, offset=block.offset)
        for i, block in enumerate(docx_blocks(data, name))
    ]
