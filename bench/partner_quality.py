"""Partner-suggestion quality with default settings on the demo city and contradicting cities.

    python bench/partner_quality.py [--size medium] [--seed 42] [--demo-db PATH]

Default settings: no business has switched on overlap discovery, so ranking stands on the
curated file and what everyone's shared customers taught about categories. For each city
(crosspromo.matching.quality): precision@min(10, relevant) of planted partners within one
price tier, the share of planted ordered pairs (30+ shared customers) whose direction is
right, and planted same-category competitors within one tier found in any top 10.
Contradicting cities come from tests/matching/cities.py (a generator apart from the demo's):
"significant" plants an inverted, a removed and an added relation with hundreds of shared
customers; "thin" plants the same with too few to use (the curated file decides there).
Goals (issue 13): precision >= 0.9, direction >= 0.95, no competitor.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def demo_city(size: str, seed: int, existing: str) -> tuple[str, dict[str, Any]]:
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.demo.generate import generate
    from crosspromo.imports import service as imports
    from crosspromo.migrate import upgrade

    if existing:
        path = Path(existing)
        return f"sqlite:///{path}", json.loads((path.parent / "ground_truth.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="crosspromo-quality-"))
    generate(work, seed=seed, size=size)
    url = f"sqlite:///{work / 'city.db'}"
    upgrade(url)
    with make_sessionmaker(make_engine(url))() as db:
        for kind in ("businesses", "customers", "transactions"):
            imports.run(db, kind=kind, path=work / f"{kind}.csv", secret_key="quality")
            db.commit()
    return url, json.loads((work / "ground_truth.json").read_text())


def test_city(seed: int, scale: float) -> tuple[str, dict[str, Any]]:
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.migrate import upgrade
    from tests.matching import cities

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='crosspromo-contra-')) / 'city.db'}"
    upgrade(url)
    with make_sessionmaker(make_engine(url))() as db:
        truth = cities.build(db, seed=seed, scale=scale)
        db.commit()
    return url, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--demo-db", default="", help="an imported demo city.db (ground_truth.json beside it)"
    )
    args = parser.parse_args()
    from sqlalchemy import update

    from crosspromo.businesses.models import Business
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.matching import quality, scheduled

    demo = demo_city(args.size, args.seed, args.demo_db)
    cities = [(f"demo {args.size} (seed {args.seed})", *demo)]
    for seed in (1, 2):
        cities.append((f"contradicting, significant (seed {seed})", *test_city(seed, 1.0)))
    cities.append(("contradicting, thin (seed 1)", *test_city(1, 0.05)))
    print(
        f"{'city':<40}{'precision':>10}{'n':>5}{'direction':>10}{'n':>5}{'rivals':>7}{'learn s':>9}"
    )
    for name, url, truth in cities:
        with make_sessionmaker(make_engine(url))() as db:
            db.execute(update(Business).values(allow_overlap_discovery=False))
            began = time.perf_counter()
            scheduled.learn_all(db)
            db.commit()
            learned_in = time.perf_counter() - began
            q = quality.measure(db, truth, radius_km=100)
        precision = f"{q.precision:.3f}" if q.businesses else "-"
        direction = f"{q.direction:.3f}" if q.ordered_pairs else "-"
        print(
            f"{name:<40}{precision:>10}{q.businesses:>5}{direction:>10}"
            f"{q.ordered_pairs:>5}{q.rivals:>7}{learned_in:>9.1f}"
        )
    print(f"{'goal':<40}{'>= 0.9':>10}{'':>5}{'>= 0.95':>10}{'':>5}{'0':>7}")


if __name__ == "__main__":
    main()
