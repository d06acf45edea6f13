"""Results feed back: the pair's record, similar partnerships, and refitted weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import Session

from crosspromo.businesses import service as businesses
from crosspromo.campaigns import service as campaigns
from crosspromo.matching import feedback, scheduled, service
from crosspromo.partnerships import service as partnerships
from crosspromo.partnerships.models import Proposal, Status
from tests.matching import cities
from tests.offers.conftest import agreed, running  # noqa: F401


def _id(db: Session, slug: str) -> object:
    found = businesses.get_by_slug(db, slug)
    assert found is not None
    return found.id


def test_fit_matches_statsmodels_ridge_logistic() -> None:
    """With a prior centred on zero the fit is ridge logistic regression (statsmodels)."""
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, size=(300, 3))
    y = (rng.uniform(size=300) < 1 / (1 + np.exp(-(-1 + 2 * x[:, 0] - x[:, 2])))).astype(float)
    intercept, coef = feedback.fit_weights(x, y, np.zeros(3), precision=3.0)
    n = len(y)
    # statsmodels minimises -loglik/n + alpha/2 |b|^2 (alpha per parameter; 0 frees the intercept)
    model = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial())
    reference = model.fit_regularized(alpha=np.array([0, 3.0, 3.0, 3.0]) / n, L1_wt=0.0).params
    assert intercept == pytest.approx(reference[0], abs=1e-3)
    assert coef == pytest.approx(reference[1:], abs=1e-3)


def test_prior_holds_weights_until_outcomes_say_otherwise() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, size=(6, 2))
    y = np.array([1, 0, 1, 0, 1, 0], dtype=float)
    prior = np.array([2.0, 1.0])
    _, few = feedback.fit_weights(x, y, prior)
    assert few == pytest.approx(prior, abs=0.6)  # six outcomes barely move the defaults
    many_x = rng.uniform(0, 1, size=(2000, 2))
    many_y = (rng.uniform(size=2000) < 1 / (1 + np.exp(-(4 * many_x[:, 1] - 2)))).astype(float)
    _, learned = feedback.fit_weights(many_x, many_y, prior)
    assert learned[1] > learned[0]  # 2,000 outcomes where only the second criterion matters


def test_similar_partnerships_that_worked_rank_and_say_so(db: Session) -> None:
    cities.build(db, seed=5, scale=1.0)
    pairs = [("cafe-1", "books-1", True), ("cafe-2", "books-2", True), ("cafe-3", "books-3", True)]
    pairs.append(("bakery-1", "cafe-1", False))
    for a, b, worked in pairs:
        db.add(
            Proposal(
                from_business_id=_id(db, a),
                to_business_id=_id(db, b),
                status=Status.agreed if worked else Status.declined,
            )
        )
    db.flush()
    scheduled.learn_all(db)
    db.commit()
    me = businesses.get_by_slug(db, "cafe-1")
    assert me is not None
    found = {s.business.slug: s for s in service.suggest(db, business=me, limit=10, radius_km=50)}
    own = " ".join(r.render("en") for r in found["books-1"].reasons)
    assert "worked together before" in own
    similar = found["books-2"]
    assert similar.criteria["record"] == pytest.approx(5 / 7)
    assert "similar partnerships worked: 3 of 3" in " ".join(
        r.render("en") for r in similar.reasons
    )
    assert "похожие партнёрства удались" in " ".join(r.render("ru") for r in similar.reasons)


def test_one_business_history_reads_the_same_as_everyone_filtered(
    db: Session,
    running: dict[str, Any],  # noqa: F811
) -> None:
    """The per-request queries (built once, with parameters) agree with the whole-platform ones."""
    db.expire_all()
    bakery, cafe = running["bakery"].id, running["cafe"].id
    everyone = [s for s in campaigns.shared_campaigns(db) if bakery in (s.business_a, s.business_b)]
    assert campaigns.shared_campaigns(db, business_id=bakery, limit=500) == everyone
    assert campaigns.shared_campaigns(db, business_id=bakery, limit=0) == []
    assert partnerships.decided_with(db, business_id=bakery) == [
        o for o in partnerships.decided(db) if bakery in o[:2]
    ]
    history = feedback.record_for(db, bakery, None)
    assert history.running == {cafe} and history.own[cafe] == pytest.approx(
        (1.0 + feedback.RUNNING) / 2
    )
