"""The file-reading layer of imports: encodings, delimiters, gzip, XLSX, refusals, streaming."""

from __future__ import annotations

import gzip
import tracemalloc
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from crosspromo.imports import reader
from crosspromo.imports.reader import FileProblem, Row, Table, open_table


def read(path: Path) -> tuple[Table, list[Row]]:
    table = open_table(path)
    return table, list(table.rows)


def test_utf8_comma(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("id,name\n1,Пекарня «Хлеб»\n2,Café\n".encode())
    table, rows = read(path)
    assert (table.encoding, table.delimiter) == ("utf-8", ",")
    assert table.columns == ["id", "name"]
    assert [r.line for r in rows] == [2, 3]
    assert rows[0].values == {"id": "1", "name": "Пекарня «Хлеб»"}
    assert rows[1].values["name"] == "Café"


def test_utf8_with_bom_does_not_leak_into_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "Email;Имя\r\na@example.com;Анна\r\n".encode())
    table, rows = read(path)
    assert table.encoding == "utf-8-sig"
    assert table.columns == ["email", "имя"]
    assert rows == [Row(2, {"email": "a@example.com", "имя": "Анна"})]


@pytest.mark.parametrize("lines", [2, 200])
def test_windows_1251_from_russian_excel(tmp_path: Path, lines: int) -> None:
    path = tmp_path / "c.csv"
    body = "".join(f"{i};Пекарня «Хлеб»;Москва\r\n" for i in range(1, lines))
    path.write_bytes(("Номер;Название;Город\r\n" + body).encode("cp1251"))
    table, rows = read(path)
    assert (table.encoding, table.delimiter) == ("cp1251", ";")
    assert table.columns == ["номер", "название", "город"]
    assert len(rows) == lines - 1
    assert rows[0].values == {"номер": "1", "название": "Пекарня «Хлеб»", "город": "Москва"}


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_delimiter_is_taken_from_the_header(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "c.csv"
    # The other candidates appear in the data and inside a quoted header, and must not win.
    header = delimiter.join(["id", '"amount, rub; total"', "note"])
    row = delimiter.join(["1", '"12,50"', '"a;b\tc"'])
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    table, rows = read(path)
    assert table.delimiter == delimiter
    assert table.columns == ["id", "amount,_rub;_total", "note"]
    assert rows[0].values == {"id": "1", "amount,_rub;_total": "12,50", "note": "a;b\tc"}


def test_excel_sep_hint_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("sep=;\nid;amount\n1;2,5\n", encoding="utf-8")
    table, rows = read(path)
    assert table.delimiter == ";"
    assert table.columns == ["id", "amount"]
    assert rows == [Row(3, {"id": "1", "amount": "2,5"})]


def test_quoted_newlines_doubled_quotes_and_start_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(
        b"id,comment,amount\r\n"
        b'1,"first\r\nsecond\r\nthird",10\r\n'  # lines 2-4
        b'2,"say ""hi""",20\r\n'  # line 5
        b"\r\n"  # line 6, blank
        b'3,"a\nb",30\r\n'  # lines 7-8
        b"4,plain,40\r\n"  # line 9
    )
    _, rows = read(path)
    assert [r.line for r in rows] == [2, 5, 7, 9]
    assert rows[0].values["comment"] == "first\r\nsecond\r\nthird"
    assert rows[1].values["comment"] == 'say "hi"'
    assert rows[2].values["comment"] == "a\nb"


def test_old_mac_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"id;name\r1;a\r2;b\r")
    _, rows = read(path)
    assert [(r.line, r.values["name"]) for r in rows] == [(2, "a"), (3, "b")]


def test_gzip_is_recognised_by_content(tmp_path: Path) -> None:
    text = b"receipt,amount\nR1,10\nR2,20\n"
    for name in ("transactions.csv.gz", "transactions.csv"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(text))
        table, rows = read(path)
        assert table.size_bytes == path.stat().st_size
        assert table.columns == ["receipt", "amount"]
        assert [r.values["receipt"] for r in rows] == ["R1", "R2"]
        assert table.bytes_read() == table.size_bytes


def test_gzip_in_windows_1251(tmp_path: Path) -> None:
    path = tmp_path / "c.csv.gz"
    path.write_bytes(gzip.compress("id;name\n1;Пекарня «Хлеб»\n".encode("cp1251")))
    table, rows = read(path)
    assert table.encoding == "cp1251"
    assert rows[0].values["name"] == "Пекарня «Хлеб»"


def test_damaged_gzip(tmp_path: Path) -> None:
    path = tmp_path / "c.csv.gz"
    data = gzip.compress(b"id\n" + b"".join(b"%d\n" % i for i in range(200_000)))
    path.write_bytes(data[: len(data) // 2])
    table = open_table(path)
    with pytest.raises(FileProblem, match="damaged or cut short"):
        list(table.rows)
    path.write_bytes(b"\x1f\x8b" + b"not really gzip" * 10)
    with pytest.raises(FileProblem, match="damaged"):
        open_table(path)


def test_xlsx_values_become_text(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([" Customer ID ", "Visit date", "At", "Count", "Amount", "Whole", "Note"])
    sheet.append(["C1", date(2025, 3, 1), datetime(2025, 3, 1, 10, 30), 42, 12.5, 100.0, None])
    sheet.append([])  # row 3 stays empty and is skipped
    sheet.append(["C2", date(2025, 3, 2), datetime(2025, 3, 2, 9, 5, 7), 7, 0.1 + 0.2, 3.0, "x"])
    path = tmp_path / "export.xlsx"
    book.save(path)

    table, rows = read(path)
    assert (table.encoding, table.delimiter) == ("xlsx", None)
    assert table.columns == ["customer_id", "visit_date", "at", "count", "amount", "whole", "note"]
    assert [r.line for r in rows] == [2, 4]
    assert rows[0].values == {
        "customer_id": "C1",
        "visit_date": "2025-03-01",
        "at": "2025-03-01T10:30:00",
        "count": "42",
        "amount": "12.5",
        "whole": "100",
        "note": "",
    }
    assert rows[1].values["at"] == "2025-03-02T09:05:07"
    assert rows[1].values["amount"] == "0.3"
    assert table.bytes_read() == table.size_bytes


def test_xlsx_is_recognised_by_content_and_flags_extra_cells(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "name"])
    sheet.append([1, "a", "unexpected"])
    sheet.append([2])
    path = tmp_path / "upload.bin"
    book.save(path)
    _, rows = read(path)
    assert rows[0].values == {"id": "1", "name": "a", "__extra__": "1"}
    assert rows[1].values == {"id": "2", "name": ""}


def test_header_only_is_a_valid_empty_table(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name\n\n", encoding="utf-8")
    table, rows = read(path)
    assert table.columns == ["id", "name"]
    assert rows == []


@pytest.mark.parametrize(
    "content", [b"", b"   \r\n\n\t", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n\n", b"sep=;\n"]
)
def test_empty_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(FileProblem, match="^the file is empty$"):
        open_table(path)


def test_empty_gzip(tmp_path: Path) -> None:
    path = tmp_path / "c.csv.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(FileProblem, match="^the file is empty$"):
        open_table(path)


@pytest.mark.parametrize(
    "content",
    [
        b"id,name\n1,a\x00b\n",
        bytes(range(1, 256)) * 40,  # binary without NUL bytes
        "id,name\n1,Пекарня\n".encode("utf-16"),  # with a BOM
        "id,name\n1,Пекарня\n".encode("utf-16-le"),  # without one
    ],
    ids=["nul", "binary", "utf-16", "utf-16-le"],
)
def test_not_text_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(FileProblem, match="^the file is not text in UTF-8 or Windows-1251"):
        open_table(path)


def test_old_excel_and_web_pages_are_refused_with_advice(tmp_path: Path) -> None:
    xls = tmp_path / "a.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(FileProblem, match=r"old Excel \.xls"):
        open_table(xls)
    html = tmp_path / "b.xls"
    html.write_text("<html><body><table><tr><td>id</td></tr></table></body></html>")
    with pytest.raises(FileProblem, match="web page"):
        open_table(html)


def test_nul_after_the_sample_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    body = b"".join(b"%d,x\n" % i for i in range(2, 30_000))  # well past the 64 KB sample
    path.write_bytes(b"id,v\n" + body + b"30000,a\x00b\n")
    table = open_table(path)
    with pytest.raises(FileProblem, match="^line 30000 contains a NUL byte"):
        list(table.rows)


def test_bad_bytes_after_the_sample_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    body = "".join(f"{i},Анна\n" for i in range(2, 10_000)).encode()  # UTF-8, > 64 KB
    path.write_bytes(b"id,name\n" + body + "10000,Пекарня\n".encode("cp1251") + b"10001,b\n")
    table = open_table(path)
    assert table.encoding == "utf-8"
    with pytest.raises(FileProblem, match="^line 10000 is not valid UTF-8 text"):
        list(table.rows)


def test_extra_and_missing_cells(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("a,b,c,d,e\n1,2,3,4,5,6,7\n1,2\n1,2,3,4,5,,\n", encoding="utf-8")
    _, rows = read(path)
    assert rows[0].line == 2
    assert rows[0].values["__extra__"] == "2"  # 7 values but the header has 5 columns
    assert rows[1].values == {"a": "1", "b": "2", "c": "", "d": "", "e": ""}
    assert "__extra__" not in rows[2].values  # trailing empty cells are not extra values


def test_header_normalisation(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(' Customer ID ,EMAIL,"Phone  Number",E-mail Old,\n1,a,b,c,\n')
    table, rows = read(path)
    assert table.columns == ["customer_id", "email", "phone_number", "e_mail_old"]
    assert rows[0].values == {
        "customer_id": "1",
        "email": "a",
        "phone_number": "b",
        "e_mail_old": "c",
    }


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id,Email,EMAIL", "column 'email' appears twice"),
        ("Customer ID,customer_id", "column 'customer_id' appears twice"),
        ("id,,,name", "columns 2 and 3 have no name"),
    ],
)
def test_duplicate_headers_are_refused(tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(header + "\n1,2,3,4\n")
    with pytest.raises(FileProblem, match=message):
        open_table(path)


def test_oversized_first_line_stops_reading_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 5 MB line is refused after about the limit's bytes, never read whole (no timing)."""
    path = tmp_path / "c.csv"
    with path.open("wb") as f:
        for _ in range(80):  # 5 MB without a line break
            f.write(b"a," * 32768)
    streamed: list[int] = []
    readinto = reader._LineGuard.readinto

    def counted(self: Any, buffer: Any) -> int:
        got = readinto(self, buffer)
        streamed.append(got)
        return got

    monkeypatch.setattr(reader._LineGuard, "readinto", counted)
    tracemalloc.start()
    with pytest.raises(FileProblem) as caught:
        open_table(path, max_line_bytes=100_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert str(caught.value) == (
        "line 1 is longer than 100,000 bytes; is this really a CSV export?"
    )
    assert peak < 2 * 1024 * 1024
    # read through the guard: about the limit (a few buffers at most), not the 5 MB file
    assert 0 < sum(streamed) <= 100_000 + 4 * 65_536, sum(streamed)


def test_oversized_line_inside_a_compressed_file(tmp_path: Path) -> None:
    path = tmp_path / "c.csv.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(b"id,note\n1,short\n2,")
        for _ in range(320):  # 20 MB unpacked, a few KB on disk
            f.write(b"x" * 65536)
        f.write(b"\n")
    table = open_table(path, max_line_bytes=100_000)
    rows = table.rows
    assert next(rows).line == 2
    tracemalloc.start()
    with pytest.raises(FileProblem, match="^line 3 is longer than 100,000 bytes"):
        next(rows)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 * 1024 * 1024


def test_unclosed_quote_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    with path.open("wb") as f:
        f.write(b'id,note\n1,ok\n2,"never closed\n')
        for i in range(200_000):  # every physical line is short
            f.write(b"%d,x\n" % i)
    table = open_table(path, max_line_bytes=100_000)
    with pytest.raises(FileProblem, match="^line 3: a value runs on .* closing quote missing"):
        list(table.rows)


def test_quote_left_open_at_the_end_is_not_swallowed(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b'id,name\n1,"Hleb" Ltd\n2,Hleb "Bakery\n3,"abc\n4,def\n5,ghi')
    table = open_table(path)
    with pytest.raises(FileProblem, match="^line 4: a quote opened in this record is never"):
        for row in table.rows:  # a stray quote inside an unquoted value is fine
            assert row.values["name"] in ("Hleb Ltd", 'Hleb "Bakery')


def test_last_line_without_a_line_break(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b'id,note\n1,"a\nb"\n2,c')
    _, rows = read(path)
    assert [(r.line, r.values["note"]) for r in rows] == [(2, "a\nb"), (4, "c")]


def test_a_large_gzip_file_streams_in_little_memory(tmp_path: Path) -> None:
    path = tmp_path / "transactions.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        f.write("business,receipt,at,amount,customer\r\n")
        for start in range(0, 200_000, 10_000):
            f.write(
                "".join(
                    f"bakery,R{i},2025-01-01T10:00:00,{i}.50,Покупатель {i}\r\n"
                    for i in range(start, start + 10_000)
                )
            )
    tracemalloc.start()
    table = open_table(path)
    count = 0
    last_line = 0
    progress: list[int] = []
    for row in table.rows:
        count += 1
        last_line = row.line
        if count % 50_000 == 0:
            progress.append(table.bytes_read())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 200_000
    assert last_line == 200_001
    assert peak < 30 * 1024 * 1024
    assert progress == sorted(progress)
    assert 0 < progress[0] < table.size_bytes
    assert table.bytes_read() == table.size_bytes


def test_close_releases_an_unread_table(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id\n1\n2\n")
    with open_table(path) as table:
        assert next(table.rows).values == {"id": "1"}
    assert table.bytes_read() == table.size_bytes
