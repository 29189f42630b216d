"""Deciding what an added file is from its content, not from its name.

People attach whatever they have: a Teams .vtt, an Otter paste saved as .txt, a
phone recording renamed .mp3 that is really .m4a, a screenshot by mistake. The
content decides; the extension is only used to catch files whose name lies
(a PNG called "call.wav") and to choose between Markdown and plain text, because
a wrong guess stored silently surfaces weeks later as an empty handover.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass

from handover.capture.text import NotTextError, decode_text
from handover.capture.transcripts import looks_like_transcript, parse_pasted
from handover.errors import InputError
from handover.types import SourceKind

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_MIME = "application/pdf"
ZIP_MIME = "application/zip"
TEXT_MIMES = {
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "text": "text/plain",
    "md": "text/markdown",
    "txt": "text/plain",
}

AUDIO_EXTENSIONS: dict[str, str] = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".aac": "audio/aac",
    ".aiff": "audio/aiff",
    ".aif": "audio/aiff",
}
TEXT_EXTENSIONS = frozenset({".vtt", ".srt", ".txt", ".md", ".markdown"})
MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown"})

# What we refuse, with the words used in the error message.
REFUSED: dict[str, str] = {
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "image/gif": "a GIF image",
    "image/webp": "a WebP image",
    "image/tiff": "a TIFF image",
    "image/heic": "a HEIC/AVIF image",
    "application/x-executable": "a Linux program (ELF)",
    "application/x-msdownload": "a Windows program (.exe/.dll)",
    "application/gzip": "a gzip archive",
    "application/x-7z-compressed": "a 7-Zip archive",
    "application/vnd.rar": "a RAR archive",
    "application/x-bzip2": "a bzip2 archive",
    "application/x-xz": "an xz archive",
    "application/x-ole-storage": "an old-format Office file (.doc/.xls/.ppt)",
}

_WHAT_WE_READ = "not audio, a transcript, notes or a scope document"
_M4A_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})
_IMAGE_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
)
_WEBVTT = re.compile(r"^WEBVTT(?:[ \t].*)?$")
_TS = r"(?:\d{1,3}:)?\d{1,2}:\d{2}[,.]\d{1,3}"
_SRT_TIMING = re.compile(rf"^\s*{_TS}\s*-->\s*{_TS}")
_SRT_LOOKAHEAD_LINES = 10


@dataclass(frozen=True)
class Detected:
    """What a file is: its kind, the parser format, and a mime type to store."""

    kind: SourceKind
    fmt: str
    mime: str


def _mpeg_audio(head: bytes) -> str | None:
    """MP3 or ADTS AAC frame header, validated beyond the sync bits so that random
    binary starting with 0xFF is not taken for audio."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    if head[1] == 0xFE:
        return None  # the UTF-16-LE byte-order mark, not MPEG-1 Layer I (never used)
    if head[1] & 0xF6 == 0xF0:
        return "audio/aac"  # ADTS: 12 sync bits, layer 00
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    if version == 1 or layer == 0 or bitrate == 0xF or rate == 3:
        return None
    return "audio/mpeg"


def _iso_media(head: bytes) -> str:
    brand = head[8:12]
    if brand in _M4A_BRANDS:
        return "audio/mp4"
    if brand in _IMAGE_BRANDS:
        return "image/heic"
    if brand == b"qt  ":
        return "video/quicktime"
    if brand.startswith(b"3g"):
        return "video/3gpp"
    return "video/mp4"


_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "video/x-ms-asf"),
    (b"#!AMR", "audio/amr"),
    (b"caff\x00\x01", "audio/x-caf"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"PK\x03\x04", ZIP_MIME),
    (b"PK\x05\x06", ZIP_MIME),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x7fELF", "application/x-executable"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
)


def sniff(head: bytes) -> str | None:
    """A mime type from the first bytes of a file, or None when nothing matches.

    Only formats we accept or want to refuse by name are listed; text has no
    magic and is judged by decoding it.
    """
    if head[:4] == b"RIFF" and len(head) >= 12:
        form = head[8:12]
        if form == b"WAVE":
            return "audio/wav"
        if form == b"AVI ":
            return "video/x-msvideo"
        if form == b"WEBP":
            return "image/webp"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head[:1] == b"\x00" and head[4:8] in _QUICKTIME_ATOMS:
        # Classic QuickTime files start with a small atom instead of an ftyp box; the
        # NUL (a size under 16 MB) keeps "I'm free on Friday" from matching.
        return "video/quicktime"
    if head[:3] == b"ID3" and head[3:4] in (b"\x02", b"\x03", b"\x04"):
        return "audio/mpeg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head.lstrip(b"\t\r\n \xef\xbb\xbf")[:5] == b"%PDF-":
        return PDF_MIME
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if re.match(rb"BZh[1-9]1AY&SY", head):
        return "application/x-bzip2"
    if head[:2] == b"MZ" and b"\x00" in head[2:64]:
        return "application/x-msdownload"
    return _mpeg_audio(head)


def _extension(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return "." + base.rsplit(".", 1)[1] if "." in base.strip(".") else ""


def _expected_family(ext: str) -> str | None:
    if ext in AUDIO_EXTENSIONS:
        return "audio"
    if ext in TEXT_EXTENSIONS:
        return "text"
    if ext == ".docx":
        return "docx"
    if ext == ".pdf":
        return "pdf"
    return None


def _check_name(name: str, ext: str, family: str, content: str) -> None:
    """Refuse a file whose extension promises one family and content is another."""
    expected = _expected_family(ext)
    if expected is None or expected == family:
        return
    promised = {
        "audio": f"audio or video ({ext})",
        "text": f"a text file ({ext})",
        "docx": "a Word document (.docx)",
        "pdf": "a PDF (.pdf)",
    }[expected]
    raise InputError(
        f"{name}: the name says {promised} but the content looks like {content}; "
        "check you picked the right file, or rename it to match what it is"
    )


def _zip_kind(data: bytes) -> str:
    """Say "docx" for a Word document, else describe what the zip holds for the error."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            # Read 80 bytes, not the member: read() would inflate all of a zip bomb's.
            mimetype = b""
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    mimetype = member.read(80)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        RuntimeError,  # an encrypted member
        NotImplementedError,  # a compression method zipfile does not know
        zlib.error,
    ):
        return "a damaged ZIP file"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "an Excel workbook (.xlsx)"
    if "ppt/presentation.xml" in names:
        return "a PowerPoint presentation (.pptx)"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
        return "an OpenDocument text (.odt)"
    return "a ZIP archive"


def _refuse(name: str, what: str) -> InputError:
    advice = {
        "an old-format Office file (.doc/.xls/.ppt)": "save it as .docx or PDF and add that",
        "an OpenDocument text (.odt)": "save it as .docx and add that",
        "a ZIP archive": "unpack it and add the files inside",
    }.get(what, "export what you need as audio, text, .docx or PDF and add that")
    return InputError(f"{name}: looks like {what}, {_WHAT_WE_READ}; {advice}")


def _wrong_kind(name: str, what: str, as_kind: SourceKind, allowed: str) -> InputError:
    return InputError(
        f"{name}: is {what}, which can't be added as {as_kind.value}; "
        f"add it without --as, or as {allowed}"
    )


def _is_srt(text: str) -> bool:
    lines = [ln for ln in text.split("\n", 200)[:200] if ln.strip()]
    return any(_SRT_TIMING.match(ln) for ln in lines[:_SRT_LOOKAHEAD_LINES])


def _detect_text(text: str, name: str, ext: str, as_kind: SourceKind | None) -> Detected:
    notes_fmt = "md" if ext in MARKDOWN_EXTENSIONS else "txt"
    first_line = text.lstrip().split("\n", 1)[0].strip()
    caption = "vtt" if _WEBVTT.match(first_line) else "srt" if _is_srt(text) else None
    if as_kind is SourceKind.RECORDING:
        raise _wrong_kind(name, "text", as_kind, "a transcript, notes or scope")
    if caption is not None:
        if as_kind not in (None, SourceKind.TRANSCRIPT):
            raise _wrong_kind(name, f"a {caption.upper()} transcript", as_kind, "a transcript")
        return Detected(SourceKind.TRANSCRIPT, caption, TEXT_MIMES[caption])
    if ext in (".vtt", ".srt") and as_kind is None:
        # A caption file that isn't one is a broken export, not notes: say so.
        what = "WEBVTT header" if ext == ".vtt" else "SRT cue timings (00:00:01,000 --> ...)"
        raise InputError(
            f"{name}: named {ext} but has no {what}; export the transcript again, "
            "or add it with --as notes or --as transcript"
        )
    if as_kind is SourceKind.TRANSCRIPT or (as_kind is None and looks_like_transcript(text)):
        if as_kind is SourceKind.TRANSCRIPT:
            parse_pasted(text, name)  # raises when there is no speaker label at all
        return Detected(SourceKind.TRANSCRIPT, "text", TEXT_MIMES["text"])
    kind = as_kind or SourceKind.NOTES
    return Detected(kind, notes_fmt, TEXT_MIMES[notes_fmt])


def detect(data: bytes, name: str, as_kind: SourceKind | None = None) -> Detected:
    """Work out what ``data`` is; ``as_kind`` (the user's --as) overrides the kind
    where the content allows it, e.g. a Markdown file as a scope document.

    Audio/video is only recognised here by its magic bytes; whether PyAV can
    actually decode it is checked when it is transcribed.
    """
    if as_kind is not None:
        try:
            as_kind = SourceKind(as_kind)  # callers may hand over the plain string
        except ValueError:
            kinds = ", ".join(k.value for k in SourceKind)
            raise InputError(f"{name}: unknown kind {as_kind!r}; use one of {kinds}") from None
    if not data:
        raise InputError(f"{name}: is empty; export the file again and add the new copy")
    ext = _extension(name)
    mime = sniff(data[:4096])
    if mime in REFUSED:
        raise _refuse(name, REFUSED[mime])
    if mime is not None and mime.split("/")[0] in ("audio", "video"):
        _check_name(name, ext, "audio", f"audio or video ({mime})")
        if as_kind not in (None, SourceKind.RECORDING):
            raise _wrong_kind(name, "a recording", as_kind, "a recording")
        return Detected(SourceKind.RECORDING, "audio", mime)
    if mime == PDF_MIME:
        _check_name(name, ext, "pdf", "a PDF document")
        if as_kind not in (None, SourceKind.SCOPE):
            raise _wrong_kind(name, "a PDF", as_kind, "scope (only scope documents can be PDFs)")
        return Detected(SourceKind.SCOPE, "pdf", PDF_MIME)
    if mime == ZIP_MIME:
        what = _zip_kind(data)
        if what != "docx":
            _check_name(name, ext, "zip", what)
            raise _refuse(name, what)
        _check_name(name, ext, "docx", "a Word document")
        kind = as_kind or SourceKind.NOTES
        if kind not in (SourceKind.NOTES, SourceKind.SCOPE):
            raise _wrong_kind(name, "a Word document", kind, "notes or scope")
        return Detected(kind, "docx", DOCX_MIME)
    try:
        text = decode_text(data, name)
    except NotTextError:
        if ext in AUDIO_EXTENSIONS and as_kind in (None, SourceKind.RECORDING):
            # An audio format our table doesn't know (or leading junk before the first
            # frame): let the decoder have the final say rather than refuse it here.
            return Detected(SourceKind.RECORDING, "audio", AUDIO_EXTENSIONS[ext])
        _check_name(name, ext, "binary", "binary data")
        raise InputError(
            f"{name}: is not a kind of file handover reads; add audio or video, a .vtt/.srt "
            "transcript, text or Markdown notes, a .docx or a PDF"
        ) from None
    _check_name(name, ext, "text", "plain text")
    return _detect_text(text, name, ext, as_kind)
