"""Every KPI, for zones with and without DST, equals DuckDB's figures over the same CSV.

The receipts sit where periods go wrong: exactly at local midnight, in the hours around DST
changes, on the last and first instants of a year. They are imported through the real bulk
import (the path whose stored format once differed from the ORM's), on both engines.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from crosspromo.businesses.service import get_by_slug
from crosspromo.clock import period_start
from crosspromo.imports import service as imports
from crosspromo.measurement.kpi import kpis
from tests.conftest import make_owner
from tests.measurement.truth import Truth, same

SECRET = "test-secret"
DST_DAYS = {
    "Europe/Berlin": [date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25)],
    "America/New_York": [date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1)],
    "Europe/Moscow": [],
    "UTC": [],
}
TRUTHS: dict[str, Truth] = {}
EDGE_TIMES = [time(0, 0), time(0, 0, 1), time(1, 30), time(2, 30), time(3, 0), time(23, 59, 59)]


def _exists(local: datetime, tz: ZoneInfo) -> bool:
    aware = local.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def receipts_csv(path: Path, timezone: str, seed: int = 7) -> Path:
    """About 1,500 receipts of 120 customers (and anonymous ones) over two years."""
    rng = random.Random(seed)
    tz = ZoneInfo(timezone)
    days = [date(2024, 12, 30) + timedelta(days=i) for i in range(0, 740, 3)]
    special = DST_DAYS[timezone] + [
        date(2024, 12, 31),
        date(2025, 1, 1),
        date(2025, 12, 31),
        date(2026, 1, 1),
        date(2025, 3, 31),
        date(2025, 6, 30),
    ]
    for day in special:
        days += [day - timedelta(days=1), day, day + timedelta(days=1)] * 4
    lines = ["business,id,customer,at,amount,currency"]
    n = 0
    for day in days:
        for _ in range(rng.randint(1, 4)):
            clock_time = (
                rng.choice(EDGE_TIMES)
                if rng.random() < 0.6
                else time(rng.randint(0, 23), rng.randint(0, 59))
            )
            local = datetime.combine(day, clock_time)
            if not _exists(local, tz):
                continue
            n += 1
            customer = "" if rng.random() < 0.15 else f"C{rng.randint(1, 120)}"
            style = rng.random()
            if clock_time == time(0) and style < 0.4:
                at = day.isoformat()  # a date-only export: local midnight
            elif style < 0.6:
                at = local.replace(tzinfo=tz).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            else:
                at = local.strftime("%Y-%m-%d %H:%M:%S")
            cents = (
                rng.randint(-2000, 500_000) if rng.random() < 0.05 else rng.randint(100, 500_000)
            )
            amount = (
                f"{cents // 100}.{cents % 100:02d}"
                if cents >= 0
                else f"-{-cents // 100}.{-cents % 100:02d}"
            )
            lines.append(f"shop,R{n},{customer},{at},{amount},EUR")
    path.write_text("\n".join(lines) + "\n")
    return path


def customers_csv(path: Path) -> Path:
    rows = ["business,customer,email"] + [f"shop,C{i},c{i}@example.com" for i in range(1, 121)]
    path.write_text("\n".join(rows) + "\n")
    return path


def load(db: Session, tmp_path: Path, timezone: str) -> Path:
    _, business = make_owner(db, "owner@example.com", "Shop", timezone=timezone, currency="EUR")
    business.slug = "shop"
    db.commit()
    imports.run(db, kind="customers", path=customers_csv(tmp_path / "c.csv"), secret_key=SECRET)
    transactions = receipts_csv(tmp_path / "t.csv", timezone)
    imports.run(db, kind="transactions", path=transactions, secret_key=SECRET)
    db.commit()
    return transactions


@pytest.mark.parametrize("timezone", ["Europe/Berlin", "America/New_York", "Europe/Moscow", "UTC"])
def test_every_kpi_equals_duckdb(db: Session, tmp_path: Path, timezone: str) -> None:
    transactions = load(db, tmp_path, timezone)
    if timezone not in TRUTHS:  # the same file on both engines: one DuckDB computation
        TRUTHS[timezone] = Truth(transactions, timezone)
    truth = TRUTHS[timezone]
    business = get_by_slug(db, "shop")
    assert business is not None
    first, last = truth.span()
    checks = [
        ("month", date(2025, 1, 1), date(2026, 12, 31)),
        ("quarter", date(2025, 1, 1), date(2026, 12, 31)),
        ("week", date(2024, 12, 30), date(2026, 2, 1)),
        ("week", date(2026, 1, 7), date(2026, 12, 31)),  # cut first and last weeks
    ]
    checks += [("day", d - timedelta(days=2), d + timedelta(days=2)) for d in DST_DAYS[timezone]]
    checks.append(("day", date(2025, 12, 30), date(2026, 1, 2)))
    compared = 0
    for by, start, end in checks:
        found = kpis(db, business_id=business.id, start=start, end=end, by=by)
        assert found[0].start == start and found[-1].end == end
        for period in found:
            data = period.as_json()
            assert not same(data, truth.figures(period.start, period.end)), (by, period.start)
            if period.previous is not None:
                previous = period.previous.as_json()
                expected = truth.figures(period.previous.start, period.previous.end)
                assert not same(previous, expected), (by, "previous", period.start)
            if period.year_ago is not None:
                year_ago = period.year_ago.as_json()
                expected = truth.figures(period.year_ago.start, period.year_ago.end)
                assert not same(year_ago, expected), (by, "year ago", period.start)
            data_covers = first <= _natural_start(period.start, by) and last >= period.end
            if not data_covers:
                assert period.partial
            compared += 1
    assert compared > 40


def _natural_start(day: date, by: str) -> date:
    return period_start(day, by)
