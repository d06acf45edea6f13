"""Partner-suggestion quality on a demo city against its ground truth.

    python bench/partner_quality.py [--size medium] [--seed 42]

Prints precision@10 of planted complementary partners, planted competitors found in any
top 10, and the share of planted ordered pairs (with at least 30 shared customers) whose
direction is right. Goals: >= 0.8, 0, >= 0.9. The test suite checks the same on `small`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import update


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    from crosspromo.businesses import service as businesses
    from crosspromo.businesses.models import Business
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.demo.generate import generate
    from crosspromo.imports import service as imports
    from crosspromo.matching import learned, service
    from crosspromo.migrate import upgrade

    work = Path(tempfile.mkdtemp(prefix="crosspromo-quality-"))
    began = time.perf_counter()
    generate(work, seed=args.seed, size=args.size)
    url = f"sqlite:///{work / 'city.db'}"
    upgrade(url)
    with make_sessionmaker(make_engine(url))() as db:
        for kind in ("businesses", "customers", "transactions"):
            imports.run(db, kind=kind, path=work / f"{kind}.csv", secret_key="quality")
            db.commit()
        db.execute(update(Business).values(allow_overlap_discovery=True))
        learned.learn(db)
        db.commit()
        prepared = time.perf_counter() - began
        truth = json.loads((work / "ground_truth.json").read_text())

        def top(slug: str) -> set[str]:
            me = businesses.get_by_slug(db, slug)
            assert me is not None
            return {s.business.slug for s in service.suggest(db, business=me, radius_km=100)}

        scores = [
            len(top(slug) & set(planted)) / min(10, len(planted))
            for slug, planted in truth["complementary_partners"].items()
            if planted
        ]
        rivals = sum(len(top(slug) & set(r)) for slug, r in truth["competitors"].items())
        right = total = 0
        for pair in truth["ordered_business_pairs"]:
            if pair["shared_customers"] < learned.MIN_SAMPLE:
                continue
            then, first = (businesses.get_by_slug(db, pair[k]) for k in ("then", "first"))
            assert then is not None and first is not None
            _, found = service.why_not(db, business=then, other=first, radius_km=100)
            if found is not None:
                total += 1
                right += found.direction == "before"
    print(f"demo city {args.size}, seed {args.seed} (prepared in {prepared:.0f} s)")
    print(f"{'measure':<44}{'figure':>10}{'goal':>10}")
    print(
        f"{'precision@10 of planted partners':<44}{sum(scores) / len(scores):>10.3f}{'>= 0.8':>10}"
    )
    print(f"{'  businesses evaluated':<44}{len(scores):>10}")
    print(f"{'planted competitors in a top 10':<44}{rivals:>10}{'0':>10}")
    share = right / max(total, 1)
    print(f"{'ordered pairs with the right direction':<44}{share:>10.3f}{'>= 0.9':>10}")
    print(f"{'  pairs evaluated':<44}{total:>10}")


if __name__ == "__main__":
    main()
