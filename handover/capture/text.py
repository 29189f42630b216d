"""Turning uploaded bytes into text, and the small text helpers the parsers share.

People hand us whatever their tools exported: Notepad's UTF-16, Excel's
UTF-8-with-BOM, a 20-year-old CRM's cp1252. Every later stage quotes the customer
verbatim, so a wrong guess here ("cafÃ©") would end up in the handover document;
we would rather refuse a file than invent characters.
"""

from __future__ import annotations

import codecs
import html
import re

import charset_normalizer

from handover.errors import InputError

# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Encodings for Latin-script text. charset_normalizer cannot tell these apart on
# short notes (it calls "café" UTF-16 or cp1250), and for the people who write our
# notes cp1252 is by far the likeliest, so any Latin-family guess becomes cp1252.
_LATIN_FAMILY = frozenset(
    {
        "ascii",
        "latin_1",
        "cp1250",
        "cp1252",
        "cp1254",
        "cp1257",
        "cp437",
        "cp850",
        "cp858",
        "mac_roman",
        "mac_latin2",
        "mac_iceland",
        "mac_turkish",
        "iso8859_2",
        "iso8859_3",
        "iso8859_4",
        "iso8859_9",
        "iso8859_10",
        "iso8859_13",
        "iso8859_14",
        "iso8859_15",
        "iso8859_16",
        "utf_16",
        "utf_16_le",
        "utf_16_be",
        "utf_32",
        "utf_32_le",
        "utf_32_be",
    }
)

_MAX_CONTROL_RATIO = 0.01
_MAX_ACCENTED_LETTERS = 0.4
_MAX_ASCII_PAIRS = 0.4
_SAMPLE_BYTES = 64 * 1024


class NotTextError(InputError):
    """The bytes are not text at all (as opposed to empty or badly marked text), so
    ``detect`` can go on to say what the file looks like instead."""


def _binary_error(name: str) -> NotTextError:
    return NotTextError(
        f"{name}: looks like binary data, not text; check you picked the right file, "
        "or export it as UTF-8 text and add it again"
    )


# Category Cc minus tab, newlines, form/vertical feed and the DOS end-of-file mark.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    return sum(1 for _ in _CONTROL_CHARS.finditer(text)) / len(text)


_ASCII_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ")


def _ascii_pairs_ratio(data: bytes) -> float:
    """Share of 2-byte units whose both bytes are ASCII letters or spaces.

    Real UTF-16 text almost never has those: Latin and Cyrillic units carry a
    0x00/0x04 byte, kana a 0x30, Hangul a byte >= 0xAC, and even dense CJK text
    stays near 10%. Bytes that are mostly such pairs are 8-bit data behind a stray
    FF FE (the "Bush hid the facts" misreading), not UTF-16. A sample is enough.
    """
    data = data[:_SAMPLE_BYTES]
    units = len(data) // 2
    if units == 0:
        return 0.0
    pairs = sum(
        1
        for i in range(0, units * 2, 2)
        if data[i] in _ASCII_WORD_BYTES and data[i + 1] in _ASCII_WORD_BYTES
    )
    return pairs / units


def _bomless_utf16(data: bytes) -> str | None:
    """Name the UTF-16 byte order when NULs sit in every other byte, as ASCII-heavy
    UTF-16 without a BOM does; anything else with NULs is treated as binary."""
    if len(data) < 4 or len(data) % 2:
        return None
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    half = len(data) // 2
    if odd_nuls >= 0.3 * half and even_nuls <= 0.05 * half:
        return "utf-16-le"
    if even_nuls >= 0.3 * half and odd_nuls <= 0.05 * half:
        return "utf-16-be"
    return None


def _western(data: bytes) -> str | None:
    """The cp1252 (else Latin-1) reading of ``data`` when it reads like Western text.

    Western European text is mostly ASCII letters with a few accented ones, while
    Cyrillic, Greek, Arabic or CJK bytes read as cp1252 turn nearly every letter
    into an accented one; the share of non-ASCII letters tells them apart even in
    a three-word note where charset_normalizer has too little to go on.
    """
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        letters = [ch for ch in text if ch.isalpha()]
        accented = sum(1 for ch in letters if ord(ch) > 127)
        if letters and accented <= _MAX_ACCENTED_LETTERS * len(letters):
            return text
        return None
    return None  # pragma: no cover - latin-1 decodes every byte


def _decode_legacy(data: bytes, name: str) -> str:
    """Decode non-UTF-8 bytes: cp1252 for Western text, else charset_normalizer's guess.

    charset_normalizer alone calls a short cp1252 "café" UTF-16 or cp1006 (Urdu),
    so its guess is only taken for text that does not read as Western, and a
    Latin-family guess (cp1250, ISO-8859-x, ...) is read as cp1252 regardless.
    """
    western = _western(data)
    if western is not None:
        return western
    best = charset_normalizer.from_bytes(data).best()
    guess = best.encoding if best is not None else None
    if guess is not None and guess not in _LATIN_FAMILY:
        try:
            return data.decode(guess)
        except (UnicodeDecodeError, LookupError):
            pass
    if guess is not None:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    raise _binary_error(name)


def normalise_newlines(text: str) -> str:
    """Make every line end "\\n" so offsets and line splits agree across platforms."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_text(data: bytes, name: str) -> str:
    """Decode an uploaded text file, refusing binary data and empty files.

    BOMs win because the exporting tool told us; then strict UTF-8 because it
    almost never decodes non-UTF-8 bytes by accident; only then a guess.
    """
    if not data:
        raise InputError(f"{name}: is empty; export the file again and add the new copy")
    text: str | None = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if encoding.startswith("utf-16") and _ascii_pairs_ratio(body) > _MAX_ASCII_PAIRS:
                raise _binary_error(name)
            try:
                text = body.decode(encoding)
            except UnicodeDecodeError:
                # Binary data may start with FF FE by chance, but EF BB BF is a text
                # editor's mark: say what is wrong with the text instead of "binary data".
                error = InputError if encoding == "utf-8" else NotTextError
                raise error(
                    f"{name}: starts with a {encoding.upper()} byte-order mark but is not "
                    f"valid {encoding.upper()}; re-save it as UTF-8 and add it again"
                ) from None
            break
    if text is None and b"\x00" in data:
        encoding = _bomless_utf16(data)
        if encoding is None:
            raise _binary_error(name)
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise _binary_error(name) from None
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_legacy(data, name)
    if "\x00" in text or _control_ratio(text) > _MAX_CONTROL_RATIO:
        raise _binary_error(name)
    text = normalise_newlines(text)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InputError(f"{name}: has no text in it; check you picked the right file")
    return text


# --- helpers shared by the transcript, notes and scope parsers -----------------------

_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape_entities(text: str) -> str:
    """Decode HTML entities, but only well-formed ones ending in ";".

    ``html.unescape`` also expands legacy forms without a semicolon ("&para",
    "&not"), which would corrupt a customer's "P&L&notes"-style shorthand.
    """
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def squash_spaces(text: str) -> str:
    """Collapse runs of whitespace (incl. no-break spaces) to one space, trimmed."""
    return " ".join(text.split())


# Every inner pattern stops at its own delimiter (no ".+?" across the paragraph), so a
# pasted line full of unmatched "_" or "[" costs linear time, not quadratic.
_MD_URL = r"\([^()\s\[\]]*(?:\s+\"[^\"]*\")?\)"
_MD_IMAGE = re.compile(r"!\[([^\[\]]*)\]" + _MD_URL)
_MD_LINK = re.compile(r"\[([^\[\]]+)\]" + _MD_URL)
_MD_REF_LINK = re.compile(r"\[([^\[\]]+)\]\[[^\[\]]*\]")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^<>\s]+)>")
_MD_CODE = re.compile(r"``([^`]+(?:`[^`]+)*)``|`([^`]+)`")
_MD_STRONG_STAR = re.compile(r"\*\*(?=[^\s*])([^*]*[^\s*])\*\*")
_MD_STRONG_UNDER = re.compile(r"(?<![\w_])__(?=[^\s_])([^_]*[^\s_])__(?![\w_])")
_MD_EM_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]*[^\s*])\*(?![\w*])")
_MD_EM_UNDER = re.compile(r"(?<![\w_])_(?=[^\s_])([^_]*[^\s_])_(?![\w_])")
_MD_STRIKE = re.compile(r"~~(?=[^\s~])([^~]*[^\s~])~~")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~>])")
_MD_MARKUP_CHARS = re.compile(r"[*_~`\[\]<\\]")
_MD_EMPHASIS = (_MD_STRONG_STAR, _MD_STRONG_UNDER, _MD_STRIKE, _MD_EM_STAR, _MD_EM_UNDER)


def strip_inline_markdown(text: str) -> str:
    """Remove inline Markdown markup while leaving every word, "&" and hyphen alone.

    Emphasis is only removed when it is balanced and sits on word boundaries, so
    ``snake_case`` and ``2 * 3`` survive. Code spans and backslash escapes are set
    aside first because their content is literal.
    """
    if not _MD_MARKUP_CHARS.search(text):
        return text  # the common case, and most of the cost on hour-long pastes
    literals: list[str] = []

    def _stash(literal: str) -> str:
        literals.append(literal)
        return f"\x00{len(literals) - 1}\x00"

    out = _MD_CODE.sub(lambda m: _stash((m.group(1) or m.group(2)).strip() or " "), text)
    out = _MD_ESCAPE.sub(lambda m: _stash(m.group(1)), out)
    out = _MD_IMAGE.sub(r"\1", out)
    out = _MD_LINK.sub(r"\1", out)
    out = _MD_REF_LINK.sub(r"\1", out)
    out = _MD_AUTOLINK.sub(r"\1", out)
    for _ in range(2):  # twice, so "**bold *em* bold**" loses both layers
        for pattern in _MD_EMPHASIS:
            out = pattern.sub(r"\1", out)
    return re.sub(r"\x00(\d+)\x00", lambda m: literals[int(m.group(1))], out)
