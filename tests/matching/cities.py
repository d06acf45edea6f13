"""Test cities that contradict the curated relations (a generator apart from the demo's).

One city, every business in the same price tier and the same streets, three businesses of
each category, so only the planted behaviour tells categories apart:

- inverted: the curated file orders ceilings (craft=plasterer) before kitchens (shop=kitchen);
  here people go estate agent -> kitchen -> plasterer, half of them then to furniture;
- removed: the curated file pairs cafe and bakery (together, 0.9); here no one buys at both;
- added: estate agent -> kitchen and kitchen -> furniture are not curated; here they are steps
  with a clear order; cafe and bookshop (curated together, 0.5) are bought together.

`scale` multiplies the planted people: 1.0 makes every relation significant (hundreds of
shared customers per category pair), 0.05 leaves the data too thin to use (under 50).
`build` writes straight into the tables (fast enough for a test on both engines) and
returns a ground truth shaped like the demo's, for `crosspromo.matching.quality.measure`.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.businesses.models import Business
from crosspromo.customers.models import Customer
from crosspromo.sales.models import Transaction

ESTATE, KITCHEN, PLASTERER, FURNITURE = (
    "office=estate_agent",
    "shop=kitchen",
    "craft=plasterer",
    "shop=furniture",
)
CAFE, BAKERY, BOOKS = "amenity=cafe", "shop=bakery", "shop=books"
CATEGORIES = (ESTATE, KITCHEN, PLASTERER, FURNITURE, CAFE, BAKERY, BOOKS)
JOURNEY = (ESTATE, KITCHEN, PLASTERER, FURNITURE)
PER_CATEGORY = 3
START = datetime(2025, 1, 1, 10, tzinfo=UTC)
DAYS = 540


def _slug(category: str, k: int) -> str:
    return f"{category.split('=')[1].replace('_', '-')}-{k + 1}"


def build(session: Session, *, seed: int = 1, scale: float = 1.0) -> dict[str, Any]:
    """Write the city's businesses, customers and receipts; returns its ground truth."""
    rng = random.Random(seed)
    workspace = accounts.new_workspace(session, name="Contradicting city")
    ids: dict[str, uuid.UUID] = {}
    for category in CATEGORIES:
        for k in range(PER_CATEGORY):
            business = Business(
                workspace_id=workspace.id,
                slug=_slug(category, k),
                name=_slug(category, k).replace("-", " ").title(),
                category=category,
                price_tier=2,
                currency="RUB",
                country="RU",
                timezone="Europe/Moscow",
                city="Testburg",
                lat=55.75 + 0.002 * k,
                lon=37.61 + 0.002 * CATEGORIES.index(category),
                allow_overlap_discovery=False,
            )
            session.add(business)
            session.flush()
            ids[business.slug] = business.id
    by_category = {c: [_slug(c, k) for k in range(PER_CATEGORY)] for c in CATEGORIES}
    visits: list[tuple[int, str, int]] = []  # (person, business slug, day)
    person = 0

    def someone() -> int:
        nonlocal person
        person += 1
        return person

    # Journeys: estate agent -> kitchen -> plasterer (-> furniture for half), 20-60 days apart.
    for _ in range(round(600 * scale)):
        who, day = someone(), rng.randrange(0, 200)
        steps = JOURNEY if rng.random() < 0.5 else JOURNEY[:3]
        for category in steps:
            visits.append((who, rng.choice(by_category[category]), day))
            day += rng.randrange(20, 60)
    # Together: cafe and bookshop within a few days, either first.
    for _ in range(round(500 * scale)):
        who, day = someone(), rng.randrange(0, DAYS - 10)
        first, then = rng.sample([CAFE, BOOKS], 2)
        visits.append((who, rng.choice(by_category[first]), day))
        visits.append((who, rng.choice(by_category[then]), day + rng.randrange(0, 5)))
    # Bakery people never go to a cafe (the curated pair is removed); cafe regulars alone.
    for category, count in ((BAKERY, 600), (CAFE, 300)):
        for _ in range(round(count * scale)):
            visits.append((someone(), rng.choice(by_category[category]), rng.randrange(DAYS)))
    # Background: one purchase somewhere, anywhere in the period.
    every = [slug for c in CATEGORIES if c not in (CAFE, BAKERY) for slug in by_category[c]]
    for _ in range(round(900 * scale)):
        visits.append((someone(), rng.choice(every), rng.randrange(DAYS)))
    _write(session, rng, ids, visits)
    return _truth(by_category, visits)


def _write(
    session: Session,
    rng: random.Random,
    ids: dict[str, uuid.UUID],
    visits: list[tuple[int, str, int]],
) -> None:
    customers: dict[tuple[int, str], uuid.UUID] = {}
    customer_rows, receipt_rows = [], []
    for n, (who, slug, day) in enumerate(visits):
        key = (who, slug)
        if key not in customers:
            customers[key] = uuid.uuid4()
            person = hashlib.sha256(f"person-{who}".encode()).hexdigest()
            customer_rows.append(
                {
                    "id": customers[key],
                    "business_id": ids[slug],
                    "external_id": f"c{who}",
                    "email_hash": person,
                    "row_hash": person[:32],
                }
            )
        for extra in range(rng.choice((1, 1, 2))):
            at = START + timedelta(days=day + 7 * extra, hours=rng.randrange(9))
            receipt_rows.append(
                {
                    "business_id": ids[slug],
                    "external_id": f"r{n}-{extra}",
                    "customer_id": customers[key],
                    "at": at,
                    "amount_minor": 100_000,
                    "currency": "RUB",
                    "items": "",
                    "row_hash": f"{n:032d}",
                }
            )
    session.execute(insert(Customer), customer_rows)
    session.execute(insert(Transaction), receipt_rows)
    session.flush()


def _truth(by_category: dict[str, list[str]], visits: list[tuple[int, str, int]]) -> dict[str, Any]:
    """The planted partners, rivals and ordered pairs, in the demo's ground-truth shape."""
    people: dict[str, set[int]] = defaultdict(set)
    first_day: dict[tuple[int, str], int] = {}
    for who, slug, day in visits:
        people[slug].add(who)
        first_day[(who, slug)] = min(day, first_day.get((who, slug), day))
    related = [(ESTATE, KITCHEN), (KITCHEN, PLASTERER), (KITCHEN, FURNITURE), (CAFE, BOOKS)]
    related += [(ESTATE, PLASTERER), (ESTATE, FURNITURE), (PLASTERER, FURNITURE)]
    partners: dict[str, list[str]] = defaultdict(list)
    for a, b in related:
        for x in by_category[a]:
            for y in by_category[b]:
                if len(people[x] & people[y]) >= 10:
                    partners[x].append(y)
                    partners[y].append(x)
    ordered = []
    for first, then in ((ESTATE, KITCHEN), (KITCHEN, PLASTERER), (KITCHEN, FURNITURE)):
        for x in by_category[first]:
            for y in by_category[then]:
                shared = len(people[x] & people[y])
                ordered.append({"first": x, "then": y, "shared_customers": shared})
    rivals = {
        slug: [s for s in same if s != slug] for same in by_category.values() for slug in same
    }
    return {
        "complementary_partners": {k: sorted(v) for k, v in partners.items()},
        "competitors": rivals,
        "ordered_business_pairs": ordered,
        "slugs": by_category,
    }
