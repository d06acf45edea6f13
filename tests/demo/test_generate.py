"""The demo city: deterministic, valid for import, and its planted truths hold in its data."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from email_validator import validate_email

from crosspromo.demo.generate import (
    BUSINESS_COLUMNS,
    CUSTOMER_COLUMNS,
    SIZES,
    TRANSACTION_COLUMNS,
    generate,
    plan_businesses,
)
from crosspromo.demo.story import CATEGORIES

TAXONOMY = Path(__file__).parents[2] / "src" / "crosspromo" / "businesses" / "categories.json"
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MONEY = re.compile(r"^\d+\.\d{2}$")
LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")

City = tuple[Path, dict[str, Any], dict[str, Any]]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    out = tmp_path_factory.mktemp("city")
    summary = generate(out, seed=7, size="small")
    return out, json.loads((out / "ground_truth.json").read_text(encoding="utf-8")), summary


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


def _person(row: dict[str, str]) -> str:
    """Who a customer row is: the e-mail in any letter case, else the phone's digits."""
    return row["email"].lower() or re.sub(r"\D", "", row["phone"])


def _people_of(out: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for c in _rows(out / "customers.csv"):
        found[c["business"]].add(_person(c))
    return found


def test_same_seed_same_bytes_other_seed_other_city(city: City, tmp_path: Path) -> None:
    out, _, summary = city
    calls: list[tuple[str, int, int]] = []
    again = generate(tmp_path / "again", seed=7, size="small", progress=lambda *a: calls.append(a))
    generate(tmp_path / "other", seed=8, size="small")
    assert again == summary
    for name in ("businesses.csv", "customers.csv", "transactions.csv", "ground_truth.json"):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
        assert (out / name).read_bytes() != (tmp_path / "other" / name).read_bytes(), name
    stages = {stage for stage, _, _ in calls}
    assert {"customers", "transactions"} <= stages
    receipts = [(done, total) for stage, done, total in calls if stage == "transactions"]
    assert len(receipts) >= summary["transactions"] // 10_000
    assert all(0 <= done <= total for done, total in receipts)
    assert receipts[-1][0] == summary["transactions"]


def test_files_have_the_import_columns_and_the_summary_counts_rows(city: City) -> None:
    out, _, summary = city
    assert _header(out / "businesses.csv") == list(BUSINESS_COLUMNS) == [
        "id", "name", "category", "price_tier", "city", "address", "lat", "lon", "phone",
        "email", "website", "avg_check", "currency", "country", "timezone", "customers_per_month",
        "newsletter_subscribers", "social_followers", "site_visitors_per_month", "description",
    ]  # fmt: skip
    assert _header(out / "customers.csv") == list(CUSTOMER_COLUMNS) == [
        "business", "customer", "email", "phone", "name", "marketing_consent", "first_seen",
    ]  # fmt: skip
    assert _header(out / "transactions.csv") == list(TRANSACTION_COLUMNS) == [
        "business", "id", "customer", "at", "amount", "currency", "items",
    ]  # fmt: skip
    for name, count in summary["files"].items():
        assert len(_rows(out / name)) == count, name
    assert summary["seed"] == 7 and summary["size"] == "small"


def test_businesses_are_valid_and_cover_all_tiers(city: City) -> None:
    out, _, _ = city
    businesses = _rows(out / "businesses.csv")
    assert 50 <= len(businesses) <= 70
    assert len({b["id"] for b in businesses}) == len(businesses)
    for b in businesses:
        assert SLUG.match(b["id"]), b["id"]
        assert b["category"] in CATEGORIES
        assert phonenumbers.is_valid_number(phonenumbers.parse(b["phone"], "RU")), b["phone"]
        assert b["phone"].startswith("+7 495 ")
        validate_email(b["email"], check_deliverability=False)
        assert b["email"].rsplit("@", 1)[1] in EXAMPLE_DOMAINS
        assert 55.6 <= float(b["lat"]) <= 55.9 and 37.4 <= float(b["lon"]) <= 37.8
        assert re.match(r"^\d+\.\d{6}$", b["lat"]) and re.match(r"^\d+\.\d{6}$", b["lon"])
        assert MONEY.match(b["avg_check"]) and b["currency"] == "RUB"
    assert {b["price_tier"] for b in businesses} == {"1", "2", "3", "4"}
    russian = sum(any("а" <= ch <= "я" for ch in b["name"].lower()) for b in businesses)
    assert russian == len(businesses) // 2  # half the names Russian, half English


def test_category_codes_exist_in_the_taxonomy() -> None:
    if not TAXONOMY.exists():
        pytest.skip(f"{TAXONOMY} is not generated yet (scripts/generate_categories.py)")
    codes = {c["code"] for c in json.loads(TAXONOMY.read_text(encoding="utf-8"))["categories"]}
    assert sorted(set(CATEGORIES) - codes) == []


def test_customers_have_valid_contacts_shared_across_businesses(city: City) -> None:
    out, _, _ = city
    customers = _rows(out / "customers.csv")
    phone_of: dict[str, str] = {}
    spellings: dict[str, set[str]] = defaultdict(set)
    seen: set[tuple[str, str]] = set()
    for c in customers:
        assert c["email"] or c["phone"]
        assert (c["business"], c["customer"]) not in seen
        seen.add((c["business"], c["customer"]))
        assert c["marketing_consent"] in ("yes", "no") or date.fromisoformat(
            c["marketing_consent"]
        ) >= date.fromisoformat(c["first_seen"])
        assert date(2025, 5, 1) <= date.fromisoformat(c["first_seen"]) <= date(2026, 10, 31)
        if c["phone"]:
            assert c["phone"].startswith("+7 9")
            number = phonenumbers.parse(c["phone"], "RU")
            assert phonenumbers.is_valid_number(number), c["phone"]
        if c["email"]:
            spellings[c["email"].lower()].add(c["email"])
            assert c["email"].lower().rsplit("@", 1)[1] in EXAMPLE_DOMAINS
            if c["phone"]:
                # The same person gives the same phone everywhere.
                digits = re.sub(r"\D", "", c["phone"])
                assert phone_of.setdefault(c["email"].lower(), digits) == digits
    for email in spellings:
        validate_email(email, check_deliverability=False)
    people = _people_of(out)
    at_several = sum(1 for e in spellings if sum(e in p for p in people.values()) > 1)
    assert at_several > 1000  # people buy at several businesses under different customer ids
    assert sum(len(s) > 1 for s in spellings.values()) > 50  # e-mails typed in another case


def test_transactions_reference_existing_rows_with_unique_ids(city: City) -> None:
    out, truth, _ = city
    slugs = {b["id"] for b in _rows(out / "businesses.csv")}
    customers = {(c["business"], c["customer"]) for c in _rows(out / "customers.csv")}
    seen: set[tuple[str, str]] = set()
    anonymous = total = 0
    for t in _rows(out / "transactions.csv"):
        assert t["business"] in slugs
        assert not t["customer"] or (t["business"], t["customer"]) in customers
        key = (t["business"], t["id"])
        assert key not in seen
        seen.add(key)
        assert LOCAL_TIME.match(t["at"]), t["at"]
        assert truth["period"]["start"] <= t["at"][:10] <= truth["period"]["end"]
        assert MONEY.match(t["amount"]) and t["currency"] == "RUB"
        items = [i for i in t["items"].split(";") if not i.startswith("PROMO:")]
        assert 1 <= len(items) <= 4
        total += 1
        anonymous += not t["customer"]
    assert 0.8 <= total / SIZES["small"].receipts <= 1.25
    assert 0.15 <= anonymous / total <= 0.25


def test_ground_truth_references_existing_businesses(city: City) -> None:
    out, truth, _ = city
    slugs = {b["id"] for b in _rows(out / "businesses.csv")}
    assert truth["currency"] == "RUB" and truth["timezone"] == "Europe/Moscow"
    assert truth["period"] == {"start": "2025-05-01", "end": "2026-10-31"}
    named = [(p["first"], p["then"]) for p in truth["ordered_business_pairs"]]
    for key in ("together_business_pairs", "competitor_pairs", "unrelated_pairs", "overlaps"):
        named += [(p["a"], p["b"]) for p in truth[key]]
    for mapping in ("complementary_partners", "competitors"):
        named += [(a, b) for a, found in truth[mapping].items() for b in found]
    assert named and all(a in slugs and b in slugs and a != b for a, b in named)
    assert truth["unrelated_pairs"] and truth["competitor_pairs"]
    for c in truth["complements"]:
        assert c["a"] in CATEGORIES and c["b"] in CATEGORIES
        assert c["order"] in ("before", "together") and c["lag_days"][0] <= c["lag_days"][1]
    assert set(truth["seasonality"]["monthly"]) == {
        b["category"] for b in _rows(out / "businesses.csv")
    }


def test_overlaps_are_exact_counts_of_people(city: City) -> None:
    out, truth, _ = city
    people = _people_of(out)
    for pair in truth["overlaps"]:
        assert len(people[pair["a"]] & people[pair["b"]]) == pair["shared_people"], pair
    for pair in truth["ordered_business_pairs"] + truth["together_business_pairs"]:
        a, b = pair.get("first", pair.get("a")), pair.get("then", pair.get("b"))
        assert len(people[a] & people[b]) == pair["shared_customers"]


def _first_purchases(out: Path) -> dict[str, dict[str, str]]:
    """business -> person -> time of the first receipt."""
    person = {(c["business"], c["customer"]): _person(c) for c in _rows(out / "customers.csv")}
    first: dict[str, dict[str, str]] = defaultdict(dict)
    for t in _rows(out / "transactions.csv"):
        if t["customer"]:
            who = person[(t["business"], t["customer"])]
            known = first[t["business"]].get(who)
            if known is None or t["at"] < known:
                first[t["business"]][who] = t["at"]
    return first


def test_planted_orders_hold_and_partners_share_customers(city: City) -> None:
    out, truth, _ = city
    first = _first_purchases(out)
    ordered = right = 0
    for pair in truth["ordered_business_pairs"]:
        a, b = first[pair["first"]], first[pair["then"]]
        for who in set(a) & set(b):
            ordered += 1
            right += a[who] < b[who]
    assert ordered > 200 and right / ordered >= 0.9
    partners = truth["complementary_partners"]
    assert sum(len(v) >= 3 for v in partners.values()) >= 5
    planted = {(p["first"], p["then"]) for p in truth["ordered_business_pairs"]}
    planted |= {(p["a"], p["b"]) for p in truth["together_business_pairs"]}
    for a, found in partners.items():
        for b in found:
            assert (a, b) in planted or (b, a) in planted
    for pair in truth["competitor_pairs"]:
        assert pair["shared_customers"] > 0 and pair["moved"] > 0
        assert pair["b"] in truth["competitors"][pair["a"]]


def test_competitors_switch_and_leave(city: City) -> None:
    """After switching, a customer no longer buys at the business left behind."""
    out, truth, _ = city
    last: dict[tuple[str, str], str] = {}
    first = _first_purchases(out)
    person = {(c["business"], c["customer"]): _person(c) for c in _rows(out / "customers.csv")}
    for t in _rows(out / "transactions.csv"):
        if t["customer"]:
            key = (t["business"], person[(t["business"], t["customer"])])
            last[key] = max(last.get(key, ""), t["at"])
    for pair in truth["competitor_pairs"]:
        if pair["mode"] != "switch":
            continue
        both = set(first[pair["a"]]) & set(first[pair["b"]])
        left = sum(last[(pair["a"], who)] <= first[pair["b"]][who] for who in both)
        assert left / len(both) >= 0.9


def test_promotion_groups_and_coupons(city: City) -> None:
    out, truth, _ = city
    promo = truth["promotion"]
    treatment, holdout = set(promo["treatment"]), set(promo["holdout"])
    assert treatment and holdout and not treatment & holdout
    assert len(treatment) + len(holdout) == promo["eligible"]
    assert 0.7 <= len(treatment) / promo["eligible"] <= 0.9
    assert promo["issuer"] == promo["bakery"] and promo["honouring"] == promo["cafe"]
    assert promo["relative_uplift"] > 0 and promo["expected_extra_transactions"] > 0
    customers = _rows(out / "customers.csv")
    bakery = {c["customer"]: _person(c) for c in customers if c["business"] == promo["bakery"]}
    assert treatment | holdout <= set(bakery)
    cafe = {c["customer"]: _person(c) for c in customers if c["business"] == promo["cafe"]}
    coupons = [
        t
        for t in _rows(out / "transactions.csv")
        if f"PROMO:{promo['code']}" in t["items"].split(";")
    ]
    assert len(coupons) == promo["redemptions"] > 0
    treated_people = {bakery[c] for c in treatment}
    for t in coupons:
        assert t["business"] == promo["cafe"]
        assert promo["start"] <= t["at"][:10] <= promo["end"]
        assert cafe[t["customer"]] in treated_people
    start = datetime.fromisoformat(promo["start"])
    assert (datetime.fromisoformat(promo["end"]) - start).days == 27  # four weeks
    assert date(2026, 5, 1) <= start.date() <= date(2026, 6, 30)


def test_seasons_and_weekends_show_in_the_receipts(city: City) -> None:
    out, truth, _ = city
    codes = {b["id"]: b["category"] for b in _rows(out / "businesses.csv")}
    by_day: dict[tuple[str, str], int] = defaultdict(int)
    for t in _rows(out / "transactions.csv"):
        by_day[(codes[t["business"]], t["at"][:10])] += 1

    def mean(code: str, days: list[str]) -> float:
        return sum(by_day[(code, d)] for d in days) / len(days)

    days = sorted({d for _, d in by_day})
    weekend = [d for d in days if date.fromisoformat(d).weekday() >= 5]
    weekdays = [d for d in days if date.fromisoformat(d).weekday() < 5]
    assert mean("amenity=cafe", weekend) > 1.2 * mean("amenity=cafe", weekdays)
    before_march_8 = ["2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08"]
    assert mean("shop=florist", before_march_8) > 3 * mean("shop=florist", days)
    assert truth["seasonality"]["monthly"]["amenity=cafe"][6] > 1  # July


def test_medium_plan_has_forty_categories_in_all_tiers() -> None:
    businesses = plan_businesses(seed=42, size="medium")
    assert SIZES["medium"].people == 50_000
    assert len(businesses) == SIZES["medium"].businesses >= 300
    assert len({b.category for b in businesses}) >= 40
    assert {b.tier for b in businesses} == {1, 2, 3, 4}
    assert len({b.slug for b in businesses}) == len(businesses)
    with pytest.raises(ValueError):
        plan_businesses(size="huge")
