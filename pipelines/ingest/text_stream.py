"""A text export read as a stream: bytes in line-aligned blocks, decoded with the encoding the
whole-file reader (`pipelines.ingest.readers.decode_bytes`) would choose, and split into CSV
rows with their source lines. Memory stays at a few blocks however large the file.

The encoding is decided in one pass over the bytes with the same rules as `decode_bytes`
(BOMs, UTF-16 without a BOM, ASCII, then the best-scoring of UTF-8/cp1254/cp1252); the
score is a sum over lines, so it adds up block by block. Two rare cases are not streamed
and `plan_decoding` returns None for them, so the caller reads the file whole: files pasted
together from two encodings (decoded line by line) and text an earlier tool already garbled
(repaired as a whole), and a forced encoding that fails (to name the failing line).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.ingest.readers import (
    _CONTROLS,
    _MOJIBAKE,
    BINARY,
    ENCODING_CANDIDATES,
    encoding_score,
)
from pipelines.ingest.staging import StagingError

BLOCK_BYTES = 1 << 20
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


def byte_blocks(path: Path, limit: int, size: int = BLOCK_BYTES
                ) -> Generator[bytes, None, None]:
    """The file's bytes (gunzipped when gzip) in blocks that end at a line break, so no
    line, multi-byte character or `\\r\\n` is split; refused past `limit` unpacked bytes."""
    with path.open("rb") as probe:
        packed = probe.read(2) == b"\x1f\x8b"
    opened = gzip.open(path, "rb") if packed else path.open("rb")
    total, carry = 0, b""
    try:
        with opened as stream:
            while True:
                chunk = stream.read(size)
                total += len(chunk)
                if packed and total > limit:
                    raise StagingError(
                        f"unpacks to more than {limit // 2**20:,} MB (CHURN_MAX_STREAMED_MB); "
                        "split the export or raise the bound")
                if not chunk:
                    break
                buffer = carry + chunk
                cut = buffer.rfind(b"\n") + 1
                if not cut:  # no \n: a lone \r ends a line, unless it is the last byte
                    cut = buffer.rfind(b"\r", 0, len(buffer) - 1) + 1
                if cut:
                    yield buffer[:cut]
                    carry = buffer[cut:]
                else:
                    carry = buffer
    except (OSError, EOFError, zlib.error):
        if not packed:
            raise
        raise StagingError("is a damaged or cut-short gzip file; copy or export it again"
                           ) from None
    if carry:
        yield carry


@dataclass(frozen=True)
class TextPlan:
    """How the bytes become text: the codec, its error handling, whether BOMs pasted in
    mid-file are dropped from the bytes, and the encoding as reported (`FileReading`)."""

    codec: str
    label: str
    errors: str = "strict"
    drop_inner_boms: bool = False


def plan_decoding(path: Path, forced: str | None, limit: int) -> TextPlan | None:
    """The decoding `decode_bytes` would choose for the whole file, or None where only the
    whole-file reader can decide (mixed lines, repairs, a failing forced encoding)."""
    if forced:
        try:
            codecs.lookup(forced)
        except LookupError:
            raise StagingError(f"unknown encoding {forced!r}; fix `encoding` in sources.yaml"
                               ) from None
        plan = TextPlan(forced, forced)
        try:
            for _ in text_blocks(path, plan, limit):
                pass
        except UnicodeDecodeError:
            return None  # the whole-file reader names the failing line
        return plan
    blocks = byte_blocks(path, limit)
    first = next(blocks, b"")
    if first.startswith(b"\xef\xbb\xbf"):
        plan = TextPlan("utf-8-sig", "utf-8-sig")
    elif first.startswith((b"\xff\xfe", b"\xfe\xff")):
        plan = TextPlan("utf-16", "utf-16")
    elif first[:200].count(b"\x00") > 20:
        encoding = "utf-16-le" if first[1:2] == b"\x00" else "utf-16-be"
        plan = TextPlan(encoding, encoding, errors="replace")
    else:
        return _scored_plan(first, blocks)
    blocks.close()
    garbled = any(_MOJIBAKE.search(text) for text in text_blocks(path, plan, limit))
    return None if garbled else plan  # garbled text: the whole-file reader tries repairs


def _scored_plan(first: bytes, rest: Iterator[bytes]) -> TextPlan | None:
    """ASCII, else the best-scoring candidate: the rules of `readers._decoded` summed block
    by block (ASCII blocks read alike in every candidate, so they are left out of the sums)."""
    scores = dict.fromkeys(ENCODING_CANDIDATES, 0)
    valid = dict.fromkeys(ENCODING_CANDIDATES, True)
    garbled = dict.fromkeys(ENCODING_CANDIDATES, False)
    western_alike, has_sequence, ascii_only = True, False, True

    for block in _chained(first, rest):
        block = block.replace(b"\xef\xbb\xbf", b"")
        if block.isascii():
            continue
        ascii_only = False
        has_sequence = has_sequence or bool(_UTF8_SEQUENCE.search(block))
        texts = {}
        for encoding in ENCODING_CANDIDATES:
            if not valid[encoding]:
                continue
            try:
                texts[encoding] = block.decode(encoding)
            except UnicodeDecodeError:
                valid[encoding] = False
                continue
            scores[encoding] += encoding_score(texts[encoding])
            garbled[encoding] = garbled[encoding] or bool(_MOJIBAKE.search(texts[encoding]))
        if "cp1254" in texts and "cp1252" in texts:
            western_alike = western_alike and texts["cp1254"] == texts["cp1252"]
    if ascii_only:
        return TextPlan("ascii", "utf-8", drop_inner_boms=True)
    if has_sequence and not valid["utf-8"]:
        return None  # maybe lines of two encodings pasted together: decided line by line
    ranked = [(scores[e], -rank, e) for rank, e in enumerate(ENCODING_CANDIDATES) if valid[e]]
    if not ranked:
        raise StagingError(BINARY)
    best = max(ranked)[2]
    if best == "cp1254" and valid["cp1252"] and western_alike:
        best = "cp1252"  # no Turkish-only byte: name the Western code page
    if garbled[best]:
        return None  # text garbled before: the whole-file reader tries the repairs
    return TextPlan(best, best, drop_inner_boms=True)


def _chained(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def text_blocks(path: Path, plan: TextPlan, limit: int) -> Iterator[str]:
    """The file's text in blocks, decoded by `plan`, with every BOM character removed."""
    decoder = codecs.getincrementaldecoder(plan.codec)(errors=plan.errors)
    for block in byte_blocks(path, limit):
        if plan.drop_inner_boms:
            block = block.replace(b"\xef\xbb\xbf", b"")
        text = decoder.decode(block).replace("\ufeff", "")
        if text:
            yield text
    tail = decoder.decode(b"", final=True).replace("\ufeff", "")
    if tail:
        yield tail


@dataclass(frozen=True)
class TextStart:
    """What the first characters of a file tell: blank, binary, its first lines."""

    blank: bool
    binary: bool
    sample: list[str]  # the first 200 physical lines, each cut to 10,000 characters


def text_start(path: Path, plan: TextPlan, limit: int, width: int = 10_000,
               lines: int = 200) -> TextStart:
    """The checks the whole-file reader makes on the start of the text, from the stream
    (at most a few blocks are held)."""
    head, blank, enough = "", True, False
    for text in text_blocks(path, plan, limit):
        if not enough:
            head += text
            enough = len(head.splitlines()) > lines and len(head) >= 100_000
        blank = blank and not text.strip()
        if enough and not blank:
            break
    start = head[:100_000]
    binary = len(_CONTROLS.findall(start)) > len(start) / 20
    return TextStart(blank, binary, [line[:width] for line in head.splitlines()[:lines]])


@dataclass
class StreamState:
    """What the line splitter has seen so far."""

    last: str = ""  # the text's last character
    longest: int = 0  # the longest line
    chars: int = 0  # characters read


def csv_rows(path: Path, plan: TextPlan, delimiter: str, limit: int,
             state: StreamState | None = None) -> Iterator[tuple[list[str], int, int]]:
    """Every CSV row with its first and last source line, as `csv.reader` reads the whole
    text (`newline=""`: line breaks inside quoted cells stay in the cell). `state` follows
    the lines read (a row is read once its lines are)."""
    reader = csv.reader(_lines(text_blocks(path, plan, limit), state or StreamState()),
                        delimiter=delimiter)
    previous_end = 0
    for row in reader:
        yield row, previous_end + 1, reader.line_num
        previous_end = reader.line_num


def _lines(blocks: Iterator[str], state: StreamState) -> Iterator[str]:
    """Lines as `io.StringIO(text, newline="")` yields them, across block ends: a block may
    end inside `\\r\\n` only at a decoded boundary, so a trailing `\\r` waits for the next."""
    carry = ""
    for block in blocks:
        state.last, state.chars = block[-1], state.chars + len(block)
        text = carry + block
        carry = ""
        if text.endswith("\r"):
            text, carry = text[:-1], "\r"
        pieces = io.StringIO(text, newline="").readlines()
        if pieces and not pieces[-1].endswith(("\n", "\r")):
            carry = pieces.pop() + carry
        state.longest = max(state.longest, max(map(len, pieces), default=0))
        yield from pieces
    if carry:
        pieces = io.StringIO(carry, newline="").readlines()
        state.longest = max(state.longest, max(map(len, pieces), default=0))
        yield from pieces
