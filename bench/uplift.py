"""Uplift with a bootstrap interval for 100,000 customers, against a plain numpy bootstrap.

    python bench/uplift.py                      # the timing table
    python bench/uplift.py --customers 200000 --resamples 2000
    python bench/uplift.py --truth --seeds 20   # the demo city's truth, through the database

Timing: one synthetic campaign (90 % treatment, 10 % holdout; revenue per customer zero for
70 % of customers and log-normal for the rest, so skewed enough that `measure()` bootstraps).

- **uplift**: `crosspromo.measurement.stats.means` with the bootstrap on (as `measure()` runs
  it for skewed revenue in arms below Cochran's n > 28 + 25·skewness²; at 100,000 customers it
  would choose Welch): Welch's interval and p-value, the skewness, then `scipy.stats.bootstrap`
  (percentile, each arm resampled on its own, vectorised in batches);
- **numpy**: a plain numpy bootstrap of the same difference of means with the same number of
  resamples (index draws in batches of the same size, means, percentiles): the floor.

`--truth` runs the truth check end to end: for each seed, generate a small demo city, import
its three files into a fresh SQLite database through the import service, open a campaign
between the planted bakery and cafe over the promotion's dates with the generator's own
randomised split (`demo.campaign.past_promotion`, as `crosspromo demo setup` does), call
`measure()`, and check that the receipts-per-customer interval covers the injected effect
(`expected_extra_transactions` / treated customers) and revenue's covers it times the cafe's
average check.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from crosspromo.measurement import stats


def _data(customers: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    treated = rng.random(customers) < 0.9
    bought = rng.random(customers) < np.where(treated, 0.33, 0.30)
    revenue = np.where(bought, rng.lognormal(7.0, 0.9, customers).round(), 0.0)
    return revenue[treated], revenue[~treated]


def numpy_bootstrap(
    y_t: np.ndarray, y_h: np.ndarray, resamples: int, seed: int = 0
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    batch = max(1, min(resamples, 20_000_000 // (len(y_t) + len(y_h))))
    out = np.empty(resamples)
    for start in range(0, resamples, batch):
        k = min(batch, resamples - start)
        a = y_t[rng.integers(0, len(y_t), (k, len(y_t)))].mean(axis=1)
        b = y_h[rng.integers(0, len(y_h), (k, len(y_h)))].mean(axis=1)
        out[start : start + k] = a - b
    low, high = np.percentile(out, [2.5, 97.5])
    return float(low), float(high)


def timing(customers: int, resamples: int, rounds: int) -> None:
    y_t, y_h = _data(customers, 1)
    stats.RESAMPLES = resamples
    ours, floor = [], []
    for r in range(rounds):  # alternate so both see the same machine
        t0 = time.perf_counter()
        got = stats.means(y_t, y_h, bootstrap=True)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        plain = numpy_bootstrap(y_t, y_h, resamples, seed=r)
        floor.append(time.perf_counter() - t0)
    assert got.method.startswith("bootstrap"), got.method
    a, b = statistics.median(ours), statistics.median(floor)
    print(f"customers={customers:,} resamples={resamples:,} rounds={rounds} (median seconds)")
    print(f"{'operation':<44} {'seconds':>8} {'numpy':>8} {'ratio':>6}")
    print(f"{'uplift: Welch + skew + scipy bootstrap CI':<44} {a:>8.2f} {b:>8.2f} {a / b:>6.2f}")
    print(f"  uplift CI {got.ci95}, numpy CI {plain}, Welch CI {got.extra.get('welch_ci95')}")


def _generator_difference(seed: int) -> float:
    """Treated minus held-out cafe receipts in the window, straight from the city's people."""
    from crosspromo.demo.generate import City

    city = City(seed, "small")
    city.build()
    promo = city.promotion
    w0, w1 = promo["window"]

    def mean(people: list[int]) -> float:
        counts = []
        for person in people:
            rel = city.relation(person, promo["cafe"])
            days = city.days_of(rel) if rel is not None else []
            counts.append(sum(w0 <= d < w1 for d in days))
        return float(np.mean(counts))

    return mean(promo["treatment"]) - mean(promo["holdout"])


def _truth_one(seed: int, work: Path) -> tuple[bool, float, float, bool, float, float]:
    os.environ["CROSSPROMO_DATABASE_URL"] = f"sqlite:///{work / 'city.db'}"
    os.environ["CROSSPROMO_VAR_DIR"] = str(work / "var")
    from crosspromo.settings import get_settings

    get_settings.cache_clear()
    from crosspromo.businesses import service as businesses
    from crosspromo.cli_support import session_scope
    from crosspromo.demo.campaign import past_promotion
    from crosspromo.demo.generate import generate
    from crosspromo.imports.cli import import_file
    from crosspromo.measurement.uplift import measure
    from crosspromo.migrate import upgrade

    city = work / "city"
    generate(city, seed=seed, size="small")
    upgrade(get_settings().resolved_database_url())
    for kind in ("businesses", "customers", "transactions"):
        import_file(kind, city / f"{kind}.csv", None, False, False, quiet=True)
    truth = json.loads((city / "ground_truth.json").read_text())["promotion"]
    with session_scope() as db:
        bakery = businesses.get_by_slug(db, truth["bakery"])
        cafe = businesses.get_by_slug(db, truth["cafe"])
        assert bakery is not None and cafe is not None
        # The demo's own set-up: a campaign over the promotion's dates, its recorded split.
        campaign = past_promotion(db, bakery, cafe, truth)
        measured = measure(db, campaign_id=campaign.id)
        check = cafe.avg_check_minor or 0
    effect = truth["expected_extra_transactions"] / len(truth["treatment"])
    receipts = measured.receipts_per_customer
    revenue = measured.revenue_per_customer
    assert receipts.ci95 is not None and revenue.ci95 is not None
    # The database path (import, hash matching across businesses, the window in the cafe's
    # zone) must give exactly what the generator's own people and visits give.
    assert abs((receipts.difference or 0.0) - _generator_difference(seed)) < 1e-9, seed
    return (
        receipts.ci95[0] <= effect <= receipts.ci95[1],
        receipts.difference or 0.0,
        effect,
        revenue.ci95[0] <= effect * check <= revenue.ci95[1],
        revenue.difference or 0.0,
        effect * check,
    )


def truth(seeds: int) -> None:
    rows = []
    t0 = time.perf_counter()
    for seed in range(1, seeds + 1):
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(_truth_one(seed, Path(tmp)))
        r = rows[-1]
        print(
            f"seed {seed:>2}: receipts/customer {r[1]:+.4f} (truth {r[2]:.4f}) covered={r[0]}; "
            f"revenue/customer {r[4]:+.0f} (truth {r[5]:.0f}) covered={r[3]}",
            flush=True,
        )
    covered = sum(r[0] for r in rows)
    covered_revenue = sum(r[3] for r in rows)
    mean_est, mean_truth = np.mean([r[1] for r in rows]), np.mean([r[2] for r in rows])
    ratio = mean_est / mean_truth
    table = (
        ("receipts/customer: intervals covering the truth", f"{covered}/{seeds}", ">= 90%"),
        ("revenue/customer: intervals covering the truth", f"{covered_revenue}/{seeds}", ">= 90%"),
        ("mean estimate / mean injected effect", f"{ratio:.3f}", "0.9..1.1"),
    )
    print(f"{'check':<48} {'figure':>10} {'goal':>10}")
    for name, figure, goal in table:
        print(f"{name:<48} {figure:>10} {goal:>10}")
    print(f"({time.perf_counter() - t0:.0f} s in all)")  # fmt: skip
    if covered < 0.9 * seeds or abs(ratio - 1) > 0.1:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--truth", action="store_true")
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    if args.truth:
        truth(args.seeds)
    else:
        timing(args.customers, args.resamples, args.rounds)


if __name__ == "__main__":
    main()
