"""Exact K-choice curation on discrete laws (theory.curation_discrete; Ferbach et al. 2024).

Exact comparisons use tolerances from float64 rounding: every route sums at most ~10⁴ positive
terms in log space (relative rounding ≲ 10⁻¹²) and the Laplace quadrature's own error is
bounded by ``laplace_error_bound()`` ≈ 4·10⁻¹⁷. Monte Carlo checks state their false-failure
probability (1e-6 per check) and use fixed keys.
"""

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from tests.helpers import TEST_SEED
from theory import curation as cu

RTOL = 1e-12


def _law(draw_probs):
    p = np.asarray(draw_probs, dtype=np.float64)
    return p / p.sum()


laws = st.integers(2, 6).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n).map(_law),
        st.lists(st.floats(-4.0, 4.0), min_size=n, max_size=n).map(np.array),
    )
)
ks = st.sampled_from([1, 2, 3, 5, 8])


# ------------------------------------------------------------------------------ validation


@pytest.mark.parametrize("bad", [0, -1, 2.5, float("nan"), -math.inf])
def test_curation_k_out_of_range_is_a_value_error(bad):
    with pytest.raises(ValueError, match="curation_k"):
        cu.curation_operator([0.5, 0.5], [0.0, 1.0], bad)


@pytest.mark.parametrize("bad", [True, "3", None, [2]])
def test_curation_k_of_the_wrong_type_is_a_type_error(bad):
    with pytest.raises(TypeError, match="curation_k"):
        cu.curation_operator([0.5, 0.5], [0.0, 1.0], bad)


def test_check_curation_k_accepts_integers_integral_floats_and_inf():
    assert cu.check_curation_k(3) == 3 and cu.check_curation_k(np.int64(4)) == 4
    assert cu.check_curation_k(2.0) == 2 and cu.check_curation_k(math.inf) == math.inf


@pytest.mark.parametrize("p, match", [
    ([0.5, 0.6], "sum to 1"),
    ([1.2, -0.2], "non-negative"),
    ([0.5, np.nan], "finite"),
    ([], "non-empty"),
    ([[0.5, 0.5]], "1-D"),
])
def test_bad_laws_are_rejected(p, match):
    with pytest.raises(ValueError, match=match):
        cu.curation_operator(p, np.zeros(np.asarray(p).shape[-1] if np.size(p) else 0), 2)


def test_bad_rewards_are_rejected():
    with pytest.raises(ValueError, match="finite"):
        cu.curation_operator([0.5, 0.5], [0.0, np.inf], 2)
    with pytest.raises(ValueError, match="shape"):
        cu.curation_operator([0.5, 0.5], [0.0, 1.0, 2.0], 2)
    with pytest.raises(ValueError, match="method"):
        cu.curation_operator([0.5, 0.5], [0.0, 1.0], 2, method="quad")
    with pytest.raises(ValueError, match="laplace"):
        cu.curation_operator(np.full(30, 1 / 30), np.arange(30.0), 40, method="enumerate")


def test_mixed_step_needs_p_data_of_the_same_shape():
    with pytest.raises(ValueError, match="p_data"):
        cu.curation_step([0.5, 0.5], [0.0, 1.0], 2, synthetic_ratio=1.0)
    with pytest.raises(ValueError, match="p_data"):
        cu.curation_step([0.5, 0.5], [0.0, 1.0], 2, synthetic_ratio=1.0, p_data=[1.0])
    with pytest.raises(ValueError, match="synthetic_ratio"):
        cu.curation_step([0.5, 0.5], [0.0, 1.0], 2, synthetic_ratio=-1.0, p_data=[0.5, 0.5])
    with pytest.raises(ValueError, match="generations"):
        cu.curation_trajectory([0.5, 0.5], [0.0, 1.0], 2, -1)


# ------------------------------------------------------------------------------ independent routes


@given(laws, ks)
def test_enumeration_and_laplace_agree(law, k):
    p, r = law
    enum = cu.curation_operator(p, r, k, method="enumerate")
    lap = cu.curation_operator(p, r, k, method="laplace")
    np.testing.assert_allclose(lap, enum, rtol=RTOL)


def test_laplace_error_bound_is_below_float64_rounding():
    assert cu.laplace_error_bound() < 1e-16


def test_k2_is_twice_the_probability_of_beating_a_random_draw():
    """notes §1.6(c): H^2(x) = 2 E_{y~p}[σ(r(x) − r(y))], an independent closed route."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        p = rng.dirichlet(np.ones(6))
        r = rng.normal(size=6) * 3
        direct = 2 * special.expit(r[:, None] - r[None, :]) @ p
        for method in ("enumerate", "laplace"):
            np.testing.assert_allclose(cu.curation_operator(p, r, 2, method=method), direct,
                                       rtol=RTOL)


def test_k1_is_one_and_kinf_is_the_tilt():
    p, r = np.array([0.2, 0.3, 0.5]), np.array([0.1, -1.0, 2.0])
    assert np.all(cu.curation_operator(p, r, 1) == 1.0)
    np.testing.assert_allclose(cu.curation_operator(p, r, math.inf), np.exp(r) / (p @ np.exp(r)),
                               rtol=1e-14)


def test_zero_mass_atoms_and_repeated_levels():
    """Atoms of zero mass still get H (it depends on r only); atoms sharing a level get the
    same H; the grouped Laplace route equals the per-atom enumeration."""
    p = np.array([0.3, 0.0, 0.2, 0.5, 0.0])
    r = np.array([0.0, 5.0, 1.0, 0.0, -2.0])
    for k in (2, 3, 6):
        enum = cu.curation_operator(p, r, k, method="enumerate")
        lap = cu.curation_operator(p, r, k, method="laplace")
        np.testing.assert_allclose(lap, enum, rtol=RTOL)
        assert enum[0] == pytest.approx(enum[3], rel=1e-14)
        assert p @ enum == pytest.approx(1.0, abs=1e-13)
        assert enum[1] > enum[2] > enum[0] > enum[4] > 0


def test_rewards_of_size_1e3_do_not_overflow():
    p = np.array([0.2, 0.3, 0.1, 0.4])
    r = np.array([0.0, 1000.0, -1000.0, 500.0])
    for k in (2, 3, 7, math.inf):
        h = cu.curation_operator(p, r, k)
        assert np.all(np.isfinite(h)) and np.all(h >= 0)
        assert p @ h == pytest.approx(1.0, abs=1e-13)
        shifted = cu.curation_operator(p, r - 1000.0, k)
        np.testing.assert_allclose(h, shifted, rtol=RTOL)
    # exact values up to e^{−500}: a draw with a reward 500 above another always wins; ties
    # share. K = 3, masses (0.2, 0.3, 0.1, 0.4) at rewards (0, 1000, −1000, 500):
    want = [3 * (0.2**2 / 3 + 2 * 0.2 * 0.1 / 2 + 0.1**2),
            3 * (0.3**2 / 3 + 2 * 0.3 * 0.7 / 2 + 0.7**2),
            3 * 0.1**2 / 3,
            3 * (0.4**2 / 3 + 2 * 0.4 * 0.3 / 2 + 0.3**2)]
    for method in ("enumerate", "laplace"):
        np.testing.assert_allclose(cu.curation_operator(p, r, 3, method=method), want,
                                   rtol=RTOL)
    # log space: an atom of zero mass 1000 below the rest has log H = log 2 − 1000 + O(e^−1000)
    for method in ("enumerate", "laplace"):
        lp = cu.log_curation_operator([1.0, 0.0], [0.0, -1000.0], 2, method=method)
        assert lp[1] == pytest.approx(math.log(2) - 1000.0, rel=RTOL)


@settings(max_examples=40)
@given(laws, st.sampled_from([2, 3, 5, 8, 40, math.inf]), st.floats(-500, 500))
def test_operator_properties(law, k, shift):
    """notes §1.6(d): E_p H = 1; 0 < H < K; non-decreasing in r (strictly for distinct levels,
    K ≥ 2); H ≥ 1 at the top of supp p and ≤ 1 at its bottom; invariant under r → r + c."""
    p, r = law
    h = cu.curation_operator(p, r, k)
    assert p @ h == pytest.approx(1.0, abs=1e-12)
    assert np.all(h > 0) and np.all(h < k)
    order = np.argsort(r)
    assert np.all(np.diff(h[order]) >= -1e-12 * h[order][1:])
    distinct = np.diff(r[order]) > 1e-6
    assert np.all(np.diff(h[order])[distinct] > 0)
    assert h[np.argmax(r)] >= 1 - 1e-12 and h[np.argmin(r)] <= 1 + 1e-12
    np.testing.assert_allclose(cu.curation_operator(p, r + shift, k), h, rtol=1e-11)


def test_float32_inputs_are_computed_in_float64():
    p = np.array([0.25, 0.25, 0.5], dtype=np.float32)
    r = np.array([0.0, 1.0, 2.0], dtype=np.float32)
    h = cu.curation_operator(p, r, 3)
    assert h.dtype == np.float64
    np.testing.assert_allclose(h, cu.curation_operator(p.astype(float), r.astype(float), 3),
                               rtol=1e-15)


# ------------------------------------------------------------------------------ K → ∞


def test_large_k_limit_at_rate_one_over_k():
    """K(H^K − e^r/E e^r) → large_k_coefficient (derived by the delta method), and the
    remainder is O(1/K): it shrinks by 10 ± 1 when K grows tenfold."""
    rng = np.random.default_rng(5)
    p, r = rng.dirichlet(np.ones(5)), rng.normal(size=5)
    tilt = cu.curation_operator(p, r, math.inf)
    coef = cu.large_k_coefficient(p, r)
    rem = [np.max(np.abs(k * (cu.curation_operator(p, r, k) - tilt) - coef))
           for k in (1_000, 10_000)]
    assert 9.0 < rem[0] / rem[1] < 11.0
    assert np.max(np.abs(cu.curation_operator(p, r, 2000) - tilt)) < 2 * np.max(
        np.abs(coef)) / 2000


# ------------------------------------------------------------------------------ Monte Carlo


MC_KS = (2, 3, 5)


@partial(jax.jit, static_argnums=(3,))
def _sample_curated(key, p, r, size):
    """For each K in MC_KS: draw K atoms from p (inverse CDF), keep one by softmax(r)
    (Gumbel-max). One compilation for all K; returns the kept indices, shape (len(MC_KS), size)."""
    k_max = max(MC_KS)
    k_draw, k_pick = jax.random.split(key)
    u = jax.random.uniform(k_draw, (len(MC_KS), size, k_max))
    idx = jnp.minimum(jnp.searchsorted(jnp.cumsum(p), u), p.size - 1)
    gumbel = -jnp.log(-jnp.log(jax.random.uniform(k_pick, u.shape, minval=1e-300)))
    scores = r[idx] + gumbel
    cols = jnp.arange(k_max)
    scores = jnp.where(cols[None, None, :] < jnp.array(MC_KS)[:, None, None], scores, -jnp.inf)
    choice = jnp.argmax(scores, axis=2)
    return jnp.take_along_axis(idx, choice[..., None], axis=2)[..., 0]


def test_sampled_curation_has_law_pH():
    """Sampling K points and keeping one by softmax gives the histogram p·H (χ² goodness of
    fit for K = 2, 3, 5, false-failure probability 1e-6 each)."""
    p = np.array([0.35, 0.05, 0.25, 0.2, 0.15])
    r = np.array([0.0, 2.0, -1.0, 0.5, 1.0])
    kept = np.asarray(_sample_curated(jax.random.key(TEST_SEED), jnp.asarray(p), jnp.asarray(r),
                                      100_000))
    for row, k in zip(kept, MC_KS, strict=True):
        counts = np.bincount(row, minlength=p.size)
        expected = cu.curated_law(p, r, k) * row.size
        assert stats.chisquare(counts, expected).pvalue > 1e-6, k


# ------------------------------------------------------------------------------ dynamics


def test_k1_leaves_the_loop_unchanged_and_lambda0_returns_p_data():
    p0, r = np.array([0.1, 0.6, 0.3]), np.array([1.0, 0.0, -1.0])
    traj = cu.curation_trajectory(p0, r, 1, 5)
    np.testing.assert_allclose(traj, np.broadcast_to(p0, traj.shape), rtol=1e-15)
    pd = np.array([0.3, 0.3, 0.4])
    out = cu.curation_step(p0, r, 3, synthetic_ratio=0.0, p_data=pd)
    np.testing.assert_allclose(out, pd, rtol=1e-15)


def test_kinf_pure_loop_closed_form_equals_iteration():
    """t rounds of the tilt equal p_0 e^{tr}/E_{p_0}[e^{tr}] (notes §1.5)."""
    p0, r = np.array([0.1, 0.6, 0.3]), np.array([1.0, 0.0, -2.0])
    p = p0
    closed = cu.curation_trajectory(p0, r, math.inf, 30)
    for t in range(30):
        p = cu.curation_step(p, r, math.inf)
        np.testing.assert_allclose(p, closed[t + 1], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("lam", [math.inf, 0.7])
def test_reward_law_reduction_equals_the_atom_dynamics(lam):
    """notes §1.6(f): the dynamics on the atoms equals the 1-D dynamics of the reward law,
    lifted by p_t(x) = p_0(x) ν_t(r(x))/ν_0(r(x)); conditionals within a level never change.
    The mixed loop starts at p_0 = p_data."""
    p0 = np.array([0.1, 0.2, 0.05, 0.25, 0.4])
    r = np.array([1.0, 0.0, 1.0, -0.5, 0.0])
    kw = {} if lam == math.inf else {"synthetic_ratio": lam, "p_data": p0}
    atoms = cu.curation_trajectory(p0, r, 3, 12, **kw)
    levels, masses = cu.reward_law(p0, r)
    np.testing.assert_allclose(levels, [-0.5, 0.0, 1.0])
    kw = {} if lam == math.inf else {"synthetic_ratio": lam, "data_masses": masses}
    nu = cu.reward_law_trajectory(levels, masses, 3, 12, **kw)
    np.testing.assert_allclose(cu.lift_reward_law(p0, r, nu), atoms, rtol=1e-12)
    np.testing.assert_allclose(atoms[:, 0] / atoms[:, 2], np.full(13, 2.0), rtol=1e-12)


# ------------------------------------------------------------------------------ Lemma 2.2


@settings(max_examples=40)
@given(laws, st.sampled_from([2, 3, 4, 7, math.inf]))
def test_lemma22_slack_is_non_negative(law, k):
    p, r = law
    assert cu.lemma22_slack(p, r, k) >= -1e-13


@given(laws)
def test_tilt_increment_is_variance_over_mean(law):
    p, r = law
    mom = cu.exp_reward_moments(p, r)
    y = np.exp(r - mom.r_star)
    direct = cu.curated_law(p, r, math.inf) @ y - mom.mean
    inc = cu.tilt_exp_reward_increment(p, r)
    assert inc == pytest.approx(direct, rel=1e-9, abs=1e-15)
    assert cu.lemma22_increment(p, r, math.inf)[0] == pytest.approx(direct, rel=1e-12,
                                                                     abs=1e-15)


@settings(max_examples=20)
@given(laws, st.sampled_from([2, 3, 6, math.inf]))
def test_lemma22_corollaries_along_the_loop(law, k):
    """Σ_t Var_{p_t}[e^r] ≤ (K/(K−1)) e^{r_*}(e^{r_*} − E_{p_0} e^r); E_{p_t}[e^r], E_{p_t}[r]
    and every P_t(r ≥ c) are non-decreasing (stochastic dominance, notes §2)."""
    p0, r = law
    traj = cu.curation_trajectory(p0, r, k, 40)
    variances = [cu.exp_reward_moments(q, r).var for q in traj]
    assert sum(variances) <= cu.lemma22_variance_budget(p0, r, k) * (1 + 1e-12) + 1e-15
    r_star = cu.exp_reward_moments(p0, r).r_star
    assert np.all(np.diff(traj @ np.exp(r - r_star)) >= -1e-13)
    assert np.all(np.diff(traj @ r) >= -1e-12)
    for c in np.unique(r):
        assert np.all(np.diff(traj[:, r >= c].sum(axis=1)) >= -1e-13)


def test_lemma22_budget_needs_k_at_least_2():
    with pytest.raises(ValueError, match="curation_k >= 2"):
        cu.lemma22_variance_budget([0.5, 0.5], [0.0, 1.0], 1)


# ------------------------------------------------------------------------------ Theorem 2.1


def test_theorem21_identity_conditional_and_support():
    """KL(p_*‖p_t) = −log P_t(A*) at every t; p_t(·|A*) = p_0(·|A*); the top level is the
    one reachable from p_0 (an atom with a higher reward but p_0 = 0 stays at 0)."""
    p0 = np.array([0.05, 0.10, 0.25, 0.3, 0.3, 0.0])
    r = np.array([1.0, 1.0, 0.4, 0.0, -1.0, 3.0])
    r_star, mask = cu.top_level(p0, r)
    assert r_star == 1.0 and mask.tolist() == [True, True, False, False, False, False]
    p_star = cu.top_level_law(p0, r)
    for k in (2, 5, math.inf):
        traj = cu.curation_trajectory(p0, r, k, 60)
        kls = [cu.kl_divergence(p_star, q) for q in traj]
        np.testing.assert_allclose(kls, [cu.top_level_kl(q, p0, r) for q in traj], rtol=1e-10,
                                   atol=1e-15)
        assert np.all(np.diff(kls) < 0)
        np.testing.assert_allclose(traj[:, 0] / traj[:, 1], 0.5, rtol=1e-12)
        assert np.all(traj[:, 5] == 0.0)


@pytest.mark.parametrize("k", [2, 3, 10, math.inf])
def test_theorem21_late_time_contraction(k):
    """P_{t+1}(A*^c)/P_t(A*^c) → K/(1 + (K−1)e^Δ). Derived remainder bound: with ε_t = P_t(A*^c)
    and f_t the share of A*^c below the second level, |ratio − ρ_K| ≤ K(K−1)ε_t + f_t (finite K:
    the K − 1 competitors all lie in A* with probability ≥ 1 − (K−1)ε_t) and ≤ f_t e^{−Δ} at
    K = ∞."""
    p0 = np.array([0.1, 0.3, 0.6])
    r = np.array([1.0, 0.5, 0.0])
    traj = cu.curation_trajectory(p0, r, k, 80)
    rho = cu.top_level_contraction(k, 0.5)
    for t in (40, 79):
        eps = traj[t, 1:].sum()
        low = traj[t, 2] / eps
        bound = low * rho if k == math.inf else k * (k - 1) * eps + low
        ratio = traj[t + 1, 1:].sum() / eps
        assert abs(ratio - rho) <= bound + 1e-12


def test_top_level_contraction_values_and_errors():
    assert cu.top_level_contraction(2, 0.5) == pytest.approx(2 / (1 + math.exp(0.5)))
    assert cu.top_level_contraction(math.inf, 0.5) == pytest.approx(math.exp(-0.5))
    assert cu.top_level_contraction(1, 0.5) == 1.0
    with pytest.raises(ValueError, match="gap"):
        cu.top_level_contraction(2, 0.0)


def test_kl_divergence_basics():
    assert cu.kl_divergence([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert cu.kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert cu.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match="shape"):
        cu.kl_divergence([1.0], [0.5, 0.5])


# ------------------------------------------------------------------------------ Theorems 2.3, 2.4


@settings(max_examples=25)
@given(laws, st.sampled_from([2, 3, 4, 6, math.inf]), st.floats(0.05, 3.0))
def test_theorems23_24_on_random_mixed_loops(law, k, lam):
    """p_0 = p_data, t = 1..15: the reward gain exceeds both Theorem 2.3 constants
    ((1+λ)³ as reported, (1+λ)² derived); KL(p_data‖p_t) ≤ log(1+λ); when λ(K−1) < 1,
    p_t/p_data ≤ 1/(1 − λ(K−1)), KL(p_t‖p_data) ≤ −log(1 − λ(K−1)) and E_{p_t}[r] stays below
    the Donsker–Varadhan plateau."""
    pd, r = law
    traj = cu.curation_trajectory(pd, r, k, 15, synthetic_ratio=lam, p_data=pd)
    mom = cu.exp_reward_moments(pd, r)
    gain = traj[1:] @ np.exp(r - mom.r_star) - mom.mean
    derived = cu.thm23_reward_gain_bound(pd, r, k, lam, constant="derived")
    paper = cu.thm23_reward_gain_bound(pd, r, k, lam)
    assert paper <= derived
    assert np.all(gain >= derived - 1e-13)
    assert max(cu.kl_divergence(pd, q) for q in traj[1:]) <= cu.reverse_kl_bound(lam) + 1e-13
    if k != math.inf and lam * (k - 1) < 1:
        assert np.max(traj / pd) <= cu.thm24_density_ratio_bound(k, lam) * (1 + 1e-12)
        assert max(cu.kl_divergence(q, pd) for q in traj) <= cu.thm24_kl_bound(k, lam) + 1e-13
        plateau = cu.thm24_reward_plateau_bound(pd, r, k, lam)
        assert np.max(traj @ r) <= plateau + 1e-12


def test_theorem24_outside_its_assumption_raises():
    for k, lam in ((3, 0.5), (2, 1.0), (math.inf, 0.1), (5, math.inf)):
        with pytest.raises(ValueError, match="Theorem 2.4 assumes"):
            cu.thm24_kl_bound(k, lam)
    assert cu.thm24_kl_bound(1, 10.0) == 0.0
    assert cu.thm24_kl_bound(3, 0.25) == pytest.approx(-math.log(0.5))
    with pytest.raises(ValueError, match="constant"):
        cu.thm23_reward_gain_bound([0.5, 0.5], [0.0, 1.0], 2, 1.0, constant="other")
    with pytest.raises(ValueError, match="finite"):
        cu.reverse_kl_bound(math.inf)


# ------------------------------------------------------------------------------ RLHF link


def test_tilt_is_the_rlhf_optimum():
    """p_0 e^{tr}/Z maximises E_p[r] − (1/t)KL(p‖p_0) with value (1/t) log E_{p_0}[e^{tr}]
    (Gibbs); random perturbations inside the simplex do worse."""
    rng = np.random.default_rng(7)
    p0, r = rng.dirichlet(np.ones(6)), rng.normal(size=6)
    for t in (1, 4, 20):
        opt = cu.tilt_power(p0, r, t)
        value = cu.rlhf_objective(opt, p0, r, 1 / t)
        assert value == pytest.approx(np.log(p0 @ np.exp(t * r)) / t, rel=1e-12)
        for _ in range(20):
            q = rng.dirichlet(np.ones(6))
            mix = 0.5 * (q + opt)
            assert cu.rlhf_objective(mix, p0, r, 1 / t) < value


def test_mixed_tilt_fixed_point_and_functional():
    """K = ∞ mixed loop: G(p_t) is non-decreasing and p_t → p_data/(1 + λ − λe^r/Z), which is a
    fixed point of the step."""
    rng = np.random.default_rng(11)
    for lam in (0.3, 1.0, 4.0):
        pd, r = rng.dirichlet(np.ones(5)), 2 * rng.normal(size=5)
        traj = cu.curation_trajectory(pd, r, math.inf, 300, synthetic_ratio=lam, p_data=pd)
        g = [cu.mixed_functional(q, pd, r, lam) for q in traj]
        assert np.all(np.diff(g) >= -1e-12)
        p_inf, log_z = cu.mixed_tilt_fixed_point(pd, r, lam)
        assert log_z == pytest.approx(np.log(p_inf @ np.exp(r)), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(cu.curation_step(p_inf, r, math.inf, synthetic_ratio=lam,
                                                    p_data=pd), p_inf, rtol=1e-11)
        np.testing.assert_allclose(traj[-1], p_inf, rtol=1e-9)
    with pytest.raises(ValueError, match="finite"):
        cu.mixed_tilt_fixed_point(pd, r, math.inf)


def test_more_validation_errors():
    p, r = [0.5, 0.5], [0.0, 1.0]
    with pytest.raises(ValueError, match="beta"):
        cu.rlhf_objective(p, p, r, 0.0)
    with pytest.raises(ValueError, match="finite"):
        cu.mixed_functional(p, p, r, math.inf)
    assert cu.mixed_functional([1.0, 0.0], [0.5, 0.5], r, 1.0) == -math.inf
    with pytest.raises(ValueError, match="mixed loop"):
        cu.thm23_reward_gain_bound(p, r, 2, math.inf)
    with pytest.raises(ValueError, match="t must"):
        cu.tilt_power(p, r, -1)
    with pytest.raises(ValueError, match="masses_t"):
        cu.lift_reward_law(p, r, np.ones(3))
    with pytest.raises(ValueError, match="p_t must"):
        cu.top_level_kl([1.0], p, r)
    pd = np.array([0.2, 0.8])
    p_inf, log_z = cu.mixed_tilt_fixed_point(pd, r, 0.0)
    np.testing.assert_allclose(p_inf, pd)
    assert log_z == pytest.approx(math.log(0.2 + 0.8 * math.e))
