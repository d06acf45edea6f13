"""The statistics of uplift, on plain arrays: each figure from statsmodels or scipy.

- conversion: Newcombe's hybrid score interval for a difference of proportions
  (`confint_proportions_2indep(method="newcomb")`), score-test p-value;
- means: Welch's t (`CompareMeans`, `usevar="unequal"`); where the data are skewed (revenue)
  and the smaller arm too small for the normal approximation (Cochran's rule), a percentile
  bootstrap (`scipy.stats.bootstrap`) gives the interval;
- CUPED (Deng et al. 2013): the outcome minus θ·(pre-period covariate − its mean), θ pooled;
- sample-ratio mismatch: `scipy.stats.chisquare` of the arms' sizes against the design;
- an always-valid interval (mSPRT with a normal mixture, Johari et al. 2017/2022): with V the
  variance of the difference and τ² the mixture's, the set of effects θ with
  Λ(θ) = √(V/(V+τ²))·exp(τ²(Δ−θ)²/(2V(V+τ²))) < 1/α, that is
  Δ ± √(V(V+τ²)/τ² · (log((V+τ²)/V) + 2·log(1/α))); safe to look at after every day.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

ALPHA = 0.05
SKEWED = 1.0  # |sample skewness| above this: bootstrap the interval
RESAMPLES = 2_000
TAU_SHARE = 0.1  # the mSPRT mixture is tuned to effects about 10 % of the holdout's level
Floats = NDArray[np.float64]


def _f(value: float | None, digits: int = 6) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


@dataclass
class Estimate:
    """One metric, treatment against holdout (or after against before)."""

    treatment: float | None
    holdout: float | None
    difference: float | None
    ci95: tuple[float, float] | None
    relative: float | None
    p_value: float | None
    method: str
    n_treatment: int = 0
    n_holdout: int = 0
    relative_ci95: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        ci = None if self.ci95 is None else [_f(self.ci95[0]), _f(self.ci95[1])]
        rel_ci = None if self.relative_ci95 is None else [_f(v) for v in self.relative_ci95]
        return {
            "treatment": _f(self.treatment),
            "holdout": _f(self.holdout),
            "difference": _f(self.difference),
            "ci95": ci,
            "relative": _f(self.relative),
            "relative_ci95": rel_ci,
            "p_value": _f(self.p_value, 8),
            "method": self.method,
            "n_treatment": self.n_treatment,
            "n_holdout": self.n_holdout,
        } | self.extra


def _p(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def proportions(conv_t: int, n_t: int, conv_h: int, n_h: int) -> Estimate:
    """Conversion, treatment minus holdout: Newcombe's interval, score test."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    if n_t == 0 or n_h == 0:
        return Estimate(None, None, None, None, None, None, "newcomb", n_t, n_h)
    p_t, p_h = conv_t / n_t, conv_h / n_h
    low, high = confint_proportions_2indep(
        conv_t, n_t, conv_h, n_h, method="newcomb", compare="diff", alpha=ALPHA
    )
    if conv_t + conv_h in (0, n_t + n_h):
        p_value: float | None = 1.0  # nobody (or everybody) converted: no evidence either way
    else:
        with warnings.catch_warnings():  # its odds ratio divides by zero at a rate of 1
            warnings.simplefilter("ignore", RuntimeWarning)
            result = test_proportions_2indep(
                conv_t, n_t, conv_h, n_h, method="score", compare="diff"
            )
        p_value = _p(result.pvalue)
    relative = (p_t - p_h) / p_h if p_h > 0 else None
    return Estimate(
        p_t,
        p_h,
        p_t - p_h,
        (float(low), float(high)),
        relative,
        p_value,
        "newcomb",
        n_t,
        n_h,
        relative_ci95=_ratio_ci(p_t, p_t * (1 - p_t) / n_t, p_h, p_h * (1 - p_h) / n_h),
    )


def _ratio_ci(m_t: float, v_t: float, m_h: float, v_h: float) -> tuple[float, float] | None:
    """Delta-method interval of m_t / m_h − 1 (v_* the variances of the two means)."""
    from scipy import stats as sps

    if m_h <= 0:
        return None
    se = math.sqrt(v_t / m_h**2 + m_t**2 * v_h / m_h**4)
    z = float(sps.norm.ppf(1 - ALPHA / 2))
    r = m_t / m_h - 1
    return (r - z * se, r + z * se)


def _diff_of_means(a: Floats, b: Floats, axis: int = -1) -> Floats:
    return np.asarray(a.mean(axis=axis) - b.mean(axis=axis))


def bootstrap_ci(
    y_t: Floats, y_h: Floats, *, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap of the difference of means, each arm resampled on its own."""
    from scipy import stats as sps

    batch = max(1, min(resamples, 20_000_000 // max(1, len(y_t) + len(y_h))))
    result = sps.bootstrap(
        (y_t, y_h),
        _diff_of_means,
        vectorized=True,
        n_resamples=resamples,
        batch=batch,
        method="percentile",
        confidence_level=1 - ALPHA,
        random_state=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def means(y_t: Floats, y_h: Floats, *, bootstrap: bool | None = None, seed: int = 0) -> Estimate:
    """A mean per customer, treatment minus holdout: Welch, or a bootstrap where skewed."""
    from scipy import stats as sps
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    n_t, n_h = len(y_t), len(y_h)
    if n_t < 2 or n_h < 2:
        return Estimate(None, None, None, None, None, None, "welch", n_t, n_h)
    m_t, m_h = float(y_t.mean()), float(y_h.mean())
    v_t, v_h = float(y_t.var(ddof=1)), float(y_h.var(ddof=1))
    if v_t == 0 and v_h == 0:
        ci: tuple[float, float] = (m_t - m_h, m_t - m_h)
        p_value: float | None = 1.0 if m_t == m_h else 0.0
    else:
        compare = CompareMeans(DescrStatsW(y_t), DescrStatsW(y_h))
        low, high = compare.tconfint_diff(alpha=ALPHA, usevar="unequal")
        ci = (float(low), float(high))
        p_value = _p(compare.ttest_ind(usevar="unequal")[1])
    skew = float(sps.skew(np.concatenate([y_t, y_h]))) if v_t + v_h > 0 else 0.0
    if bootstrap is None:
        # Cochran's rule (Sugden, Smith & Jones 2000): the normal interval of a mean holds
        # once n > 28 + 25·skewness²; below that, skewed revenue gets a bootstrap.
        bootstrap = abs(skew) > SKEWED and min(n_t, n_h) <= 28 + 25 * skew**2
    method = "welch"
    extra: dict[str, Any] = {"skewness": _f(skew, 4)}
    if bootstrap and v_t + v_h > 0:
        extra["welch_ci95"] = [_f(ci[0]), _f(ci[1])]
        ci = bootstrap_ci(y_t, y_h, seed=seed)
        method = f"bootstrap (percentile, {RESAMPLES} resamples; p-value: welch)"
    return Estimate(
        m_t,
        m_h,
        m_t - m_h,
        ci,
        (m_t - m_h) / m_h if m_h > 0 else None,
        p_value,
        method,
        n_t,
        n_h,
        relative_ci95=_ratio_ci(m_t, v_t / n_t, m_h, v_h / n_h),
        extra=extra,
    )


def cuped(y: Floats, x: Floats, treated: NDArray[np.bool_]) -> dict[str, Any] | None:
    """The CUPED-adjusted difference (Welch on y − θ(x − x̄)) and the variance it removed."""
    if len(y) < 4 or float(np.var(x)) == 0.0 or treated.all() or not treated.any():
        return None
    theta = float(np.cov(x, y, ddof=1)[0, 1] / np.var(x, ddof=1))
    adjusted = y - theta * (x - x.mean())
    estimate = means(adjusted[treated], adjusted[~treated], bootstrap=False)
    total = float(np.var(y, ddof=1))
    removed = 1 - float(np.var(adjusted, ddof=1)) / total if total > 0 else 0.0
    return {
        "difference": _f(estimate.difference),
        "ci95": None if estimate.ci95 is None else [_f(v) for v in estimate.ci95],
        "p_value": _f(estimate.p_value, 8),
        "theta": _f(theta),
        "variance_removed": _f(removed, 4),
        "covariate": "pre-period spend at the partner",
    }


def srm(n_t: int, n_h: int, holdout_share: float) -> dict[str, Any] | None:
    """Sample-ratio mismatch: chi-square of the arms' sizes against the designed split."""
    from scipy import stats as sps

    total = n_t + n_h
    if total == 0 or not 0 < holdout_share < 1:
        return None
    expected = [total * (1 - holdout_share), total * holdout_share]
    result = sps.chisquare([n_t, n_h], f_exp=expected)
    p_value = float(result.pvalue)
    return {
        "treatment": n_t,
        "holdout": n_h,
        "expected_holdout_share": holdout_share,
        "observed_holdout_share": _f(n_h / total, 6),
        "chi2": _f(float(result.statistic), 6),
        "p_value": _f(p_value, 10),
        "mismatch": p_value < 0.001,
    }


def msprt_interval(
    difference: float, variance: float, tau2: float, alpha: float = ALPHA
) -> tuple[float, float]:
    """The always-valid (normal-mixture mSPRT) interval around `difference`."""
    if variance <= 0:
        return (difference, difference)
    half = math.sqrt(
        variance * (variance + tau2) / tau2
        * (math.log((variance + tau2) / variance) + 2 * math.log(1 / alpha))
    )  # fmt: skip
    return (difference - half, difference + half)


def msprt_p_value(difference: float, variance: float, tau2: float) -> float:
    """The always-valid p-value: 1 / the mixture likelihood ratio at θ = 0, capped at 1."""
    if variance <= 0:
        return 1.0
    log_lr = 0.5 * math.log(variance / (variance + tau2)) + tau2 * difference**2 / (
        2 * variance * (variance + tau2)
    )
    return float(min(1.0, math.exp(-log_lr)))


def sequential(estimate: Estimate, var_t: float, var_h: float) -> dict[str, Any] | None:
    """The mSPRT interval and p-value beside a fixed-horizon estimate."""
    if estimate.difference is None or estimate.n_treatment < 2 or estimate.n_holdout < 2:
        return None
    variance = var_t / estimate.n_treatment + var_h / estimate.n_holdout
    level = abs(estimate.holdout or 0.0) or abs(estimate.treatment or 0.0)
    tau2 = max((TAU_SHARE * level) ** 2, 1e-12)
    low, high = msprt_interval(estimate.difference, variance, tau2)
    return {
        "ci95": [_f(low), _f(high)],
        "p_value": _f(msprt_p_value(estimate.difference, variance, tau2), 8),
        "method": "mSPRT, normal mixture",
        "tau": _f(math.sqrt(tau2)),
    }


def paired_change(after: Floats, before: Floats) -> Estimate:
    """The same customers after against before (a weaker comparison: no holdout)."""
    from statsmodels.stats.weightstats import DescrStatsW

    n = len(after)
    if n < 2:
        return Estimate(None, None, None, None, None, None, "before/after", n, n)
    change = DescrStatsW(after - before)
    low, high = change.tconfint_mean(alpha=ALPHA)
    m_a, m_b = float(after.mean()), float(before.mean())
    p_value = _p(change.ttest_mean(0)[1]) if float(np.var(after - before)) > 0 else None
    return Estimate(
        m_a,
        m_b,
        m_a - m_b,
        (float(low), float(high)),
        (m_a - m_b) / m_b if m_b > 0 else None,
        p_value,
        "before/after (weaker evidence: no holdout)",
        n,
        n,
    )
