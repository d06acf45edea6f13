"""The reader reports the line where each record starts, also after quoted line breaks."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from crosspromo.imports.reader import FileProblem, open_table


def test_line_numbers_survive_quoted_newlines_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        'Customer ID;E-MAIL\nC1;"a\nb@example.com"\n\nC2;c@example.com\n', encoding="utf-8"
    )
    table = open_table(path)
    assert table.columns == ["customer_id", "email"]
    assert table.delimiter == ";"
    rows = list(table.rows)
    assert [r.line for r in rows] == [2, 5]
    assert rows[0].values["email"] == "a\nb@example.com"


def test_duplicate_header_and_binary_are_refused(tmp_path: Path) -> None:
    dup = tmp_path / "d.csv"
    dup.write_text("id,id\n1,2\n")
    with pytest.raises(FileProblem, match="appears twice"):
        open_table(dup)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"id,name\n\x00\x01\x02")
    with pytest.raises(FileProblem, match="not text"):
        open_table(binary)


def test_streaming_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as f:
        f.write("business,id,at,amount\n")
        for i in range(200_000):
            f.write(f"b,R{i},2025-01-01T10:00,{i}.00\n")
    tracemalloc.start()
    count = sum(1 for _ in open_table(path).rows)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 200_000
    assert peak < 30 * 1024 * 1024
