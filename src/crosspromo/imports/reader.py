"""Reading owners' exports as a stream of rows: CSV (UTF-8, UTF-8 BOM, Windows-1251; comma,
semicolon or tab), gzip-compressed CSV, and XLSX. Never the whole file in memory."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

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
    _position: Callable[[], int] | None = field(default=None, repr=False)
    _release: Callable[[], None] | None = field(default=None, repr=False)
    # The header cells as the file writes them ("Номер чека"), one per column.
    headers: list[str] = field(default_factory=list)

    def rename(self, names: Sequence[str]) -> None:
        """Give the columns new names (a mapping chose them) before the rows are read.

        The rows are built with this very list, so renaming costs nothing per row.
        """
        if len(names) != len(self.columns):
            raise ValueError("one name per column")
        self.columns[:] = names

    def bytes_read(self) -> int:
        """How far the raw file has been read, for a progress bar (approximate)."""
        if self._position is None:
            return 0
        try:
            return min(int(self._position()), self.size_bytes)
        except ValueError:  # the stream is closed: everything was read
            return self.size_bytes

    def close(self) -> None:
        """Release the file early, when the rows are not read to the end."""
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()
        if self._release is not None:
            self._release()

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


SAMPLE = 64 * 1024
DELIMITERS = (",", ";", "\t")
ALIASES = {"e_mail": "email"}  # how Excel users often spell it
# Single-byte code pages an owner's export can plausibly be in; anything else is mojibake.
LEGACY_ENCODINGS = [
    "cp1251",
    "cp1252",
    "cp1250",
    "latin_1",
    "iso8859_15",
    "koi8_r",
    "koi8_u",
    "cp866",
    "mac_cyrillic",
    "iso8859_5",
]
NOT_TEXT = (
    "the file is not text in UTF-8 or Windows-1251 (it looks like UTF-16 or a binary file); "
    "in Excel use “Save as” → “CSV UTF-8” or “Excel workbook (.xlsx)”"
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EOL = re.compile(rb"\r\n|\r|\n")
_END_CELL = "\x00"
_END = _END_CELL + "\n"
_SEP_LINE = re.compile(r"sep=([,;\t|])\r?\n?")


def too_big(max_bytes: int) -> str:
    return (
        f"the file holds more than {max_bytes:,} bytes once decompressed, the limit of this "
        "install (CROSSPROMO_IMPORT_MAX_BYTES); split it into smaller files"
    )


def too_many_rows(max_rows: int) -> str:
    return (
        f"the file has more than {max_rows:,} rows, the limit of this install "
        "(CROSSPROMO_IMPORT_MAX_ROWS); split it into smaller files"
    )


def normalize_header(name: str) -> str:
    """' Customer ID ' -> 'customer_id'; 'E-mail' -> 'email'."""
    key = "_".join(name.replace("\ufeff", "").replace("-", " ").strip().lower().split())
    return ALIASES.get(key, key)


class _LineGuard(io.RawIOBase):
    """Refuses any physical line longer than `limit` bytes while the file streams, so a
    multi-gigabyte file without line breaks fails after about `limit` bytes, not in memory."""

    def __init__(self, raw: io.BufferedIOBase, limit: int, max_bytes: int | None = None) -> None:
        self._raw = raw
        self._limit = limit
        self._max_bytes = max_bytes  # the whole (decompressed) stream: a gzip bomb stops here
        self._total = 0
        self._run = 0  # bytes since the last line break
        self._line = 1
        self._after_cr = False  # a "\r\n" may be split between two reads

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._raw.read(len(buffer))
        if not chunk:
            return 0
        self._total += len(chunk)
        if self._max_bytes is not None and self._total > self._max_bytes:
            raise FileProblem(too_big(self._max_bytes))
        self._check(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def _check(self, chunk: bytes) -> None:
        skip = 1 if self._after_cr and chunk[:1] == b"\n" else 0
        nul = chunk.find(b"\x00")
        if nul >= 0:  # the csv module of Python 3.11+ would pass NUL bytes on as text
            before = chunk[skip:nul]
            line = self._line + len(_EOL.findall(before))
            raise FileProblem(f"line {line} contains a NUL byte; {NOT_TEXT}")
        self._after_cr = chunk.endswith(b"\r")
        last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if self._run + len(chunk) <= self._limit:
            # No line can be too long inside this chunk; count without a per-line loop.
            breaks = chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n") - skip
            self._line += breaks
            self._run = self._run + len(chunk) if last < 0 else len(chunk) - last - 1
            return
        position = skip
        for match in _EOL.finditer(chunk, skip):
            self._run += match.start() - position
            self._refuse_if_long()
            self._run = 0
            self._line += 1
            position = match.end()
        self._run += len(chunk) - position
        self._refuse_if_long()

    def _refuse_if_long(self) -> None:
        if self._run > self._limit:
            raise FileProblem(
                f"line {self._line} is longer than {self._limit:,} bytes; "
                "is this really a CSV export?"
            )


class _Source:
    """The file on disk and the (possibly decompressed) byte stream read from it."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("rb")
        compressed = self.file.read(2) == b"\x1f\x8b"
        self.file.seek(0)
        self.stream: io.BufferedIOBase = (
            gzip.GzipFile(fileobj=self.file) if compressed else self.file
        )

    def close(self) -> None:
        self.stream.close()
        self.file.close()


_DAMAGED = (OSError, EOFError, zlib.error)  # what gzip raises for a broken or cut-short file


def _sample(path: Path) -> bytes:
    source = _Source(path)
    try:
        return source.stream.read(SAMPLE)
    except _DAMAGED:
        raise FileProblem("the compressed file is damaged and cannot be unpacked") from None
    finally:
        source.close()


def _encoding(sample: bytes, complete: bool) -> str:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in sample:
        raise FileProblem(NOT_TEXT)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"  # the rest is checked while streaming, naming the line
    try:
        # The incremental decoder accepts a multibyte character cut at the sample's end.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = from_bytes(sample, cp_isolation=LEGACY_ENCODINGS)
    best = matches.best()
    if best is None:
        raise FileProblem(NOT_TEXT)
    # Russian Excel saves CSV in Windows-1251, and on short samples charset-normalizer
    # often ranks a neighbouring code page first; prefer 1251 whenever it is plausible.
    if any(m.encoding == "cp1251" for m in matches):
        return "cp1251"
    return str(best.encoding)


def _first_line(text: str) -> str:
    for line in io.StringIO(text, newline=""):
        if line.strip():
            return line
    return ""


def _delimiter(line: str, sample: str) -> str:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    top = max(counts.values())
    tied = [d for d in DELIMITERS if counts[d] == top]
    if top == 0:
        return ","  # one column: the delimiter does not matter
    if len(tied) == 1:
        return tied[0]
    try:  # a rare tie in the header: let the rows decide
        found = csv.Sniffer().sniff(sample, delimiters="".join(tied)).delimiter
    except csv.Error:
        return tied[0]
    return found if found in tied else tied[0]


def _columns(cells: Sequence[str]) -> list[str]:
    columns = [normalize_header(c) for c in cells]
    while columns and not columns[-1]:
        columns.pop()  # trailing separators after the last header are common in exports
    if not columns:
        raise FileProblem("the first row has no column names")
    seen: dict[str, int] = {}
    for number, name in enumerate(columns, start=1):
        if name in seen:
            if not name:
                raise FileProblem(f"columns {seen[name]} and {number} have no name in the header")
            raise FileProblem(f"column {name!r} appears twice in the header")
        seen[name] = number
    return columns


def _headers(cells: Sequence[str], width: int) -> list[str]:
    return [c.replace("\ufeff", "").strip() for c in cells[:width]]


def _row(line: int, columns: list[str], cells: Sequence[str]) -> Row:
    width = len(columns)
    values = dict(zip(columns, map(str.strip, cells), strict=False))
    if len(cells) < width:
        for name in columns[len(cells) :]:
            values[name] = ""
    elif len(cells) > width and any(c.strip() for c in cells[width:]):
        values["__extra__"] = str(len(cells) - width)
    return Row(line, values)


def _bad_text_line(
    path: Path, encoding: str, max_line_bytes: int, max_bytes: int | None = None
) -> int | None:
    """The line holding the first byte that is not `encoding`, counted as the csv module does."""
    source = _Source(path)
    try:
        guard = io.BufferedReader(_LineGuard(source.stream, max_line_bytes, max_bytes), 1 << 16)
        text = io.TextIOWrapper(guard, encoding=encoding, errors="surrogateescape", newline="")
        for number, line in enumerate(text, start=1):
            if not line.isascii() and any("\udc80" <= ch <= "\udcff" for ch in line):
                return number
    except (FileProblem, *_DAMAGED):
        return None
    finally:
        source.close()
    return None


def _csv(path: Path, max_line_bytes: int, max_bytes: int | None, max_rows: int | None) -> Table:
    sample = _sample(path)
    complete = len(sample) < SAMPLE
    if complete and not sample.replace(codecs.BOM_UTF8, b"").strip():
        raise FileProblem("the file is empty")
    encoding = _encoding(sample, complete=complete)
    head = codecs.decode(sample, encoding, errors="replace")
    if head.lstrip().lower().startswith(("<!doctype html", "<html", "<table", "<?xml")):
        raise FileProblem(
            "the file is a web page or XML, not CSV; open it in Excel and save it as "
            "“CSV UTF-8” or “Excel workbook (.xlsx)”"
        )
    first = _first_line(head)
    sep_line = _SEP_LINE.fullmatch(first)  # Excel's "sep=;" hint line
    delimiter = sep_line.group(1) if sep_line else _delimiter(first, head[:8192])

    source = _Source(path)
    guard = _LineGuard(source.stream, max_line_bytes, max_bytes)
    text = io.TextIOWrapper(io.BufferedReader(guard, 1 << 16), encoding=encoding, newline="")
    # A quoted value may span lines, so only this bounds one left open by a stray quote.
    field_limit = max(max_line_bytes, 131072)
    csv.field_size_limit(field_limit)
    # In its lenient mode the csv module ends a quote left open at the end of the file
    # silently, swallowing the remaining records into one value. A last line that cannot
    # occur in text (NUL bytes are refused) shows where the parser stood when the data ended.
    reader = csv.reader(itertools.chain(text, [_END]), delimiter=delimiter)
    last_line = 0  # reader.line_num after the previous record: where it ended

    def problem(error: Exception) -> FileProblem:
        start = last_line + 1
        if isinstance(error, UnicodeDecodeError):
            line = _bad_text_line(path, encoding, max_line_bytes, max_bytes) or start
            name = "UTF-8" if encoding.startswith("utf-8") else encoding
            return FileProblem(
                f"line {line} is not valid {name} text; save the whole file in one encoding, "
                "preferably “CSV UTF-8”"
            )
        if isinstance(error, csv.Error):
            if "field limit" in str(error):
                return FileProblem(
                    f"line {start}: a value runs on for more than {field_limit:,} "
                    "characters; is a closing quote missing?"
                )
            return FileProblem(f"line {start}: {error}")
        return FileProblem(f"the file is damaged or cut short after line {last_line}")

    def records() -> Generator[tuple[int, list[str]], None, None]:
        nonlocal last_line
        try:
            for cells in reader:
                start, last_line = last_line + 1, reader.line_num
                if cells and "\x00" in cells[-1]:
                    if cells == [_END_CELL]:
                        return
                    raise FileProblem(
                        f"line {start}: a quote opened in this record is never closed; "
                        "is a closing quote missing?"
                    )
                if any(c.strip() for c in cells):  # blank lines between records are skipped
                    yield start, cells
        except (UnicodeDecodeError, csv.Error, *_DAMAGED) as exc:
            raise problem(exc) from None

    stream = records()
    try:
        header = next(stream, None)
        if header is not None and sep_line:
            header = next(stream, None)
        if header is None:
            raise FileProblem("the file is empty")
        columns = _columns(header[1])
    except BaseException:
        stream.close()
        source.close()
        raise

    def rows() -> Iterator[Row]:
        try:
            for count, (start, cells) in enumerate(stream, start=1):
                if max_rows is not None and count > max_rows:
                    raise FileProblem(too_many_rows(max_rows))
                yield _row(start, columns, cells)
        finally:
            source.close()

    return Table(
        columns,
        encoding,
        delimiter,
        rows(),
        _size(path),
        source.file.tell,
        source.close,
        _headers(header[1], len(columns)),
    )


def _size(path: Path) -> int:
    return path.stat().st_size


def _number(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    # Excel keeps 15 significant digits; beyond them are binary artefacts (0.30000000000000004).
    return format(Decimal(repr(float(f"{value:.15g}"))), "f")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.microsecond >= 500_000:  # Excel stores times as fractions of a day
            value += timedelta(microseconds=1_000_000 - value.microsecond)
        value = value.replace(microsecond=0)
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return _number(value)
    return str(value).strip()


def _unpacked_size(path: Path) -> int:
    """The declared size of an XLSX's parts once unpacked; zipfile never inflates past it."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return 0  # openpyxl says what is wrong with it


def _xlsx(path: Path, max_bytes: int | None, max_rows: int | None) -> Table:
    from openpyxl import load_workbook

    if max_bytes is not None and _unpacked_size(path) > max_bytes:
        raise FileProblem(too_big(max_bytes))
    file = path.open("rb")  # a file object: openpyxl refuses names without .xlsx

    def release() -> None:
        book.close()
        file.close()

    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        file.close()
        raise FileProblem(f"the Excel file cannot be read ({type(exc).__name__})") from None
    size = _size(path)
    state = {"row": 0, "total": 0}
    try:
        if not book.worksheets:
            raise FileProblem("the Excel file has no worksheet")
        sheet = book.worksheets[0]
        total = sheet.max_row
        state["total"] = total if isinstance(total, int) else 0
        # Some generators write a wrong <dimension>, which would cut the rows short.
        sheet.reset_dimensions()
        cells = enumerate(sheet.iter_rows(values_only=True), start=1)
        header: list[str] = []
        for number, values in cells:
            header = [_cell(v) for v in values]
            state["row"] = number
            if any(header):
                break
        if not any(header):
            raise FileProblem("the file is empty")
        columns = _columns(header)
    except FileProblem:
        release()
        raise
    except Exception as exc:
        release()
        raise FileProblem(f"the Excel file cannot be read ({type(exc).__name__})") from None

    def rows() -> Iterator[Row]:
        count = 0
        try:
            for number, values in cells:
                state["row"] = number
                texts = [_cell(v) for v in values]
                if any(texts):
                    count += 1
                    if max_rows is not None and count > max_rows:
                        raise FileProblem(too_many_rows(max_rows))
                    yield _row(number, columns, texts)
            state["row"] = state["total"] = 1
        except FileProblem:
            raise
        except Exception as exc:
            raise FileProblem(
                f"row {state['row'] + 1} of the Excel sheet cannot be read ({type(exc).__name__})"
            ) from None
        finally:
            release()

    def position() -> int:
        if not state["total"]:
            return 0
        return size * min(state["row"], state["total"]) // state["total"]

    return Table(
        columns, "xlsx", None, rows(), size, position, release, _headers(header, len(columns))
    )


def open_table(
    path: Path,
    *,
    max_line_bytes: int = 1_000_000,
    filename: str | None = None,
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> Table:
    """Open an export for streaming; raises FileProblem when it cannot be read at all.

    Reading past `max_bytes` decompressed bytes or `max_rows` rows raises FileProblem.
    """
    try:
        size = _size(path)
        with path.open("rb") as probe:
            magic = probe.read(8)
    except OSError:
        raise FileProblem("the file cannot be opened") from None
    if size == 0:
        raise FileProblem("the file is empty")
    if magic.startswith(b"PK\x03\x04"):
        return _xlsx(path, max_bytes, max_rows)
    if magic == OLE_MAGIC:
        raise FileProblem(
            "this is an old Excel .xls (or a password-protected) workbook; "
            "save it as “Excel workbook (.xlsx)” or “CSV UTF-8”"
        )
    try:
        # Content decides, not the name: some systems save CSV text as .xls or .xlsx.
        return _csv(path, max_line_bytes, max_bytes, max_rows)
    except FileProblem as exc:
        if str(exc) == NOT_TEXT and (filename or path.name).lower().endswith((".xlsx", ".xlsm")):
            raise FileProblem("the file is named .xlsx but is not an Excel workbook") from None
        raise
