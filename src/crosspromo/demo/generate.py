"""A deterministic demo city with planted truths: businesses, customers, 18 months of sales.

`generate(out_dir, seed=42, size="small")` writes the three public import files
(`businesses.csv`, `customers.csv`, `transactions.csv`) and `ground_truth.json`, and returns a
summary (rows per file, seed, size). Same seed and size, byte-identical files. Receipts are
streamed one business at a time; what is held in memory is the city's people and which
businesses each of them buys at (about 300,000 relations for `medium`).

The story (tables in `crosspromo.demo.story`): people live somewhere, have an income (the price
tier they prefer) and interests, and buy at businesses near them in a tier close to theirs.
Planted on top of that: journeys (customers of one kind of business go on to the next kind,
in order), pairs bought together, rivals that customers switch between, seasons, and one past
joint promotion of a cafe and a bakery with a randomised holdout.

ground_truth.json (dates are ISO dates, business ids are the `id` of businesses.csv):

- `seed`, `size`, `currency` ("RUB"), `timezone` ("Europe/Moscow"),
  `period`: {`start`, `end`} (both days included);
- `complements`: [{`a`, `b`: category codes, `order`: "before" (people buy at `a`, then at
  `b`) or "together" (no order), `lag_days`: [min, max] days from the purchase at `a` to the
  one at `b` ("together": the first purchases at both lie at most `max` days apart)}];
- `ordered_business_pairs`: [{`first`, `then`, `shared_customers`, `planted`}]: business pairs
  joined by a journey step; `planted` people were sent along this step, `shared_customers` is
  how many people buy at both;
- `together_business_pairs`: [{`a`, `b`, `shared_customers`, `planted`}];
- `competitor_pairs`: [{`a`, `b`, `category` (of `a`), `category_b`, `mode` ("switch": the
  customer stops buying at `a` when starting at `b`; "alternate": buys at both from then),
  `moved` (people planted that way), `shared_customers`}]; rivals stand side by side in the
  same price tier;
- `unrelated_pairs`: [{`a`, `b`, `shared_people`, `expected_shared`}]: no planted relation,
  people chose them independently; `expected_shared` = |A|·|B| / people in the city;
- `overlaps`: [{`a`, `b`, `shared_people`}] (`a` < `b`): the exact number of distinct people
  buying at both, for the 50 largest pairs and every planted or unrelated pair above;
- `complementary_partners`: {business: [businesses]}: the planted journey neighbours and
  together partners that share at least `partner_min_shared` people with it, most shared
  first; what a partner-suggestion engine should put in its top 10;
- `competitors`: {business: [businesses]} from `competitor_pairs`;
- `seasonality`: {`monthly`: {category: [12 multipliers, January first]}, `weekly`:
  {category: [7 multipliers, Monday first]}, `peaks`: [{`category`, `date` ("MM-DD"),
  `days_before`, `multiplier`}]}: a day's visit rate is proportional to
  monthly × weekly (× peak from `days_before` days before `date` through `date`);
- `promotion`: {`bakery` (= `issuer`), `cafe` (= `honouring`), `start`, `end` (both days
  included), `code` (receipts of treated customers at the cafe in the window list the item
  `PROMO:<code>`, once per person), `relative_uplift` (treated people's visit rate to the cafe
  in the window is multiplied by 1 + this), `baseline_visits_per_month` (the window rate of
  eligible people who are not regulars of the cafe), `eligible`, `treatment`, `holdout`
  (customer ids at the bakery: the bakery's active customers split at random, about 80/20),
  `expected_extra_transactions` (the expectation of the visits added by the uplift),
  `injected_extra_transactions` (how many were drawn), `redemptions` (receipts with the code)}.
- `partner_min_shared`, `people`.
"""

from __future__ import annotations

import csv
import json
import math
import random
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from crosspromo.demo.story import (
    BOUNDS,
    CATEGORIES,
    CITY,
    COMPETING,
    DISTRICTS,
    EMAIL_DOMAINS,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    HOURS,
    INCOME_WEIGHTS,
    INTERESTS,
    JOURNEYS,
    LAST_NAMES,
    MINIMUM,
    MOBILE_CODES,
    MONTHLY,
    NAMES_EN,
    NAMES_RU,
    PEAKS,
    TIER_PRICE,
    TIER_WEIGHTS,
    TOGETHER,
    TRANSLIT,
    WEEKLY,
    District,
    Kind,
    Rivalry,
)
from crosspromo.imports.service import KNOWN

START, END = date(2025, 5, 1), date(2026, 10, 31)
DAYS = (END - START).days + 1
MONTHS = 18
MONTH = 30.44  # days in an average month: purchase rates are per month
PROMO_START, PROMO_DAYS, PROMO_CODE = date(2026, 6, 1), 28, "BREAD4COFFEE"
PROMO_UPLIFT = 0.25  # treated people visit the cafe 25% more often during the window
PROMO_TREATED = 0.8  # the rest of the bakery's eligible customers are the holdout
PROMO_WALK_IN = 0.6  # visits per month to the cafe of eligible people who are not its regulars
ANONYMOUS = 0.2  # share of receipts without a customer (walk-ins)
RANK_WEIGHTS = (1.0, 0.5, 0.25, 0.12)  # people prefer the nearest of the four nearest
TIER_CLOSENESS = (1.0, 0.3, 0.05, 0.01)  # by the gap between a person's tier and a business's
INTEREST_BOOST, INTEREST_DAMP = 1.8, 0.6  # interested people buy more, the rest less
CHURN, CHURN_DAYS = 0.3, 300  # a share of customers leave, on average after this many days
SECOND_RECEIPT = 0.35  # one-off purchases sometimes pay a balance later
CELL = (0.01, 0.016)  # about a kilometre: people of a cell choose among the same businesses
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CityPlan:
    """How big a city is and how strongly its truths are planted."""

    businesses: int
    people: int
    districts: int
    visit_scale: float  # multiplies purchase rates; tuned so receipts come near `receipts`
    receipts: int  # roughly how many transactions the city has
    rivals: int  # rival pairs planted per rivalry rule
    unrelated: int  # unrelated pairs listed in the ground truth
    partner_min_shared: int  # planted partners sharing fewer people are not listed
    every_kind: bool  # at least one business of every category (else planted ones only)


SIZES: dict[str, CityPlan] = {
    "small": CityPlan(60, 5_000, 4, 0.11, 60_000, 1, 20, 10, False),
    "medium": CityPlan(300, 50_000, 10, 0.19, 1_000_000, 2, 40, 30, True),
    "large": CityPlan(3_000, 500_000, 14, 0.19, 10_000_000, 6, 100, 100, True),
}


@dataclass(slots=True)
class Business:
    index: int
    slug: str
    name: str
    category: str
    tier: int
    district: int
    lat: float
    lon: float
    phone: str = ""
    address: str = ""
    russian: bool = True


@dataclass(slots=True)
class Person:
    index: int
    lat: float
    lon: float
    cell: tuple[int, int]
    income: int
    interests: tuple[str, ...]
    name: str
    email: str
    phone: str
    contact: str  # "both", "email" or "phone": how this person is known everywhere


@dataclass(slots=True)
class Relation:
    """A person buying at one business: a first purchase, then visits at `rate` until `stop`."""

    person: int
    business: int
    start: int  # day index of the first purchase
    rate: float  # purchases per month (at an average day's weight); 0: just the first
    stop: int = DAYS  # day index after the last possible visit
    anchor: Relation | None = None  # bought together with: copies some of its visit days
    same_day: float = 0.0
    extra: list[int] = field(default_factory=list)  # more days with a purchase
    promo: bool = False  # treated in the promotion: the first visit in the window redeems
    number: int = 0  # the customer id at this business, C000001...

    def first_day(self) -> int:
        return min([self.start, *self.extra])


@dataclass(frozen=True)
class Rival:
    a: int
    b: int
    rule: Rivalry


# ---------------------------------------------------------------------------------------------
# Calendar


def _day_weights(code: str) -> list[float]:
    """Relative visit rate of each day of the period for a category, averaging 1."""
    kind = CATEGORIES[code]
    month, week = MONTHLY[kind.season], WEEKLY[kind.week]
    weights = []
    for d in range(DAYS):
        day = START + timedelta(days=d)
        w = month[day.month - 1] * week[day.weekday()]
        for category, m, dd, before, factor in PEAKS:
            if category == code:
                peak = date(day.year, m, dd)
                if 0 <= (peak - day).days <= before:
                    w *= factor
        weights.append(w)
    mean = sum(weights) / DAYS
    return [w / mean for w in weights]


def _cumulative(weights: list[float]) -> list[float]:
    return [0.0, *accumulate(weights)]


def _arrivals(
    rng: random.Random, cum: list[float], start: int, stop: int, rate: float
) -> list[int]:
    """Days of a Poisson process of `rate` per month over [start, stop), following `cum`."""
    days: list[int] = []
    if rate <= 0 or stop <= start:
        return days
    t, end, per_unit = cum[start], cum[stop], rate / MONTH
    while True:
        t += rng.expovariate(per_unit)
        if t >= end:
            return days
        days.append(bisect_right(cum, t) - 1)


def _weighted_day(rng: random.Random, cum: list[float], low: int, high: int) -> int:
    """A day in [low, high), busy days more likely."""
    return bisect_right(cum, cum[low] + rng.random() * (cum[high] - cum[low])) - 1


def _iso(day: int) -> str:
    return (START + timedelta(days=day)).isoformat()


# ---------------------------------------------------------------------------------------------
# Businesses


def _planted_codes() -> set[str]:
    codes = {code for j in JOURNEYS for code in j.steps}
    codes |= {code for t in TOGETHER for code in (t.a, t.b)}
    codes |= {code for r in COMPETING for code in (r.a, r.b)}
    return codes | set(MINIMUM)


def _counts(plan: CityPlan) -> dict[str, int]:
    """Businesses per category: planted kinds first, the rest by how common they are."""
    codes = sorted(CATEGORIES)
    planted = _planted_codes()
    counts = {c: max(MINIMUM.get(c, 0), 1 if plan.every_kind or c in planted else 0) for c in codes}
    left = max(0, plan.businesses - sum(counts.values()))
    total = sum(CATEGORIES[c].weight for c in codes)
    quota = {c: left * CATEGORIES[c].weight / total for c in codes}
    for c in codes:
        counts[c] += int(quota[c])
    by_remainder = sorted(codes, key=lambda c: (-(quota[c] - int(quota[c])), c))
    for c in by_remainder[: plan.businesses - sum(counts.values())]:
        counts[c] += 1
    return counts


def _translit(text: str) -> str:
    latin = "".join(TRANSLIT.get(ch, ch) for ch in text.lower())
    return "-".join("".join(ch if ch.isascii() and ch.isalnum() else " " for ch in latin).split())


def _clamp(lat: float, lon: float) -> tuple[float, float]:
    lat_min, lat_max, lon_min, lon_max = BOUNDS
    return min(max(lat, lat_min), lat_max), min(max(lon, lon_min), lon_max)


def plan_businesses(seed: int = 42, size: str = "small") -> list[Business]:
    """The city's businesses (with rivals placed side by side), without people or sales."""
    return _businesses(seed, _plan(size))[0]


def _plan(size: str) -> CityPlan:
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    return SIZES[size]


def _businesses(seed: int, plan: CityPlan) -> tuple[list[Business], list[Rival]]:
    rng = random.Random(f"{seed}:businesses")
    districts = DISTRICTS[: plan.districts]
    businesses: list[Business] = []
    slugs: dict[str, int] = defaultdict(int)
    for code, count in sorted(_counts(plan).items()):
        kind = CATEGORIES[code]
        order = list(range(len(districts)))
        rng.shuffle(order)
        words_ru, words_en = list(NAMES_RU), list(NAMES_EN)
        rng.shuffle(words_ru)
        rng.shuffle(words_en)
        for k in range(count):
            district = order[k % len(districts)]
            russian = len(businesses) % 2 == 0  # half the names Russian, half English
            name, word = _business_name(kind, districts[district], words_ru, words_en, k, russian)
            base = f"{code.split('=')[1].replace('_', '-')}-{_translit(word)}"
            slugs[base] += 1
            d = districts[district]
            lat, lon = _clamp(d.lat + rng.gauss(0, 0.008), d.lon + rng.gauss(0, 0.013))
            tier = rng.choices(kind.tiers, weights=[TIER_WEIGHTS[t - 1] for t in kind.tiers])[0]
            businesses.append(
                Business(
                    len(businesses),
                    f"{base}-{slugs[base]}",
                    name,
                    code,
                    tier,
                    district,
                    round(lat, 6),
                    round(lon, 6),
                    russian=russian,
                )
            )
    rivals = _place_rivals(rng, businesses, plan)
    phones = rng.sample(range(1_000_000, 10_000_000), len(businesses))
    for b, digits in zip(businesses, phones, strict=True):
        text = str(digits)
        b.phone = f"+7 495 {text[:3]}-{text[3:5]}-{text[5:]}"
        streets = districts[b.district].streets
        b.address = f"{streets[rng.randrange(len(streets))]}, {rng.randint(1, 120)}"
    return businesses, rivals


def _business_name(
    kind: Kind,
    district: District,
    words_ru: list[str],
    words_en: list[str],
    k: int,
    russian: bool,
) -> tuple[str, str]:
    """«Пекарня «Колосок»» or "Crumb & Co Bakery"; a district tells repeated names apart."""
    words = words_ru if russian else words_en
    word = words[(k // 2) % len(words)]
    repeated = k // 2 >= len(words)
    if russian:
        name = f"{kind.ru} «{word}»" + (f" ({district.ru})" if repeated else "")
    else:
        name = f"{word} {kind.en}" + (f" {district.en}" if repeated else "")
    return name, word


def _place_rivals(rng: random.Random, businesses: list[Business], plan: CityPlan) -> list[Rival]:
    """Rivals stand side by side in the same tier, so they compete for the same people."""
    by_code: dict[str, list[Business]] = defaultdict(list)
    for b in businesses:
        by_code[b.category].append(b)
    used: set[int] = set()
    rivals: list[Rival] = []
    for rule in COMPETING:
        for _ in range(plan.rivals):
            free_a = [b for b in by_code[rule.a] if b.index not in used]
            if not free_a:
                break
            a = rng.choice(free_a)
            free_b = [b for b in by_code[rule.b] if b.index not in used and b is not a]
            if not free_b:
                break
            b = rng.choice(free_b)
            used |= {a.index, b.index}
            b.district, b.tier = a.district, a.tier
            b.lat, b.lon = round(a.lat + 0.0015, 6), round(a.lon + 0.002, 6)
            rivals.append(Rival(a.index, b.index, rule))
    return rivals


# ---------------------------------------------------------------------------------------------
# People


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return int((lat - BOUNDS[0]) / CELL[0]), int((lon - BOUNDS[2]) / CELL[1])


def _people(seed: int, plan: CityPlan, progress: Progress | None) -> list[Person]:
    rng = random.Random(f"{seed}:people")
    districts = DISTRICTS[: plan.districts]
    crowd = [rng.uniform(0.7, 1.3) for _ in districts]
    numbers = rng.sample(range(len(MOBILE_CODES) * 10_000_000), plan.people)
    emails: set[str] = set()
    people = []
    for i, number in enumerate(numbers):
        d = districts[rng.choices(range(len(districts)), weights=crowd)[0]]
        lat, lon = _clamp(d.lat + rng.gauss(0, 0.015), d.lon + rng.gauss(0, 0.025))
        income = rng.choices((1, 2, 3, 4), weights=INCOME_WEIGHTS)[0]
        interests = tuple(x for x in INTERESTS if rng.random() < 0.3)
        female = rng.random() < 0.55
        first = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
        last = rng.choice(LAST_NAMES) + ("а" if female else "")
        code, rest = MOBILE_CODES[number // 10_000_000], f"{number % 10_000_000:07d}"
        phone = f"+7 {code} {rest[:3]}-{rest[3:5]}-{rest[5:]}"
        email = _email(rng, first, last, emails)
        contact = rng.choices(("both", "email", "phone"), weights=(0.7, 0.15, 0.15))[0]
        people.append(
            Person(i, lat, lon, _cell(lat, lon), income, interests, f"{first} {last}", email,
                   phone, contact)
        )  # fmt: skip
        if progress is not None and (i + 1) % 10_000 == 0:
            progress("people", i + 1, plan.people)
    return people


def _email(rng: random.Random, first: str, last: str, taken: set[str]) -> str:
    f, s = _translit(first), _translit(last)
    local = rng.choice((f"{f}.{s}", f"{f[0]}.{s}", f"{s}.{f}", f"{f}{s}"))
    if rng.random() < 0.5:
        local += str(rng.choice((rng.randint(1, 99), rng.randint(1960, 2006))))
    email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    while email in taken:  # namesakes: add digits until the address is free
        email = f"{local}{rng.randint(100, 9999)}@{rng.choice(EMAIL_DOMAINS)}"
    taken.add(email)
    return email


# ---------------------------------------------------------------------------------------------
# The city: who buys where


class City:
    """People, businesses and the planted relations between them (no receipts yet)."""

    def __init__(self, seed: int, size: str, progress: Progress | None = None) -> None:
        self.seed, self.size = seed, size
        self.plan = _plan(size)
        self.businesses, self.rivals = _businesses(seed, self.plan)
        self.by_code: dict[str, list[Business]] = defaultdict(list)
        for b in self.businesses:
            self.by_code[b.category].append(b)
        self.people = _people(seed, self.plan, progress)
        self.mine: list[list[Relation]] = [[] for _ in self.people]  # by person
        self.at: list[list[Relation]] = [[] for _ in self.businesses]  # by business
        self.cum = {code: _cumulative(_day_weights(code)) for code in sorted(self.by_code)}
        self.near: dict[tuple[tuple[int, int], str], list[Business]] = {}
        self.ordered: dict[tuple[int, int], int] = defaultdict(int)  # journey steps taken
        self.together: dict[tuple[int, int], int] = defaultdict(int)
        self.moved: dict[tuple[int, int], int] = defaultdict(int)  # rivals: people moved
        self.promotion: dict[str, Any] = {}

    def build(self) -> None:
        self.plant_journeys()
        self.add_regulars()
        self.plant_together()
        self.plant_rivalry()
        self.plant_promotion()

    # Choosing where to buy -------------------------------------------------------------------

    def nearest(self, cell: tuple[int, int], code: str) -> list[Business]:
        """The four businesses of a category nearest to a cell (the same for its people)."""
        key = (cell, code)
        found = self.near.get(key)
        if found is None:
            lat = BOUNDS[0] + (cell[0] + 0.5) * CELL[0]
            lon = BOUNDS[2] + (cell[1] + 0.5) * CELL[1]
            scale = math.cos(math.radians(lat))

            def distance(b: Business) -> tuple[float, int]:
                return (b.lat - lat) ** 2 + ((b.lon - lon) * scale) ** 2, b.index

            found = self.near[key] = sorted(self.by_code.get(code, []), key=distance)[:4]
        return found

    def choose(self, rng: random.Random, person: Person, code: str, tier: int) -> Business | None:
        """A business of the category near the person, in a tier close to `tier`."""
        options = self.nearest(person.cell, code)
        if len(options) <= 1:
            return options[0] if options else None
        weights = [
            RANK_WEIGHTS[r] * TIER_CLOSENESS[abs(b.tier - tier)] for r, b in enumerate(options)
        ]
        return rng.choices(options, weights=weights)[0]

    def relation(self, person: int, business: int) -> Relation | None:
        for rel in self.mine[person]:
            if rel.business == business:
                return rel
        return None

    def has_category(self, person: int, code: str) -> bool:
        return self.of_category(person, code) is not None

    def of_category(self, person: int, code: str) -> Relation | None:
        for rel in self.mine[person]:
            if self.businesses[rel.business].category == code:
                return rel
        return None

    def add(self, rng: random.Random, person: int, business: Business, start: int) -> Relation:
        """A new customer: loyal ones get a visit rate, some of them leave after a while."""
        kind = CATEGORIES[business.category]
        rel = Relation(person, business.index, start, 0.0)
        if kind.rate > 0:
            rel.rate = kind.rate * self.plan.visit_scale * rng.gammavariate(2.0, 0.5)
            if rng.random() < CHURN:
                rel.stop = min(DAYS, start + 30 + int(rng.expovariate(1 / CHURN_DAYS)))
        elif rng.random() < SECOND_RECEIPT:
            balance = start + rng.randint(5, 30)
            if balance < DAYS:
                rel.extra.append(balance)
        self.mine[person].append(rel)
        self.at[business.index].append(rel)
        return rel

    def interest(self, person: Person, topic: str | None) -> float:
        if topic is None:
            return 1.0
        return INTEREST_BOOST if topic in person.interests else INTEREST_DAMP

    # The story ---------------------------------------------------------------------------------

    def plant_journeys(self) -> None:
        """Journeys first: a person's purchase in a journey category is the journey's."""
        for journey in JOURNEYS:
            rng = random.Random(f"{self.seed}:journey:{journey.name}")
            first = journey.steps[0]
            if first not in self.cum:
                continue
            cum = self.cum[first]
            for person in self.people:
                if rng.random() >= journey.entry * self.interest(person, journey.interest):
                    continue
                day = _weighted_day(rng, cum, 0, DAYS - 30)
                previous: Business | None = None
                for k, code in enumerate(journey.steps):
                    if k:
                        if rng.random() >= journey.carry_on:
                            break
                        day += rng.randint(*journey.lags[k - 1])
                    if day >= DAYS or self.has_category(person.index, code):
                        break
                    tier = previous.tier if previous is not None else person.income
                    chosen = self.choose(rng, person, code, tier)
                    if chosen is None:
                        break
                    self.add(rng, person.index, chosen, day)
                    if previous is not None:
                        self.ordered[(previous.index, chosen.index)] += 1
                    previous = chosen

    def add_regulars(self) -> None:
        """Everyday buying: by interest, near home, in a tier close to the person's income."""
        rng = random.Random(f"{self.seed}:regulars")
        codes = [c for c in sorted(self.by_code) if CATEGORIES[c].reach > 0]
        for person in self.people:
            for code in codes:
                kind = CATEGORIES[code]
                if rng.random() >= kind.reach * self.interest(person, kind.interest):
                    continue
                if self.has_category(person.index, code):
                    continue
                chosen = self.choose(rng, person, code, person.income)
                if chosen is None:
                    continue
                # Half were customers before the period began, the rest arrive over it.
                cum = self.cum[code]
                early = rng.random() < 0.5
                start = _weighted_day(rng, cum, 0, 45 if early else DAYS - 15)
                self.add(rng, person.index, chosen, start)

    def plant_together(self) -> None:
        """A share of `a`'s customers also buy at a `b` near them, often the same day."""
        for spec in TOGETHER:
            if spec.a not in self.by_code or spec.b not in self.by_code:
                continue
            rng = random.Random(f"{self.seed}:together:{spec.a}:{spec.b}")
            for person in self.people:
                rel_a = self.of_category(person.index, spec.a)
                if rel_a is None or rng.random() >= spec.share:
                    continue
                a = self.businesses[rel_a.business]
                rel_b = self.of_category(person.index, spec.b)
                if rel_b is None:
                    chosen = self.choose(rng, person, spec.b, a.tier)
                    if chosen is None:
                        continue
                    lag = rng.randint(*spec.lag) * rng.choice((-1, 1))
                    start = min(max(rel_a.start + lag, 0), DAYS - 1)
                    rel_b = self.add(rng, person.index, chosen, start)
                rel_b.anchor, rel_b.same_day = rel_a, spec.same_day
                self.together[(a.index, rel_b.business)] += 1

    def plant_rivalry(self) -> None:
        """Some of `a`'s customers switch to the rival next door, or start alternating."""
        for rival in self.rivals:
            rng = random.Random(f"{self.seed}:rivals:{rival.a}:{rival.b}")
            b = self.businesses[rival.b]
            for rel in list(self.at[rival.a]):
                if rel.rate <= 0 or rng.random() >= rival.rule.share:
                    continue
                if self.relation(rel.person, rival.b) is not None:
                    continue
                moved = rel.start + rng.randint(30, 240)
                if moved >= min(rel.stop, DAYS - 14):
                    continue
                new = self.add(rng, rel.person, b, moved)
                new.stop = DAYS
                if rival.rule.mode == "switch":
                    new.rate, rel.stop = rel.rate, moved
                else:
                    new.rate = rel.rate * 0.6
                self.moved[(rival.a, rival.b)] += 1

    def plant_promotion(self) -> None:
        """The bakery hands coupons for the cafe to 80% of its customers; 20% are held out."""
        pairs = [
            (cafe, bakery)
            for cafe, bakery in sorted(self.together)
            if self.businesses[cafe].category == "amenity=cafe"
            and self.businesses[bakery].category == "shop=bakery"
            and not {cafe, bakery} & self.rival_ids()
        ]
        if not pairs:
            return
        members = self.members()
        cafe_i, bakery_i = max(pairs, key=lambda p: len(members[p[0]] & members[p[1]]))
        cafe = self.businesses[cafe_i]
        w0 = (PROMO_START - START).days
        w1 = w0 + PROMO_DAYS
        cum = self.cum[cafe.category]
        rng = random.Random(f"{self.seed}:promotion")
        eligible = sorted(
            r.person for r in self.at[bakery_i] if r.first_day() < w0 and r.stop >= w1
        )
        treated = {p for p in eligible if rng.random() < PROMO_TREATED}
        expected, injected = 0.0, 0
        for person in eligible:
            rel = self.relation(person, cafe_i)
            regular = rel is not None and rel.rate > 0 and rel.start < w0 and rel.stop >= w1
            base = rel.rate if rel is not None and regular else PROMO_WALK_IN
            days = [] if regular else _arrivals(rng, cum, w0, w1, base)
            if person in treated:
                extra = _arrivals(rng, cum, w0, w1, base * PROMO_UPLIFT)
                expected += base * PROMO_UPLIFT * (cum[w1] - cum[w0]) / MONTH
                injected += len(extra)
                days += extra
            if days and rel is None:
                days.sort()
                rel = self.add(rng, person, cafe, days[0])
                rel.rate, rel.extra = 0.0, days[1:]
            elif days and rel is not None:
                rel.extra.extend(days)
            if person in treated and rel is not None:
                rel.promo = True
        self.promotion = {
            "cafe": cafe_i,
            "bakery": bakery_i,
            "window": (w0, w1),
            "treatment": sorted(treated),
            "holdout": [p for p in eligible if p not in treated],
            "expected": expected,
            "injected": injected,
        }

    # Questions about the city -----------------------------------------------------------------

    def rival_ids(self) -> set[int]:
        return {r.a for r in self.rivals} | {r.b for r in self.rivals}

    def members(self) -> list[set[int]]:
        return [{r.person for r in rels} for rels in self.at]

    def days_of(self, rel: Relation, with_extra: bool = True) -> list[int]:
        """The days a person buys at a business; the same every time it is asked."""
        rng = random.Random(f"{self.seed}:visits:{rel.business}:{rel.person}")
        cum = self.cum[self.businesses[rel.business].category]
        days = [rel.start]
        if rel.rate > 0:
            # The first purchase is on `start`; the next ones follow from the day after.
            days += _arrivals(rng, cum, min(rel.start + 1, rel.stop), rel.stop, rel.rate)
        if rel.anchor is not None:
            for d in self.days_of(rel.anchor, with_extra=False):
                if rel.start < d < rel.stop and rng.random() < rel.same_day:
                    days.append(d)
        if with_extra:
            days += rel.extra
        days.sort()
        return days

    def expected_receipts(self) -> int:
        """Roughly how many receipts the city will write (for progress bars)."""
        known = 0.0
        for rels in self.at:
            for rel in rels:
                known += 1 + len(rel.extra)
                if rel.rate > 0:
                    cum = self.cum[self.businesses[rel.business].category]
                    known += rel.rate * (cum[rel.stop] - cum[min(rel.start + 1, rel.stop)]) / MONTH
        return int(known / (1 - ANONYMOUS))


# ---------------------------------------------------------------------------------------------
# Writing


def generate(
    out_dir: Path, *, seed: int = 42, size: str = "small", progress: Progress | None = None
) -> dict[str, Any]:
    """Write the city's three import files and ground_truth.json; returns what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    city = City(seed, size, progress)
    city.build()
    customers = _write_customers(city, out_dir / "customers.csv", progress)
    stats = _write_transactions(city, out_dir / "transactions.csv", progress)
    _write_businesses(city, out_dir / "businesses.csv", stats, customers)
    truth = ground_truth(city, stats)
    (out_dir / "ground_truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    receipts = sum(s.receipts for s in stats)
    rows = sum(len(rels) for rels in city.at)
    return {
        "seed": seed,
        "size": size,
        "businesses": len(city.businesses),
        "categories": len(city.by_code),
        "people": len(city.people),
        "customers": rows,
        "transactions": receipts,
        "files": {
            "businesses.csv": len(city.businesses),
            "customers.csv": rows,
            "transactions.csv": receipts,
        },
    }


# The import's own header (id, name, category, price_tier, city, address, lat, lon, phone, email,
# website, avg_check, currency, customers_per_month, newsletter_subscribers, social_followers,
# site_visitors_per_month, description), so the two cannot drift apart.
BUSINESS_COLUMNS: tuple[str, ...] = tuple(KNOWN["businesses"])
CUSTOMER_COLUMNS = (
    "business", "customer", "email", "phone", "name", "marketing_consent", "first_seen",
)  # fmt: skip
TRANSACTION_COLUMNS = ("business", "id", "customer", "at", "amount", "currency", "items")


@dataclass
class Sales:
    """What one business's receipts came to (for its profile and the ground truth)."""

    receipts: int = 0
    anonymous: int = 0
    customer_months: int = 0  # distinct (customer, month) pairs
    redemptions: int = 0


def _money(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def _average_check(b: Business) -> int:
    """The business's average check in kopecks: the category's, scaled by its tier."""
    return round(CATEGORIES[b.category].check * 100 * TIER_PRICE[b.tier])


def _write_customers(city: City, path: Path, progress: Progress | None) -> list[int]:
    """One row per person and business, numbered in order of first purchase.

    Returns how many customers of each business agreed to marketing.
    """
    rng = random.Random(f"{city.seed}:customers")
    consenting = [0] * len(city.businesses)
    total = sum(len(rels) for rels in city.at)
    done = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(CUSTOMER_COLUMNS)
        for b in city.businesses:
            rels = sorted(city.at[b.index], key=lambda r: (r.first_day(), r.person))
            for n, rel in enumerate(rels, start=1):
                rel.number = n
                p = city.people[rel.person]
                first = rel.first_day()
                email = "" if p.contact == "phone" else _spelled(rng, p.email)
                phone = "" if p.contact == "email" else _dialled(rng, p.phone)
                consent = rng.choices(("yes", "no", "date"), weights=(0.45, 0.35, 0.2))[0]
                if consent == "date":
                    consent = _iso(min(DAYS - 1, first + rng.randint(0, 60)))
                consenting[b.index] += consent != "no"
                out.writerow([b.slug, f"C{n:06d}", email, phone, p.name, consent, _iso(first)])
                done += 1
                if progress is not None and done % 10_000 == 0:
                    progress("customers", done, total)
    if progress is not None:
        progress("customers", total, total)
    return consenting


def _spelled(rng: random.Random, email: str) -> str:
    """Shop assistants type e-mails differently; the address is the same."""
    roll = rng.random()
    if roll < 0.05:
        return email.upper()
    if roll < 0.10:
        local, domain = email.split("@")
        return f"{local.capitalize()}@{domain.capitalize()}"
    return email


def _dialled(rng: random.Random, phone: str) -> str:
    return phone.replace("-", " ") if rng.random() < 0.1 else phone


HOUR_WEIGHTS = {k: list(accumulate(v)) for k, v in HOURS.items()}
DAY_TEXT = [(START + timedelta(days=d)).isoformat() for d in range(DAYS)]
MONTH_OF = [(START + timedelta(days=d)).month for d in range(DAYS)]
Receipt = tuple[int, int, bool]  # minute of the period, customer number (0: anonymous), coupon


def _write_transactions(city: City, path: Path, progress: Progress | None) -> list[Sales]:
    """Receipts of one business at a time, in time order, numbered R0000001..."""
    total = city.expected_receipts()
    stats = []
    written = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(TRANSACTION_COLUMNS)
        for b in city.businesses:
            kind = CATEGORIES[b.category]
            rng = random.Random(f"{city.seed}:receipts:{b.slug}")
            receipts, sales = _receipts(city, b, rng)
            check = _average_check(b)
            spread = 0.25 if kind.rate == 0 else 0.35  # one-off prices vary less
            for n, (at, number, coupon) in enumerate(receipts, start=1):
                kopecks = max(100, round(check * rng.lognormvariate(-spread * spread / 2, spread)))
                count = rng.choices((1, 2, 3, 4), cum_weights=(45, 75, 90, 100))[0]
                items = rng.sample(kind.items, min(count, len(kind.items)))
                if coupon:
                    items.append(f"PROMO:{PROMO_CODE}")
                day, minute = divmod(at, 1440)
                out.writerow(
                    [
                        b.slug,
                        f"R{n:07d}",
                        f"C{number:06d}" if number else "",
                        f"{DAY_TEXT[day]}T{minute // 60:02d}:{minute % 60:02d}:00",
                        _money(kopecks),
                        "RUB",
                        ";".join(items),
                    ]
                )
                written += 1
                if progress is not None and written % 10_000 == 0:
                    progress("transactions", written, max(total, written))
            stats.append(sales)
    if progress is not None:
        progress("transactions", written, written)
    return stats


def _receipts(city: City, b: Business, rng: random.Random) -> tuple[list[Receipt], Sales]:
    """One business's receipts in time order: its customers' visits, then walk-ins."""
    hours = HOUR_WEIGHTS[CATEGORIES[b.category].hours]
    w0, w1 = city.promotion.get("window", (0, 0))
    receipts: list[Receipt] = []
    months: set[tuple[int, int]] = set()
    sales = Sales()
    for rel in sorted(city.at[b.index], key=lambda r: r.number):
        redeem = rel.promo  # a treated person redeems the coupon on the first visit in the window
        for day in city.days_of(rel):
            minute = rng.choices(range(24), cum_weights=hours)[0] * 60 + rng.randrange(60)
            coupon = redeem and w0 <= day < w1
            redeem = redeem and not coupon
            sales.redemptions += coupon
            receipts.append((day * 1440 + minute, rel.number, coupon))
            months.add((rel.number, MONTH_OF[day]))
    sales.customer_months = len(months)
    sales.anonymous = round(len(receipts) * ANONYMOUS / (1 - ANONYMOUS))
    cum = city.cum[b.category]
    for _ in range(sales.anonymous):
        day = _weighted_day(rng, cum, 0, DAYS)
        minute = rng.choices(range(24), cum_weights=hours)[0] * 60 + rng.randrange(60)
        receipts.append((day * 1440 + minute, 0, False))
    receipts.sort()
    sales.receipts = len(receipts)
    return receipts, sales


def _write_businesses(city: City, path: Path, stats: list[Sales], consenting: list[int]) -> None:
    rng = random.Random(f"{city.seed}:profiles")
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=BUSINESS_COLUMNS)
        out.writeheader()
        for b in city.businesses:
            kind, sales = CATEGORIES[b.category], stats[b.index]
            district = DISTRICTS[b.district]
            per_month = round((sales.customer_months + sales.anonymous) / MONTHS)
            customers = len(city.at[b.index])
            if b.russian:
                description = f"{kind.ru} в районе {district.ru}."
            else:
                description = f"{kind.en} in {district.en}, Moscow."
            out.writerow(
                {
                    "id": b.slug,
                    "name": b.name,
                    "category": b.category,
                    "price_tier": b.tier,
                    "city": CITY,
                    "address": b.address,
                    "lat": f"{b.lat:.6f}",
                    "lon": f"{b.lon:.6f}",
                    "phone": b.phone,
                    "email": f"{b.slug}@{EMAIL_DOMAINS[b.index % len(EMAIL_DOMAINS)]}",
                    "website": f"https://{b.slug}.example.com",
                    "avg_check": _money(_average_check(b)),
                    "currency": "RUB",
                    "customers_per_month": per_month,
                    "newsletter_subscribers": round(consenting[b.index] * rng.uniform(0.4, 0.9)),
                    "social_followers": round(customers * rng.uniform(0.3, 3.0)),
                    "site_visitors_per_month": round(per_month * rng.uniform(0.5, 4.0)),
                    "description": description,
                }
            )


# ---------------------------------------------------------------------------------------------
# Ground truth


def ground_truth(city: City, stats: list[Sales]) -> dict[str, Any]:
    """What was planted, in business ids and customer ids (see the module docstring)."""
    members = city.members()
    slug = [b.slug for b in city.businesses]

    def shared(a: int, b: int) -> int:
        return len(members[a] & members[b])

    minimum = city.plan.partner_min_shared
    partners: dict[int, dict[int, int]] = defaultdict(dict)
    for a, b in sorted(city.ordered) + sorted(city.together):
        n = shared(a, b)
        if n >= minimum:
            partners[a][b] = partners[b][a] = n
    competitors: dict[str, list[str]] = defaultdict(list)
    for r in city.rivals:
        competitors[slug[r.a]].append(slug[r.b])
        competitors[slug[r.b]].append(slug[r.a])
    unrelated = _unrelated(city, members)
    planted = (
        list(city.ordered)
        + list(city.together)
        + [(r.a, r.b) for r in city.rivals]
        + [(a, b) for a, b, _ in unrelated]
    )
    return {
        "seed": city.seed,
        "size": city.size,
        "people": len(city.people),
        "currency": "RUB",
        "timezone": "Europe/Moscow",
        "period": {"start": START.isoformat(), "end": END.isoformat()},
        "partner_min_shared": minimum,
        "complements": _complements(city),
        "ordered_business_pairs": [
            {"first": slug[a], "then": slug[b], "shared_customers": shared(a, b), "planted": n}
            for (a, b), n in sorted(city.ordered.items())
        ],
        "together_business_pairs": [
            {"a": slug[a], "b": slug[b], "shared_customers": shared(a, b), "planted": n}
            for (a, b), n in sorted(city.together.items())
        ],
        "competitor_pairs": [
            {
                "a": slug[r.a],
                "b": slug[r.b],
                "category": city.businesses[r.a].category,
                "category_b": city.businesses[r.b].category,
                "mode": r.rule.mode,
                "moved": city.moved[(r.a, r.b)],
                "shared_customers": shared(r.a, r.b),
            }
            for r in city.rivals
        ],
        "unrelated_pairs": [
            {
                "a": slug[a],
                "b": slug[b],
                "shared_people": shared(a, b),
                "expected_shared": round(expected, 2),
            }
            for a, b, expected in unrelated
        ],
        "overlaps": _overlaps(city, planted, members),
        "complementary_partners": {
            slug[a]: [slug[b] for b in sorted(found, key=lambda b: (-found[b], slug[b]))]
            for a, found in sorted(partners.items(), key=lambda kv: slug[kv[0]])
        },
        "competitors": {k: sorted(v) for k, v in sorted(competitors.items())},
        "seasonality": _seasonality(city),
        "promotion": _promotion(city, stats),
    }


def _complements(city: City) -> list[dict[str, Any]]:
    lags: dict[tuple[str, str], list[int]] = {}
    for journey in JOURNEYS:
        for k, (a, b) in enumerate(zip(journey.steps, journey.steps[1:], strict=False)):
            low, high = journey.lags[k]
            if a in city.by_code and b in city.by_code:
                seen = lags.setdefault((a, b), [low, high])
                seen[0], seen[1] = min(seen[0], low), max(seen[1], high)
    found: list[dict[str, Any]] = [
        {"a": a, "b": b, "order": "before", "lag_days": lag} for (a, b), lag in lags.items()
    ]
    found += [
        {"a": t.a, "b": t.b, "order": "together", "lag_days": list(t.lag)}
        for t in TOGETHER
        if t.a in city.by_code and t.b in city.by_code
    ]
    return found


def _linked_codes() -> set[frozenset[str]]:
    linked = {frozenset(p) for j in JOURNEYS for p in zip(j.steps, j.steps[1:], strict=False)}
    linked |= {frozenset((t.a, t.b)) for t in TOGETHER}
    return linked | {frozenset((r.a, r.b)) for r in COMPETING}


def _unrelated(city: City, members: list[set[int]]) -> list[tuple[int, int, float]]:
    """Pairs nothing was planted between: different needs, different interests."""
    rng = random.Random(f"{city.seed}:unrelated")
    linked = _linked_codes()
    planted = set(city.ordered) | set(city.together) | {(r.a, r.b) for r in city.rivals}
    chosen: dict[tuple[int, int], float] = {}
    for _ in range(100 * city.plan.unrelated):
        if len(chosen) >= city.plan.unrelated:
            break
        x, y = sorted(rng.sample(range(len(city.businesses)), 2))
        bx, by = city.businesses[x], city.businesses[y]
        kx, ky = CATEGORIES[bx.category], CATEGORIES[by.category]
        if (
            bx.category == by.category
            or kx.interest == ky.interest
            or frozenset((bx.category, by.category)) in linked
            or (x, y) in planted
            or (y, x) in planted
            or not members[x]
            or not members[y]
        ):
            continue
        chosen[(x, y)] = len(members[x]) * len(members[y]) / len(city.people)
    return [(x, y, e) for (x, y), e in chosen.items()]


def _overlaps(
    city: City, planted: list[tuple[int, int]], members: list[set[int]]
) -> list[dict[str, Any]]:
    """Exact shared people for the 50 largest pairs and every planted one."""
    n = len(city.businesses)
    counts: dict[int, int] = defaultdict(int)
    for rels in city.mine:
        ids = sorted({r.business for r in rels})
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                counts[a * n + b] += 1
    top = sorted(counts, key=lambda k: (-counts[k], k))[:50]
    pairs = {divmod(k, n) for k in top} | {(min(a, b), max(a, b)) for a, b in planted}
    slug = [b.slug for b in city.businesses]
    rows = [
        {"a": slug[a], "b": slug[b], "shared_people": counts.get(a * n + b, 0)} for a, b in pairs
    ]
    return sorted(rows, key=lambda r: (-r["shared_people"], r["a"], r["b"]))


def _seasonality(city: City) -> dict[str, Any]:
    codes = sorted(city.by_code)
    return {
        "monthly": {c: list(MONTHLY[CATEGORIES[c].season]) for c in codes},
        "weekly": {c: list(WEEKLY[CATEGORIES[c].week]) for c in codes},
        "peaks": [
            {"category": c, "date": f"{m:02d}-{d:02d}", "days_before": before, "multiplier": x}
            for c, m, d, before, x in PEAKS
            if c in city.by_code
        ],
    }


def _promotion(city: City, stats: list[Sales]) -> dict[str, Any]:
    promo = city.promotion
    if not promo:
        return {}
    cafe, bakery = city.businesses[promo["cafe"]], city.businesses[promo["bakery"]]

    def ids(people: list[int]) -> list[str]:
        found = (city.relation(p, bakery.index) for p in people)
        return [f"C{rel.number:06d}" for rel in found if rel is not None]

    return {
        "cafe": cafe.slug,
        "bakery": bakery.slug,
        "issuer": bakery.slug,
        "honouring": cafe.slug,
        "start": PROMO_START.isoformat(),
        "end": (PROMO_START + timedelta(days=PROMO_DAYS - 1)).isoformat(),
        "code": PROMO_CODE,
        "relative_uplift": PROMO_UPLIFT,
        "baseline_visits_per_month": PROMO_WALK_IN,
        "eligible": len(promo["treatment"]) + len(promo["holdout"]),
        "treatment": ids(promo["treatment"]),
        "holdout": ids(promo["holdout"]),
        "expected_extra_transactions": round(promo["expected"], 1),
        "injected_extra_transactions": promo["injected"],
        "redemptions": stats[cafe.index].redemptions,
    }
