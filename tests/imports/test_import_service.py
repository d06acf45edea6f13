"""Imports on SQLite and PostgreSQL: every rejection case, all or nothing, idempotent re-import."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.customers.models import Customer
from crosspromo.identifiers import identifier_hash
from crosspromo.imports import service
from crosspromo.imports.service import ImportRejected, Summary
from crosspromo.sales.models import Transaction

SECRET = "test-secret"
BUSINESSES = (
    "id,name,category,price_tier,city,phone,email,avg_check,currency,customers_per_month\n"
    "bakery-1,Пекарня «Колосок»,shop=bakery,2,Москва,8 495 123-45-67,Hello@Kolosok.example,"
    "350.50,RUB,1200\n"
    "cafe-1,Crumb Cafe,amenity=cafe,2,Москва,,,420,RUB,900\n"
)
CUSTOMERS = (
    "business,customer,email,phone,name,marketing_consent,first_seen\n"
    "bakery-1,C1,Anna@Example.com,,Анна,2025-01-10,2025-01-01\n"
    "bakery-1,C2,,+7 916 123-45-67,Boris,no,\n"
    "cafe-1,K9,anna@example.com,,Anna,yes,\n"
)
TRANSACTIONS = (
    "business,id,customer,at,amount,currency,items\n"
    'bakery-1,R1,C1,2025-03-14T09:30:00,"350,50",RUB,Багет;Круассан\n'
    "bakery-1,R2,,2025-03-14T10:00:00+00:00,120.00,RUB,\n"
    "cafe-1,R1,K9,2025-03-14 12:00,420,,Капучино\n"
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(db: Session, kind: str, path: Path, **kw: object) -> Summary:
    summary = service.run(db, kind=kind, path=path, secret_key=SECRET, **kw)  # type: ignore[arg-type]
    db.commit()
    return summary


def load_city(db: Session, tmp_path: Path) -> None:
    run(db, "businesses", write(tmp_path, "b.csv", BUSINESSES))
    run(db, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    run(db, "transactions", write(tmp_path, "t.csv", TRANSACTIONS))


def count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_full_import_normalises_and_hashes(db: Session, tmp_path: Path) -> None:
    load_city(db, tmp_path)
    bakery = db.scalar(select(Business).where(Business.slug == "bakery-1"))
    assert bakery is not None
    assert bakery.phone == "+74951234567"
    assert bakery.email == "hello@kolosok.example"
    assert bakery.avg_check_minor == 35050
    anna = db.scalar(select(Customer).where(Customer.external_id == "C1"))
    assert anna is not None and anna.email == "anna@example.com"
    assert anna.email_hash == identifier_hash("email", "anna@example.com", SECRET)
    assert anna.marketing_consent and str(anna.consent_at) == "2025-01-10"
    assert anna.consent_source == "import:c.csv"
    boris = db.scalar(select(Customer).where(Customer.external_id == "C2"))
    assert boris is not None and boris.phone == "+79161234567" and not boris.marketing_consent
    # the same person at two businesses: the same keyed hash, so the platform can match them
    k9 = db.scalar(select(Customer).where(Customer.external_id == "K9"))
    assert k9 is not None and k9.email_hash == anna.email_hash
    receipts = {t.external_id + t.items: t for t in db.scalars(select(Transaction))}
    first = receipts["R1Багет;Круассан"]
    assert first.amount_minor == 35050
    # no offset: read in Europe/Moscow (UTC+3)
    assert first.at == datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
    assert first.customer_id == anna.id
    assert receipts["R2"].at == datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
    assert receipts["R2"].customer_id is None


def test_reimport_is_unchanged_and_correction_updates_in_place(db: Session, tmp_path: Path) -> None:
    load_city(db, tmp_path)
    again = run(db, "transactions", write(tmp_path, "t.csv", TRANSACTIONS))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    ids = sorted(t.id for t in db.scalars(select(Transaction)))
    fixed = TRANSACTIONS.replace("120.00", "125.00")
    corrected = run(db, "transactions", write(tmp_path, "t2.csv", fixed))
    assert (corrected.inserted, corrected.updated, corrected.unchanged) == (0, 1, 2)
    assert sorted(t.id for t in db.scalars(select(Transaction))) == ids
    db.expire_all()
    assert (
        db.scalar(select(Transaction.amount_minor).where(Transaction.external_id == "R2")) == 12500
    )
    customers_again = run(db, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    assert customers_again.unchanged == 3
    businesses_again = run(db, "businesses", write(tmp_path, "b.csv", BUSINESSES))
    assert businesses_again.unchanged == 2


def test_dry_run_validates_and_writes_nothing(db: Session, tmp_path: Path) -> None:
    run(db, "businesses", write(tmp_path, "b.csv", BUSINESSES))
    summary = run(db, "customers", write(tmp_path, "c.csv", CUSTOMERS), dry_run=True)
    assert summary.inserted == 3 and summary.dry_run
    assert count(db, Customer) == 0


BAD_CASES = [
    ("transactions", "business,id,at,amount\nbakery-1,R1,32.03.2025,100\n", "line 2, column at"),
    (
        "transactions",
        "business,id,at,amount\nbakery-1,R1,2025-03-14T10:00,12a\n",
        "line 2, column amount",
    ),
    (
        "transactions",
        "business,id,at,amount\nnowhere,R1,2025-03-14T10:00,1\n",
        "line 2, column business: unknown business",
    ),
    (
        "transactions",
        "business,id,at,amount\nbakery-1,R1,2025-03-14T10:00,1\nbakery-1,R1,2025-03-14T11:00,2\n",
        "line 3, column id",
    ),
    (
        "transactions",
        "business,id,amount\nbakery-1,R1,1\n",
        "line 1, column at: required column is missing",
    ),
    (
        "transactions",
        "business,id,at,amount\nbakery-1,R1,2025-03-14T10:00,1\nbakery-1,R2,2025-03-14T10:00,-99999999999999\n",
        "line 3, column amount",
    ),
    (
        "transactions",
        "business,id,customer,at,amount\nbakery-1,R1,ghost,2025-03-14T10:00,1\n",
        "line 2, column customer: unknown customer",
    ),
    (
        "transactions",
        "business,id,at,amount,currency\nbakery-1,R1,2025-03-14T10:00,1,USD\n",
        "line 2, column currency",
    ),
    ("businesses", "id,name,category\nnew-1,Unicorns,shop=unicorns\n", "line 2, column category"),
    ("businesses", "id,name,category,phone\nnew-1,X,shop=bakery,12\n", "line 2, column phone"),
    (
        "businesses",
        "id,name,category\nnew-1,X,shop=bakery\nnew-1,Y,shop=bakery\n",
        "line 3, column id",
    ),
    ("customers", "business,customer,email\nbakery-1,C1,not-an-email\n", "line 2, column email"),
    ("customers", "business,customer,email,phone\nbakery-1,C1,,\n", "line 2, column email"),
    (
        "customers",
        "business,customer,email\nbakery-1,C1,a@example.com\nbakery-1,C1,b@example.com\n",
        "line 3, column customer",
    ),
    (
        "customers",
        "business,customer,email,marketing_consent\nbakery-1,C1,a@example.com,maybe\n",
        "line 2, column marketing_consent",
    ),
]


@pytest.mark.parametrize(("kind", "text", "expected"), BAD_CASES)
def test_bad_line_rejects_the_whole_file(
    db: Session, tmp_path: Path, kind: str, text: str, expected: str
) -> None:
    run(db, "businesses", write(tmp_path, "b.csv", BUSINESSES))
    before = (count(db, Business), count(db, Customer), count(db, Transaction))
    # a good row after the bad one proves nothing of the file is half-applied
    good = "bakery-1,OK1,2025-03-14T10:00,1\n" if text.startswith("business,id,at,amount\n") else ""
    body = text + good
    with pytest.raises(ImportRejected) as caught:
        service.run(db, kind=kind, path=write(tmp_path, "bad.csv", body), secret_key=SECRET)
    db.rollback()
    messages = [str(e) for e in caught.value.summary.errors]
    assert any(m.startswith(expected) or expected in m for m in messages), messages
    assert (count(db, Business), count(db, Customer), count(db, Transaction)) == before


def test_errors_listed_first_100_and_counted(db: Session, tmp_path: Path) -> None:
    run(db, "businesses", write(tmp_path, "b.csv", BUSINESSES))
    rows = "".join(f"bakery-1,R{i},bad-date,1\n" for i in range(250))
    with pytest.raises(ImportRejected) as caught:
        service.run(
            db,
            kind="transactions",
            path=write(tmp_path, "t.csv", "business,id,at,amount\n" + rows),
            secret_key=SECRET,
        )
    summary = caught.value.summary
    assert len(summary.errors) == 100
    assert summary.error_count == 250
    assert summary.to_dict()["more_errors"] == 150
    assert str(summary.errors[0]).startswith("line 2, column at:")


def test_real_world_files(db: Session, tmp_path: Path) -> None:
    run(db, "businesses", write(tmp_path, "b.csv", BUSINESSES.replace(",", ";"), "cp1251"))
    assert (
        db.scalar(select(Business.name).where(Business.slug == "bakery-1")) == "Пекарня «Колосок»"
    )
    gz = tmp_path / "c.csv.gz"
    gz.write_bytes(gzip.compress(("\ufeff" + CUSTOMERS.replace(",", "\t")).encode()))
    summary = run(db, "customers", gz)
    assert summary.inserted == 3
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for line in TRANSACTIONS.strip().splitlines():
        import csv

        sheet.append(next(csv.reader([line])))
    book.save(tmp_path / "t.xlsx")
    assert run(db, "transactions", tmp_path / "t.xlsx").inserted == 3


def test_wrong_encoding_and_empty_and_oversized(db: Session, tmp_path: Path) -> None:
    run(db, "businesses", write(tmp_path, "b.csv", BUSINESSES))
    utf16 = tmp_path / "u.csv"
    utf16.write_bytes(CUSTOMERS.encode("utf-16"))
    empty = write(tmp_path, "e.csv", "")
    huge = tmp_path / "h.csv"
    huge.write_bytes(b"business,customer,email\n" + b"x" * 3_000_000)
    for path in (utf16, empty, huge):
        with pytest.raises(ImportRejected) as caught:
            service.run(
                db, kind="customers", path=path, secret_key=SECRET, max_line_bytes=1_000_000
            )
        db.rollback()
        assert caught.value.summary.errors, path
    assert count(db, Customer) == 0


def test_extra_columns_warn_and_business_option(db: Session, tmp_path: Path) -> None:
    run(db, "businesses", write(tmp_path, "b.csv", BUSINESSES))
    text = "customer,email,loyalty_level\nC1,a@example.com,gold\n"
    summary = run(db, "customers", write(tmp_path, "c.csv", text), business="bakery-1")
    assert summary.inserted == 1
    assert summary.warnings == ["ignored columns: loyalty_level"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.integers(0, 10**9), st.integers(0, 3000), st.sampled_from(["", "C1", "C2"])),
        min_size=1,
        max_size=30,
        unique_by=lambda t: t[1],
    )
)
def test_reimport_is_idempotent_property(
    db: Session, tmp_path: Path, rows: list[tuple[int, int, str]]
) -> None:
    if count(db, Business) == 0:
        run(db, "businesses", write(tmp_path, "b.csv", BUSINESSES))
        run(db, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    lines = "".join(
        f"bakery-1,P{receipt},{customer},2025-01-01T10:00:00,{amount // 100}.{amount % 100:02d}\n"
        for amount, receipt, customer in rows
    )
    path = write(tmp_path, "p.csv", "business,id,customer,at,amount\n" + lines)
    run(db, "transactions", path)
    snapshot = sorted(
        (t.external_id, t.amount_minor, t.customer_id, t.at)
        for t in db.scalars(select(Transaction))
    )
    again = run(db, "transactions", path)
    assert again.inserted == 0 and again.updated == 0 and again.unchanged == len(rows)
    db.expire_all()
    assert (
        sorted(
            (t.external_id, t.amount_minor, t.customer_id, t.at)
            for t in db.scalars(select(Transaction))
        )
        == snapshot
    )
