"""Dey–Donoho risk ratios (theory.universality): exact rational recursion, sympy limits, and a
direct finite-n simulation of the three workflows (discard, augment, subsample)."""

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from tests.helpers import TEST_SEED
from theory.universality import (
    augment_risk_limit,
    augment_risk_ratio,
    discard_risk_ratio,
    subsample_risk_limit,
    subsample_risk_ratio,
)

Z = 5.3  # two-sided normal quantile for a false-failure probability of ~1e-7 per comparison


def test_subsample_closed_form_equals_the_recursion_exactly():
    # p_1 = v_1 = 1, p_g = p_{g−1} + (2 − 1/(g−1))/g², v_g = p_g + 1 − 1/g (exact rationals)
    p = Fraction(1)
    values = [Fraction(1)]
    for g in range(2, 41):
        p = p + (2 - Fraction(1, g - 1)) / g**2
        values.append(p + 1 - Fraction(1, g))
    got = subsample_risk_ratio(np.arange(1, 41))
    np.testing.assert_allclose(got, [float(v) for v in values], rtol=1e-14)
    assert subsample_risk_ratio(2) == pytest.approx(1.75, rel=1e-15)


def test_augment_and_discard_exact():
    g = np.arange(1, 60)
    np.testing.assert_allclose(augment_risk_ratio(g), np.cumsum(1.0 / g**2), rtol=1e-14)
    np.testing.assert_array_equal(discard_risk_ratio(g), g.astype(float))
    assert augment_risk_ratio(1) == pytest.approx(1.0, abs=1e-15)
    assert isinstance(augment_risk_ratio(3), float)


def test_sympy_limits():
    g = sp.symbols("g", integer=True, positive=True)
    augment = sp.summation(1 / g**2, (g, 1, sp.oo))
    assert sp.simplify(augment - sp.pi**2 / 6) == 0
    assert float(augment) == pytest.approx(augment_risk_limit(), rel=1e-15)
    # v_∞ = p_∞ + 1 with p_∞ = 1 + Σ_{g≥2} (2 − 1/(g−1))/g²
    v_inf = 1 + sp.summation((2 - 1 / (g - 1)) / g**2, (g, 2, sp.oo)) + 1
    assert sp.simplify(v_inf - (sp.pi**2 / 2 - 2)) == 0
    assert float(v_inf) == pytest.approx(subsample_risk_limit(), rel=1e-15)
    big = np.array([10**3, 10**6])
    np.testing.assert_allclose(augment_risk_ratio(big), math.pi**2 / 6 - 1.0 / big, rtol=1e-6)
    assert np.all(subsample_risk_ratio(big) < subsample_risk_limit())
    assert subsample_risk_ratio(10**7) == pytest.approx(subsample_risk_limit(), abs=1e-6)


def test_workflows_by_direct_simulation():
    """Location model x ~ N(θ, 1): each fit is the mean of its training points. Batch 1 is
    real; batch g ≥ 2 is n points from N(fit_{g−1}, 1). Discard fits batch g, augment the
    pool, subsample n points drawn without replacement from the pool. Finite n = 100 differs
    from the Gaussian-process limit by O(1/n) ≈ 1% (pool variance), well inside Z·SE ≈ 8%."""
    rng = np.random.default_rng((2024, TEST_SEED))
    n, reps, fits = 100, 10_000, 4
    batch = rng.standard_normal((reps, n))
    pool = batch
    err = {
        "discard": batch.mean(axis=1),
        "augment": batch.mean(axis=1),
        "subsample": batch.mean(axis=1),
    }
    pools = {"augment": pool, "subsample": pool}
    ratios = {k: [] for k in err}
    base_var = 1.0 / n
    for g in range(1, fits + 1):
        if g > 1:
            for key in err:
                new = err[key][:, None] + rng.standard_normal((reps, n))
                if key == "discard":
                    err[key] = new.mean(axis=1)
                    continue
                pools[key] = np.concatenate([pools[key], new], axis=1)
                if key == "augment":
                    err[key] = pools[key].mean(axis=1)
                else:
                    keys = rng.random(pools[key].shape)
                    chosen = np.argpartition(keys, n - 1, axis=1)[:, :n]
                    err[key] = np.take_along_axis(pools[key], chosen, axis=1).mean(axis=1)
        for key in err:
            ratios[key].append(err[key])
    exact = {
        "discard": discard_risk_ratio,
        "augment": augment_risk_ratio,
        "subsample": subsample_risk_ratio,
    }
    for key, per_g in ratios.items():
        for g, e in enumerate(per_g, start=1):
            # the truth θ = 0 is known, so E e² is the risk; its SE from the sample of e²
            sq = e**2 / base_var
            se = sq.std(ddof=1) / math.sqrt(reps)
            assert abs(sq.mean() - exact[key](g)) <= Z * se, (key, g, sq.mean(), exact[key](g))
    # the three workflows are separated at g = 4 (discard 4, subsample 2.27, augment 1.42)
    assert discard_risk_ratio(4) > subsample_risk_ratio(4) > augment_risk_ratio(4)


@pytest.mark.parametrize("fn", [augment_risk_ratio, discard_risk_ratio, subsample_risk_ratio])
def test_validation(fn):
    for bad in [0, -1, 1.5, np.nan, [1, 0]]:
        with pytest.raises(ValueError, match="g must be"):
            fn(bad)
