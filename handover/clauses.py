"""Split a scope document's layout blocks into numbered clauses.

A clause is the unit items are traced to: one bullet, one paragraph, one numbered
line or one table row, with the number and title of the section it sits in and
what kind of text it is (scope, exclusion, assumption).

Section numbers
    The document's own numbers are kept: a heading "2.5 Training" is section
    "2.5", a numbered line "3.2.1 The vendor ..." is clause "3.2.1". Everything
    else gets a generated number, always in the same way, so the same document
    always gets the same numbers:

    * a paragraph, bullet, list item or table row gets its section's number plus a
      letter in document order: "2.1.a", "2.1.b", ... "2.1.z", "2.1.aa". Letters
      cannot collide with the document's own (numeric) sub-sections. Blocks that
      follow a numbered clause are its sub-items ("3.2.1.a"); blocks before the
      first section belong to the preamble "0" ("0.a").
    * an unnumbered heading gets its parent's number plus the next sub-number the
      document does not use itself: "## Scope" under an untitled document is "1",
      "### Out of scope" under "2 Services" is "2.1" unless "2.1" exists, then "2.2".
      The document title (a first heading no later heading outranks) has no number.

Categories
    A clause is an EXCLUSION or an ASSUMPTION when its section heading says so
    (lexicons ``exclusion_headings`` / ``assumption_headings``), nested headings
    inheriting from their parent unless they name their own. A heading naming both
    ("Assumptions and exclusions") decides per clause by its wording. Outside such
    sections, a clause whose own words exclude ("... is out of scope", "excludes")
    is an exclusion, and one that puts the duty on the customer ("The client will
    provide ...", "It is assumed ...") an assumption. A lead-in ending in ":"
    ("The following are not included:") or a short label line ("Exclusions")
    passes its category to the list that follows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from handover.normalise import normalise
from handover.resources import lexicon
from handover.types import Block, Category, Clause

# "2.5 Training", "1. Scope", "3.2.2.", "Section 4 - Fees", "4) Fees". The top
# number has at most two digits so a heading "2027 roadmap" is not section 2027.
_NUMBER = re.compile(
    r"^(?:(?:section|clause|article|§)\s*)?(?P<num>\d{1,2}(?:\.\d{1,3})*)(?:\.(?!\d)|\))?"
    r"(?:\s*[-\u2013\u2014:]\s+|\s+|$)",
    re.IGNORECASE,
)
# Ordinal list markers the capture layer keeps in numbered blocks: "(a)", "ii)", "b.".
_LIST_MARKER = re.compile(r"^\(?(?:[A-Za-z]|[ivxIVX]{1,5})[.)]\s+")
_SENTENCE_END = re.compile(r"[.,;!?]$")
_TITLE_MAX_WORDS = 8
_TITLE_MAX_CHARS = 70
_LABEL_MAX_WORDS = 5
_HEADING_BODY_MAX_WORDS = 6  # "Training: up to 10 supervisors" has a short title
_LEAD_IN_VERB = re.compile(
    r"\b(?:will|shall|must|is|are|include|includes|including|following)\b", re.IGNORECASE
)

# Wording that makes a clause an exclusion whatever its section is called.
_EXCLUSION_CUE = re.compile(
    r"\b(?:out of scope|outofscope|not in scope|outside (?:of )?(?:the |this )?scope"
    r"|excluded|excludes|exclusions?|not part of|descoped"
    r"|(?:does|do|will|shall) not (?:include|cover)"
    r"|not (?:be )?(?:included|covered|provided|supplied|delivered|performed))\b"
)
# Wording that puts the duty on the customer or states a precondition.
_PARTY = r"(?:customer|client|buyer|purchaser|owner)s?"
_ASSUMPTION_CUE = re.compile(
    rf"^(?:the )?{_PARTY} (?:will|shall|must|agrees|is to|has to|(?:is|are|remains) responsible)\b"
    rf"|\b{_PARTY} (?:is|are|remains) responsible\b|\b{_PARTY} responsibilit"
    r"|\b(?:it is assumed|assumes that|assumed that|assuming that|assumptions?)\b"
)
_IN_SCOPE_LABELS = ("in scope", "inscope", "scope", "included", "inclusions", "deliverables")


def clause_sha256(text: str) -> str:
    """Hash of the clause's loose form: a re-export that only re-wraps, re-cases or
    re-punctuates a clause keeps its hash, so traces to it are not flagged."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def _has_phrase(norm: str, entries: Sequence[str]) -> bool:
    padded = f" {norm} "
    return any(f" {entry} " in padded for entry in entries)


@cache
def _lexicon_norm(name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalise(entry) for entry in lexicon(name)))


def heading_categories(title: str) -> frozenset[Category]:
    """The categories a heading names: {EXCLUSION}, {ASSUMPTION}, both, or none."""
    norm = normalise(title)
    found = set()
    if _has_phrase(norm, _lexicon_norm("exclusion_headings")):
        found.add(Category.EXCLUSION)
    if _has_phrase(norm, _lexicon_norm("assumption_headings")):
        found.add(Category.ASSUMPTION)
    return frozenset(found)


def _cue_category(text: str) -> Category | None:
    """The category the clause's own wording gives it, if any."""
    norm = normalise(text)
    if _EXCLUSION_CUE.search(norm):
        return Category.EXCLUSION
    if _ASSUMPTION_CUE.search(norm):
        return Category.ASSUMPTION
    return None


def _letters(n: int) -> str:
    """1 -> "a", 26 -> "z", 27 -> "aa": bijective base 26, so ids never run out."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


def _split_number(text: str) -> tuple[str | None, str]:
    """("2.5", "Training") for "2.5 Training"; (None, text) when it has no number."""
    match = _NUMBER.match(text)
    if match is None:
        return None, text
    return match.group("num"), text[match.end() :].strip()


def _title_like(text: str) -> bool:
    words = text.rstrip(":").split()
    first = text[:1]
    if text.endswith(":") and (len(words) > _LABEL_MAX_WORDS or _LEAD_IN_VERB.search(text)):
        return False  # "The supplier will provide:" introduces a list, it names nothing
    return (
        0 < len(words) <= _TITLE_MAX_WORDS
        and len(text) <= _TITLE_MAX_CHARS
        and (first.isupper() or first.isdigit())
        and not _SENTENCE_END.search(text)
    )


def _caps(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters)


@dataclass
class _Section:
    depth: float
    number: str | None  # "" for the document itself; None until an unnumbered one is used
    title: str
    categories: frozenset[Category]
    parent: _Section | None = None
    next_child: int = 1
    items: int = 0


@dataclass
class _Context:
    """A numbered clause that the blocks after it belong to ("3.2.1" -> "3.2.1.a")."""

    number: str
    section: _Section
    items: int = 0


@dataclass
class _Splitter:
    blocks: Sequence[Block]
    taken: set[str] = field(default_factory=set)
    clauses: list[Clause] = field(default_factory=list)
    stack: list[_Section] = field(default_factory=list)
    numbered: _Context | None = None  # the last numbered clause: later blocks are its items
    label: tuple[str, frozenset[Category]] | None = None
    lead: Category | None = None  # category a lead-in line passes to the list after it

    def run(self) -> list[Clause]:
        self._collect_numbers()
        root = _Section(-1, "", "", frozenset())
        self.stack = [root]
        title_index = self._title_index()
        for index, block in enumerate(self.blocks):
            text = (block.text or "").strip()
            if not text:
                continue
            if index == title_index:
                root.title = text
                root.categories = heading_categories(text)
                continue
            self._block(index, block, text)
        return self.clauses

    # --- structure -------------------------------------------------------------------

    def _collect_numbers(self) -> None:
        """The document's own section numbers, which generated ones must not reuse
        (list items counting "1.", "2." are not section numbers)."""
        for index, block in enumerate(self.blocks):
            text = (block.text or "").strip()
            number, rest = _split_number(text)
            if number is None or block.style not in ("heading", "numbered"):
                continue
            if (
                block.style == "heading"
                or not self._list_item(block, number)
                or self._is_title(index, number, rest)
            ):
                self.taken.add(number)

    @staticmethod
    def _list_item(block: Block, number: str) -> bool:
        """A single "3." from a typed list: a list ordinal, unless it titles a section."""
        return "." not in number and block.level is not None

    def _is_title(self, index: int, number: str, rest: str) -> bool:
        """Whether a numbered line is a section title: short, and followed by its body."""
        return bool(rest) and _title_like(rest) and self._next_is_content(index, number)

    def _title_index(self) -> int | None:
        """The first block is the document's title when it is an unnumbered heading
        that no later heading outranks."""
        first = next((i for i, b in enumerate(self.blocks) if (b.text or "").strip()), None)
        if first is None:
            return None
        block = self.blocks[first]
        if block.style != "heading" or _split_number(block.text.strip())[0]:
            return None
        for later in self.blocks[first + 1 :]:
            if later.style != "heading":
                continue
            if block.level is not None and later.level is not None and later.level <= block.level:
                return None
            if (
                block.level is None
                and later.level is None
                and _caps(later.text) == _caps(block.text)
                and not _split_number(later.text.strip())[0]
            ):
                return None
        return first

    def _number(self, section: _Section) -> str:
        """A section's number, generated on first use so that a heading with nothing
        under it (a document title, a cover-page line) spends no number."""
        if section.number is None and section.parent is not None:
            parent = section.parent
            prefix = self._number(parent)
            while True:
                candidate = f"{prefix}.{parent.next_child}" if prefix else str(parent.next_child)
                parent.next_child += 1
                if candidate not in self.taken:
                    break
            self.taken.add(candidate)
            section.number = candidate
        return section.number or ""

    def _open_section(self, number: str | None, title: str, depth: float) -> None:
        while len(self.stack) > 1 and self.stack[-1].depth >= depth:
            self.stack.pop()
        parent = self.stack[-1]
        own = heading_categories(title)
        self.stack.append(_Section(depth, number, title, own or parent.categories, parent))
        self.numbered = None
        self.label = None
        self.lead = None

    def _next_is_content(self, index: int, number: str) -> bool:
        """Whether the block after a numbered line is its body (so the line is a title)."""
        nxt = next((b for b in self.blocks[index + 1 :] if (b.text or "").strip()), None)
        if nxt is None or nxt.style == "heading":
            return False
        if nxt.style != "numbered":
            return True
        nxt_number, _ = _split_number(nxt.text.strip())
        if nxt_number is None:
            return "." in number  # "3.2.1 Title" then "(a) item"; "1." then "(a)" is a list
        return nxt_number.startswith(number + ".")

    # --- blocks ----------------------------------------------------------------------

    def _block(self, index: int, block: Block, text: str) -> None:
        if block.style == "heading":
            self._heading(block, text)
        elif block.style == "numbered":
            self._numbered(index, block, text)
        elif block.style in ("bullet", "row"):
            self._emit(text, in_list=True)
        else:
            self._body(index, text)

    def _heading(self, block: Block, text: str) -> None:
        number, title = _split_number(text)
        body = ""
        if ":" in title:
            head, _, rest = title.partition(":")
            rest = rest.strip()
            # "Training: up to 10 supervisors" carries a clause; "Phase 2: Build" is a title.
            carries = rest[:1].islower() or len(rest.split()) >= 4 or any(c.isdigit() for c in rest)
            if rest and carries and len(head.split()) <= _HEADING_BODY_MAX_WORDS:
                title, body = head.strip(), rest
        title = title.rstrip(":").strip() or (number or text)
        if block.level is not None:
            depth: float = block.level
        elif number is not None:
            depth = number.count(".") + 1
        else:
            # Plain text and PDFs give no depth: ALL-CAPS headings rank as major
            # sections, other title lines as their sub-sections. A title line after
            # "3.2.1 Data migration" is thus not filed under 3.2.1, and a title line
            # under "EXCLUSIONS" inherits the exclusion.
            depth = 1 if _caps(title) else 2
        self._open_section(number, title, depth)
        if body:
            self._emit(body, in_list=False)

    def _numbered(self, index: int, block: Block, text: str) -> None:
        number, rest = _split_number(text)
        if number is not None and self._list_item(block, number):
            if self._is_title(index, number, rest):
                self._open_section(number, rest, 1)
            else:
                self._emit(rest or text, in_list=True)
            return
        if number is None:
            marker = _LIST_MARKER.match(text)
            self._emit(text[marker.end() :].strip() if marker else text, in_list=True)
            return
        if self._is_title(index, number, rest):
            self._open_section(number, rest.rstrip(":"), number.count(".") + 1)
            return
        section = self.stack[-1]
        self.numbered = _Context(number, section)
        self.lead = None
        if rest:
            self._add(number, rest, self._category(rest, in_list=False))
            self._lead_in(rest)

    def _body(self, index: int, text: str) -> None:
        label = self._label(index, text)
        if label is not None:
            self.label = label
            self.lead = None
            return
        self.lead = None
        self._emit(text, in_list=False)

    def _label(self, index: int, text: str) -> tuple[str, frozenset[Category]] | None:
        """A short line like "Exclusions" or "In scope:" that names the list after it."""
        title = text.rstrip(":").strip()
        if len(title.split()) > _LABEL_MAX_WORDS or not _title_like(text):
            return None
        nxt = next((b for b in self.blocks[index + 1 :] if (b.text or "").strip()), None)
        if nxt is None or nxt.style == "heading":
            return None
        categories = heading_categories(title)
        if categories or _has_phrase(normalise(title), _IN_SCOPE_LABELS):
            return title, categories or frozenset({Category.SCOPE})
        return None

    def _lead_in(self, text: str) -> None:
        if text.endswith(":"):
            self.lead = _cue_category(text)

    def _emit(self, text: str, *, in_list: bool) -> None:
        if self.numbered is not None and self.numbered.section is self.stack[-1]:
            context: _Context | _Section = self.numbered
        else:
            self.numbered = None
            context = self.stack[-1]
        context.items += 1
        prefix = (context.number if isinstance(context, _Context) else self._number(context)) or "0"
        category = self._category(text, in_list=in_list)
        self._add(f"{prefix}.{_letters(context.items)}", text, category)
        if not in_list:
            self._lead_in(text)

    # --- categories ------------------------------------------------------------------

    def _category(self, text: str, *, in_list: bool) -> Category:
        categories = self.stack[-1].categories
        if self.label is not None:
            categories = self.label[1]
        cue = _cue_category(text)
        if in_list and self.lead is not None and cue is None:
            cue = self.lead
        if Category.EXCLUSION in categories and Category.ASSUMPTION in categories:
            return Category.EXCLUSION if cue is Category.EXCLUSION else Category.ASSUMPTION
        if Category.EXCLUSION in categories:
            return Category.EXCLUSION
        if cue is not None:
            return cue
        if Category.ASSUMPTION in categories:
            return Category.ASSUMPTION
        return Category.SCOPE

    def _add(self, section: str, text: str, category: Category) -> None:
        heading = self.label[0] if self.label is not None else self.stack[-1].title
        self.clauses.append(Clause(len(self.clauses), section, heading, text, category))


# No real clause comes near these; a paragraph that does is a lost line structure (a
# one-line export), and spaCy refuses texts over a million characters when it is traced.
MAX_CLAUSE_CHARS = 20_000
MAX_HEADING_CHARS = 500
_PIECE_END = re.compile(r"[.!?;][\"”’)]?\s")


def _pieces(text: str, limit: int) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` characters, at sentence ends where
    possible, else at a space."""
    pieces: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        ends = [m.end() for m in _PIECE_END.finditer(window)]
        cut = ends[-1] if ends and ends[-1] > limit // 2 else window.rfind(" ") + 1
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut].strip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return [piece for piece in pieces if piece]


def _bounded(blocks: Sequence[Block]) -> list[Block]:
    """Blocks no longer than a clause can be: an over-long heading is read as text, and an
    over-long paragraph is cut at sentence ends into paragraphs that follow one another
    (so a numbered one becomes the number and its lettered sub-items)."""
    out: list[Block] = []
    for block in blocks:
        text = block.text or ""
        style = block.style
        if style == "heading" and len(text) > MAX_HEADING_CHARS:
            style = "body"
        if style == block.style and len(text) <= MAX_CLAUSE_CHARS:
            out.append(block)
            continue
        level = block.level if style == block.style else None
        rest = style if style in ("bullet", "row") else "body"
        for n, piece in enumerate(_pieces(text, MAX_CLAUSE_CHARS)):
            first = n == 0
            out.append(
                Block(block.ordinal, piece, style if first else rest, level if first else None)
            )
    return out


def split_clauses(blocks: Sequence[Block]) -> list[Clause]:
    """Split a scope document's blocks (from ``scope_blocks``) into clauses.

    Headings are not clauses unless they carry text after a colon on the same
    line ("Training: up to 10 supervisors"); paragraphs stay whole unless they run over
    ``MAX_CLAUSE_CHARS``. Works the same for md, txt, docx and pdf blocks, and returns
    [] for no blocks.
    """
    return _Splitter(_bounded(blocks)).run()
