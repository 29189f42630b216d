"""decode_text and the shared text helpers."""

from __future__ import annotations

import codecs
import random
import time

import pytest

from handover.capture.text import (
    NotTextError,
    decode_text,
    squash_spaces,
    strip_inline_markdown,
    unescape_entities,
)
from handover.errors import InputError

PHRASE = "We will re-assess & reinvigorate processes at the café."


def test_plain_utf8() -> None:
    assert decode_text(PHRASE.encode("utf-8"), "n.txt") == PHRASE


def test_utf8_with_bom_strips_the_bom() -> None:
    text = decode_text(codecs.BOM_UTF8 + PHRASE.encode("utf-8"), "n.txt")
    assert text == PHRASE
    assert not text.startswith("\ufeff")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom(encoding: str) -> None:
    data = PHRASE.encode(encoding)
    if encoding == "utf-16-le":
        data = codecs.BOM_UTF16_LE + data
    elif encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    assert decode_text(data, "n.txt") == PHRASE


def test_utf16_without_bom_is_recognised_from_nul_pattern() -> None:
    assert decode_text("Alice: hello there".encode("utf-16-le"), "n.txt") == "Alice: hello there"
    assert decode_text("Alice: hello there".encode("utf-16-be"), "n.txt") == "Alice: hello there"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin1_and_cp1252(encoding: str) -> None:
    assert decode_text("café".encode(encoding), "n.txt") == "café"
    longer = "Grüße aus Köln: naïve façade, re-assess & reinvigorate."
    assert decode_text(longer.encode(encoding), "n.txt") == longer


def test_cp1252_smart_quotes_and_dashes() -> None:
    text = "“Quoted” – and the customer’s “re-assess & reinvigorate” ask"
    assert decode_text(text.encode("cp1252"), "n.txt") == text


def test_non_latin_legacy_encoding_is_still_guessed() -> None:
    text = "Привет, как дела? Это проверка кодировки для заметок о встрече."
    assert decode_text(text.encode("cp1251"), "n.txt") == text


def test_newlines_are_normalised() -> None:
    assert decode_text(b"one\r\ntwo\rthree\n", "n.txt") == "one\ntwo\nthree\n"


def test_empty_file_is_refused() -> None:
    with pytest.raises(InputError, match=r"^n\.txt: is empty; "):
        decode_text(b"", "n.txt")


def test_whitespace_only_is_refused() -> None:
    with pytest.raises(InputError, match="has no text"):
        decode_text(b" \r\n\t \n", "n.txt")
    with pytest.raises(InputError, match="has no text"):
        decode_text(codecs.BOM_UTF8 + b"  \n", "n.txt")


def test_nul_bytes_mean_binary() -> None:
    with pytest.raises(NotTextError, match=r"^blob\.vtt: looks like binary data"):
        decode_text(b"WEBVTT\x00\x01\x02\x03\x00\x00\x05hello", "blob.vtt")


def test_random_bytes_without_nuls_are_refused() -> None:
    rng = random.Random(7)
    data = bytes(rng.randrange(1, 256) for _ in range(2000))
    with pytest.raises(NotTextError):
        decode_text(data, "blob.txt")


def test_control_characters_mean_binary() -> None:
    data = b"hello" + b"\x01\x02\x03\x04\x05\x06" * 10 + b"world"
    with pytest.raises(NotTextError):
        decode_text(data, "blob.txt")


def test_bad_utf16_after_bom_is_refused() -> None:
    with pytest.raises(InputError, match="byte-order mark"):
        decode_text(codecs.BOM_UTF16_LE + b"\x00\xd8\x41", "odd.txt")


def test_errors_are_one_line_and_name_the_file() -> None:
    with pytest.raises(InputError) as info:
        decode_text(b"\x00\x01binary\x00", "dir/some file.txt")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("dir/some file.txt: ")
    assert "; " in message  # what is wrong; what to do


def test_unescape_entities_needs_semicolons() -> None:
    assert unescape_entities("re-assess &amp; reinvigorate") == "re-assess & reinvigorate"
    assert unescape_entities("&lt;b&gt; &#38; &#x26;") == "<b> & &"
    # Legacy semicolon-less forms are left alone: "&not" / "&para" are words here.
    assert unescape_entities("P&L&notes &para") == "P&L&notes &para"


def test_squash_spaces() -> None:
    assert squash_spaces("  a \t b\u00a0c\n d ") == "a b c d"


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        ("**re-assess & reinvigorate**", "re-assess & reinvigorate"),
        ("__Bold__ and *em* and _em_", "Bold and em and em"),
        ("[the site](https://acme.example/x?a=1&b=2) now", "the site now"),
        ("![diagram](img.png)", "diagram"),
        ("use `snake_case` and `a*b*c`", "use snake_case and a*b*c"),
        ("keep snake_case_names and 2 * 3 * 4", "keep snake_case_names and 2 * 3 * 4"),
        ("~~old~~ new", "old new"),
        (r"an \*escaped\* star", "an *escaped* star"),
        ("<https://acme.example>", "https://acme.example"),
        ("Re-Assess & Reinvigorate", "Re-Assess & Reinvigorate"),
    ],
)
def test_strip_inline_markdown(markdown: str, plain: str) -> None:
    assert strip_inline_markdown(markdown) == plain


def test_utf16_bom_in_front_of_8bit_bytes_is_binary() -> None:
    # "\xff\xfe" followed by ASCII-ish bytes decodes "successfully" as UTF-16 into
    # CJK soup; it must be refused, not stored as notes.
    with pytest.raises(NotTextError):
        decode_text(b"\xff\xfe\x00garbage" * 50, "b.vtt")


@pytest.mark.parametrize(
    "text",
    [
        "会议纪要：我们将在三月份交付单点登录功能。",
        "プロセスのみなおしをおねがいします。スケジュールはらいしゅうです。",
        "회의록: 고객은 프로세스 재평가를 원합니다.",
    ],
)
def test_real_utf16_in_other_scripts_is_kept(text: str) -> None:
    assert decode_text(text.encode("utf-16"), "n.txt") == text
    assert decode_text(codecs.BOM_UTF16_BE + text.encode("utf-16-be"), "n.txt") == text


def test_pathological_markdown_is_linear() -> None:
    started = time.perf_counter()
    for text in ("_a " * 30000, "[a](" * 30000, "*a " * 30000, "~~a " * 30000, "`" * 30000):
        assert strip_inline_markdown(text) == text
    assert time.perf_counter() - started < 2.0
