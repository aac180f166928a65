"""Rate assertions (paper_checks.rates) and hypothesis property tests of the loops' rates.

Every statistical assertion states its false-failure probability; seeds are fixed
(``TEST_SEED``), so CI is deterministic. Engine specs keep one shape per policy (only the
temperature is drawn, which does not recompile).
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special

from paper_checks.rates import assert_rate, fit_log_rate
from simulations import LoopSpec, run
from tests.helpers import TEST_SEED
from theory import (
    accumulate_mean_error2,
    accumulate_mean_error2_bound,
    derivations,
    population_contraction,
)
from theory.curation_discrete import curation_trajectory, top_level_contraction
from theory.curation_gaussian import mean_only_fixed_point

FALSE_FAILURE = 1e-6
ENGINE = settings(max_examples=8, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow])
FAST = settings(max_examples=30, deadline=None, derandomize=True)

# ----------------------------------------------------------------------------- the helper itself


def test_exact_lines_have_zero_error():
    """Deterministic: no randomness, false-failure probability 0."""
    gens = np.arange(10)
    vals = np.vstack([0.3 - 0.1 * gens, 1.0 - 0.1 * gens])
    slope, se = fit_log_rate(vals, gens)
    assert slope == pytest.approx(-0.1, abs=1e-14) and se == pytest.approx(0.0, abs=1e-14)
    slope, se = fit_log_rate(np.exp(vals), gens, kind="mean")
    assert slope == pytest.approx(-0.1, abs=1e-14)


@FAST
@given(st.floats(-1.0, 1.0), st.floats(0.1, 3.0))
def test_random_walk_drift_is_recovered(drift, step_sd):
    """Gaussian random walks with drift: per-replicate slope SE is exact (normal slopes), so
    the two-sided z-test fails with probability 1e-6 per example (≤ 3e-5 over 30 examples)."""
    rng = np.random.default_rng(TEST_SEED)
    steps = drift + step_sd * rng.standard_normal((500, 30))
    walks = np.cumsum(steps, axis=1)
    assert_rate(walks, np.arange(1, 31), drift, false_failure=FALSE_FAILURE)


def test_wrong_rate_raises_with_the_numbers():
    """A 50-SE miss is detected (probability of not raising < 1e-100)."""
    rng = np.random.default_rng(TEST_SEED)
    walks = np.cumsum(-0.05 + 0.1 * rng.standard_normal((1000, 20)), axis=1)
    with pytest.raises(AssertionError, match=r"log-rate .* vs declared 0\.1.*z = "):
        assert_rate(walks, np.arange(20), 0.1, label="walk")


def test_mean_kind_delta_method_se_is_calibrated():
    """Geometric decay observed through noisy positive values: the delta-method SE of the
    slope of log(mean) matches the spread over 200 independent repetitions within 25 %
    (the sd of a 200-sample sd is ≈ 5 %: false-failure probability < 1e-6)."""
    rng = np.random.default_rng(TEST_SEED)
    gens = np.arange(8)
    slopes, ses = [], []
    for _ in range(200):
        vals = 0.8**gens * rng.chisquare(3, size=(400, 8)) / 3
        s, se = fit_log_rate(vals, gens, kind="mean")
        slopes.append(s)
        ses.append(se)
    assert np.std(slopes, ddof=1) == pytest.approx(np.mean(ses), rel=0.25)
    assert np.mean(slopes) == pytest.approx(math.log(0.8), abs=5 * np.mean(ses) / math.sqrt(200))


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="generations"):
        fit_log_rate(np.zeros((3, 4)), np.arange(5))
    with pytest.raises(ValueError, match="replicates"):
        fit_log_rate(np.zeros((1, 4)), np.arange(4))
    with pytest.raises(ValueError, match="kind"):
        fit_log_rate(np.zeros((3, 4)), np.arange(4), kind="median")
    with pytest.raises(ValueError, match="positive"):
        fit_log_rate(-np.ones((3, 4)), np.arange(4), kind="mean")
    with pytest.raises(ValueError, match="false_failure"):
        assert_rate(np.zeros((3, 4)), np.arange(4), 0.0, false_failure=0.0)


# ----------------------------------------------------------------------------- loop rates

N, T = 20, 40


@ENGINE
@given(st.floats(0.8, 1.2))
def test_replace_collapse_rate_of_log_variance(temperature):
    """Replace, unbiased, n = 20: E log σ_t² falls by ψ((n−1)/2) − log((n−1)/2) + log τ per
    generation, exactly (the per-generation log-χ² increments are iid). Mean of 2000
    per-replicate slopes, CLT SE; false-failure probability 1e-6 per example."""
    spec = LoopSpec(dim=1, n_real=N, data="replace", estimator="unbiased", generations=T,
                    replicates=2000, temperature=temperature)
    logs = np.log(run(spec, seed=TEST_SEED).metric("variance"))
    a = (N - 1) / 2
    rate = special.digamma(a) - math.log(a) + math.log(temperature)
    # the same constant comes out of the sympy derivation
    derived = derivations.get_derivation("replace_log_variance_mean").lambdify()
    assert derived(1, N, estimator="unbiased", temperature=temperature) - derived(
        0, N, estimator="unbiased", temperature=temperature) == pytest.approx(rate, abs=1e-12)
    assert_rate(logs, np.arange(T + 1), rate, false_failure=FALSE_FAILURE, label="replace")


@ENGINE
@given(st.floats(0.9, 1.0))
def test_accumulate_mean_error_is_bounded(temperature):
    """Accumulate, MLE, m = n = 20, τ ≤ 1: the slope of log E‖μ_t − μ0‖² over generations
    20–40 equals that of the exact curve (≈ 0.002, a plateau) and the level stays below the
    π²/6·trΣ0/n bound. Delta-method SE of 2000 replicates (false-failure 1e-6), and a
    one-sided z-test of the last mean against the bound (false-failure 1e-6)."""
    spec = LoopSpec(dim=1, n_real=N, data="accumulate", estimator="mle", generations=T,
                    replicates=2000, temperature=temperature)
    err = run(spec, seed=TEST_SEED).metric("mean_error2")
    gens = np.arange(20, T + 1)
    exact = accumulate_mean_error2(gens, N, 1.0, estimator="mle", temperature=temperature)
    c = (gens - gens.mean()) / np.sum((gens - gens.mean()) ** 2)
    declared = float(np.log(exact) @ c)
    assert 0.0 < declared < 0.005
    assert_rate(err[:, gens], gens, declared, kind="mean", false_failure=FALSE_FAILURE,
                label="accumulate")
    last = err[:, -1]
    se = last.std(ddof=1) / math.sqrt(last.size)
    z = (last.mean() - accumulate_mean_error2_bound(N, 1.0)) / se
    assert z < 4.75  # one-sided, 1e-6


@ENGINE
@given(st.floats(0.8, 1.2))
def test_mix_contraction_rate(temperature):
    """Mix, λ = 3 (k = λ/(1+λ) = 3/4): the mean deviation δ_t = μ_t − r̄ (r̄ = μ_0, the real
    fit) satisfies E[δ_t | past] = k δ_{t−1} whatever the fitted covariance, so
    E[δ_t δ_1] = k^{t−1} E δ_1² exactly: slope log k of log E[δ_t δ_1], delta-method SE over
    4000 replicates, false-failure probability 1e-6 per example. The known-covariance
    E‖δ_t‖² then approaches its limit at rate k² (checked exactly on the derivation)."""
    spec = LoopSpec(dim=1, n_real=N, data="mix", synthetic_ratio=3.0, estimator="mle",
                    generations=7, replicates=4000, temperature=temperature)
    mu = run(spec, seed=TEST_SEED).means[..., 0]
    delta = mu - mu[:, :1]
    gens = np.arange(1, 8)
    cross = delta[:, gens] * delta[:, 1:2]
    k = 3.0 / 4.0
    assert_rate(cross, gens, math.log(k), kind="mean", false_failure=FALSE_FAILURE, label="mix")
    f = derivations.get_derivation("mix_mean_error2_known_cov").lambdify()
    t = np.arange(60)
    m_t = f(t, N, 1.0, n_synthetic=3 * N, temperature=temperature)
    limit = 1.0 / N + temperature / (3 * N) * k**2 / (1 - k**2)
    gap = np.log(limit - m_t[:40])
    assert np.allclose(np.diff(gap), 2 * math.log(k), atol=1e-8)


@ENGINE
@given(st.floats(0.1, 1.0))
def test_corrected_mix_contraction_rate(gamma):
    """Mix with the ideal corrector, λ = 3, random split: E[μ_{t+1} | past] = w r̄ + (1−w)
    ((1−q)μ_t + qμ*), w = 1/(1+λ), q = γ/(1+γ), r̄ the real mean. So δ_t = μ_t − μ_f (μ_f that
    map's fixed point, per replicate) has E[δ_t δ_1] = k^{t−1} E δ_1² with k = λ/((1+λ)(1+γ)),
    the contraction of Gillman et al.'s π_γG_λ (theory.population_contraction). The fit uses
    the generations where k^{t−1} ≥ 0.1 (later cross-moments are below the Monte Carlo
    resolution, so the delta method's small-relative-error condition fails there; the cut
    depends on the drawn γ only). Delta-method SE over 4000 replicates, false-failure
    probability 1e-6 per example."""
    lam, mu_star = 3.0, 0.7
    spec = LoopSpec(dim=1, n_real=N, data="mix", synthetic_ratio=lam, estimator="mle",
                    correction_strength=gamma, generations=6, replicates=4000,
                    truth=([mu_star], [[2.0]]))
    mu = run(spec, seed=TEST_SEED).means[..., 0]
    w, q = 1.0 / (1.0 + lam), gamma / (1.0 + gamma)
    k = (1.0 - w) * (1.0 - q)
    assert k == pytest.approx(population_contraction(lam, gamma), rel=1e-14)
    fixed = (w * mu[:, :1] + (1.0 - w) * q * mu_star) / (1.0 - k)
    delta = mu - fixed
    last = min(6, 1 + int(math.floor(math.log(0.1) / math.log(k))))
    gens = np.arange(1, last + 1)
    assert_rate(delta[:, gens] * delta[:, 1:2], gens, math.log(k), kind="mean",
                false_failure=FALSE_FAILURE, label="corrected mix")


@ENGINE
@given(st.floats(0.2, 1.5), st.sampled_from([2, 4]))
def test_curated_mean_only_contraction_rate(direction, curation_k):
    """Mean-only model N(θ, σ²), mix with λ = 1, K-choice curation with the linear reward
    r = a·x (Ferbach et al. 2024, Theorem 2.2 with L = 0): each kept draw has mean
    θ + σ²a m_K(s)/s (s = σ|a|, theory.curation_gaussian.selection_moments), so
    E[θ_{t+1} | past] = w r̄ + (1−w)(θ_t + σ²a m_K/s) and δ_t = θ_t − θ_f (θ_f = r̄ +
    λσ²a m_K/s, theory.curation_gaussian.mean_only_fixed_point at μ_d = r̄) has
    E[δ_t δ_1] = (λ/(1+λ))^{t−1} E δ_1². Delta-method SE over 4000 replicates,
    false-failure probability 1e-6 per example."""
    lam, sigma2 = 1.0, 1.5
    spec = LoopSpec(dim=1, n_real=N, data="mix", synthetic_ratio=lam, model="gaussian_mean",
                    curation_k=curation_k, reward={"kind": "linear", "direction": [direction]},
                    generations=6, replicates=4000, truth=([0.0], [[sigma2]]))
    theta = run(spec, seed=TEST_SEED).means[..., 0]
    shift = mean_only_fixed_point(sigma2, [direction], [0.0], curation_k, lam)[0]
    delta = theta - (theta[:, :1] + shift)
    gens = np.arange(1, 7)
    assert_rate(delta[:, gens] * delta[:, 1:2], gens, math.log(lam / (1.0 + lam)), kind="mean",
                false_failure=FALSE_FAILURE, label=f"curated K={curation_k}")


@FAST
@given(st.integers(2, 8), st.floats(0.2, 3.0), st.floats(0.05, 0.95), st.floats(0.0, 2.0))
def test_curation_top_level_contraction_rate(curation_k, gap, top_mass, split):
    """Ferbach et al. 2024, Theorem 2.1 on the exact infinite-capacity curated loop
    (theory.curation_discrete.curation_trajectory, λ = ∞): with two reward levels r* and
    r* − Δ, the non-top mass q_t satisfies q_{t+1}/q_t = Σ_j C(K,j) q^{j−1}(1−q)^{K−j}
    j e^{−Δ}/(j e^{−Δ} + K − j) = c + R, c = K/(1 + (K−1)e^Δ) (the j = 1 term at q = 0,
    theory.curation_discrete.top_level_contraction). Derived remainder for q ≤ 1/K: the j = 1
    term is within (K−1)q·c ≤ Kq of c and the j ≥ 2 terms sum to at most
    ((1+q)^K − 1 − Kq)/q ≤ (e/2)K²q, so |R| ≤ 3K²q (deterministic: false-failure 0 up to
    float64 rounding, allowed for by 1e-12). The fitted log-rate over the window must match
    log c within the largest remainder there."""
    # four atoms: two at the top level, two at the lower one (masses split by ``split``)
    w = np.array([top_mass * (1 + split), top_mass, (1 - top_mass) * (1 + split),
                  1 - top_mass]) / np.array([2 + split, 2 + split, 2 + split, 2 + split])
    r = np.array([1.0, 1.0, 1.0 - gap, 1.0 - gap])
    c = top_level_contraction(curation_k, gap)
    traj = curation_trajectory(w / w.sum(), r, curation_k, 400)
    q = traj[:, 2:].sum(axis=1)
    late = np.nonzero((q <= 1.0 / curation_k) & (q > 1e-200))[0][:-1]
    assert late.size >= 2
    ratios = q[late + 1] / q[late]
    assert np.all(np.abs(ratios - c) <= 3 * curation_k**2 * q[late] + 1e-12)
    window = late[-min(late.size, 30):]
    # deterministic values: two identical "replicates" (fit_log_rate needs two; SE = 0). The
    # least-squares slope over consecutive generations is a convex combination of the log
    # ratios, each within bound/(c − bound) of log c (mean value theorem).
    slope, _ = fit_log_rate(np.log(q[window])[None, :].repeat(2, axis=0), window)
    bound = 3 * curation_k**2 * q[window].max()
    assert bound < c
    assert abs(slope - math.log(c)) <= bound / (c - bound) + 1e-9
