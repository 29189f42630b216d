"""The hostile-input corpus: every broken or hostile file in ``tests/corpus/cases.toml``
goes through the real ``handover add`` (and ``process`` where the case says so).

Each case ends in one of two ways: a one-line error naming the file with a non-zero exit,
or safe handling that a named check confirms. After every case the database passes
``PRAGMA integrity_check``, no row of the baseline deal changed (it was processed and has a
decision), and a refused file left no blob behind.

The baseline home is built once per module; each case runs in its own copy of it, so the
cases are independent and the models load once. Small files are committed in
``tests/corpus/``; large or awkward ones (zip bombs, PDFs, a 10 MB line, names a checkout
cannot hold) are made by the generators below.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import re
import shutil
import sqlite3
import struct
import tomllib
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from handover.blobs import BlobStore
from handover.config import Settings
from handover.errors import HandoverError
from handover.ingest import add_file
from handover.store import Store
from handover.types import SourceKind
from tests.conftest import AUDIO, CliResult, run_cli

CORPUS = Path(__file__).parent / "corpus"
BASE, CASE = "baseline", "hostile"
MIB = 1024 * 1024

BASE_VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Dana Whitfield>We will train all twenty supervisors by March.</v>

00:00:05.000 --> 00:00:08.000
<v Maria Gonzalez>Our biggest worry is the billing migration slipping.</v>
"""
BASE_SOW = """# Statement of work

## 1. Scope

1.1 Northwind will train up to 10 supervisors.

1.2 Migration of billing data is out of scope.
"""


# --- generated files ---------------------------------------------------------------------

Generator = Callable[[], bytes]
GENERATORS: dict[str, Generator] = {}


def generator(fn: Generator) -> Generator:
    GENERATORS[fn.__name__] = fn
    return fn


def _wav(declared_seconds: float, actual_seconds: float) -> bytes:
    """A 16 kHz mono 16-bit WAV whose header announces ``declared_seconds`` of audio."""
    rate, width = 16_000, 2
    declared = int(declared_seconds * rate) * width
    data = b"\x00\x01" * int(actual_seconds * rate)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * width, width, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + declared)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", declared)
        + data
    )


# Made here rather than committed: `ruff format --check .` reads every .md in the checkout
# and stops at one that is not UTF-8.
@generator
def gzip_named_md() -> bytes:
    return gzip.compress(b"# Notes\n\nWe will train all twenty supervisors.\n", mtime=0)


@generator
def md_utf16le_bom() -> bytes:
    return codecs.BOM_UTF16_LE + "# Notizen\n\n- Jürgen: we will train the Prüfer team.\n".encode(
        "utf-16-le"
    )


@generator
def wav_header_only() -> bytes:
    return _wav(0, 0)


@generator
def wav_cut_short() -> bytes:
    return _wav(600, 2.0)


@generator
def wav_size_unknown() -> bytes:
    wav = bytearray(_wav(0, 2.0))
    wav[40:44] = b"\xff\xff\xff\xff"  # the data chunk's size
    return bytes(wav)


@generator
def mp3_bytes() -> bytes:
    return (AUDIO / "hello.mp3").read_bytes()


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered object bodies (1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
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
    return bytes(out)


def _stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(content), extra, content)


def _page(resources: bytes) -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
        + resources
        + b" /Contents 4 0 R >>",
    ]


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a real text layer (Helvetica), one text line per entry."""
    shown = b" T* ".join(
        b"(%s) Tj"
        % line.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        for line in lines
    )
    content = b"BT /F1 12 Tf 16 TL 72 720 Td " + shown + b" ET"
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    return _pdf([*_page(b"<< /Font << /F1 5 0 R >> >>"), _stream(content), font])


SOW_LINES = [
    "1. Scope",
    "1.1 Northwind will train up to 10 depot supervisors.",
    "1.2 Migration of billing data is out of scope.",
]


def _encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@generator
def pdf_password() -> bytes:
    return _encrypted(text_pdf(SOW_LINES), "open-sesame")


@generator
def pdf_owner_password_only() -> bytes:
    return _encrypted(text_pdf(SOW_LINES), "")


@generator
def pdf_scanned() -> bytes:
    """An image-only page, as a scanner makes: no text layer at all."""
    pixels = bytes((x * 7 + y * 13) % 256 for y in range(32) for x in range(32))
    image = _stream(
        pixels,
        b"/Type /XObject /Subtype /Image /Width 32 /Height 32 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 ",
    )
    content = b"q 400 0 0 400 100 300 cm /Im1 Do Q"
    return _pdf([*_page(b"<< /XObject << /Im1 5 0 R >> >>"), _stream(content), image])


@generator
def pdf_truncated() -> bytes:
    pdf = text_pdf(SOW_LINES)
    return pdf[: len(pdf) // 3]


def _docx(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _replace_member(data: bytes, name: str, body: bytes) -> bytes:
    """The zip ``data`` with member ``name`` replaced by ``body``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            payload = body if info.filename == name else src.read(info.filename)
            dst.writestr(info.filename, payload, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


@generator
def docx_empty() -> bytes:
    return _docx([])


@generator
def docx_broken_xml() -> bytes:
    return _replace_member(_docx(["We will train"]), "word/document.xml", b"<w:document><w:body")


@generator
def docx_without_body() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "We will train all twenty supervisors.")
    return out.getvalue()


@generator
def xlsx_named_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


def _zeros_deflate(mib: int) -> bytes:
    """A raw deflate stream of ``mib`` MiB of zeros, built without compressing them all:
    after a full flush the compressor starts afresh, so every 1 MiB block is the same."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * mib + compressor.flush()


@dataclass
class _Member:
    name: str
    raw: bytes  # the stored bytes (deflated, or plain with method 0)
    crc: int
    size: int  # the declared uncompressed size
    method: int = 8


def _zip(members: list[_Member]) -> bytes:
    """A zip written by hand, so declared sizes and CRCs can be whatever a bomb says."""
    out, central = bytearray(), bytearray()
    for m in members:
        offset = len(out)
        name = m.name.encode()
        fields = struct.pack("<HHHHHIII", 20, 0, m.method, 0, 0x21, m.crc, len(m.raw), m.size)
        out += b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name + m.raw
        central += (
            b"PK\x01\x02"
            + struct.pack("<H", 20)
            + fields
            + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, offset)
            + name
        )
    count = len(members)
    eocd = struct.pack("<HHHHIIH", 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + b"PK\x05\x06" + eocd)


def _bomb_docx(document_xml: _Member) -> bytes:
    """A real Word document whose word/document.xml is replaced by ``document_xml``."""
    members = []
    with zipfile.ZipFile(io.BytesIO(_docx(["We will train all twenty supervisors."]))) as real:
        for info in real.infolist():
            if info.filename == "word/document.xml":
                members.append(document_xml)
                continue
            body = real.read(info.filename)
            members.append(_Member(info.filename, body, zlib.crc32(body), len(body), method=0))
    return _zip(members)


@generator
def docx_bomb_declared() -> bytes:
    """word/document.xml honestly declares 3.9 GB (of zeros); the file is ~4 MB."""
    mib = 3900
    return _bomb_docx(_Member("word/document.xml", _zeros_deflate(mib), 0, mib * MIB))


@generator
def docx_bomb_ratio() -> bytes:
    """150 MB of zeros: under the size cap, but a ratio no real document has."""
    mib = 150
    return _bomb_docx(_Member("word/document.xml", _zeros_deflate(mib), 0, mib * MIB))


@generator
def docx_bomb_lying() -> bytes:
    """The header says 20 KB; the deflate stream would inflate to 2 GB."""
    return _bomb_docx(_Member("word/document.xml", _zeros_deflate(2048), 0, 20_000))


@generator
def zip_bomb_mimetype() -> bytes:
    """Not a docx: detection reads the 'mimetype' member to tell an OpenDocument file."""
    return _zip([_Member("mimetype", _zeros_deflate(2048), 0, 40)])


FILLER = "Depot 12 runs the morning dispatch shift with three trucks and two drivers. "
PROMISES = (
    "We will train all twenty supervisors at the Reno depot. ",
    "We'll send weekly status reports every Friday. ",
    "We will migrate the billing history before go-live. ",
)


@generator
def md_10mb_line() -> bytes:
    """One 10 MB line (ten times spaCy's max_length): promises at the start, past the
    first megabyte and at the very end, so every piece of the chunked text is read."""
    target = 10 * MIB
    filler = FILLER * (target // len(FILLER) // 2)
    line = PROMISES[0] + filler + PROMISES[1] + filler + PROMISES[2]
    return ("# Notes\n\n" + line.strip()).encode()


@generator
def vtt_broken_named() -> bytes:
    """Broken content for the odd-name cases: the error must still be one line."""
    return b"WEBVTT\n\nno cues here\n"


@generator
def md_notes() -> bytes:
    return b"# Notes\n\n- We will send the migration plan on Friday.\n"


@generator
def vtt_good() -> bytes:
    return (
        b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n"
        b"<v Dana Whitfield>We will send the migration plan on Friday.</v>\n"
    )


# --- the manifest --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    expect: str  # "error" or "ok"
    why: str
    file: str | None = None  # committed, relative to tests/corpus
    make: str | None = None  # a generator above
    name: str | None = None  # the name on disk (or the upload name with via = "ingest")
    via: str = "cli"  # "cli": `handover add`; "ingest": ingest.add_file(name=...) as the web does
    as_kind: str | None = None
    title: str | None = None
    process: bool = False
    message: str | None = None  # for errors: a piece of the message
    shown_name: str | None = None  # the name the error or the source shows, when cleaned
    checks: tuple[str, ...] = field(default_factory=tuple)
    contains: str | None = None
    max_peak_mb: int | None = None

    def data(self) -> bytes:
        if self.make:
            return GENERATORS[self.make]()
        assert self.file
        return (CORPUS / self.file).read_bytes()

    def disk_name(self) -> str:
        if self.via == "ingest" or not self.name:
            return Path(self.file or f"{self.make}.bin").name
        return self.name


def load_cases() -> list[Case]:
    raw = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))
    cases = []
    for entry in raw["case"]:
        entry = dict(entry)
        entry["as_kind"] = entry.pop("as", None)
        entry["checks"] = tuple(entry.get("checks", ()))
        cases.append(Case(**entry))
    return cases


CASES = load_cases()


def test_manifest_is_complete() -> None:
    """Every committed file is in the manifest, every case names one input, ids are unique."""
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 40
    committed = {p.name for p in CORPUS.iterdir()} - {"cases.toml"}
    used = {Path(c.file).name for c in CASES if c.file and "/" not in c.file}
    assert committed == used
    for case in CASES:
        assert (case.file is None) != (case.make is None), case.id
        assert case.make is None or case.make in GENERATORS, case.id
        assert case.expect in ("error", "ok"), case.id
        assert case.expect == "ok" or case.message, case.id
        assert case.expect == "error" or case.checks or case.contains, case.id


# --- the baseline home ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with a processed deal that has a decision, and an empty deal for the cases."""
    home = tmp_path_factory.mktemp("corpus") / "home"
    files = home.parent / "files"
    files.mkdir()
    (files / "call.vtt").write_text(BASE_VTT)
    (files / "sow.md").write_text(BASE_SOW)
    steps: list[tuple[str, ...]] = [
        ("deal", "add", BASE, "--name", "Base", "--customer", "Acme", "--vendor", "Northwind"),
        ("people", BASE, "--vendor", "Dana Whitfield", "--customer", "Maria Gonzalez"),
        ("add", BASE, str(files / "call.vtt"), "--date", "2026-11-02"),
        ("add", BASE, str(files / "sow.md"), "--as", "scope", "--date", "2026-11-03"),
        ("process", BASE),
        ("deal", "add", CASE, "--name", "Hostile", "--customer", "Acme", "--vendor", "Northwind"),
        ("people", CASE, "--vendor", "Dana Whitfield", "--customer", "Maria Gonzalez"),
    ]
    for step in steps:
        assert run_cli(home, *step) == 0, step
    conn = sqlite3.connect(home / "handover.db")
    item = conn.execute("SELECT id FROM items ORDER BY id LIMIT 1").fetchone()[0]
    conn.close()
    decision = ("review", BASE, item, "--decision", "accepted-gap", "--by", "Lee")
    assert run_cli(home, *decision, "--note", "agreed") == 0
    return home


@pytest.fixture
def home(baseline: Path, tmp_path: Path) -> Path:
    """Each case's own copy of the baseline home (overrides conftest's empty one)."""
    copy = tmp_path / "home"
    shutil.copytree(baseline, copy)
    return copy


_BASE_TABLES = {
    "deals": "SELECT * FROM deals WHERE slug = :slug",
    "sources": "SELECT * FROM sources WHERE deal_id = :deal",
    "segments": "SELECT g.* FROM segments g JOIN sources s ON s.id = g.source_id "
    "WHERE s.deal_id = :deal",
    "clauses": "SELECT c.* FROM clauses c JOIN sources s ON s.id = c.source_id "
    "WHERE s.deal_id = :deal",
    "items": "SELECT * FROM items WHERE deal_id = :deal",
    "mentions": "SELECT m.* FROM mentions m JOIN items i ON i.id = m.item_id "
    "WHERE i.deal_id = :deal",
    "traces": "SELECT t.* FROM traces t JOIN items i ON i.id = t.item_id WHERE i.deal_id = :deal",
    "decisions": "SELECT * FROM decisions WHERE deal_id = :deal",
}


def baseline_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the baseline deal, to prove a case changed none of them."""
    conn = sqlite3.connect(db)
    try:
        deal = conn.execute("SELECT id FROM deals WHERE slug = ?", (BASE,)).fetchone()[0]
        params = {"slug": BASE, "deal": deal}
        return {
            table: conn.execute(sql + " ORDER BY 1", params).fetchall()
            for table, sql in _BASE_TABLES.items()
        }
    finally:
        conn.close()


def blob_files(home: Path) -> set[str]:
    """Everything under blobs/, temporary files included."""
    root = home / "blobs"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# --- running a case -------------------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    err: str = ""  # the CLI's stderr
    error: HandoverError | None = None  # via = "ingest"
    peak_mb: float | None = None  # of `add`, when the case sets max_peak_mb


def _write_input(case: Case, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / case.disk_name()
    path.write_bytes(case.data())
    return path


def run_case(case: Case, home: Path, cli: Callable[..., CliResult], tmp: Path) -> Outcome:
    """Add the case's file (as the CLI or as a web upload would), then process if asked."""
    if case.via == "ingest":
        # The web streams an upload to a temporary file and passes the name it was sent with.
        path = _write_input(case, tmp / "upload")
        settings = Settings.load(home)
        store = Store.open(settings.db_path)
        try:
            add_file(
                store,
                BlobStore(settings.blob_dir),
                settings,
                store.deal(CASE),
                path,
                as_kind=SourceKind(case.as_kind) if case.as_kind else None,
                title=case.title,
                name=case.name,
            )
        except HandoverError as exc:
            return Outcome(1, error=exc)
        finally:
            store.close()
        return Outcome(0)
    path = _write_input(case, tmp / "in")
    args: list[str | os.PathLike[str]] = ["add", CASE, path, "--date", "2026-11-10"]
    if case.as_kind:
        args += ["--as", case.as_kind]
    if case.title is not None:
        args += ["--title", case.title]
    peak = None
    if case.max_peak_mb:
        tracemalloc.start()
    try:
        result = cli(*args)
    finally:
        if case.max_peak_mb:
            peak = tracemalloc.get_traced_memory()[1] / MIB
            tracemalloc.stop()
    if result.code == 0 and case.process:
        result = cli("process", CASE)
    return Outcome(result.code, result.err, peak_mb=peak)


def _case_rows(db: Path, sql: str, *params: Any) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


_AT_LEAST = re.compile(r"^(segments|clauses|items) >= (\d+)$")


def check_ok(case: Case, home: Path) -> None:
    db = home / "handover.db"
    sources = _case_rows(
        db, "SELECT s.* FROM sources s JOIN deals d ON d.id = s.deal_id WHERE d.slug = ?", CASE
    )
    assert len(sources) == 1, "the case's file was not stored exactly once"
    source = sources[0]
    if case.shown_name is not None:
        assert source["filename"] == case.shown_name
    assert source["filename"].isprintable() and "/" not in source["filename"]
    assert len(source["filename"]) <= 255
    if case.process:
        assert source["stage"] == "done", source["error"]
    segments = _case_rows(db, "SELECT * FROM segments WHERE source_id = ?", source["id"])
    for seg in segments:
        if seg["start"] is not None and seg["end"] is not None:
            assert 0 <= seg["start"] <= seg["end"], dict(seg)
        assert seg["offset"] is None or seg["offset"] >= 0
    by_id = {seg["id"]: seg["text"] for seg in segments}
    extractions = _case_rows(db, "SELECT * FROM extractions WHERE source_id = ?", source["id"])
    for ex in extractions:
        text = by_id[ex["segment_id"]]
        assert 0 <= ex["char_start"] < ex["char_end"] <= len(text)
        assert text[ex["char_start"] : ex["char_end"]] == ex["text"]
    clauses = _case_rows(db, "SELECT * FROM clauses WHERE source_id = ?", source["id"])
    counts = {"segments": len(segments), "clauses": len(clauses), "items": len(extractions)}
    for check in case.checks:
        if check == "no clauses":
            assert source["kind"] == "scope" and not clauses
            continue
        if check.startswith("title == "):
            assert source["title"] == check.removeprefix("title == ")
            continue
        if check.startswith("kind == "):
            assert source["kind"] == check.removeprefix("kind == ")
            continue
        m = _AT_LEAST.match(check)
        assert m, f"unknown check {check!r}"
        assert counts[m.group(1)] >= int(m.group(2)), (check, counts)
    if case.contains is not None:
        assert any(case.contains in (s["text"] + " " + (s["speaker"] or "")) for s in segments)


def check_error(case: Case, outcome: Outcome) -> None:
    assert outcome.code != 0
    if outcome.error is not None:
        message = outcome.error.message
    else:
        lines = outcome.err.splitlines()
        assert len(lines) == 1, outcome.err
        message = lines[0]
        assert message.startswith("error: ")
        assert "\x1b" not in message
    assert (case.shown_name or case.disk_name()) in message
    assert case.message and case.message in message


def _dump(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, home: Path, cli: Callable[..., CliResult], tmp_path: Path) -> None:
    db = home / "handover.db"
    before_dump, before_rows, before_blobs = _dump(db), baseline_rows(db), blob_files(home)
    outcome = run_case(case, home, cli, tmp_path)
    if case.expect == "error":
        check_error(case, outcome)
        assert _dump(db) == before_dump, "a refused file changed the database"
    else:
        assert outcome.code == 0, outcome.err or outcome.error
        assert "error:" not in outcome.err
        check_ok(case, home)
    if case.max_peak_mb is not None:
        assert outcome.peak_mb is not None and outcome.peak_mb < case.max_peak_mb
    assert _integrity(db) == "ok"
    assert baseline_rows(db) == before_rows
    after_blobs = blob_files(home)
    assert before_blobs <= after_blobs
    assert len(after_blobs - before_blobs) == (0 if case.expect == "error" else 1)
