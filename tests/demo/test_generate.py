"""The demo city: deterministic, valid for import, and its planted truths hold in its data."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from email_validator import validate_email

from crosspromo.businesses import categories
from crosspromo.demo.generate import SIZES, City, generate


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("city")
    generate(out, seed=7, size="small")
    return out, json.loads((out / "ground_truth.json").read_text())


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_same_seed_same_bytes_other_seed_other_city(
    city: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _ = city
    generate(tmp_path / "again", seed=7, size="small")
    generate(tmp_path / "other", seed=8, size="small")
    for name in ("businesses.csv", "customers.csv", "transactions.csv", "ground_truth.json"):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    assert (out / "transactions.csv").read_bytes() != (
        tmp_path / "other" / "transactions.csv"
    ).read_bytes()


def test_identifiers_and_categories_are_valid(city: tuple[Path, dict[str, Any]]) -> None:
    out, _ = city
    businesses = _rows(out / "businesses.csv")
    for b in businesses:
        assert categories.exists(b["category"]), b["category"]
        assert phonenumbers.is_valid_number(phonenumbers.parse(b["phone"], "RU")), b["phone"]
    for c in _rows(out / "customers.csv")[:3000]:
        assert c["email"] or c["phone"]
        if c["phone"]:
            assert phonenumbers.is_valid_number(phonenumbers.parse(c["phone"], "RU")), c["phone"]
        if c["email"]:
            validate_email(c["email"], check_deliverability=False)
            assert c["email"].lower().rsplit("@", 1)[1] in (
                "example.com",
                "example.org",
                "example.net",
            )
    assert {b["price_tier"] for b in businesses} == {"1", "2", "3", "4"}


def test_transactions_reference_existing_rows_with_unique_ids(
    city: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = city
    slugs = {b["id"] for b in _rows(out / "businesses.csv")}
    customers = {(c["business"], c["customer"]) for c in _rows(out / "customers.csv")}
    seen: set[tuple[str, str]] = set()
    for t in _rows(out / "transactions.csv"):
        assert t["business"] in slugs
        assert not t["customer"] or (t["business"], t["customer"]) in customers
        key = (t["business"], t["id"])
        assert key not in seen
        seen.add(key)


def _first_purchase(out: Path) -> dict[tuple[str, str], str]:
    person = {
        (c["business"], c["customer"]): (c["email"].lower() or c["phone"])
        for c in _rows(out / "customers.csv")
    }
    first: dict[tuple[str, str], str] = {}
    for t in _rows(out / "transactions.csv"):
        if t["customer"]:
            key = (t["business"], person[(t["business"], t["customer"])])
            if key not in first or t["at"] < first[key]:
                first[key] = t["at"]
    return first


def test_planted_truths_hold_in_the_data(city: tuple[Path, dict[str, Any]]) -> None:
    out, truth = city
    slugs = {b["id"] for b in _rows(out / "businesses.csv")}
    first = _first_purchase(out)
    by_business: dict[str, dict[str, str]] = defaultdict(dict)
    for (slug, who), at in first.items():
        by_business[slug][who] = at
    ordered = right = 0
    for pair in truth["ordered_business_pairs"]:
        assert pair["first"] in slugs and pair["then"] in slugs
        a, b = by_business[pair["first"]], by_business[pair["then"]]
        for who in set(a) & set(b):
            ordered += 1
            right += a[who] <= b[who]
    assert ordered and right / ordered >= 0.9
    for pair in truth["competitor_pairs"]:
        assert pair["shared_customers"] > 0
    promotion = truth["promotion"]
    assert promotion["treatment"] and promotion["holdout"]
    assert not set(promotion["treatment"]) & set(promotion["holdout"])
    bakery_customers = {
        c["customer"] for c in _rows(out / "customers.csv") if c["business"] == promotion["bakery"]
    }
    assert set(promotion["treatment"]) <= bakery_customers
    promo_receipts = [
        t for t in _rows(out / "transactions.csv") if f"PROMO:{promotion['code']}" in t["items"]
    ]
    assert promo_receipts and {t["business"] for t in promo_receipts} == {promotion["cafe"]}
    assert any(len(v) >= 2 for v in truth["complementary_partners"].values())


def test_medium_plan_has_forty_categories_in_all_tiers() -> None:
    assert SIZES["medium"][0] >= 300
    plan = City(42, "medium")
    assert len({b.category for b in plan.businesses}) >= 40
    assert {b.tier for b in plan.businesses} == {1, 2, 3, 4}
    assert len(plan.businesses) >= 300
