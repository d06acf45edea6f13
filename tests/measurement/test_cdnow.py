"""The CDNOW data set (69,659 orders, 1997-1998) imported as one music shop: monthly and weekly
KPIs in the shop's zone equal DuckDB's over the raw file, exactly, on both engines."""

from __future__ import annotations

import gzip
import shutil
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crosspromo.businesses.service import get_by_slug
from crosspromo.db import make_engine, make_sessionmaker
from crosspromo.imports import service as imports
from crosspromo.measurement.kpi import kpis
from tests.conftest import PG_URL, _pg_admin, make_owner

DATA = Path(__file__).parent.parent / "data" / "cdnow" / "CDNOW_master.txt.gz"
ZONE = "America/New_York"


def _files(folder: Path) -> tuple[Path, Path]:
    customers, transactions = folder / "customers.csv", folder / "transactions.csv"
    seen: set[str] = set()
    with (
        gzip.open(DATA, "rt") as raw,
        customers.open("w") as c,
        transactions.open("w") as t,
    ):
        c.write("customer,email\n")
        t.write("id,customer,at,amount\n")
        for number, line in enumerate(raw, start=1):
            who, day, _cds, dollars = line.split()
            if who == "customer_id":  # the header
                continue
            if who not in seen:
                seen.add(who)
                c.write(f"{who},c{who}@cdnow.example\n")
            t.write(f"L{number},{who},{day[:4]}-{day[4:6]}-{day[6:]},{dollars}\n")
    return customers, transactions


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Session, uuid.UUID, duckdb.DuckDBPyConnection]]:
    folder = tmp_path_factory.mktemp("cdnow")
    if request.param == "sqlite":
        target = folder / "cdnow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        url = f"sqlite:///{target}"
        name = ""
    else:
        template = request.getfixturevalue("pg_template")
        name = f"cp_cdnow_{uuid.uuid4().hex[:10]}"
        with _pg_admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    customers, transactions = _files(folder)
    with make_sessionmaker(engine)() as db:
        make_owner(db, "cdnow@example.com", "CDNOW", timezone=ZONE, currency="USD")
        business = get_by_slug(db, "cdnow")
        assert business is not None
        for kind, path in (("customers", customers), ("transactions", transactions)):
            imports.run(db, kind=kind, path=path, secret_key="s", business="cdnow")
            db.commit()
        truth = duckdb.connect()
        truth.execute(
            'CREATE TABLE r AS SELECT customer, CAST("at" AS DATE) AS d, '
            "CAST(amount AS DECIMAL(18, 2)) AS amount "
            "FROM read_csv(?, header = true, all_varchar = true)",
            [str(transactions)],
        )
        yield db, business.id, truth
    engine.dispose()
    if name:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _duckdb(truth: duckdb.DuckDBPyConnection, unit: str) -> dict[date, tuple[int, ...]]:
    rows = truth.execute(
        f"""
        WITH firsts AS (SELECT customer, min(d) AS f FROM r GROUP BY customer),
        per_customer AS (
          SELECT date_trunc('{unit}', d) AS p, customer, count(*) AS n,
                 count(DISTINCT d) AS days
          FROM r GROUP BY 1, 2)
        SELECT pc.p, sum(pc.n), count(*), sum(CASE WHEN days >= 2 THEN 1 ELSE 0 END),
               (SELECT count(*) FROM firsts WHERE date_trunc('{unit}', f) = pc.p),
               (SELECT CAST(sum(amount) * 100 AS BIGINT) FROM r
                WHERE date_trunc('{unit}', d) = pc.p)
        FROM per_customer pc GROUP BY pc.p ORDER BY pc.p
        """
    ).fetchall()
    return {p: tuple(int(x) for x in rest) for p, *rest in rows}


@pytest.mark.parametrize("by", ["month", "week"])
def test_cdnow_figures_equal_duckdb(
    shop: tuple[Session, uuid.UUID, duckdb.DuckDBPyConnection], by: str
) -> None:
    db, business_id, truth = shop
    found = kpis(db, business_id=business_id, start=date(1997, 1, 1), end=date(1998, 6, 30), by=by)
    expected = _duckdb(truth, by)
    ours = [p for p in found if p.figures.receipts]
    assert sum(p.figures.receipts for p in found) == 69_659
    assert sum(p.figures.revenue_minor for p in found) == sum(v[4] for v in expected.values())
    assert len(ours) == len(expected)
    for (start, want), period in zip(sorted(expected.items()), ours, strict=True):
        f = period.figures
        got = (f.receipts, f.customers, f.repeat_customers, f.new_customers, f.revenue_minor)
        assert got == want, (start, got, want)
        first = start.date() if isinstance(start, datetime) else start
        assert period.start == max(first, date(1997, 1, 1))
    assert found[0].partial == (by == "week")  # 1 Jan 1997 is a Wednesday
