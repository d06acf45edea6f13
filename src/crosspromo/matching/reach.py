"""How many customers two businesses can expect to share, learned from every business pair.

Without the overlap opt-in a pair's own shared customers stay hidden, but the city as a whole
says how sharing falls with distance and with the gap in price tiers: a Poisson model of the
shared people of every pair of businesses of different categories in a city,

    log E[shared] = log(n_a * n_b / people) + log(category lift) + b0 + b1*km + b2*log(1+km)
                    + b3*[one tier apart] + b4*[two or more apart]

fitted with statsmodels over all pairs (positives from learned_pairs, pairs without shared
people sampled when there are too many to list). The coefficients describe a city's geography
and prices, never one business; the model is used only when it stands on at least MIN_PAIRS
pairs with shared people and MIN_PEOPLE shared people in all. Scoring turns the expected count
into the same `overlap` criterion the pair's own figures give when both opted in.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.customers.models import Customer
from crosspromo.matching.aggregates import MIN_PAIRS, between
from crosspromo.matching.models import LearnedPair

MIN_PEOPLE = 50
MAX_PAIRS = 400_000  # pairs without shared people listed; beyond this they are sampled
KM_CAP = 100.0
SEED = 20261130


def _features(km: np.ndarray, gap: np.ndarray) -> np.ndarray:
    km = np.minimum(km, KM_CAP)
    return np.column_stack(
        [np.ones_like(km), km, np.log1p(km), (gap == 1).astype(float), (gap >= 2).astype(float)]
    )


def _km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def fit(session: Session) -> dict[str, Any] | None:
    """The model's coefficients (JSON-ready), or None when the data is too thin."""
    counts = dict(
        session.execute(
            select(Customer.business_id, func.count()).group_by(Customer.business_id)
        ).all()
    )
    rows = [
        r
        for r in session.execute(
            select(
                Business.id,
                Business.category,
                Business.city,
                Business.price_tier,
                Business.lat,
                Business.lon,
            )
        )
        if r[4] is not None and r[5] is not None and counts.get(r[0])
    ]
    if len(rows) < 2:
        return None
    index = {r[0]: i for i, r in enumerate(rows)}
    n = np.array([counts[r[0]] for r in rows], dtype=float)
    people = float(sum(n))
    category = np.array([r[1] for r in rows], dtype=object)
    city = np.array([(r[2] or "").strip().casefold() for r in rows], dtype=object)
    tier = np.array([r[3] for r in rows], dtype=np.int16)
    lat = np.array([r[4] for r in rows], dtype=float)
    lon = np.array([r[5] for r in rows], dtype=float)

    positive: dict[tuple[int, int], int] = {}
    for a, b, shared in session.execute(
        select(LearnedPair.business_a, LearnedPair.business_b, LearnedPair.shared)
    ):
        ia, ib = index.get(a), index.get(b)
        if ia is None or ib is None or shared <= 0:
            continue
        lo, hi = min(ia, ib), max(ia, ib)
        if category[lo] != category[hi] and city[lo] == city[hi]:
            positive[(lo, hi)] = int(shared)
    if len(positive) < MIN_PAIRS or sum(positive.values()) < MIN_PEOPLE:
        return None

    left, right, weight = _pairs(category, city)
    keep = np.array(
        [(int(i), int(j)) not in positive for i, j in zip(left, right, strict=True)], dtype=bool
    )
    left, right, weight = left[keep], right[keep], weight[keep]
    pos = np.array(list(positive), dtype=np.int64).reshape(-1, 2)
    i = np.concatenate([pos[:, 0], left])
    j = np.concatenate([pos[:, 1], right])
    y = np.concatenate([np.array(list(positive.values()), dtype=float), np.zeros(len(left))])
    w = np.concatenate([np.ones(len(pos)), weight])
    lifts = _lifts(session, category, city, i, j)
    offset = np.log(n[i] * n[j] / people) + np.log(lifts)
    x = _features(_km(lat[i], lon[i], lat[j], lon[j]), np.abs(tier[i] - tier[j]))

    import statsmodels.api as sm

    # A feature no pair has (no pair two tiers apart in a small city) is left out of the fit.
    used = np.flatnonzero(np.ptp(x, axis=0) > 0)
    used = np.concatenate([[0], used[used > 0]])
    model = sm.GLM(y, x[:, used], family=sm.families.Poisson(), offset=offset, freq_weights=w)
    try:
        result = model.fit()
    except (ValueError, np.linalg.LinAlgError):
        return None
    coef = [0.0] * x.shape[1]
    for k, value in zip(used, result.params, strict=True):
        coef[int(k)] = float(value)
    if not all(math.isfinite(c) for c in coef):
        return None
    return {
        "coef": [round(c, 6) for c in coef],
        "people": people,
        "pairs": len(positive),
        "shared": int(sum(positive.values())),
    }


def _pairs(category: np.ndarray, city: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) of different categories in one city, each with the pairs it stands for."""
    by_city: dict[str, np.ndarray] = {}
    for name in set(city):
        by_city[name] = np.flatnonzero(city == name)
    total = sum(len(m) * (len(m) - 1) // 2 for m in by_city.values())
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    weight: list[np.ndarray] = []
    rng = np.random.default_rng(SEED)
    for members in by_city.values():
        m = len(members)
        if m < 2:
            continue
        pairs = m * (m - 1) // 2
        if total <= MAX_PAIRS:
            a, b = np.triu_indices(m, k=1)
            share = 1.0
        else:
            draws = max(1, round(MAX_PAIRS * pairs / total))
            a = rng.integers(0, m, draws)
            b = rng.integers(0, m, draws)
            a, b = np.minimum(a, b), np.maximum(a, b)
            distinct = a != b
            a, b = a[distinct], b[distinct]
            share = len(a) / pairs if len(a) else 1.0
        i, j = members[a], members[b]
        other = category[i] != category[j]
        left.append(i[other])
        right.append(j[other])
        weight.append(np.full(int(other.sum()), 1.0 / share))
    if not left:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(left), np.concatenate(right), np.concatenate(weight)


def _lifts(
    session: Session, category: np.ndarray, city: np.ndarray, i: np.ndarray, j: np.ndarray
) -> np.ndarray:
    """The usable category lift of each pair (1 where the categories have no figures)."""
    cache: dict[tuple[str, str, str], float] = {}
    out = np.ones(len(i))
    for k, (a, b) in enumerate(zip(i, j, strict=True)):
        key = (category[a], category[b], city[a])
        if key not in cache:
            found = between(session, key[0], key[1], key[2])
            cache[key] = max(found.lift, 0.05) if found is not None and found.lift > 0 else 1.0
        out[k] = cache[key]
    return out


def expected(
    model: dict[str, Any],
    *,
    km: np.ndarray,
    gap: np.ndarray,
    mine: float,
    theirs: np.ndarray,
    lift: np.ndarray,
) -> np.ndarray:
    """Expected shared people of one business with each candidate."""
    coef = np.array(model["coef"], dtype=float)
    x = _features(np.nan_to_num(km, nan=KM_CAP, posinf=KM_CAP), gap)
    people = float(model["people"]) or 1.0
    return mine * theirs / people * lift * np.exp(x @ coef)
