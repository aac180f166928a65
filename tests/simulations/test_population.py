"""The population engine (the n → ∞ map): closed forms, independent routes, and the limit of
the sampling engines.

Exact comparisons use tolerances from float64 rounding: the map is iterated T ≤ 30 times,
each step a few dozen flops on O(1) numbers, so the accumulated relative error stays below
T · 100 ε ≈ 1e-12. Monte Carlo checks state their false-failure probability (z for 1e-6 per
comparison).
"""

import math

import numpy as np
import pytest

from simulations import LoopSpec, run
from simulations import population as pop
from tests.helpers import TEST_SEED, Z_TEST
from theory.curation_gaussian import (
    gaussian_family_curation_trajectory,
    gaussian_mixed_tilt_step,
    linear_tilt,
    mean_only_curation_step,
    quadratic_tilt,
)
from theory.laws import GaussianMixtureLaw
from theory.rewards import LinearReward, QuadraticReward

RTOL = 1e-12
MU = np.array([0.5, -1.0])
COV = np.array([[1.5, 0.4], [0.4, 0.8]])


def _close(a, b, scale=1.0):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * scale)


@pytest.mark.parametrize("lam, gamma", [(0.5, 0.0), (0.5, 1.0), (2.0, 3.0), (0.9, math.inf)])
def test_corrected_mix_matches_the_closed_form(lam, gamma):
    """Reference notes gillman2024 §4.2 [derived]: with k = λ/((1+λ)(1+γ)), δ₀ = μ₀ − μ*,
    μ_t = μ* + k^t δ₀ and Σ_t = Σ* + k^t (Σ₀ − Σ*) + k^t (1 − k^t) δ₀δ₀ᵀ, from any θ₀.
    "fresh" is the same map at n = ∞."""
    t_max = 30
    mu0, cov0 = np.array([2.0, 1.0]), np.array([[0.3, -0.1], [-0.1, 2.5]])
    spec = LoopSpec(dim=2, synthetic_ratio=lam, correction_strength=gamma, data="mix",
                    generations=t_max, truth=(MU, COV))
    means, covs = pop.population_trajectory(spec, init=(mu0, cov0))
    k = lam / ((1 + lam) * (1 + gamma))
    delta = mu0 - MU
    for t in range(t_max + 1):
        kt = k**t
        _close(means[t], MU + kt * delta, 3.0)
        _close(covs[t], COV + kt * (cov0 - COV) + kt * (1 - kt) * np.outer(delta, delta), 3.0)
    fresh = pop.population_trajectory(spec.replace(data="fresh"), init=(mu0, cov0))
    # bitwise: "mix" and "fresh" take the same branch of the population map: the same HLO
    np.testing.assert_array_equal(fresh[0], means)
    np.testing.assert_array_equal(fresh[1], covs)


def test_replace_and_accumulate_closed_forms_with_temperature_and_correction():
    """From θ*: replace with τ, γ: Σ_{t+1} = (τΣ_t + γΣ*)/(1+γ), i.e.
    Σ_t = Σ*[a^t + b(1 − a^t)/(1 − a)], a = τ/(1+γ), b = γ/(1+γ); accumulate with τ:
    Σ_t = Σ* ∏_{s<t} (1 + sλ + λτ)/(1 + (s+1)λ) (the pool of weight 1 + sλ absorbs λ of
    N(μ*, τΣ_s)); "accumulate_subsample" has the same limit; the means stay at μ*."""
    t_max, tau, gamma, lam = 25, 0.8, 0.7, 1.5
    spec = LoopSpec(dim=2, data="replace", temperature=tau, correction_strength=gamma,
                    generations=t_max, truth=(MU, COV))
    means, covs = pop.population_trajectory(spec)
    a, b = tau / (1 + gamma), gamma / (1 + gamma)
    for t in range(t_max + 1):
        _close(covs[t], COV * (a**t + b * (1 - a**t) / (1 - a)), 2.0)
    _close(means, np.broadcast_to(MU, means.shape), 1.0)
    acc = spec.replace(data="accumulate", synthetic_ratio=lam, correction_strength=0.0)
    _, covs = pop.population_trajectory(acc)
    factor = 1.0
    for t in range(t_max + 1):
        _close(covs[t], factor * COV, 2.0)
        factor *= (1 + t * lam + lam * tau) / (1 + (t + 1) * lam)
    sub = pop.population_trajectory(acc.replace(data="accumulate_subsample"))
    # bitwise: "accumulate_subsample" takes "accumulate"'s branch: the same HLO
    np.testing.assert_array_equal(sub[1], covs)


def test_curation_matches_theory_curation_gaussian():
    """K = ∞ linear and quadratic tilts (Lemma 2.1) and the finite-K Gaussian-family map
    (m_K, v_K) against the independent NumPy routes of theory.curation_gaussian."""
    a = np.array([0.3, -0.2])
    center, mat = np.array([1.0, 2.0]), np.array([[0.5, 0.1], [0.1, 0.3]])
    t_max = 12
    base = LoopSpec(dim=2, data="replace", generations=t_max, truth=(MU, COV),
                    curation_k=math.inf, reward=LinearReward(a))
    means, covs = pop.population_trajectory(base)
    for t in (1, 5, t_max):
        m_t, c_t = linear_tilt(MU, COV, a, t)
        _close(means[t], m_t, 10.0)
        _close(covs[t], c_t, 1.0)
    means, covs = pop.population_trajectory(base.replace(reward=QuadraticReward(center, mat)))
    for t in (1, 5, t_max):
        m_t, c_t = quadratic_tilt(MU, COV, center, mat, t)
        _close(means[t], m_t, 3.0)
        _close(covs[t], c_t, 1.0)
    lam = 0.6
    mixed = base.replace(data="mix", synthetic_ratio=lam, reward=LinearReward(a))
    means, covs = pop.population_trajectory(mixed)
    m_t, c_t = MU, COV
    for t in range(1, t_max + 1):
        m_t, c_t = gaussian_mixed_tilt_step(m_t, c_t, a, MU, COV, lam)
        _close(means[t], m_t, 3.0)
        _close(covs[t], c_t, 3.0)
    finite = base.replace(curation_k=3, reward=LinearReward(a), generations=6)
    means, covs = pop.population_trajectory(finite)
    ref_m, ref_c = gaussian_family_curation_trajectory(MU, COV, a, 3, 6)
    _close(means, ref_m, 3.0)
    _close(covs, ref_c, 3.0)


def test_finite_k_mean_only_mix_matches_theory():
    """Mean-only family N(θ, σ²I), finite K, linear reward, mixed loop (notes ferbach §5.1):
    θ' = w μ_d + (1 − w)(θ + σ² a m_K(s)/s), w = 1/(1+λ)."""
    sigma2, a, lam, k = 0.7, np.array([0.4, 0.1]), 0.8, 4
    spec = LoopSpec(dim=2, data="mix", model="gaussian_mean", synthetic_ratio=lam,
                    curation_k=k, reward=LinearReward(a), generations=8,
                    truth=(MU, sigma2 * np.eye(2)))
    means, covs = pop.population_trajectory(spec)
    theta = MU
    for t in range(1, 9):
        theta = mean_only_curation_step(theta, sigma2, a, MU, k, lam)
        _close(means[t], theta, 3.0)
    np.testing.assert_array_equal(covs, np.broadcast_to(sigma2 * np.eye(2), covs.shape))


def test_only_the_moments_of_p_data_enter():
    mix_law = GaussianMixtureLaw([0.3, 0.7], [[-1.0, 0.0], [1.0, 0.5]],
                                 [np.eye(2), [[0.5, 0.2], [0.2, 0.4]]])
    mean, cov = mix_law.moments
    spec = LoopSpec(dim=2, data="accumulate", synthetic_ratio=0.5, temperature=1.3,
                    generations=7, truth=mix_law)
    a = pop.population_trajectory(spec)
    b = pop.population_trajectory(spec.replace(truth=(mean, cov)))
    for x, y in zip(a, b, strict=True):
        _close(x, y, 2.0)


def test_run_interface_one_replicate_and_estimators_coincide():
    spec = LoopSpec(dim=2, n_real=7, data="mix", synthetic_ratio=0.5, temperature=0.9,
                    generations=5, replicates=50, truth=(MU, COV))
    traj = run(spec, seed=3, engine="population")
    assert traj.engine == "population"
    assert traj.means.shape == (1, 6, 2) and traj.covs.shape == (1, 6, 2, 2)
    other = run(spec.replace(estimator="unbiased", n_real=1000), seed=9, engine="population")
    # bitwise: n and the estimator are not in the population engine's static configuration:
    # the same compiled program (the trace count below checks it)
    np.testing.assert_array_equal(traj.covs, other.covs)
    before = pop.trace_count()
    run(spec.replace(temperature=0.5, synthetic_ratio=2.0), seed=0, engine="population")
    assert pop.trace_count() == before


def test_refuses_finite_k_without_moments():
    spec = LoopSpec(dim=2, generations=2, curation_k=3, reward=QuadraticReward([0.0, 0.0]))
    with pytest.raises(ValueError, match="linear"):
        run(spec, engine="population")


def test_init_is_validated():
    spec = LoopSpec(dim=2, generations=2)
    with pytest.raises(ValueError, match="init"):
        pop.population_trajectory(spec, init=(np.zeros(3), np.eye(2)))
    with pytest.raises(ValueError, match="semi-definite"):
        pop.population_trajectory(spec, init=(np.zeros(2), -np.eye(2)))


# ------------------------------------------------------------------------------ n → ∞
@pytest.mark.parametrize("engines", [("sufficient",),
                                     pytest.param(("samples",), marks=pytest.mark.slow)])
def test_linear_mean_only_loop_is_exact_in_expectation_for_both_engines(engines):
    """Mean-only model, mix, K = ∞ linear reward, τ ≠ 1: the fitted mean is linear in the data,
    μ_{t+1} = (n x̄ + m ȳ_t)/(n + m) with E ȳ_t = μ_t + τΣ*a, so with m = λn exactly
    E μ_t^n equals the population μ_t for every n. z-test per coordinate at T (two
    comparisons per engine, 1e-6 each)."""
    a, tau, lam, t_max = np.array([0.6, -0.3]), 0.7, 0.5, 4
    spec = LoopSpec(dim=2, n_real=10, synthetic_ratio=lam, data="mix", model="gaussian_mean",
                    temperature=tau, curation_k=math.inf, reward=LinearReward(a),
                    generations=t_max, replicates=20_000, truth=(MU, COV))
    assert spec.num_synthetic == lam * spec.n_real
    exact = run(spec, engine="population").means[0, t_max]
    assert np.linalg.norm(exact - MU) > 0.2  # the reward moves the mean: a non-trivial check
    for engine in engines:
        vals = run(spec, seed=TEST_SEED, engine=engine).means[:, t_max]
        se = vals.std(axis=0, ddof=1) / math.sqrt(vals.shape[0])
        z = (vals.mean(axis=0) - exact) / se
        assert np.all(np.abs(z) <= Z_TEST), (engine, z)


def _scaled_error(traj, exact_mean, exact_cov, n):
    """n (‖μ_T − μ_T^∞‖² + ‖Σ_T − Σ_T^∞‖_F²) per replicate."""
    dm = traj.means[:, -1] - exact_mean
    dc = traj.covs[:, -1] - exact_cov
    return n * (np.sum(dm**2, axis=-1) + np.sum(dc**2, axis=(-2, -1)))


# d = 2, mix, T = 3, corrected, R = 2000: the shape of tests/simulations/test_sufficient.py's
# fast agreement group, so the sufficient engine's program compiles once per session.
LIMIT = dict(dim=2, synthetic_ratio=0.5, correction_strength=1.0, temperature=0.5,
             data="mix", generations=3, replicates=2000, truth=(MU, COV))


def _mean_se(x):
    return x.mean(), x.std(ddof=1) / math.sqrt(x.size)


def _limit_errors():
    spec = LoopSpec(**LIMIT)
    ref = run(spec, engine="population")
    m_inf, c_inf = ref.means[0, -1], ref.covs[0, -1]
    assert np.abs(c_inf - COV).max() > 0.05  # τ ≠ 1 moves the covariance
    e = {n: _scaled_error(run(spec.replace(n_real=n), seed=TEST_SEED, engine="sufficient"),
                          m_inf, c_inf, n) for n in (10**3, 10**4, 10**6)}
    d_near, se_near = _mean_se(e[10**3] - e[10**4])
    allowance = (abs(d_near) + Z_TEST * se_near) / 9.0
    return spec, m_inf, c_inf, e, allowance


def test_population_is_the_limit_of_the_sufficient_engine_at_rate_one_over_root_n():
    """Full Gaussian model, corrected mix with τ ≠ 1 (a nonlinear map). The deviation of a
    replicate from the population value is O(1/√n): M(n) = n E‖θ_T^n − θ_T^∞‖² = V + c/n +
    O(n⁻²). Measured with the sufficient engine at n = 10³, 10⁴ and 10⁶ (its cost is flat in
    n; the same keys at every n, so differences are paired). Check: |M(10⁶) − M(10⁴)| ≤
    |M(10³) − M(10⁴)|/9 (the c/n term, whose change from 10⁴ to 10⁶ is 1/9 of its change from
    10³ to 10⁴, with the latter's z·SE added) + z·SE of the difference. A population value off
    by b would add n‖b‖² to M(n), 10⁶‖b‖² at n = 10⁶. z at 1e-6 for each of the two
    difference estimates (false-failure probability ≤ 2e-6)."""
    _, _, _, e, allowance = _limit_errors()
    d_far, se_far = _mean_se(e[10**6] - e[10**4])
    assert abs(d_far) <= Z_TEST * se_far + allowance, (d_far, se_far, allowance)


@pytest.mark.slow
def test_population_is_the_limit_of_the_samples_engine():
    """The same M(n) with the sample-level engine at n = 10⁴ (independent draws) against the
    sufficient engine at n = 10⁶: |M_samples(10⁴) − M(10⁶)| ≤ z·SE (1e-6) + the allowance of
    the test above."""
    spec, m_inf, c_inf, e, allowance = _limit_errors()
    e_samples = _scaled_error(run(spec.replace(n_real=10**4, replicates=400), seed=TEST_SEED,
                                  engine="samples"), m_inf, c_inf, 10**4)
    m_s, se_s = _mean_se(e_samples)
    m_6, se_6 = _mean_se(e[10**6])
    assert abs(m_s - m_6) <= Z_TEST * math.hypot(se_s, se_6) + allowance, (m_s, m_6)


def test_refuses_gmm_and_practical_correctors():
    base = LoopSpec(dim=2, generations=2, correction_strength=1.0)
    with pytest.raises(ValueError, match="ideal corrector.*'ot'"):
        run(base.replace(corrector="ot"), engine="population")
    with pytest.raises(ValueError, match="model 'gaussian' or 'gaussian_mean'"):
        pop.check_population(base.replace(model="gmm", components=2))
