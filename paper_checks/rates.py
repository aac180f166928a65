"""Rate assertions: slopes of log quantities over generations, with standard errors.

DESIGN.md §5: "rates as slopes of log quantities with their standard error". Two inputs are
supported by :func:`fit_log_rate`, selected by ``kind``:

* ``kind="log"`` (default): ``values`` already *are* a log quantity per replicate, e.g.
  ``log(σ_t²/σ0²)``, shape ``(R, T)``. Each replicate gets its own least-squares slope over
  ``generations``; the estimate is the mean of the ``R`` slopes and its standard error the
  sample standard deviation of the slopes over ``√R``. Replicates are independent, so this SE
  is exact in the CLT sense (no assumption about the correlation between generations, which
  for a random walk is strong). The slope estimates the slope of ``E[log X_t]``.
* ``kind="mean"``: ``values`` are a quantity per replicate whose replicate mean is positive
  (e.g. ``‖μ_t − μ0‖²``, or a cross-moment ``δ_t δ_s``); the slope is that of
  ``log(mean_r values[r, t])`` over ``t`` (least squares). Its
  standard error is by the delta method: the slope is a linear functional ``Σ_t c_t log m_t``
  of the log-means, so with ``Z_r = Σ_t c_t values[r, t]/m_t`` (the influence function of each
  replicate) the SE is ``sd(Z)/√R``. Valid when the means are estimated with small relative
  error (large R); heavy-tailed quantities should use ``kind="log"``.

:func:`assert_rate` turns the estimate into a two-sided z-test at a stated false-failure
probability.
"""

from __future__ import annotations

import numpy as np

from paper_checks.stats import z_two_sided

__all__ = ["assert_rate", "fit_log_rate"]


def _prepare(values, generations):
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[None, :]
    if v.ndim != 2:
        raise ValueError(f"values must be a (replicates, generations) array, got shape {v.shape}")
    gen = np.asarray(generations, dtype=np.float64)
    if gen.ndim != 1 or gen.size != v.shape[1]:
        raise ValueError(
            f"generations must be 1-D with {v.shape[1]} entries (one per column of values), "
            f"got shape {gen.shape}"
        )
    if gen.size < 2 or np.ptp(gen) == 0.0:
        raise ValueError("generations must contain at least two distinct values")
    if v.shape[0] < 2:
        raise ValueError(f"values must have at least 2 replicates for a standard error, got "
                         f"{v.shape[0]}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    return v, gen


def fit_log_rate(values, generations, *, kind: str = "log") -> tuple[float, float]:
    """Slope per generation of a log quantity and its standard error.

    Args:
        values: ``(R, T)`` array (replicate by generation). ``kind="log"``: per-replicate log
            values; ``kind="mean"``: positive values whose replicate mean is logged.
        generations: the ``T`` generation indices of the columns.
        kind: ``"log"`` (mean and SE of per-replicate slopes) or ``"mean"`` (slope of the log
            of the replicate mean, delta-method SE). See the module docstring.

    Returns:
        ``(slope, stderr)``.
    """
    v, gen = _prepare(values, generations)
    r = v.shape[0]
    centred = gen - gen.mean()
    c = centred / np.sum(centred**2)  # least-squares slope weights: slope = c · y
    if kind == "log":
        slopes = v @ c
        return float(slopes.mean()), float(slopes.std(ddof=1) / np.sqrt(r))
    if kind == "mean":
        means = v.mean(axis=0)
        if np.any(means <= 0.0):
            raise ValueError("kind='mean' needs a positive replicate mean at every generation")
        slope = float(np.log(means) @ c)
        influence = (v / means) @ c
        return slope, float(influence.std(ddof=1) / np.sqrt(r))
    raise ValueError(f"kind must be 'log' or 'mean', got {kind!r}")


def assert_rate(values, generations, rate, *, false_failure: float = 1e-6, kind: str = "log",
                atol: float = 0.0, label: str = "") -> tuple[float, float]:
    """Assert that the fitted log-rate equals ``rate`` within ``z·SE + atol``.

    ``z`` is two-sided for ``false_failure`` (1e-6 → z ≈ 4.89): if the true slope is ``rate``
    and the CLT holds, the assertion fails with probability ``false_failure``. ``atol`` adds a
    deterministic tolerance (e.g. for a known O(1/n) bias of the declared rate).

    Returns:
        ``(slope, stderr)`` when the assertion passes.

    Raises:
        AssertionError: with the slope, SE, declared rate and z-score.
        ValueError: on malformed input or ``false_failure`` outside (0, 1).
    """
    if not 0.0 < false_failure < 1.0:
        raise ValueError(f"false_failure must be in (0, 1), got {false_failure}")
    slope, se = fit_log_rate(values, generations, kind=kind)
    z = z_two_sided(false_failure)
    diff = slope - float(rate)
    if not abs(diff) <= z * se + atol:
        zscore = diff / se if se > 0 else float("inf")
        raise AssertionError(
            f"{label + ': ' if label else ''}log-rate {slope:.6g} ± {se:.3g} (SE) vs declared "
            f"{float(rate):.6g}: z = {zscore:.2f}, allowed |z| ≤ {z:.2f}"
            f"{f' + atol {atol:g}' if atol else ''} (false-failure probability {false_failure:g})"
        )
    return slope, se
