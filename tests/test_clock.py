"""Periods in a business's zone: DST-correct edges, partial periods, one stored format."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from crosspromo import clock
from crosspromo.imports import service as imports
from crosspromo.sales import service as sales
from tests.conftest import make_owner


def test_days_on_dst_changes_are_23_and_25_hours() -> None:
    spring = clock.span(date(2026, 3, 29), date(2026, 3, 29), "Europe/Berlin")
    autumn = clock.span(date(2026, 10, 25), date(2026, 10, 25), "Europe/Berlin")
    assert spring.until - spring.since == timedelta(hours=23)
    assert autumn.until - autumn.since == timedelta(hours=25)
    assert spring.since == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert clock.midnight(date(2026, 7, 1), "Europe/Berlin") == datetime(
        2026, 6, 30, 22, tzinfo=UTC
    )


def test_periods_cut_to_the_range_and_flag_partial() -> None:
    found = clock.periods(date(2026, 1, 7), date(2026, 2, 1), "week", "UTC")
    assert [(p.start, p.end, p.partial) for p in found] == [
        (date(2026, 1, 7), date(2026, 1, 11), True),
        (date(2026, 1, 12), date(2026, 1, 18), False),
        (date(2026, 1, 19), date(2026, 1, 25), False),
        (date(2026, 1, 26), date(2026, 2, 1), False),
    ]
    months = clock.periods(
        date(2026, 1, 1), date(2026, 3, 31), "month", "UTC", data_last=date(2026, 3, 20)
    )
    assert [p.partial for p in months] == [False, False, True]
    quarters = clock.periods(date(2025, 11, 1), date(2026, 6, 30), "quarter", "UTC")
    assert [(p.start, p.end) for p in quarters] == [
        (date(2025, 11, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 6, 30)),
    ]
    with pytest.raises(ValueError):
        clock.periods(date(2026, 1, 2), date(2026, 1, 1), "day", "UTC")
    with pytest.raises(ValueError):
        clock.zone("Mars/Olympus")


def test_comparisons() -> None:
    feb = clock.span(date(2026, 2, 1), date(2026, 2, 28), "UTC")
    assert (clock.previous(feb, "month", "UTC").start, clock.previous(feb, "month", "UTC").end) == (
        date(2026, 1, 1),
        date(2026, 1, 31),
    )
    march = clock.span(date(2026, 3, 1), date(2026, 3, 31), "UTC")
    assert clock.previous(march, "month", "UTC").end == date(2026, 2, 28)
    leap = clock.span(date(2024, 2, 1), date(2024, 2, 29), "UTC")
    assert clock.year_earlier(leap, "month", "UTC").end == date(2023, 2, 28)
    week = clock.span(date(2026, 6, 1), date(2026, 6, 7), "UTC")
    assert clock.year_earlier(week, "week", "UTC").start == date(2025, 6, 2)  # also a Monday


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2035, 1, 1)),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Europe/Moscow", "UTC", "Asia/Kolkata"]),
    st.sampled_from(clock.BY),
)
def test_every_instant_lies_in_the_period_of_its_local_day(
    moment: datetime, zone: str, by: str
) -> None:
    instant = moment.replace(tzinfo=UTC)
    day = clock.local_date(instant, zone)
    (period,) = clock.periods(clock.period_start(day, by), clock.period_start(day, by), by, zone)
    full = clock.span(
        clock.period_start(day, by), clock.next_start(period.start, by) - timedelta(1), zone
    )
    assert full.since <= instant < full.until


def test_transitions_are_zoneinfo_offsets() -> None:
    found = clock.transitions(
        "Europe/Berlin", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert [(at.isoformat(), off) for at, off in found] == [
        ("2026-01-01T00:00:00+00:00", timedelta(hours=1)),
        ("2026-03-29T01:00:00+00:00", timedelta(hours=2)),
        ("2026-10-25T01:00:00+00:00", timedelta(hours=1)),
    ]


def test_weekly_chart_keeps_summer_mondays_in_their_week(db: Session, tmp_path: Path) -> None:
    _, business = make_owner(db, "o@example.com", "Shop", timezone="Europe/Berlin")
    # Mondays at local midnight (date-only exports) and Sunday evenings, June 1998.
    rows = ["id,at,amount", "W0,1998-06-03,10", "S0,1998-06-07 23:30,1"]
    rows += ["M1,1998-06-08,10", "S1,1998-06-14 23:30,1", "M2,1998-06-15,10"]
    rows += ["S2,1998-06-21 23:30,1"]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    imports.run(db, kind="transactions", path=tmp_path / "t.csv", secret_key="s", business="shop")
    db.commit()
    weeks = sales.weekly(db, business_id=business.id, timezone=business.timezone, weeks=26)
    assert [(w.start, w.receipts, w.revenue_minor, w.partial) for w in weeks] == [
        (date(1998, 6, 1), 2, 1100, True),  # data begins on the Wednesday
        (date(1998, 6, 8), 2, 1100, False),
        (date(1998, 6, 15), 2, 1100, False),
    ]
    june = sales.figures(
        db,
        business_id=business.id,
        timezone="Europe/Berlin",
        start=date(1998, 6, 8),
        end=date(1998, 6, 8),
    )
    assert june.receipts == 1  # the receipt at local midnight belongs to its own day


def _migration() -> object:
    path = Path(clock.__file__).parent / "migrations" / "versions" / "0017_time_truth_indicators.py"
    spec = importlib.util.spec_from_file_location("m0012", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_rewrites_old_sqlite_text_into_the_stored_format(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE transactions (id INTEGER PRIMARY KEY, at TEXT)"))
        for value in [
            "1997-01-01 05:00:00+00:00",
            "1997-01-01 05:00:00.250000+00:00",
            "1997-01-01 08:00:00+03:00",
            "1997-01-01 05:00:00.000000",
        ]:
            conn.execute(text("INSERT INTO transactions (at) VALUES (:v)"), {"v": value})
        _migration()._rewrite_sqlite(conn, "transactions", "at")  # type: ignore[attr-defined]
        found = [r[0] for r in conn.execute(text("SELECT at FROM transactions ORDER BY id"))]
    assert found == [
        "1997-01-01 05:00:00.000000",
        "1997-01-01 05:00:00.250000",
        "1997-01-01 05:00:00.000000",
        "1997-01-01 05:00:00.000000",
    ]
    assert clock.stored(datetime(1997, 1, 1, 8, tzinfo=clock.zone("Europe/Moscow"))) == found[0]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Europe/Moscow", "UTC"])
def test_sql_local_day_and_buckets_agree_with_zoneinfo(db: Session, zone: str) -> None:
    """The database's local day and period of instants near every DST change equal Python's."""
    import random

    from sqlalchemy import literal, select, union_all

    from crosspromo.db import UTCDateTime

    since, until = datetime(2019, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    rng = random.Random(zone)
    instants = [since + timedelta(seconds=rng.randrange(int((until - since).total_seconds())))]
    for at, _offset in clock.transitions(zone, since, until)[1:]:
        instants += [at + timedelta(seconds=s) for s in (-1, 0, 1)]
    for day in (date(2025, 12, 31), date(2026, 1, 1), date(2026, 3, 29), date(2026, 11, 1)):
        m = clock.midnight(day, zone)
        instants += [m - timedelta(microseconds=1), m, m + timedelta(microseconds=1)]
    instants += [since + timedelta(seconds=rng.randrange(250_000_000)) for _ in range(200)]
    found = clock.periods(date(2019, 1, 1), date(2026, 12, 31), "month", zone)
    edges, owner = clock.edges_of(found)
    dialect = db.get_bind().dialect.name
    points = union_all(
        *[
            select(literal(n).label("n"), literal(at, UTCDateTime()).label("at"))
            for n, at in enumerate(instants)
        ]
    ).subquery()
    query = select(
        points.c.n,
        clock.local_day(points.c.at, zone, since, until, dialect),
        clock.bucket(points.c.at, edges),
    )
    rows = db.execute(query).all()
    assert len(rows) == len(instants)
    for n, day, b in rows:
        instant = instants[n]
        assert clock.as_date(day) == clock.local_date(instant, zone), instant
        period = found[owner[b]]  # type: ignore[index]
        assert period.start <= clock.local_date(instant, zone) <= period.end, instant
