"""A deterministic demo city: businesses, customers and 18 months of sales with planted truths.

`generate(out_dir, seed=42, size="small")` writes `businesses.csv`, `customers.csv`,
`transactions.csv` (the public import formats) and `ground_truth.json`:

- `complements`: category pairs planted with a journey order (`before`) or bought `together`;
- `ordered_business_pairs`: [{first, then, shared_customers}] business pairs of a journey;
- `together_business_pairs`, `competitor_pairs` ({a, b, category, shared_customers}),
  `unrelated_pairs` ({a, b}), `overlaps` ({a, b, shared_people}, the largest and planted ones);
- `complementary_partners`: {business: [planted partners that share customers, most shared
  first]}: what a partner-suggestion engine should put in its top 10;
- `competitors`: {business: [planted competitors]};
- `seasonality`: {category: [12 month multipliers]};
- `promotion`: the past joint promotion of a cafe and a bakery, with its window, treatment and
  holdout customers (the bakery's customer ids), the injected relative uplift of visits to the
  cafe and the promo code printed on the cafe's receipts (`PROMO:<code>` in items).

Same seed and size, byte-identical files. Everything is streamed; the city's people and their
relations to businesses are held in memory (about 250,000 relations for `medium`).
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from crosspromo.demo.story import (
    CATEGORIES,
    COMPETING,
    DISTRICTS,
    FIRST_NAMES,
    JOURNEYS,
    LAST_NAMES,
    NAME_WORDS,
    SEASONS,
    STREETS,
    TIER_PRICE,
    TOGETHER,
)
from crosspromo.imports.service import KNOWN

SIZES = {"small": (60, 5_000), "medium": (300, 50_000), "large": (3_000, 500_000)}
START, END = date(2025, 5, 1), date(2026, 10, 31)
DAYS = (END - START).days
PROMO_START, PROMO_DAYS, PROMO_UPLIFT, PROMO_CODE = date(2026, 5, 4), 28, 0.25, "CAFE25"
RATE_SCALE = 0.2  # visits of regulars; keeps medium near a million receipts
MOBILE = ("903", "905", "906", "909", "910", "915", "916", "917", "925", "926", "977", "985")
Progress = Callable[[str, int, int], None]


@dataclass
class Business:
    slug: str
    category: str
    tier: int
    district: int
    name: str
    lat: float
    lon: float


@dataclass
class Person:
    district: int
    tier: int
    email: str
    phone: str
    name: str


@dataclass
class Relation:
    """A person's visits to one business: a regular rate from `start`, and one-off dates."""

    start: date
    rate: float = 0.0  # visits per month
    stop: date | None = None
    once: list[date] = field(default_factory=list)
    promo: bool = False


def _businesses(rng: random.Random, count: int) -> list[Business]:
    codes = sorted(CATEGORIES)
    weight = {
        c: 3.0 if CATEGORIES[c][3] >= 2 else 1.5 if CATEGORIES[c][3] >= 1 else 1.0 for c in codes
    }
    for chain, _, _ in JOURNEYS:
        for code in chain:
            weight[code] += 1.0
    total = sum(weight.values())
    counts = {c: max(1, round(count * weight[c] / total)) for c in codes}
    for code in ("amenity=cafe", "shop=bakery", "leisure=fitness_centre"):
        counts[code] = max(counts[code], 3)
    by_weight = sorted(codes, key=lambda c: (-weight[c], c))
    k = 0
    while sum(counts.values()) < count:  # rounding lost a few: give them to the busiest kinds
        counts[by_weight[k % len(by_weight)]] += 1
        k += 1
    businesses: list[Business] = []
    for code in codes:
        ru, en, *_ = CATEGORIES[code]
        for k in range(counts[code]):
            district = (k + codes.index(code)) % len(DISTRICTS)
            tier = rng.choices((1, 2, 3, 4), weights=(2, 4, 3, 1))[0]
            word_ru, word_en = NAME_WORDS[rng.randrange(len(NAME_WORDS))]
            name = f"{ru} «{word_ru}»" if len(businesses) % 2 == 0 else f"{word_en} {en}"
            _, _, lat, lon = DISTRICTS[district]
            slug = f"{code.split('=')[1].replace('_', '-')}-{k + 1}"
            businesses.append(
                Business(
                    slug,
                    code,
                    tier,
                    district,
                    name,
                    round(lat + rng.uniform(-0.01, 0.01), 6),
                    round(lon + rng.uniform(-0.015, 0.015), 6),
                )
            )
    # Planted competitors share a district and a price tier.
    by_cat = _by_category(businesses)
    for a_code, b_code in COMPETING:
        a = by_cat[a_code][0]
        b = by_cat[b_code][1] if a_code == b_code else by_cat[b_code][0]
        b.district, b.tier = a.district, a.tier
        b.lat, b.lon = round(a.lat + 0.002, 6), round(a.lon + 0.002, 6)
    return businesses


def _by_category(businesses: list[Business]) -> dict[str, list[Business]]:
    found: dict[str, list[Business]] = defaultdict(list)
    for b in businesses:
        found[b.category].append(b)
    return found


def _people(rng: random.Random, count: int) -> list[Person]:
    people = []
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        domain = ("example.com", "example.org", "example.net")[i % 3]
        digits = (rng.randint(200, 999), rng.randint(10, 99), rng.randint(10, 99))
        phone = f"+7 {rng.choice(MOBILE)} {digits[0]}-{digits[1]}-{digits[2]}"
        people.append(
            Person(
                rng.randrange(len(DISTRICTS)),
                rng.choices((1, 2, 3, 4), weights=(2, 4, 3, 1))[0],
                f"person{i:06d}@{domain}",
                phone,
                f"{first} {last}",
            )
        )
    return people


def _pick(rng: random.Random, options: list[Business], person: Person) -> Business | None:
    """A business of the category near the person and close to their price tier."""
    near = [b for b in options if b.district == person.district] or (
        options if rng.random() < 0.3 else []
    )
    if not near:
        return None
    best = min(abs(b.tier - person.tier) for b in near)
    return rng.choice([b for b in near if abs(b.tier - person.tier) == best])


def _day(rng: random.Random, low: int = 0, high: int = DAYS) -> date:
    return START + timedelta(days=rng.randint(low, high))


class City:
    def __init__(self, seed: int, size: str) -> None:
        if size not in SIZES:
            raise ValueError(f"size must be one of {', '.join(SIZES)}")
        n_businesses, n_people = SIZES[size]
        self.rng = random.Random(seed)
        self.seed, self.size = seed, size
        self.businesses = _businesses(self.rng, n_businesses)
        self.by_cat = _by_category(self.businesses)
        self.people = _people(self.rng, n_people)
        self.relations: dict[tuple[int, str], Relation] = {}
        self.planted_ordered: list[tuple[str, str]] = []
        self.planted_together: list[tuple[str, str]] = []
        self.competitors: list[tuple[str, str, str]] = []
        self.promotion: dict[str, Any] = {}

    def relate(self, person: int, business: Business, start: date, rate: float = 0.0) -> Relation:
        key = (person, business.slug)
        rel = self.relations.get(key)
        if rel is None:
            rel = self.relations[key] = Relation(start=start, rate=rate)
        else:
            rel.start, rel.rate = min(rel.start, start), max(rel.rate, rate)
        if rate == 0.0:
            rel.once.append(start)
        return rel

    def regulars(self) -> None:
        for i, person in enumerate(self.people):
            for code in sorted(CATEGORIES):
                rate = CATEGORIES[code][3]
                if rate <= 0 or self.rng.random() > min(0.35, 0.1 * rate + 0.05):
                    continue
                chosen = _pick(self.rng, self.by_cat[code], person)
                if chosen is not None:
                    scaled = rate * RATE_SCALE * self.rng.uniform(0.5, 1.5)
                    self.relate(i, chosen, _day(self.rng, 0, 365), scaled)

    def journeys(self) -> None:
        for chain, (low, high), carry_on in JOURNEYS:
            entry = 0.06 if len(chain) > 2 else 0.05
            for i, person in enumerate(self.people):
                if self.rng.random() > entry:
                    continue
                when = _day(self.rng, 0, DAYS - 200)
                previous: Business | None = None
                for step, code in enumerate(chain):
                    if step and self.rng.random() > carry_on:
                        break
                    chosen = _pick(self.rng, self.by_cat[code], person)
                    if chosen is None:
                        break
                    rate = CATEGORIES[code][3]
                    self.relate(i, chosen, when, rate)
                    if previous is not None:
                        self.planted_ordered.append((previous.slug, chosen.slug))
                    previous = chosen
                    when += timedelta(days=self.rng.randint(low, high))

    def together(self) -> None:
        for a_code, b_code, share in TOGETHER:
            partner_of: dict[str, Business] = {}
            for a in self.by_cat[a_code]:
                same = [b for b in self.by_cat[b_code] if b.district == a.district] or self.by_cat[
                    b_code
                ]
                partner_of[a.slug] = same[len(partner_of) % len(same)]
            for (person, slug), rel in sorted(self.relations.items()):
                if slug not in partner_of or self.rng.random() > share:
                    continue
                partner = partner_of[slug]
                start = rel.start + timedelta(days=self.rng.randint(-10, 10))
                self.relate(
                    person,
                    partner,
                    max(START, start),
                    CATEGORIES[b_code][3] * self.rng.uniform(0.6, 1.2),
                )
            self.planted_together += sorted({(a, b.slug) for a, b in partner_of.items()})

    def competition(self) -> None:
        for a_code, b_code in COMPETING:
            a = self.by_cat[a_code][0]
            b = self.by_cat[b_code][1] if a_code == b_code else self.by_cat[b_code][0]
            self.competitors.append((a.slug, b.slug, a_code))
            for (person, slug), rel in sorted(self.relations.items()):
                if slug != a.slug or self.rng.random() > 0.3:
                    continue
                switch = rel.start + timedelta(days=self.rng.randint(30, 200))
                if switch >= END:
                    continue
                rel.stop = switch
                self.relate(person, b, switch, rel.rate)

    def plant_promotion(self) -> None:
        shared: dict[tuple[str, str], int] = defaultdict(int)
        members = self.members()
        for cafe_id, bakery_id in self.planted_together:
            if cafe_id.startswith("cafe"):
                shared[(cafe_id, bakery_id)] = len(members[cafe_id] & members[bakery_id])
        cafe_slug, bakery_slug = max(sorted(shared), key=lambda k: shared[k])
        cafe = next(b for b in self.businesses if b.slug == cafe_slug)
        end = PROMO_START + timedelta(days=PROMO_DAYS)
        eligible = sorted(
            p for p in members[bakery_slug] if self.relations[(p, bakery_slug)].start < PROMO_START
        )
        treatment: list[int] = []
        holdout: list[int] = []
        for person in eligible:
            (treatment if self.rng.random() < 0.8 else holdout).append(person)
        treated = set(treatment)
        for person in eligible:
            base = self.relations.get((person, cafe_slug))
            rate = base.rate if base is not None else 0.5
            if person in treated:
                rate *= 1 + PROMO_UPLIFT
            visits = self._poisson_dates(PROMO_START, end, rate)
            if not visits:
                continue
            rel = self.relate(person, cafe, visits[0], 0.0) if base is None else base
            rel.once.extend(visits if base is not None else visits[1:])
            if person in treated:
                rel.promo = True
        self.promotion = {
            "cafe": cafe_slug,
            "bakery": bakery_slug,
            "issuer": bakery_slug,
            "honouring": cafe_slug,
            "start": PROMO_START.isoformat(),
            "end": end.isoformat(),
            "code": PROMO_CODE,
            "relative_uplift": PROMO_UPLIFT,
            "treatment": treatment,
            "holdout": holdout,
        }

    def _poisson_dates(self, start: date, end: date, rate_per_month: float) -> list[date]:
        dates: list[date] = []
        t = 0.0
        span = (end - start).days
        if rate_per_month <= 0:
            return dates
        while True:
            t += self.rng.expovariate(rate_per_month / 30.0)
            if t >= span:
                return dates
            dates.append(start + timedelta(days=int(t)))

    def members(self) -> dict[str, set[int]]:
        found: dict[str, set[int]] = defaultdict(set)
        for person, slug in self.relations:
            found[slug].add(person)
        return found


def generate(
    out_dir: Path, *, seed: int = 42, size: str = "small", progress: Progress | None = None
) -> dict[str, Any]:
    """Write the city's three import files and ground_truth.json; returns counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    city = City(seed, size)
    city.regulars()
    city.journeys()
    city.together()
    city.competition()
    city.plant_promotion()
    ids = _write_businesses(city, out_dir / "businesses.csv")
    customer_ids = _write_customers(city, out_dir / "customers.csv")
    receipts = _write_transactions(city, out_dir / "transactions.csv", customer_ids, progress)
    truth = _ground_truth(city, customer_ids)
    (out_dir / "ground_truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True)
    )
    return {
        "seed": seed,
        "size": size,
        "businesses": len(ids),
        "customers": len(customer_ids),
        "people": len(city.people),
        "transactions": receipts,
        "categories": len({b.category for b in city.businesses}),
    }


def _write_businesses(city: City, path: Path) -> list[str]:
    rng = random.Random(city.seed + 1)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(KNOWN["businesses"])
        members = city.members()
        for b in city.businesses:
            base = CATEGORIES[b.category][2] * 100 * TIER_PRICE[b.tier]
            check = int(base)
            customers = max(20, len(members[b.slug]) // 6)
            out.writerow(
                [
                    b.slug,
                    b.name,
                    b.category,
                    b.tier,
                    "Москва",
                    f"{STREETS[rng.randrange(len(STREETS))]}, {rng.randint(1, 120)}",
                    f"{b.lat:.6f}",
                    f"{b.lon:.6f}",
                    f"+7 495 {rng.randint(200, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}",
                    f"hello@{b.slug}.example.com",
                    f"https://{b.slug}.example.com",
                    f"{check // 100}.{check % 100:02d}",
                    "RUB",
                    customers,
                    customers * rng.randint(1, 4),
                    customers * rng.randint(2, 10),
                    customers * rng.randint(0, 6),
                    f"{DISTRICTS[b.district][0]}: {CATEGORIES[b.category][0].lower()}",
                ]
            )
    return [b.slug for b in city.businesses]


def _write_customers(city: City, path: Path) -> dict[tuple[int, str], str]:
    rng = random.Random(city.seed + 2)
    ids: dict[tuple[int, str], str] = {}
    counters: dict[str, int] = defaultdict(int)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            ["business", "customer", "email", "phone", "name", "marketing_consent", "first_seen"]
        )
        for (person, slug), rel in sorted(
            city.relations.items(), key=lambda kv: (kv[0][1], kv[0][0])
        ):
            counters[slug] += 1
            customer = f"C{counters[slug]:06d}"
            ids[(person, slug)] = customer
            p = city.people[person]
            kind = person % 7  # the same person is known the same way everywhere, so matching works
            email = p.email.upper() if rng.random() < 0.1 else p.email
            consent = rng.choice(("yes", "no", rel.start.isoformat()))
            out.writerow(
                [
                    slug,
                    customer,
                    "" if kind == 0 else email,
                    "" if kind in (1, 2) else p.phone,
                    p.name,
                    consent,
                    rel.start.isoformat(),
                ]
            )
    return ids


def _write_transactions(
    city: City, path: Path, ids: dict[tuple[int, str], str], progress: Progress | None
) -> int:
    rng = random.Random(city.seed + 3)
    by_slug = {b.slug: b for b in city.businesses}
    receipts: dict[str, int] = defaultdict(int)
    written = 0
    total = len(city.relations)
    promo_end = PROMO_START + timedelta(days=PROMO_DAYS)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["business", "id", "customer", "at", "amount", "currency", "items"])

        def emit(b: Business, customer: str, day: date, promo: bool = False) -> None:
            nonlocal written
            receipts[b.slug] += 1
            _, _, check, _, items, _ = CATEGORIES[b.category]
            kopecks = int(check * 100 * TIER_PRICE[b.tier] * rng.uniform(0.5, 1.6))
            hour = rng.randint(8, 21)
            at = datetime(day.year, day.month, day.day, hour, rng.randint(0, 59))
            bought = rng.sample(items, k=min(len(items), rng.randint(1, 3)))
            if promo:
                bought.append(f"PROMO:{PROMO_CODE}")
            out.writerow(
                [
                    b.slug,
                    f"R{receipts[b.slug]:07d}",
                    customer,
                    at.isoformat(),
                    f"{kopecks // 100}.{kopecks % 100:02d}",
                    "RUB",
                    ";".join(bought),
                ]
            )
            written += 1

        for n, ((person, slug), rel) in enumerate(
            sorted(city.relations.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ):
            b = by_slug[slug]
            season = SEASONS[CATEGORIES[b.category][5]]
            peak = max(season)
            stop = rel.stop or END
            days = []
            if rel.rate > 0:
                t = float((rel.start - START).days)
                while True:
                    t += rng.expovariate(rel.rate / 30.0)
                    day = START + timedelta(days=int(t))
                    if day >= stop:
                        break
                    in_promo = slug == city.promotion.get("cafe") and PROMO_START <= day < promo_end
                    if not in_promo and rng.random() < season[day.month - 1] / peak:
                        days.append(day)
            days += [d for d in rel.once if d <= END]
            for day in sorted(days):
                promo = rel.promo and PROMO_START <= day < promo_end
                emit(b, ids[(person, slug)], day, promo)
            if progress is not None and n % 10_000 == 0:
                progress("transactions", n, total)
        for b in city.businesses:  # anonymous walk-ins: a quarter on top of known customers
            season = SEASONS[CATEGORIES[b.category][5]]
            for _ in range(receipts[b.slug] // 4):
                day = _day(rng)
                if rng.random() < season[day.month - 1] / max(season):
                    emit(b, "", day)
    if progress is not None:
        progress("transactions", total, total)
    return written


def _ground_truth(city: City, ids: dict[tuple[int, str], str]) -> dict[str, Any]:
    members = city.members()
    by_slug = {b.slug: b for b in city.businesses}

    def shared(a: str, b: str) -> int:
        return len(members[a] & members[b])

    ordered = sorted(set(city.planted_ordered))
    threshold = max(5, len(city.people) // 1000)
    partners: dict[str, dict[str, int]] = defaultdict(dict)
    for a, b in ordered + city.planted_together:
        n = shared(a, b)
        if n >= threshold:
            partners[a][b] = n
            partners[b][a] = n
    competitors: dict[str, list[str]] = defaultdict(list)
    for a, b, _ in city.competitors:
        competitors[a].append(b)
        competitors[b].append(a)
    related = {frozenset(p) for p in ordered + city.planted_together} | {
        frozenset(c[:2]) for c in city.competitors
    }
    rng = random.Random(city.seed + 4)
    unrelated: list[dict[str, str]] = []
    while len(unrelated) < 20:
        x, y = rng.sample(city.businesses, 2)
        if (
            x.category != y.category
            and x.district != y.district
            and frozenset((x.slug, y.slug)) not in related
        ):
            unrelated.append({"a": x.slug, "b": y.slug})
    pair_counts: dict[tuple[str, str], int] = defaultdict(int)
    for slugs in _person_businesses(city).values():
        for i, a in enumerate(slugs):
            for b in slugs[i + 1 :]:
                pair_counts[(a, b)] += 1
    top = sorted(pair_counts, key=lambda k: (-pair_counts[k], k))[:50]
    promotion = dict(city.promotion)
    promotion["treatment"] = [ids[(p, promotion["bakery"])] for p in promotion["treatment"]]
    promotion["holdout"] = [ids[(p, promotion["bakery"])] for p in promotion["holdout"]]
    return {
        "seed": city.seed,
        "size": city.size,
        "currency": "RUB",
        "timezone": "Europe/Moscow",
        "period": {"start": START.isoformat(), "end": END.isoformat()},
        "complements": [
            {"a": chain[i], "b": chain[i + 1], "order": "before", "lag_days": list(lag)}
            for chain, lag, _ in JOURNEYS
            for i in range(len(chain) - 1)
        ]
        + [{"a": a, "b": b, "order": "together", "lag_days": [0, 10]} for a, b, _ in TOGETHER],
        "ordered_business_pairs": [
            {"first": a, "then": b, "shared_customers": shared(a, b)} for a, b in ordered
        ],
        "together_business_pairs": [
            {"a": a, "b": b, "shared_customers": shared(a, b)} for a, b in city.planted_together
        ],
        "competitor_pairs": [
            {"a": a, "b": b, "category": by_slug[a].category, "shared_customers": shared(a, b)}
            for a, b, _ in city.competitors
        ],
        "unrelated_pairs": unrelated,
        "overlaps": [{"a": a, "b": b, "shared_people": pair_counts[(a, b)]} for a, b in top],
        "complementary_partners": {
            k: sorted(v, key=lambda s: (-v[s], s)) for k, v in sorted(partners.items())
        },
        "competitors": {k: sorted(v) for k, v in sorted(competitors.items())},
        "seasonality": {code: list(SEASONS[CATEGORIES[code][5]]) for code in sorted(CATEGORIES)},
        "promotion": promotion,
    }


def _person_businesses(city: City) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for person, slug in sorted(city.relations):
        found[person].append(slug)
    return found
