"""The demo city's injected uplift, recovered: 20 seeds through the generator's own code path.

The generator plants a promotion (the bakery's customers get a cafe coupon, about 20 % are held
out at random) and multiplies the treated people's visit rate to the cafe by 1.25 during the
window; ground truth's `expected_extra_transactions` is the expectation of the visits that adds.
Per seed the injected effect is that over the treated customers (extra receipts per customer).
Building the city's people and their visits (not writing the CSVs) keeps 20 cities fast; the
same check through import, database and `measure()` runs in `bench/uplift.py --truth`.
"""

from __future__ import annotations

import numpy as np

from crosspromo.demo.generate import City
from crosspromo.measurement import stats

SEEDS = range(1, 21)


def _receipts_in_window(city: City) -> tuple[np.ndarray, np.ndarray, float]:
    """Per eligible person: cafe receipts in the window, treated or not; the injected effect."""
    promo = city.promotion
    w0, w1 = promo["window"]
    rows = []
    for treated, people in ((True, promo["treatment"]), (False, promo["holdout"])):
        for person in people:
            rel = city.relation(person, promo["cafe"])
            days = city.days_of(rel) if rel is not None else []
            rows.append((treated, sum(w0 <= d < w1 for d in days)))
    treated_mask = np.array([r[0] for r in rows])
    receipts = np.array([r[1] for r in rows], dtype=np.float64)
    return treated_mask, receipts, promo["expected"] / treated_mask.sum()


def test_twenty_seeds_cover_the_injected_uplift() -> None:
    covered, estimates, truths = 0, [], []
    for seed in SEEDS:
        city = City(seed, "small")
        city.build()
        treated, receipts, truth = _receipts_in_window(city)
        got = stats.means(receipts[treated], receipts[~treated], bootstrap=False)
        assert got.ci95 is not None and got.difference is not None
        covered += got.ci95[0] <= truth <= got.ci95[1]
        estimates.append(got.difference)
        truths.append(truth)
    assert covered >= 18, covered
    assert abs(np.mean(estimates) - np.mean(truths)) <= 0.1 * np.mean(truths)
