"""Shared helpers for claim modules."""

from __future__ import annotations

import numpy as np
from scipy import stats

from paper_checks.claim import Measurement
from paper_checks.stats import ks_pvalue, mean_se
from simulations import LoopSpec, run


def simulate(ctx, **fields):
    """Run a LoopSpec built from ``fields`` with the claim's seed; returns the Trajectory."""
    return run(LoopSpec(**fields), seed=ctx.seed)


def mean_check(label, values, predicted, **kw) -> Measurement:
    """Compare the replicate mean of ``values`` with ``predicted`` (CLT standard error)."""
    m, se = mean_se(values)
    return Measurement(label, float(predicted), float(m), float(se), **kw)


def fraction_check(label, hits, predicted, sided="two") -> Measurement:
    """Compare an observed proportion with a predicted probability p₀ by an exact binomial
    test (the verdict uses its p-value; the reported SE is √(p₀(1 − p₀)/R), the standard error
    under the prediction). ``sided="upper"``: the claim is that the true probability is at
    most p₀ (the test's alternative is "greater")."""
    hits = np.asarray(hits)
    total = int(hits.size)
    k = int(np.sum(hits))
    p0 = float(min(max(predicted, 0.0), 1.0))
    alternative = {"two": "two-sided", "upper": "greater", "lower": "less"}[sided]
    pvalue = float(stats.binomtest(k, total, p0, alternative=alternative).pvalue)
    se = float(np.sqrt(p0 * (1.0 - p0) / total))
    return Measurement(label, p0, k / total, se, sided=sided, pvalue=pvalue)


def gridded_cdf(cdf, samples, points: int = 2001, tol: float = 1e-5):
    """The exact ``cdf`` evaluated on a grid over the samples' range and interpolated linearly.

    Exact CDFs given by numerical inversion cost milliseconds per point; a KS test on 10⁵
    samples needs them at every sample. Interpolating a smooth CDF on 2001 points is accurate
    to far below the KS resolution 1/√R; the interpolation error is measured at the grid's
    midpoints and must stay below ``tol`` (otherwise the exact CDF is used directly).
    """
    lo, hi = float(np.min(samples)), float(np.max(samples))
    grid = np.linspace(lo, hi, points)
    values = np.asarray(cdf(grid), dtype=np.float64)
    mid = 0.5 * (grid[:-1] + grid[1:])[:: max(1, points // 100)]
    err = np.max(np.abs(np.interp(mid, grid, values) - np.asarray(cdf(mid), dtype=np.float64)))
    if not err < tol:
        return cdf
    return lambda x: np.interp(x, grid, values)


def ks_check(label, samples, cdf) -> Measurement:
    """KS test of ``samples`` against an exact CDF (predicted KS distance 0; the verdict uses
    the p-value). Large samples use :func:`gridded_cdf`."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.size > 4000:
        cdf = gridded_cdf(cdf, samples)
    stat, pvalue = ks_pvalue(samples, cdf)
    return Measurement(label, 0.0, stat, None, pvalue=pvalue)


def exact_check(label, predicted, measured, rtol=1e-9, atol=0.0, sided="two") -> Measurement:
    return Measurement(label, float(predicted), float(measured), None, sided, atol, rtol)


def mean_pivot(traj, t: int, temperature: float = 1.0) -> np.ndarray:
    """Mahalanobis pivot of the fitted mean of a replace loop at generation t.

    Derivation: μ_t − μ₀ = Σ_{k=0}^{t} η_k where η_k is the mean of batch k, independent of the
    batch's scatter, with η_k ~ N(0, Σ₀/n) for k = 0 and N(0, τΣ_{k−1}/n) after. Given the
    fitted covariances, μ_t − μ₀ ~ N(0, V_t) with V_t = (Σ₀ + τ Σ_{k<t} Σ_k)/n, so
    (μ_t − μ₀)ᵀ V_t⁻¹ (μ_t − μ₀) ~ χ²_d exactly, whatever the heavy tail of ‖μ_t − μ₀‖².
    """
    spec = traj.spec
    v = (spec.truth_cov + temperature * traj.covs[:, :t].sum(axis=1)) / spec.n_real
    diff = traj.means[:, t] - spec.truth_mean
    return np.einsum("ri,ri->r", diff, np.linalg.solve(v, diff[..., None])[..., 0])
