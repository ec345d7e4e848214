"""Decide what bytes a text export holds, and hand DuckDB UTF-8 it can stream.

CRM exports arrive as UTF-8 (often with Excel's BOM), UTF-16 from "Unicode text" saves, Windows-1252 from older
Excel, or Mac Roman (often with bare CR line endings) from Excel for Mac. DuckDB's CSV reader wants UTF-8, so
anything else is transcoded chunk by chunk into a temporary file that is removed as soon as the table is read.
Detection looks at a sample only, so a large file costs one pass at most.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import os
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from icpkit.errors import UnreadableFileError

__all__ = [
    "SAMPLE_BYTES",
    "TextSample",
    "check_encoding",
    "detect_encoding",
    "read_sample",
    "scan_for_nul",
    "utf8_copy",
]

SAMPLE_BYTES = 256 * 1024
_CHUNK = 4 * 1024 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# charset-normalizer names Latin-1 when Windows-1252 is the real thing nine times out of ten; cp1252 decodes the
# same letters and also the curly quotes, dashes and euro sign that Excel writes in 0x80-0x9F.
_PREFER = {"latin_1": "cp1252", "iso8859_1": "cp1252", "ascii": "utf-8", "mac_iceland": "mac_roman"}


@dataclass(frozen=True)
class TextSample:
    """The first bytes of a (possibly gzip-compressed) file and whether they are the whole file."""

    data: bytes
    complete: bool
    compressed: bool


def _open_binary(path: Path, compressed: bool) -> BinaryIO:
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def read_sample(path: Path, *, compressed: bool, size: int = SAMPLE_BYTES) -> TextSample:
    """First ``size`` bytes of the (decompressed) content; a gzip cut short is reported, not hidden."""
    try:
        with _open_binary(path, compressed) as fh:
            data = fh.read(size + 1)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise UnreadableFileError(
            f"the gzip stream is truncated or corrupt ({exc}); re-download or re-compress the file", path=path
        ) from exc
    return TextSample(data[:size], complete=len(data) <= size, compressed=compressed)


def _normalise(name: str) -> str:
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return name
    return _PREFER.get(canonical.replace("-", "_"), canonical)


def detect_encoding(sample: TextSample, path: Path) -> str:
    """Name of the codec the sample is written in (a Python codec name, ``utf-8`` when plain UTF-8)."""
    data = sample.data
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if b"\x00" in data:
        # UTF-16 without a BOM shows a NUL in every other byte of ASCII text.
        evens, odds = data[0::2], data[1::2]
        if odds and odds.count(0) > 0.4 * len(odds) and evens.count(0) < 0.05 * len(evens):
            return "utf-16-le"
        if evens and evens.count(0) > 0.4 * len(evens) and odds.count(0) < 0.05 * len(odds):
            return "utf-16-be"
        offset = data.index(b"\x00")
        raise UnreadableFileError(
            f"contains NUL bytes (first at byte {offset}): this is a binary file, not delimited text",
            path=path,
            row=data.count(b"\n", 0, offset) + 1,
        )
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A sample cut in the middle of a multi-byte character is still UTF-8.
        if not sample.complete and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    western = _looks_western(data)
    mac = _in_context(data, "mac_roman")
    cr_only = b"\r" in data and b"\n" not in data  # classic Mac line endings: Excel for Mac's "CSV" save
    if mac >= 0.95 and (cr_only or not western or mac > _in_context(data, "cp1252")):
        return "mac_roman"
    if western:
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnreadableFileError(
            "is not text in any encoding icpkit recognises (binary data?); pass encoding=... if it is text",
            path=path,
        )
    return _normalise(best.encoding)


_WESTERN_EXTRA = frozenset("€‘’‚“”„–—…•°£§©®™«»")


def _looks_western(data: bytes) -> bool:
    """True when the bytes read as Windows-1252 give Western European letters and Excel punctuation.

    Statistical detectors cannot tell cp1252 from cp1250 on a few accented words, and Western exports are far more
    common; a Central European file decoded as cp1252 shows symbols (``£ódŸ``) in place of letters and fails here.
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    odd = [ch for ch in text if ord(ch) > 127]
    plausible = sum(1 for ch in odd if ("\u00c0" <= ch <= "\u00ff" and ch not in "×÷") or ch in _WESTERN_EXTRA)
    return bool(odd) and plausible >= 0.95 * len(odd)


_LOWER_LATIN = frozenset("àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿœß")
_UPPER_LATIN = frozenset("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞŒŸ")
_INNER_PUNCT = frozenset("’'")  # may sit between two letters (don’t); other punctuation there is a misreading


def _in_context(data: bytes, encoding: str) -> float:
    """Share of the non-ASCII characters that make sense where they stand when ``data`` is read as ``encoding``.

    Windows-1252 and Mac Roman put the same accented letters at different bytes, so each reads the other's letters
    as symbols or as capitals inside lower-case words: Mac Roman's "Nestlé" is "NestlŽ" in Windows-1252, and
    Windows-1252's "Société" is "SociÈtÈ" in Mac Roman. A lower-case accented letter fits anywhere, a capital one
    where no lower-case letter precedes it, punctuation anywhere but between two letters.
    """
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return 0.0
    odd = fits = 0
    for i, ch in enumerate(text):
        if ord(ch) < 128:
            continue
        odd += 1
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if ch in _LOWER_LATIN:
            fits += 1
        elif ch in _UPPER_LATIN:
            fits += not before.islower()
        elif ch in _WESTERN_EXTRA or ch in _INNER_PUNCT or ch == "\u00a0":
            fits += ch in _INNER_PUNCT or not (before.isalpha() and after.isalpha())
    return fits / odd if odd else 0.0


def check_encoding(sample: TextSample, encoding: str, path: Path) -> str:
    """Validate an encoding the user named against the sample, so a wrong guess fails with the byte offset."""
    try:
        codec = codecs.lookup(encoding)
    except LookupError as exc:
        raise UnreadableFileError(f"unknown encoding {encoding!r}", path=path) from exc
    name = _PREFER.get(codec.name.replace("-", "_"), codec.name) if codec.name != "latin_1" else "latin-1"
    if name in ("utf-8", "utf_8") and sample.data.startswith(codecs.BOM_UTF8):
        name = "utf-8-sig"
    decoder = codecs.getincrementaldecoder(name)("strict")
    try:
        text = decoder.decode(sample.data, final=sample.complete)
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            f"cannot be decoded as {encoding} (byte {exc.start}: {exc.reason}); "
            "leave encoding unset to let icpkit detect it",
            path=path,
        ) from exc
    if "\x00" in text:
        raise UnreadableFileError(
            f"decoded as {encoding} it contains NUL characters: wrong encoding, or a binary file", path=path
        )
    return name


def scan_for_nul(path: Path, *, compressed: bool) -> tuple[int, int] | None:
    """(byte offset, line) of the first NUL in the (decompressed) file, scanned in large chunks; None when clean.

    Lines are counted only once a NUL is found (a second pass up to it): counting them on the way cost more than
    the search itself, for the clean files that are the rule.
    """
    offset, found = 0, None
    with _open_binary(path, compressed) as fh:
        while chunk := fh.read(_CHUNK):
            pos = chunk.find(b"\x00")
            if pos >= 0:
                found = offset + pos
                break
            offset += len(chunk)
    if found is None:
        return None
    lines, offset = 1, 0
    with _open_binary(path, compressed) as fh:
        while offset < found and (chunk := fh.read(min(_CHUNK, found - offset))):
            lines += chunk.count(b"\n")
            offset += len(chunk)
    return found, lines


@contextlib.contextmanager
def utf8_copy(path: Path, encoding: str, *, compressed: bool) -> Iterator[Path]:
    """A temporary UTF-8 copy of a file in another encoding, transcoded in chunks and deleted on exit."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    fd, tmp_name = tempfile.mkstemp(prefix="icpkit-", suffix=".csv")
    tmp = Path(tmp_name)
    try:
        consumed = 0
        with _open_binary(path, compressed) as src, os.fdopen(fd, "wb") as dst:
            try:
                while chunk := src.read(_CHUNK):
                    dst.write(decoder.decode(chunk).encode("utf-8"))
                    consumed += len(chunk)
                dst.write(decoder.decode(b"", final=True).encode("utf-8"))
            except UnicodeDecodeError as exc:
                raise UnreadableFileError(
                    f"cannot be decoded as {encoding} (byte {consumed + exc.start}: {exc.reason}); "
                    "pass the right encoding=...",
                    path=path,
                ) from exc
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                raise UnreadableFileError(f"the gzip stream is truncated or corrupt ({exc})", path=path) from exc
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)
