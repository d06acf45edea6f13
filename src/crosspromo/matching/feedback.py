"""Results feed back into partner ranking.

Evidence: proposals agreed (1) or declined (0), and campaigns whose measured goal was met (1)
or missed (0). It serves twice:

- the `record` criterion: a pair's own history, else what similar partnerships (the same two
  categories, at least MIN_OUTCOMES of them) did, as a Beta(2, 2) posterior mean;
- the criteria weights: a logistic regression of outcome on the criteria of the pair, with a
  Gaussian prior centred on the default weights (maximum a posteriori, i.e. a regularised
  fit pulled towards the defaults), refitted by `crosspromo worker` after each learning run.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.campaigns import service as campaigns
from crosspromo.campaigns.models import Stage
from crosspromo.partnerships import service as partnerships

MIN_OUTCOMES = 3  # similar partnerships behind a category figure
MIN_FIT = 20  # outcomes before the weights move at all
SCALE = 6.0  # log-odds per unit of score: the default weights' prior, in the model's units
PRIOR_PRECISION = 2.0  # how firmly the weights stay at the defaults (per unit of log-odds)
RUNNING = 0.8  # a campaign running now: promising, not yet measured


@dataclass(frozen=True)
class Outcome:
    a: uuid.UUID
    b: uuid.UUID
    good: float  # 1 worked, 0 did not


def outcomes(session: Session) -> list[Outcome]:
    """Every decided proposal and measured campaign, newest first."""
    found = [
        Outcome(a, b, 1.0 if agreed else 0.0) for a, b, agreed in partnerships.decided(session)
    ]
    for shared in campaigns.shared_campaigns(session):
        if shared.met is not None:
            found.append(Outcome(shared.business_a, shared.business_b, float(shared.met)))
    return found


def _key(x: str, y: str) -> str:
    a, b = sorted((x, y))
    return f"{a}|{b}"


def by_category(found: Sequence[Outcome], category: dict[uuid.UUID, str]) -> dict[str, list[float]]:
    """[good, total] per category pair ("a|b", a < b)."""
    tally: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for o in found:
        if o.a in category and o.b in category:
            t = tally[_key(category[o.a], category[o.b])]
            t[0] += o.good
            t[1] += 1
    return dict(tally)


def fit_weights(
    x: np.ndarray, y: np.ndarray, prior: np.ndarray, *, precision: float = PRIOR_PRECISION
) -> tuple[float, np.ndarray]:
    """MAP logistic regression: intercept and coefficients, Gaussian prior N(prior, 1/precision).

    The intercept is free. With `prior` = 0 this is ridge-penalised logistic regression.
    """
    from scipy.optimize import minimize

    design = np.column_stack([np.ones(len(y)), x])
    centre = np.concatenate([[0.0], prior])
    penalty = np.concatenate([[0.0], np.full(len(prior), precision)])

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = design @ beta
        # log(1 + e^z) - y z, written to stay finite for large |z|
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z))
        loss += 0.5 * float(np.sum(penalty * (beta - centre) ** 2))
        grad = design.T @ (1.0 / (1.0 + np.exp(-z)) - y) + penalty * (beta - centre)
        return loss, grad

    start = centre.copy()
    result = minimize(objective, start, jac=True, method="L-BFGS-B")
    return float(result.x[0]), np.asarray(result.x[1:])


Criteria = Callable[[Session, Business, Business], dict[str, float]]


def learn(session: Session, *, defaults: dict[str, float], criteria: Criteria) -> dict[str, Any]:
    """What results teach now: weights (when there are enough outcomes) and category tallies."""
    found = outcomes(session)
    ids = {o.a for o in found} | {o.b for o in found}
    loaded = {b.id: b for b in session.scalars(select(Business).where(Business.id.in_(ids)))}
    category = {bid: b.category for bid, b in loaded.items()}
    taught: dict[str, Any] = {"categories": by_category(found, category), "outcomes": len(found)}
    usable = [o for o in found if o.a in loaded and o.b in loaded][:2000]
    if len(usable) < MIN_FIT:
        return taught
    names = list(defaults)
    rows = [criteria(session, loaded[o.a], loaded[o.b]) for o in usable]
    x = np.array([[row[k] for k in names] for row in rows])
    y = np.array([o.good for o in usable])
    total = sum(defaults.values()) or 1.0
    prior = np.array([SCALE * defaults[k] / total for k in names])
    _, coef = fit_weights(x, y, prior)
    fitted = np.clip(coef, 0.0, None) / SCALE * total
    taught["weights"] = {k: round(float(v), 4) for k, v in zip(names, fitted, strict=True)}
    return taught


@dataclass(frozen=True)
class Record:
    """The `record` criterion for each partner of one business, and why."""

    own: dict[uuid.UUID, float]  # the pair's own history
    running: set[uuid.UUID]  # partners in a campaign running now
    categories: dict[str, list[float]]  # [good, total] by category pair

    def of_category(self, mine: str, theirs: str) -> tuple[float, int, int] | None:
        """(posterior rate, good, total) of similar partnerships, if there are enough."""
        good, total = self.categories.get(_key(mine, theirs), (0.0, 0.0))
        if total < MIN_OUTCOMES:
            return None
        return (good + 2) / (total + 4), round(good), int(total)


def record_for(session: Session, business_id: uuid.UUID, taught: dict[str, Any] | None) -> Record:
    """Own history of one business with each partner, and the platform's category tallies."""
    own: dict[uuid.UUID, list[float]] = defaultdict(list)
    running: set[uuid.UUID] = set()
    for a, b, agreed in partnerships.decided_with(session, business_id=business_id):
        own[b if a == business_id else a].append(1.0 if agreed else 0.0)
    for shared in campaigns.shared_campaigns(session, business_id=business_id, limit=500):
        partner = shared.business_b if shared.business_a == business_id else shared.business_a
        if shared.stage is Stage.running:
            running.add(partner)
            own[partner].append(RUNNING)
        elif shared.met is not None:
            own[partner].append(float(shared.met))
    categories = (taught or {}).get("categories", {})
    return Record({k: sum(v) / len(v) for k, v in own.items()}, running, categories)
