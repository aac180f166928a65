"""The mixture claims of paper_checks/claims/mixtures.py: registration and metadata, and their
helpers against independent routes (the claims themselves run under ``python -m
paper_checks``; they take tens of seconds each, too long for this file).

Statistical test below: the first symmetric ML fit on n = 4000 points has σ̂² with standard
deviation ≈ σ²√(2/n)·(1 + O(μ²/σ² overlap)) ≤ 0.25·0.03; the check allows 5.3 SE-equivalents
of 0.25·√(2/4000)·1.5 (false-failure ≈ 1e-7, fixed key).
"""

import math

import jax
import numpy as np
import pytest
from scipy import stats

from paper_checks.claim import PROVENANCES, REGISTRY
from paper_checks.claims import mixtures as mx
from paper_checks.stats import z_one_sided

IDS = (
    "shumailov2024.gmm.l2_growth",
    "ferbach2024.mog.curated_limit",
    "ferbach2024.mog.mixed_stable",
    "ferbach2024.ten_class.bias_amplification",
    "ferbach2024.ten_class.confidence_bias",
    "suresh2024.thm4.gmm_bound",
    "ferbach2024.mixture.linear_tilt",
    "gillman2024.mixture.corrector_monotone",
)


@pytest.mark.parametrize("cid", IDS)
def test_claims_are_registered_with_method_and_error_rate(cid):
    c = REGISTRY[cid]
    assert c.provenance in PROVENANCES and c.false_failure == 1e-6
    assert "1e-6" in c.method and "Bonferroni" in c.method
    assert cid.split(".")[0] in {"shumailov2024", "ferbach2024", "suresh2024", "gillman2024"}


def test_sign_check_needs_a_significant_majority():
    alpha = 1e-6
    assert mx.sign_check("all up", np.ones(40), 1).verdict(alpha)[0]
    assert not mx.sign_check("half", np.r_[np.ones(20), -np.ones(20)], 1).verdict(alpha)[0]
    # the bound is the exact Clopper–Pearson lower limit
    m = mx.sign_check("x", np.r_[np.ones(36), -np.ones(4)], 2)
    assert m.measured == pytest.approx(stats.beta.ppf(alpha / 2, 36, 5), rel=1e-12)


def test_lcb_check_is_mean_minus_z_se():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    m = mx.lcb_check("v", v, 4)
    se = v.std(ddof=1) / 2.0
    assert m.measured == pytest.approx(2.5 - z_one_sided(1e-6 / 4) * se, rel=1e-12)


def test_label_map_equals_the_two_level_closed_form():
    """With a reward 5·1{class 0}, H on class 0 is E[K e⁵/(e⁵ + B e⁵ + (K−1−B))] with
    B ~ Bin(K−1, π_0): an independent route to the curation map (relative 1e-9)."""
    p = np.array([0.13, 0.07, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    k = mx.TEN_K
    b = np.arange(k)
    e5 = math.exp(mx.TEN_GAMMA)
    h0 = np.sum(stats.binom.pmf(b, k - 1, p[0]) * k * e5 / (e5 + b * e5 + (k - 1 - b)))
    assert mx.label_map(p)[0] == pytest.approx(p[0] * h0, rel=1e-9)
    lam = mx.TEN_LAMBDA
    mixed = mx.label_map(p, lam, p)[0]
    assert mixed == pytest.approx((p[0] + lam * p[0] * h0) / (1 + lam), rel=1e-9)


def test_confidence_label_map_is_a_law_and_mixes_with_the_real_data():
    """The confidence-reward curation map sends proportions to proportions (non-negative, sum
    1 to rounding), is the (π_data + λ·curated)/(1 + λ) mixture with real data, and is not the
    identity (curation moves the proportions)."""
    p = np.array([0.13, 0.07, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.08, 0.12])
    cur = mx.confidence_label_map(p)
    assert (cur >= 0).all() and cur.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.abs(cur - p).max() > 1e-3
    lam = 0.5
    data = np.full(10, 0.1)
    mixed = mx.confidence_label_map(p, lam, data)
    np.testing.assert_allclose(mixed, (data + lam * cur) / (1 + lam), rtol=1e-12)


def test_symmetric_ml_fit_is_consistent():
    s2 = mx.symmetric_ml_loop(jax.random.key(3), 4000, 2.0, 0.5, 1, 1)
    assert s2.shape == (1, 1)
    assert abs(float(s2[0, 0]) - 0.25) <= 5.3 * 0.25 * math.sqrt(2 / 4000) * 1.5


def test_separation_and_top_mass_helpers():
    centres = mx.MOG_MEANS
    good = centres[[1, 0, 2, 4, 3]] + 0.1
    bad = good.copy()
    bad[0] = centres[0]  # two components on mode 0, none on mode 1
    assert mx.separated_fit(np.stack([good, bad]), centres, 1.0).tolist() == [True, False]
    assert mx.nearest_label(good, centres).tolist() == [1, 0, 2, 4, 3]
    w = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    assert mx.top_mass(good, w) == pytest.approx(0.3)  # components on modes 1 and 0
    w_star, _, _ = mx.restricted_top(w, good, np.tile(np.eye(2), (5, 1, 1)))
    assert w_star.tolist() == pytest.approx([1 / 3, 2 / 3, 0, 0, 0])
