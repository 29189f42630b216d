"""Content-based detection of what an added file is."""

from __future__ import annotations

import codecs
import io
import struct
import zipfile

import docx
import pytest

from handover.capture.detect import DOCX_MIME, Detected, detect, sniff
from handover.errors import InputError
from handover.types import SourceKind

WAV = b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + bytes(24)
MP3_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(32)
MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(60)
ADTS = b"\xff\xf1\x50\x80" + bytes(60)
OGG = b"OggS\x00\x02" + bytes(40)
FLAC = b"fLaC\x00\x00\x00\x22" + bytes(40)
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + bytes(16)
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41" + bytes(16)
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + bytes(16)
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + bytes(32)
MKV = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska" + bytes(32)
AVI = b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(32)
AIFF = b"FORM\x00\x00\x00\x00AIFFCOMM" + bytes(32)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)
GIF = b"GIF89a\x01\x00\x01\x00" + bytes(32)
ELF = b"\x7fELF\x02\x01\x01" + bytes(40)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(60)
GZIP = b"\x1f\x8b\x08\x00" + bytes(40)
SEVEN_Z = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(40)
RAR = b"Rar!\x1a\x07\x01\x00" + bytes(40)
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(16)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(40)

TRANSCRIPT = "Alice: We will re-assess & reinvigorate processes.\nBob: Good.\nAlice: Next.\n"
NOTES = "# Call notes\n\n- Maria wants SSO.\n- Action: Raj to send the plan.\n"


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Scope: SSO and data migration.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- sniff ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (WAV, "audio/wav"),
        (MP3_ID3, "audio/mpeg"),
        (MP3_FRAME, "audio/mpeg"),
        (ADTS, "audio/aac"),
        (OGG, "audio/ogg"),
        (FLAC, "audio/flac"),
        (M4A, "audio/mp4"),
        (MP4, "video/mp4"),
        (MOV, "video/quicktime"),
        (WEBM, "video/webm"),
        (MKV, "video/x-matroska"),
        (AVI, "video/x-msvideo"),
        (AIFF, "audio/aiff"),
        (b"\x00\x00\x00\x08wide\x00\x01\x00\x00mdat" + bytes(16), "video/quicktime"),
        (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9" + bytes(16), "video/x-ms-asf"),
        (b"#!AMR\n" + bytes(16), "audio/amr"),
        (PDF, "application/pdf"),
        (b"PK\x03\x04" + bytes(26), "application/zip"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (ELF, "application/x-executable"),
        (EXE, "application/x-msdownload"),
        (GZIP, "application/gzip"),
        (SEVEN_Z, "application/x-7z-compressed"),
        (RAR, "application/vnd.rar"),
        (HEIC, "image/heic"),
        (OLE, "application/x-ole-storage"),
    ],
)
def test_sniff_magic_table(head: bytes, mime: str) -> None:
    assert sniff(head) == mime


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"WEBVTT\n\n",
        b"Alice: hello",
        b"MZ: a speaker called MZ",  # text, not an executable
        b"I'm free on Friday",  # "free" at offset 4 is a QuickTime atom only after a size
        b"ID3 tags are not our problem",
        codecs.BOM_UTF16_LE + "Alice: hi".encode("utf-16-le"),  # FF FE is not an MPEG frame
        b"\xff\xff\xff\xff garbage",  # invalid MPEG header fields
    ],
)
def test_sniff_returns_none_for_text_and_noise(head: bytes) -> None:
    assert sniff(head) is None


# --- recordings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (WAV, "call.wav", "audio/wav"),
        (MP3_ID3, "call.mp3", "audio/mpeg"),
        (M4A, "call.m4a", "audio/mp4"),
        (M4A, "call.mp3", "audio/mp4"),  # a renamed phone recording is still audio
        (OGG, "voice.opus", "audio/ogg"),
        (MP4, "meeting.mp4", "video/mp4"),
        (WEBM, "unnamed", "video/webm"),
    ],
)
def test_recordings(data: bytes, name: str, mime: str) -> None:
    assert detect(data, name) == Detected(SourceKind.RECORDING, "audio", mime)


def test_recording_cannot_be_added_as_notes() -> None:
    with pytest.raises(InputError, match=r"^call\.wav: is a recording, which can't be added"):
        detect(WAV, "call.wav", SourceKind.NOTES)
    assert detect(WAV, "call.wav", SourceKind.RECORDING).kind is SourceKind.RECORDING


def test_unknown_binary_with_audio_extension_is_left_to_the_decoder() -> None:
    data = bytes(range(1, 200)) * 3 + b"\x00"
    assert detect(data, "odd.aac") == Detected(SourceKind.RECORDING, "audio", "audio/aac")


# --- lying extensions and refused types ----------------------------------------------


def test_png_named_wav_is_refused() -> None:
    with pytest.raises(InputError) as info:
        detect(PNG, "call.wav")
    assert str(info.value) == (
        "call.wav: looks like a PNG image, not audio, a transcript, notes or a scope document; "
        "export what you need as audio, text, .docx or PDF and add that"
    )


def test_text_named_mp3_is_refused() -> None:
    with pytest.raises(InputError, match=r"^call\.mp3: the name says audio or video \(\.mp3\)"):
        detect(TRANSCRIPT.encode(), "call.mp3")


def test_binary_garbage_named_vtt_is_refused() -> None:
    garbage = b"\x00\x13\x37\x00\xde\xad\xbe\xef" * 32
    with pytest.raises(InputError, match=r"^call\.vtt: the name says a text file .*binary data"):
        detect(garbage, "call.vtt")


def test_audio_named_txt_is_refused() -> None:
    with pytest.raises(InputError, match=r"content looks like audio or video \(audio/wav\)"):
        detect(WAV, "notes.txt")


def test_pdf_named_docx_and_docx_named_pdf_are_refused() -> None:
    with pytest.raises(InputError, match="the name says a Word document"):
        detect(PDF, "scope.docx")
    with pytest.raises(InputError, match=r"the name says a PDF \(\.pdf\)"):
        detect(_docx(), "scope.pdf")


def test_plain_text_named_docx_or_pdf_is_refused() -> None:
    with pytest.raises(InputError, match="the name says a Word document"):
        detect(NOTES.encode(), "notes.docx")
    with pytest.raises(InputError, match="the name says a PDF"):
        detect(NOTES.encode(), "notes.pdf")


def test_zip_that_is_not_a_docx() -> None:
    data = _zip({"hello.txt": "hi"})
    with pytest.raises(InputError, match=r"the name says a Word document .*a ZIP archive"):
        detect(data, "notes.docx")
    with pytest.raises(InputError, match=r"^bundle\.zip: looks like a ZIP archive.*unpack it"):
        detect(data, "bundle.zip")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (_zip({"xl/workbook.xml": "<x/>"}), "an Excel workbook"),
        (_zip({"ppt/presentation.xml": "<x/>"}), "a PowerPoint presentation"),
        (_zip({"mimetype": "application/vnd.oasis.opendocument.text"}), "an OpenDocument text"),
        (b"PK\x03\x04 truncated", "a damaged ZIP file"),
        (OLE, "an old-format Office file"),
        (JPEG, "a JPEG image"),
        (ELF, "a Linux program"),
        (GZIP, "a gzip archive"),
    ],
)
def test_refused_types_say_what_they_look_like(data: bytes, what: str) -> None:
    with pytest.raises(InputError, match=f"looks like {what}"):
        detect(data, "upload")


def test_unknown_binary_without_extension_is_refused() -> None:
    with pytest.raises(InputError, match="is not a kind of file handover reads"):
        detect(b"\x00\x01\x02\x03" * 50, "blob")


def test_empty_file_is_refused() -> None:
    with pytest.raises(InputError, match=r"^x\.txt: is empty"):
        detect(b"", "x.txt")


def test_errors_are_single_lines() -> None:
    for data, name in ((PNG, "a.wav"), (b"hi there", "a.mp3"), (PDF, "a.docx")):
        with pytest.raises(InputError) as info:
            detect(data, name)
        assert "\n" not in str(info.value)
        assert str(info.value).startswith(f"{name}: ")


# --- documents -----------------------------------------------------------------------


def test_pdf_is_scope() -> None:
    assert detect(PDF, "sow.pdf") == Detected(SourceKind.SCOPE, "pdf", "application/pdf")
    assert detect(PDF, "sow", SourceKind.SCOPE).kind is SourceKind.SCOPE


def test_pdf_as_notes_is_refused() -> None:
    with pytest.raises(InputError, match="only scope documents can be PDFs"):
        detect(PDF, "notes.pdf", SourceKind.NOTES)


def test_docx_defaults_to_notes_and_can_be_scope() -> None:
    data = _docx()
    assert detect(data, "notes.docx") == Detected(SourceKind.NOTES, "docx", DOCX_MIME)
    as_scope = detect(data, "sow.docx", SourceKind.SCOPE)
    assert as_scope == Detected(SourceKind.SCOPE, "docx", DOCX_MIME)
    # Content decides, not the name: a docx without extension is still a docx.
    assert detect(data, "attachment").fmt == "docx"
    with pytest.raises(InputError, match="can't be added as transcript"):
        detect(data, "call.docx", SourceKind.TRANSCRIPT)


# --- text ----------------------------------------------------------------------------


def test_webvtt_header_means_vtt() -> None:
    data = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Alice>hi</v>\n"
    assert detect(data, "call.vtt") == Detected(SourceKind.TRANSCRIPT, "vtt", "text/vtt")
    assert detect(data, "call.txt").fmt == "vtt"  # content wins over the .txt name


def test_srt_timings_mean_srt() -> None:
    data = b"1\n00:00:01,000 --> 00:00:02,000\nAlice: hi\n"
    expected = Detected(SourceKind.TRANSCRIPT, "srt", "application/x-subrip")
    assert detect(data, "call.srt") == expected
    assert detect(data, "download") == expected


def test_labelled_text_is_a_pasted_transcript() -> None:
    assert detect(TRANSCRIPT.encode(), "call.txt") == Detected(
        SourceKind.TRANSCRIPT, "text", "text/plain"
    )
    assert detect(TRANSCRIPT.encode(), "call.md").fmt == "text"


def test_notes_by_default_with_md_or_txt_from_the_name() -> None:
    assert detect(NOTES.encode(), "notes.md") == Detected(SourceKind.NOTES, "md", "text/markdown")
    assert detect(NOTES.encode(), "notes.markdown").fmt == "md"
    assert detect(NOTES.encode(), "notes.txt") == Detected(SourceKind.NOTES, "txt", "text/plain")
    assert detect(NOTES.encode(), "notes").fmt == "txt"


def test_encodings_are_handled_in_detection() -> None:
    data = codecs.BOM_UTF16_LE + TRANSCRIPT.encode("utf-16-le")
    assert detect(data, "call.txt").kind is SourceKind.TRANSCRIPT
    assert detect("Notes from the café.\n".encode("cp1252"), "n.txt").kind is SourceKind.NOTES


def test_as_kind_overrides_where_the_content_allows() -> None:
    assert detect(NOTES.encode(), "sow.md", SourceKind.SCOPE) == Detected(
        SourceKind.SCOPE, "md", "text/markdown"
    )
    assert detect(TRANSCRIPT.encode(), "call.txt", SourceKind.NOTES) == Detected(
        SourceKind.NOTES, "txt", "text/plain"
    )
    forced = detect(b"Alice: hi\nBob: hello\n", "short.txt", SourceKind.TRANSCRIPT)
    assert forced == Detected(SourceKind.TRANSCRIPT, "text", "text/plain")


def test_as_kind_refused_where_the_content_does_not_allow() -> None:
    with pytest.raises(InputError, match="can't be added as recording"):
        detect(NOTES.encode(), "n.txt", SourceKind.RECORDING)
    with pytest.raises(InputError, match="a VTT transcript, which can't be added as notes"):
        detect(b"WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n", "c.vtt", SourceKind.NOTES)
    with pytest.raises(InputError, match="has no speaker-labelled lines"):
        detect(b"Just notes.\nNo speakers.\n", "n.txt", SourceKind.TRANSCRIPT)


def test_whitespace_only_text_is_refused() -> None:
    with pytest.raises(InputError, match="has no text"):
        detect(b"  \n \n", "n.txt")


def test_as_kind_may_be_a_plain_string() -> None:
    assert detect(NOTES.encode(), "sow.md", "scope").kind is SourceKind.SCOPE  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown kind 'minutes'"):
        detect(NOTES.encode(), "n.md", "minutes")  # type: ignore[arg-type]
