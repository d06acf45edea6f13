"""How well suggestions recover a city's planted truth (the demo's or a test city's).

- precision: per business, the planted partners within one price tier found in its top
  min(10, relevant), averaged over businesses with at least one such partner;
- direction: of planted ordered pairs (first -> then) with at least MIN_SHARED shared
  customers, the share where `then` sees `first` as coming before it;
- rivals: planted same-need competitors within one price tier found in any top 10.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.matching import service

MIN_SHARED = 30


@dataclass(frozen=True)
class Quality:
    precision: float
    businesses: int
    direction: float
    ordered_pairs: int
    rivals: int


def measure(session: Session, truth: dict[str, Any], *, radius_km: float = 100.0) -> Quality:
    """Precision, direction and rivals of the suggestions against `truth` (see the module)."""
    by_slug = {b.slug: b for b in session.scalars(select(Business))}
    tops: dict[str, list[str]] = {}

    def top(slug: str, k: int = 10) -> list[str]:
        if slug not in tops:
            found = service.suggest(session, business=by_slug[slug], limit=10, radius_km=radius_km)
            tops[slug] = [s.business.slug for s in found]
        return tops[slug][:k]

    def near(a: str, b: str) -> bool:
        return abs(by_slug[a].price_tier - by_slug[b].price_tier) <= 1

    scores = []
    for slug, planted in truth["complementary_partners"].items():
        relevant = {p for p in planted if near(slug, p)}
        if not relevant:
            continue
        k = min(10, len(relevant))
        scores.append(len(set(top(slug, k)) & relevant) / k)
    rivals = sum(
        len(set(top(slug)) & {r for r in found if near(slug, r)})
        for slug, found in truth["competitors"].items()
    )
    right = total = 0
    for pair in truth["ordered_business_pairs"]:
        if pair["shared_customers"] < MIN_SHARED:
            continue
        then, first = by_slug[pair["then"]], by_slug[pair["first"]]
        _, suggestion = service.why_not(session, business=then, other=first, radius_km=radius_km)
        if suggestion is None:
            continue
        total += 1
        right += suggestion.direction == "before"
    return Quality(
        precision=sum(scores) / len(scores) if scores else 0.0,
        businesses=len(scores),
        direction=right / total if total else 0.0,
        ordered_pairs=total,
        rivals=rivals,
    )
