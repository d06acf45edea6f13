"""The curated file as a prior, what customers did as evidence: strength and direction.

Strength: a Beta belief about how well two categories complement each other, on [0, 1].
The curated strength is the prior mean with PRIOR_PEOPLE pseudo-people behind it; the data
turns co-customer lift into a strength (lift 1 = chance = 0, LIFT_FULL or more = 1) with as
many people behind it as the figures cover (shared, or shared by chance when that is more).

Direction: a Beta belief about the share of shared customers who bought at the partner first.
A curated `before` is PRIOR_ORDER pseudo-people of whom 85% came from the partner first;
`together` is half and half; no curated order is Beta(1, 1). The figures add their counts.

When the curated value lies outside the data's own 95% interval (Jeffreys), the data
disagrees significantly and decides alone; otherwise both are combined. Each belief says
which source decided: "curated", "data" or "both".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from crosspromo.matching import relations
from crosspromo.matching.aggregates import Figures

PRIOR_PEOPLE = 50.0
PRIOR_ORDER = 20.0
CURATED_FIRST = 0.85  # a curated `before`: this share of shared customers come from it first
LIFT_FULL = 3.0  # a lift this high (or higher) is a full-strength complement
# Below this lift, people living and shopping in the same streets explain the overlap.
LIFT_NOISE = 1.15
DISAGREE = 0.25  # outside the data's interval AND this far apart: a disagreement worth a word
ORDER_SHARE = 0.6  # "comes first" needs about 60/40 or clearer, beyond the interval's middle
LEVEL = 0.95

CURATED, DATA, BOTH, NONE = "curated", "data", "both", "none"


def beta_interval(a: float, b: float, level: float = LEVEL) -> tuple[float, float]:
    """Equal-tailed interval of Beta(a, b) (scipy)."""
    from scipy.special import betaincinv

    tail = (1 - level) / 2
    return float(betaincinv(a, b, tail)), float(betaincinv(a, b, 1 - tail))


def lift_strength(lift: float) -> float:
    """Co-customer lift as a complement strength in [0, 1]: chance is 0."""
    if lift <= LIFT_NOISE:
        return 0.0
    return min(1.0, math.log(lift / LIFT_NOISE) / math.log(LIFT_FULL / LIFT_NOISE))


def order(share: float, low: float, high: float) -> str:
    if low > 0.5 and share >= ORDER_SHARE:
        return "before"
    if high < 0.5 and share <= 1 - ORDER_SHARE:
        return "after"
    return "together"


@dataclass(frozen=True)
class Belief:
    """What we believe about a partner category, and why."""

    strength: float
    strength_low: float
    strength_high: float
    direction: str  # before | after | together | unknown (the partner relative to you)
    first_share: float  # posterior share of shared customers who bought at the partner first
    first_low: float
    first_high: float
    source: str  # curated | data | both | none
    curated_direction: str
    curated_strength: float
    weakened: bool  # a curated complement the data finds no lift for
    order_overruled: bool  # the data's order differs from the curated one
    figures: Figures | None


def believe(mine: str, partner: str, figures: Figures | None) -> Belief:
    """Posterior strength and direction of `partner` (a category) for `mine`."""
    rel = relations.between(mine, partner)
    complement = rel is not None and rel.kind == "complements"
    prior_strength = rel.strength if complement and rel is not None else 0.0
    curated_dir = relations.direction(mine, partner)
    prior_first = {"before": CURATED_FIRST, "after": 1 - CURATED_FIRST, "together": 0.5}.get(
        curated_dir
    )
    if prior_first is None:
        a0, b0 = 1.0, 1.0
    else:
        a0, b0 = PRIOR_ORDER * prior_first, PRIOR_ORDER * (1 - prior_first)
    sa0, sb0 = PRIOR_PEOPLE * prior_strength + 0.5, PRIOR_PEOPLE * (1 - prior_strength) + 0.5
    if figures is None:
        strength = sa0 / (sa0 + sb0) if complement else 0.0
        s_low, s_high = beta_interval(sa0, sb0) if complement else (0.0, 0.0)
        share = a0 / (a0 + b0)
        low, high = beta_interval(a0, b0)
        direction = curated_dir
        return Belief(
            strength, s_low, s_high, direction, share, low, high,
            CURATED if complement else NONE, curated_dir, prior_strength, False, False, None,
        )  # fmt: skip
    # Evidence on strength: as many people as the figures cover.
    people = max(float(figures.shared), figures.expected)
    data_strength = lift_strength(figures.lift)
    da, db = 0.5 + people * data_strength, 0.5 + people * (1 - data_strength)
    d_low, d_high = beta_interval(da, db)
    strength_disagrees = (
        complement
        and not (d_low <= prior_strength <= d_high)
        and abs(data_strength - prior_strength) >= DISAGREE
    )
    weakened = strength_disagrees and data_strength < prior_strength
    if strength_disagrees:
        strength, (s_low, s_high) = da / (da + db), (d_low, d_high)
    else:
        pa, pb = sa0 + people * data_strength, sb0 + people * (1 - data_strength)
        strength, (s_low, s_high) = pa / (pa + pb), beta_interval(pa, pb)
    # Evidence on direction: only when enough shared people in enough pairs.
    order_overruled = False
    if figures.ordered:
        k, n = figures.partner_first, figures.shared
        j_low, j_high = beta_interval(k + 0.5, n - k + 0.5)
        data_dir = order(k / n, j_low, j_high)
        if prior_first is not None and curated_dir != data_dir:
            order_overruled = True
            share, low, high, direction = k / n, j_low, j_high, data_dir
        else:
            pa, pb = a0 + k, b0 + n - k
            share = pa / (pa + pb)
            low, high = beta_interval(pa, pb)
            direction = order(share, low, high)
    else:
        share = a0 / (a0 + b0)
        low, high = beta_interval(a0, b0)
        direction = curated_dir
    if weakened or (not complement and (strength <= 0.05 or not figures.ordered)):
        direction = "unknown"
    if not complement:
        source = DATA if strength > 0.05 else NONE
    elif strength_disagrees or order_overruled:
        source = DATA
    else:
        source = BOTH
    return Belief(
        strength, s_low, s_high, direction, share, low, high, source, curated_dir,
        prior_strength, weakened, order_overruled, figures,
    )  # fmt: skip


NOTHING = Belief(
    0.0, 0.0, 0.0, "unknown", 0.5, 0.025, 0.975, NONE, "unknown", 0.0, False, False, None
)
