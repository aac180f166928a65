"""Risk ratios of the Gaussian-process limit of iterated fitting (Dey & Donoho 2024).

Setting (Dey & Donoho 2024, "Universality of the π²/6 pathway", sequential Gaussian-process
limit; Gerstgrasser et al. 2024 for augment): a location parameter is fitted ``g`` times
(``g ≥ 1`` counts *fits*; the toolkit's generation is ``t = g − 1``). In the large-``n``
limit any asymptotically linear estimator on ``n`` points has error ``e = (batch mean error)``
with variance ``s²/n``, which is the unit below. Batch 1 is real; batch ``j ≥ 2`` is ``n`` points
sampled from fit ``j − 1``, so its mean error is ``a_j = e_{j−1} + z_j`` with ``z_j`` fresh
noise of unit variance, independent of the past. The ratios are ``Var e_g / Var e_1``:

* discard (replace): fit ``g`` uses batch ``g`` only: ``e_g = e_{g−1} + z_g`` → ratio ``g``;
* augment (accumulate): fit ``g`` is the pooled mean of batches ``1..g``:
  ``e_g = e_{g−1} + z_g/g`` → ratio ``Σ_{k=1}^{g} 1/k² ↑ π²/6``;
* subsample (accumulate-subsample): see :func:`subsample_risk_ratio`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from theory._special import as_output, check_int_array

__all__ = [
    "augment_risk_limit",
    "augment_risk_ratio",
    "discard_risk_ratio",
    "subsample_risk_limit",
    "subsample_risk_ratio",
]


def _fits(g):
    return check_int_array("g", g, minimum=1).astype(np.float64)


def _h2(g):
    """``H^{(2)}_g = Σ_{k=1}^{g} 1/k² = π²/6 − ψ'(g+1)``."""
    return math.pi**2 / 6.0 - special.polygamma(1, g + 1.0)


def augment_risk_ratio(g):
    """Augment (accumulate) risk ratio after ``g`` fits: ``Σ_{k=1}^{g} 1/k²``.

    ``e_g = e_{g−1} + z_g/g`` (the pooled estimator moves by the new batch's noise over ``g``),
    so ``Var e_g = Σ_k 1/k²`` in units of ``Var e_1``. Dey & Donoho 2024 (abstract: risk at
    most π²/6 times the real-data risk); Gerstgrasser et al. 2024 (linear regression).

    Args:
        g: number of fits ``≥ 1`` (int or integer array; ``g = 1`` is the real-data fit).

    Returns:
        The ratio (1 at ``g = 1``), increasing to π²/6.
    """
    return as_output(_h2(_fits(g)))


def augment_risk_limit():
    """``lim_g`` of :func:`augment_risk_ratio`: ``π²/6 ≈ 1.6449`` (Dey & Donoho 2024)."""
    return math.pi**2 / 6.0


def discard_risk_ratio(g):
    """Discard (replace) risk ratio after ``g`` fits: ``g`` (a random walk; Dey & Donoho 2024).

    Args:
        g: number of fits ``≥ 1``.
    """
    return as_output(_fits(g))


def subsample_risk_ratio(g):
    """Accumulate-subsample risk ratio ``v_g`` after ``g`` fits (Gaussian-process limit).

    Derivation (reference notes §5 "new closed form", re-derived here). The pool after ``g``
    fits holds ``g`` batches of ``n`` points; batch 1 is real, batch ``j ≥ 2`` is drawn from fit
    ``j − 1``, so its mean error is ``a_j = e_{j−1} + z_j`` (``z_j`` unit-variance, fresh).
    Let ``P_g = (1/g) Σ_{j≤g} a_j`` be the pool-mean error. Fit ``g`` is the mean of ``n``
    points drawn without replacement from the ``g n`` pooled points:
    ``e_g = P_g + w_g``, where ``w_g`` has mean 0 given the pool and variance
    ``(s²/n)(1 − n/(gn)) = 1 − 1/g`` (finite-population correction; the pool's spread is
    ``s²`` up to O(1/n)); ``w_g`` is uncorrelated with the pool, hence independent of it in the
    Gaussian limit. Then

    .. math::
        P_g = P_{g-1} + \\frac{a_g - P_{g-1}}{g} = P_{g-1} + \\frac{w_{g-1} + z_g}{g},

    with ``w_{g−1}, z_g`` independent of ``P_{g−1}``, so with ``p_g = Var P_g``:

    .. math::
        p_1 = 1,\\quad p_g = p_{g-1} + \\frac{2 - 1/(g-1)}{g^2},\\qquad
        v_g = \\operatorname{Var} e_g = p_g + 1 - 1/g.

    Partial fractions ``1/((g−1)g²) = 1/(g−1) − 1/g − 1/g²`` telescope this to the closed form
    ``v_g = 3 Σ_{k=1}^{g} 1/k² − 2`` used here (``v_1 = 1``, ``v_2 = 7/4``), with limit
    ``π²/2 − 2`` (:func:`subsample_risk_limit`): a plateau, not a divergence (Kazdan et al.
    2025's "accumulate-subsample"). Source: derived.

    Args:
        g: number of fits ``≥ 1`` (int or integer array).

    Returns:
        ``v_g`` (shape of ``g``).
    """
    return as_output(3.0 * _h2(_fits(g)) - 2.0)


def subsample_risk_limit():
    """``lim_g v_g = π²/2 − 2 ≈ 2.9348`` for accumulate-subsample (derived, notes §5)."""
    return math.pi**2 / 2.0 - 2.0


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
