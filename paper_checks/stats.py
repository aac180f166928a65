"""Statistics policy of DESIGN.md §5: estimates with standard errors, z-thresholds from a
stated false-failure probability, one-sided tests for bounds, paired differences for
monotonicity, KS tests against exact laws."""

from __future__ import annotations

import numpy as np
from scipy import stats as _st


def z_two_sided(alpha: float) -> float:
    """z with P(|N(0,1)| > z) = alpha."""
    return float(_st.norm.isf(alpha / 2.0))


def z_one_sided(alpha: float) -> float:
    """z with P(N(0,1) > z) = alpha."""
    return float(_st.norm.isf(alpha))


def mean_se(x, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and its standard error ``s/√R`` along ``axis``."""
    x = np.asarray(x, dtype=np.float64)
    r = x.shape[axis]
    return x.mean(axis=axis), x.std(axis=axis, ddof=1) / np.sqrt(r)


def var_se(x) -> tuple[float, float]:
    """Sample variance and its standard error √((m₄ − s⁴)/R) (delta method)."""
    x = np.asarray(x, dtype=np.float64)
    c = x - x.mean()
    s2 = float(np.mean(c**2) * len(x) / (len(x) - 1))
    m4 = float(np.mean(c**4))
    return s2, float(np.sqrt(max(m4 - s2**2, 0.0) / len(x)))


def ks_pvalue(samples, cdf) -> tuple[float, float]:
    """One-sample Kolmogorov–Smirnov statistic and p-value against an exact CDF."""
    res = _st.kstest(np.asarray(samples, dtype=np.float64), cdf)
    return float(res.statistic), float(res.pvalue)
