"""The independent side of the truth tests: KPIs recomputed by DuckDB over the raw CSV files.

DuckDB reads the same transactions file the import reads and works out each receipt's local
day itself (the local wall-clock text for naive values, ICU's time zones for values with an
offset); nothing here uses crosspromo's code.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb


class Truth:
    """Receipts of one business with their local day, in an in-memory DuckDB."""

    def __init__(self, transactions_csv: Path, timezone: str) -> None:
        self.cache: dict[tuple[date, date, int], dict[str, Any]] = {}
        self.con = duckdb.connect()
        self.con.execute(f"SET TimeZone = '{timezone}'")
        self.con.execute(
            """
            CREATE TABLE r AS
            SELECT customer, CAST(replace(amount, ',', '.') AS DECIMAL(18, 2)) AS amount,
                   CASE
                     WHEN "at" LIKE '%Z' OR regexp_matches("at", '[+-][0-9][0-9]:[0-9][0-9]$')
                       THEN CAST(CAST("at" AS TIMESTAMPTZ) AS TIMESTAMP)
                     ELSE CAST("at" AS TIMESTAMP)
                   END AS local_ts
            FROM read_csv(?, header = true, all_varchar = true)
            """,
            [str(transactions_csv)],
        )
        self.con.execute("ALTER TABLE r ADD COLUMN d DATE")
        self.con.execute("UPDATE r SET d = CAST(local_ts AS DATE)")
        self.con.execute(
            "CREATE TABLE firsts AS SELECT customer, min(local_ts) AS first_ts FROM r "
            "WHERE customer IS NOT NULL AND customer <> '' GROUP BY customer"
        )

    def figures(self, start: date, end: date, minor: int = 100) -> dict[str, Any]:
        key = (start, end, minor)
        if key not in self.cache:
            self.cache[key] = self._figures(start, end, minor)
        return self.cache[key]

    def _figures(self, start: date, end: date, minor: int) -> dict[str, Any]:
        row = self.con.execute(
            """
            SELECT count(*), coalesce(sum(amount), 0),
                   count(DISTINCT nullif(customer, '')),
                   count(*) FILTER (WHERE coalesce(customer, '') <> '')
            FROM r WHERE d BETWEEN ? AND ?
            """,
            [start, end],
        ).fetchone()
        assert row is not None
        receipts, revenue, customers, customer_receipts = row
        repeat = self.con.execute(
            """
            SELECT count(*) FROM (
              SELECT customer FROM r
              WHERE d BETWEEN ? AND ? AND coalesce(customer, '') <> ''
              GROUP BY customer HAVING count(DISTINCT d) >= 2)
            """,
            [start, end],
        ).fetchone()
        new = self.con.execute(
            "SELECT count(*) FROM firsts WHERE CAST(first_ts AS DATE) BETWEEN ? AND ?",
            [start, end],
        ).fetchone()
        assert repeat is not None and new is not None
        revenue_minor = int(Decimal(revenue) * minor)
        avg = (
            int((Decimal(revenue_minor) / receipts).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            if receipts
            else 0
        )
        return {
            "receipts": int(receipts),
            "revenue_minor": revenue_minor,
            "customers": int(customers),
            "new_customers": int(new[0]),
            "returning_customers": int(customers) - int(new[0]),
            "repeat_customers": int(repeat[0]),
            "avg_check_minor": avg,
            "purchase_frequency": round(customer_receipts / customers, 6) if customers else 0.0,
            "repeat_share": round(int(repeat[0]) / customers, 6) if customers else 0.0,
        }

    def span(self) -> tuple[date, date]:
        row = self.con.execute("SELECT min(d), max(d) FROM r").fetchone()
        assert row is not None
        return row[0], row[1]


def same(found: dict[str, Any], truth: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The metrics where crosspromo and DuckDB disagree (empty when all agree)."""
    return {k: (found[k], v) for k, v in truth.items() if found[k] != v}
