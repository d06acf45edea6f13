"""The overlap a pair can expect, learned from every pair of a city (matching.reach); both engines.

A street city apart from the demo's generator: cafes and bookshops along one street about a
kilometre apart, people living along it buying at the cafe and the bookshop nearest home.
Nobody opted in to overlap discovery, so no pair's own figures may be used or shown.
"""

from __future__ import annotations

import random
import uuid

import numpy as np
from sqlalchemy.orm import Session

from crosspromo.accounts import service as accounts
from crosspromo.businesses.models import Business
from crosspromo.matching import explain, reach, scheduled, service
from tests.matching import cities

STREET = 8  # businesses of each kind along the street
STEP = 0.009  # degrees of latitude between neighbours: about a kilometre


def _street(db: Session, *, people: int, both: bool = True) -> dict[str, Business]:
    rng = random.Random(5)
    workspace = accounts.new_workspace(db, name="Street city")
    made: dict[str, Business] = {}
    for kind, category in (("cafe", "amenity=cafe"), ("books", "shop=books")):
        for k in range(STREET):
            b = Business(
                workspace_id=workspace.id,
                slug=f"{kind}-{k}",
                name=f"{kind} {k}",
                category=category,
                price_tier=2,
                currency="RUB",
                country="RU",
                timezone="Europe/Moscow",
                city="Streetton",
                lat=55.70 + STEP * k,
                lon=37.60 + (0.002 if kind == "books" else 0.0),
                allow_overlap_discovery=False,
            )
            db.add(b)
            made[b.slug] = b
    db.flush()
    ids: dict[str, uuid.UUID] = {slug: b.id for slug, b in made.items()}
    visits: list[tuple[int, str, int]] = []
    for who in range(people):
        home = rng.uniform(0, STREET - 1)
        for kind in ("cafe", "books") if both else (rng.choice(("cafe", "books")),):
            near = min(STREET - 1, max(0, round(home + rng.gauss(0, 0.6))))
            visits.append((who, f"{kind}-{near}", rng.randrange(300)))
    cities._write(db, rng, ids, visits)
    return made


def test_sharing_falls_with_distance_and_ranks_without_the_opt_in(db: Session) -> None:
    made = _street(db, people=1200)
    scheduled.learn_all(db)
    db.commit()
    model = (service.aggregates.taught(db) or {}).get("reach")
    assert model is not None and model["pairs"] >= 5
    ones = {"mine": 150.0, "theirs": np.array([150.0]), "lift": np.array([1.0])}
    near = reach.expected(model, km=np.array([0.2]), gap=np.array([0]), **ones)
    far = reach.expected(model, km=np.array([5.0]), gap=np.array([0]), **ones)
    assert near[0] > 5 * far[0]

    found = {
        s.business.slug: s
        for s in service.suggest(db, business=made["cafe-3"], limit=20, radius_km=30)
    }
    assert found["books-3"].criteria["overlap"] > found["books-7"].criteria["overlap"]
    assert found["books-3"].criteria["overlap"] > 0.5 > found["books-7"].criteria["overlap"]
    # The pair's own count stays hidden; the card says the estimate comes from the city.
    assert found["books-3"].overlap is None
    said = [r.message for r in found["books-3"].reasons]
    assert explain.OVERLAP_EXPECTED in said
    assert explain.OVERLAP_EXPECTED not in [r.message for r in found["books-7"].reasons]


def test_without_shared_customers_nothing_is_estimated(db: Session) -> None:
    made = _street(db, people=600, both=False)
    scheduled.learn_all(db)
    db.commit()
    assert reach.fit(db) is None
    found = service.suggest(db, business=made["cafe-3"], limit=20, radius_km=30)
    assert found and all(s.criteria["overlap"] == 0.5 for s in found)
