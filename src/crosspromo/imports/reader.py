"""Reading owners' exports as a stream of rows: CSV (UTF-8, UTF-8 BOM, Windows-1251; comma,
semicolon or tab), gzip-compressed CSV, and XLSX. Never the whole file in memory."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, cast

from charset_normalizer import from_bytes


class FileProblem(Exception):
    """The file as a whole cannot be read; the message is for the owner."""


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


@dataclass
class Table:
    columns: list[str]
    encoding: str
    delimiter: str | None
    rows: Iterator[Row]
    size_bytes: int
    _position: Any = field(default=None, repr=False)

    def bytes_read(self) -> int:
        """How far the raw file has been read, for a progress bar."""
        return int(self._position()) if self._position is not None else 0


SAMPLE = 64 * 1024
DELIMITERS = (",", ";", "\t")


ALIASES = {"e_mail": "email"}  # how Excel users often spell it


def normalize_header(name: str) -> str:
    """' Customer ID ' -> 'customer_id'; 'E-mail' -> 'email'."""
    key = "_".join(name.replace("\ufeff", "").replace("-", " ").strip().lower().split())
    return ALIASES.get(key, key)


class _LineGuard(io.RawIOBase):
    """Refuses any physical line longer than `limit` bytes while the file streams."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw = raw
        self.limit = limit
        self.run = 0  # bytes since the last newline
        self.line = 1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.raw.read(min(len(buffer), 1 << 16))
        if not chunk:
            return 0
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            if newline < 0:
                self.run += len(chunk) - start
                break
            self.run += newline - start
            if self.run > self.limit:
                break
            self.run = 0
            self.line += 1
            start = newline + 1
        if self.run > self.limit:
            raise FileProblem(
                f"line {self.line} is longer than {self.limit:,} bytes; "
                "is this really a CSV export?"
            )
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _open_raw(path: Path) -> tuple[IO[bytes], bool]:
    with path.open("rb") as probe:
        magic = probe.read(4)
    if magic[:2] == b"\x1f\x8b":
        return cast(IO[bytes], gzip.open(path, "rb")), True
    return path.open("rb"), False


def _encoding(sample: bytes, complete: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in sample:
        raise FileProblem(
            "the file is not text in UTF-8 or Windows-1251 (UTF-16 or binary); "
            "save it from Excel as 'CSV UTF-8'"
        )
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multibyte character cut at the sample's end is still UTF-8.
        if not complete and exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    best = from_bytes(sample, cp_isolation=["cp1251", "koi8_r", "cp1252", "latin_1"]).best()
    if best is None:
        raise FileProblem("the file is not text in UTF-8 or Windows-1251")
    # Russian Excel exports are Windows-1251; prefer it whenever it reads as Cyrillic.
    try:
        text = sample.decode("cp1251")
        if sum("А" <= ch <= "я" or ch in "Ёё" for ch in text) > 0:
            return "cp1251"
    except UnicodeDecodeError:
        pass
    return str(best.encoding)


def _delimiter(header: str) -> str:
    counts = {d: 0 for d in DELIMITERS}
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_columns(columns: list[str]) -> None:
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise FileProblem(f"column {name!r} appears twice in the header")
        seen.add(name)


def _csv(path: Path, max_line_bytes: int) -> Table:
    raw, compressed = _open_raw(path)
    size = path.stat().st_size
    try:
        sample = raw.read(SAMPLE)
    except (OSError, EOFError) as exc:
        raw.close()
        raise FileProblem(f"the file cannot be read: {exc}") from None
    raw.close()
    if not sample.replace(codecs.BOM_UTF8, b"").strip():
        raise FileProblem("the file is empty")
    encoding = _encoding(sample, complete=len(sample) < SAMPLE)
    raw, _ = _open_raw(path)
    guard = _LineGuard(raw, max_line_bytes)
    buffered = io.BufferedReader(guard, buffer_size=1 << 16)
    text = io.TextIOWrapper(buffered, encoding=encoding, newline="")
    position = (lambda: raw.fileobj.tell()) if compressed else raw.tell  # type: ignore[attr-defined]
    csv.field_size_limit(max(max_line_bytes, 131072))
    try:
        first = text.readline()
    except UnicodeDecodeError:
        raise FileProblem(f"line 1 is not valid {encoding} text") from None
    delimiter = _delimiter(first)
    columns = [normalize_header(c) for c in next(csv.reader([first], delimiter=delimiter))]
    _check_columns(columns)

    def rows() -> Iterator[Row]:
        reader = csv.reader(text, delimiter=delimiter)
        previous_end = 1
        try:
            for cells in reader:
                start = previous_end + 1
                previous_end = reader.line_num + 1
                if not cells or all(not c.strip() for c in cells):
                    continue
                yield _row(start, columns, cells)
        except UnicodeDecodeError:
            raise FileProblem(f"line {previous_end + 1} is not valid {encoding} text") from None
        except csv.Error as exc:
            raise FileProblem(f"line {previous_end + 1}: {exc}") from None
        finally:
            text.close()

    return Table(columns, encoding, delimiter, rows(), size, position)


def _row(line: int, columns: list[str], cells: list[str]) -> Row:
    width = len(columns)
    if len(cells) < width:
        cells = cells + [""] * (width - len(cells))
    values = dict(zip(columns, map(str.strip, cells), strict=False))
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        values["__extra__"] = str(len(cells) - len(columns))
    return Row(line, values)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0) and value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FileProblem(f"the Excel file cannot be read: {exc}") from None
    sheet = book.worksheets[0]
    cells = sheet.iter_rows(values_only=True)
    header = next(cells, None)
    if header is None or all(v is None for v in header):
        book.close()
        raise FileProblem("the file is empty")
    columns = [normalize_header(_cell(v)) for v in header]
    while columns and not columns[-1]:
        columns.pop()
    _check_columns(columns)
    done = [0]

    def rows() -> Iterator[Row]:
        try:
            for number, values in enumerate(cells, start=2):
                done[0] = number
                texts = [_cell(v) for v in values]
                if all(not t for t in texts):
                    continue
                yield _row(number, columns, texts)
        finally:
            book.close()

    size = path.stat().st_size
    return Table(columns, "xlsx", None, rows(), size, lambda: size if done[0] else 0)


def open_table(
    path: Path, *, max_line_bytes: int = 1_000_000, filename: str | None = None
) -> Table:
    """Open an export for streaming; raises FileProblem when it cannot be read at all."""
    if not path.exists() or path.stat().st_size == 0:
        raise FileProblem("the file is empty")
    with path.open("rb") as probe:
        magic = probe.read(4)
    name = (filename or path.name).lower()
    if magic == b"PK\x03\x04" or name.endswith(".xlsx"):
        return _xlsx(path)
    return _csv(path, max_line_bytes)
