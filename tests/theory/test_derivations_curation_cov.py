"""Every curation function a Ferbach et al. 2024 claim uses is derived, taken from the paper, or
declared numerical; the new records equal their numeric functions; the numerical routines
agree with an independent route.

All comparisons are exact (no randomness in the values): relative error ≤ 1e-10 in float64 on
hypothesis-drawn parameters, plus an absolute term of a few float64 ulps where the compared
value can be 0 (a logarithm of a sum near 1, a difference of O(1) expectations); each such term
is justified where it is used. False-failure probability: 0 up to floating-point rounding.
"""

import importlib
import itertools
import math
import pathlib
import re

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import special, stats

from theory import curation_discrete as cd
from theory import curation_gaussian as cg
from theory import derivations as dv
from theory._derivation_registry import covered_functions, numerical_routines

ROOT = pathlib.Path(__file__).resolve().parents[2]
RTOL = 1e-10
EPS = np.finfo(np.float64).eps
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None)

FUNCTIONS = {
    "theory.curation_discrete": [
        "curated_law", "curation_operator", "curation_step", "curation_trajectory",
        "exp_reward_moments", "kl_divergence", "lemma22_slack", "lemma22_variance_budget",
        "mixed_functional", "mixed_tilt_fixed_point", "reverse_kl_bound", "rlhf_objective",
        "thm23_reward_gain_bound", "thm24_kl_bound", "thm24_reward_plateau_bound", "tilt_power",
        "top_level_kl", "top_level_law"],
    "theory.curation_gaussian": [
        "flat_top_log_mgf_1d", "gaussian_family_curation_step",
        "gaussian_family_curation_trajectory", "gaussian_mixed_tilt_step", "gmm_linear_tilt",
        "mean_only_curation_step", "mean_only_fixed_point", "nonparametric_linear_mixed_tilt",
        "quadratic_log_mgf", "selection_moments"],
}
NEW_RECORDS = ["curation_tilt_power", "curation_lemma22_budget", "curation_top_level_kl",
               "curation_mixed_tilt_stationary", "curation_reverse_kl", "curation_thm24_plateau",
               "curation_thm23_bound", "curation_quadratic_mgf", "curation_flat_top_mgf",
               "curation_gmm_linear_tilt", "curation_gaussian_mixed_step"]


def _rec(name):
    return dv.get_derivation(name).lambdify()


def _close(a, b, rtol=RTOL, atol=0.0):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    assert np.all(np.abs(a - b) <= rtol * np.abs(b) + atol), (a, b)


laws = st.integers(2, 5).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n),
    st.lists(st.floats(-3.0, 3.0), min_size=n, max_size=n)))


def _law(law):
    w, r = law
    return np.asarray(w) / np.sum(w), np.asarray(r, dtype=np.float64)


# ------------------------------------------------------------------------------ the contract


def test_each_listed_function_is_derived_marked_or_numerical_exactly_once():
    covered, numerical = covered_functions(), numerical_routines()
    assert sum(len(v) for v in FUNCTIONS.values()) == 28
    for module, names in FUNCTIONS.items():
        mod = importlib.import_module(module)
        for name in names:
            path = f"{module}.{name}"
            assert callable(getattr(mod, name))
            assert (path in covered) != (path in numerical), path


def test_numerical_declarations_cite_tests_that_exist():
    """Every ``tests/...py::name`` a curation declaration cites is a test function there (the
    names after the file are read up to the next file reference)."""
    cited = 0
    for path, reason in numerical_routines().items():
        if not path.startswith("theory.curation"):
            continue
        refs = re.findall(r"(tests/[\w/]+\.py)::([\w, ]+(?:, [\w]+)*)", reason)
        assert refs, (path, reason)
        for file, names in refs:
            text = (ROOT / file).read_text(encoding="utf-8")
            for name in re.findall(r"test_\w+", names):
                assert re.search(rf"^def {name}\(", text, re.M), (path, file, name)
                cited += 1
    assert cited >= 14


def test_new_records_render_and_the_transcribed_one_says_why():
    for name in NEW_RECORDS:
        der = dv.get_derivation(name)
        text = dv.render(name)
        if name == "curation_thm23_bound":
            assert der.taken_from_paper and der.steps[0].method == "taken from the paper"
            assert der.steps[0].label == "statement" and len(der.steps[0].note) > 40
        else:
            assert not der.taken_from_paper
            assert "recursion" in text and "solution" in text


def test_symbolic_results():
    lam_, kk = sp.Symbol("lambda", positive=True), sp.Symbol("K", integer=True, positive=True)
    beta = sp.Symbol("beta", positive=True)
    ps, rs = sp.symbols("p_1:4", positive=True), sp.symbols("r_1:4", real=True)
    gibbs = dv.get_derivation("curation_tilt_power").limit
    assert sp.simplify(gibbs - beta * sp.log(sum(p * sp.exp(r / beta)
                                                 for p, r in zip(ps, rs, strict=True)))) == 0
    assert dv.get_derivation("curation_top_level_kl").solution == -sp.log(
        sp.Symbol("P", positive=True))
    plateau = dv.get_derivation("curation_thm24_plateau").solution
    big_l = sp.Symbol("L", real=True)
    assert sp.simplify(sp.expand_log(plateau - big_l + sp.log(1 - lam_ * (kk - 1)),
                                     force=True)) == 0
    steps = dv.get_derivation("curation_thm23_bound").steps
    assert sp.simplify(steps[2].expr.rhs - 1 / (1 + lam_)) == 0  # paper/derived = 1/(1+λ)


# ------------------------------------------------------------------------------ discrete records


@SETTINGS
@given(laws, st.integers(0, 40))
def test_tilt_power_record(law, t):
    p0, r = _law(law)
    _close(_rec("curation_tilt_power")(p0, r, t), cd.tilt_power(p0, r, t), atol=1e-300)
    ts = np.arange(t + 1)
    _close(_rec("curation_tilt_power")(p0, r, ts), cd.tilt_power(p0, r, ts), atol=1e-300)


@SETTINGS
@given(laws, st.floats(0.05, 20.0))
def test_rlhf_objective_at_the_tilt_is_gibbs_value(law, t):
    """E_q[r] − βKL(q‖p_0) at q = p_0e^{tr}/Z equals β log E_{p_0}[e^{r/β}], β = 1/t (record
    curation_tilt_power, Gibbs). Both sides are O(max|r|) sums of O(1) terms: an absolute term
    of 64ε·(1 + max|r|) covers their rounding when the value is near 0."""
    p0, r = _law(law)
    q = cd.tilt_power(p0, r, t)
    want = float(special.logsumexp(t * r, b=p0)) / t
    _close(cd.rlhf_objective(q, p0, r, 1.0 / t), want, atol=64 * EPS * (1 + np.abs(r).max()))


@SETTINGS
@given(laws, st.sampled_from([2, 3, 5, 40, math.inf]))
def test_lemma22_budget_record(law, k):
    """K/(K−1)(1 − E_{p_0}[y]): the mean of n terms y ≤ 1 errs by ≤ nε, and 1 − mean can be 0
    (all rewards equal), so the absolute term is 4nε (K/(K−1) ≤ 2)."""
    p0, r = _law(law)
    _close(_rec("curation_lemma22_budget")(p0, r, k), cd.lemma22_variance_budget(p0, r, k),
           atol=4 * r.size * EPS)
    with pytest.raises(ValueError, match="curation_k >= 2"):
        _rec("curation_lemma22_budget")(p0, r, 1)


@SETTINGS
@given(laws, st.floats(1e-12, 1.0), st.integers(0, 2**32 - 1))
def test_top_level_kl_record(law, outside, seed):
    """p_t = (1 − ε)p_* on A* and ε·q off A* (a law of the form the loop produces): the record,
    the numeric function and KL(top_level_law‖p_t) by kl_divergence agree. The last route
    sums O(1) terms p log(p/q): absolute term 8nε."""
    p0, r = _law(law)
    mask = r == r.max()
    assume(not np.all(mask))
    p_star = cd.top_level_law(p0, r)
    q = np.random.default_rng(seed).dirichlet(np.ones(r.size)) * ~mask
    p_t = (1 - outside) * p_star + outside * q / q.sum()
    want = cd.top_level_kl(p_t, p0, r)
    _close(_rec("curation_top_level_kl")(p_t, p0, r), want)
    _close(cd.kl_divergence(p_star, p_t), want, atol=8 * r.size * EPS)
    assert want == pytest.approx(-math.log1p(-outside), rel=1e-12)


@SETTINGS
@given(laws, st.floats(0.01, 20.0))
def test_mixed_tilt_stationary_record(law, lam):
    """Both routes find z = Z e^{−r_*} as the root of F(z) = Σ p_∞(z) − 1 (the numeric one in
    log z, xtol 1e-15, rtol 4ε; the record by bisection in z, rtol 4ε). F is summed with an
    absolute rounding ≤ 4nε, so log z is fixed only to 4nε/|z F'(z)| with
    z|F'(z)| = Σ λ y p_∞²/(z p_data) (from the derived p_∞): that plus 1e-15 bounds each route,
    twice it the difference. p_∞ amplifies the relative root error by at most λ/p_data(top)
    ≤ 20/0.002 = 1e4, well inside rtol 1e-10."""
    pd, r = _law(law)
    got_p, got_z = _rec("curation_mixed_tilt_stationary")(pd, r, lam)
    want_p, want_z = cd.mixed_tilt_fixed_point(pd, r, lam)
    _close(got_p, want_p)
    y, z = np.exp(r - r.max()), math.exp(want_z - r.max())
    sens = float(np.sum(lam * y * want_p**2 / (z * pd)))
    _close(got_z, want_z, atol=2 * (4 * r.size * EPS / sens + 1e-15))
    zero_p, zero_z = _rec("curation_mixed_tilt_stationary")(pd, r, 0.0)
    _close(zero_p, cd.mixed_tilt_fixed_point(pd, r, 0.0)[0])


@SETTINGS
@given(st.one_of(st.floats(0.0, 1e6), st.floats(1e-300, 1e-6)))
def test_reverse_kl_record(lam):
    _close(_rec("curation_reverse_kl")(lam), cd.reverse_kl_bound(lam))
    with pytest.raises(ValueError, match="finite"):
        _rec("curation_reverse_kl")(math.inf)


@SETTINGS
@given(laws, st.integers(1, 30), st.floats(0.0, 0.999))
def test_thm24_plateau_and_kl_bound(law, k, frac):
    """Records curation_thm24_plateau and curation_thm24_ratio (which covers thm24_kl_bound
    through its step KL ≤ log c). The plateau is log E e^r + O(1): absolute term 8ε(1+max|r|)
    covers a value near 0."""
    pd, r = _law(law)
    lam = frac / max(k - 1, 1)
    _close(_rec("curation_thm24_plateau")(pd, r, k, lam),
           cd.thm24_reward_plateau_bound(pd, r, k, lam), atol=8 * EPS * (1 + abs(r).max()))
    _close(np.log(_rec("curation_thm24_ratio")(k, lam)), cd.thm24_kl_bound(k, lam),
           atol=1e-300)
    kl_step = dv.get_derivation("curation_thm24_ratio").steps[3].expr.rhs
    kk, lam_ = sp.Symbol("K", integer=True, positive=True), sp.Symbol("lambda", positive=True)
    _close(float(kl_step.subs({kk: k, lam_: lam})), cd.thm24_kl_bound(k, lam), atol=1e-300)
    if k >= 2:
        bad = 1.5 / (k - 1)
        for fn in (_rec("curation_thm24_plateau"), cd.thm24_reward_plateau_bound):
            with pytest.raises(ValueError, match="Theorem 2.4 assumes"):
                fn(pd, r, k, bad)


@SETTINGS
@given(laws, st.sampled_from([1, 2, 3, 10, math.inf]), st.floats(0.0, 10.0),
       st.sampled_from(["paper", "derived"]))
def test_thm23_record(law, k, lam, constant):
    pd, r = _law(law)
    _close(_rec("curation_thm23_bound")(pd, r, k, lam, constant),
           cd.thm23_reward_gain_bound(pd, r, k, lam, constant=constant), atol=1e-300)


# ------------------------------------------------------------------------------ numerical routes


def _mp(x):
    return mpmath.mpf(float(x))


@SETTINGS
@given(laws)
def test_exp_reward_moments_against_mpmath(law):
    p, r = _law(law)
    mom = cd.exp_reward_moments(p, r)
    with mpmath.workdps(50):
        r_star = max(_mp(v) for v in r)
        ys = [mpmath.exp(_mp(v) - r_star) for v in r]
        mean = mpmath.fsum(_mp(pi) * yi for pi, yi in zip(p, ys, strict=True))
        var = mpmath.fsum(_mp(pi) * (yi - mean) ** 2 for pi, yi in zip(p, ys, strict=True))
    assert mom.r_star == float(r_star)
    _close(mom.mean, float(mean))
    # Var = E(y − Ey)²: O(1) terms, absolute rounding ≤ 8nε
    _close(mom.var, float(var), atol=8 * r.size * EPS)


@SETTINGS
@given(laws, laws)
def test_kl_divergence_against_independent_sums(law_p, law_q):
    p, _ = _law(law_p)
    q, _ = _law(law_q)
    assume(p.size == q.size)
    with mpmath.workdps(50):
        want = float(mpmath.fsum(_mp(a) * mpmath.log(_mp(a) / _mp(b))
                                 for a, b in zip(p, q, strict=True)))
    got = cd.kl_divergence(p, q)
    # O(1) terms p log(p/q) summed: absolute rounding ≤ 8nε (the KL can be ~0)
    _close(got, want, atol=8 * p.size * EPS)
    _close(got, stats.entropy(p, q), atol=8 * p.size * EPS)


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(st.integers(2, 4).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n),
    st.lists(st.floats(-3.0, 3.0), min_size=n, max_size=n))), st.integers(2, 4))
def test_lemma22_slack_by_enumerating_k_tuples(law, k):
    """Lemma 2.2's proof identity, evaluated over all n^K tuples of candidates: the slack equals
    E[Σ_k (y_k − ȳ)²(1/S − 1/K)] with y = e^{r − r_*} ≤ 1, S = Σ_k y_k, and E_{pH}[y] equals
    E[Σ_k y_k²/S]. Both routes sum O(1) terms (n^K ≤ 256 of them): absolute term 1e-12
    (≥ 4·256·ε·10)."""
    p, r = _law(law)
    y = np.exp(r - r.max())
    idx = np.array(list(itertools.product(range(p.size), repeat=k)))  # (n^K, K)
    prob = np.prod(p[idx], axis=1)
    yk = y[idx]
    s = yk.sum(axis=1)
    ybar = s / k
    slack = prob @ (((yk - ybar[:, None]) ** 2).sum(axis=1) * (1 / s - 1 / k))
    kept = prob @ ((yk**2).sum(axis=1) / s)
    assert abs(cd.curated_law(p, r, k) @ y - kept) <= 1e-12
    assert abs(cd.lemma22_slack(p, r, k) - slack) <= 1e-12


@SETTINGS
@given(laws, laws, st.floats(0.0, 10.0))
def test_mixed_functional_against_mpmath(law_p, law_d, lam):
    p, r = _law(law_p)
    pd, _ = _law(law_d)
    assume(p.size == pd.size)
    with mpmath.workdps(50):
        want = (mpmath.fsum(_mp(a) * mpmath.log(_mp(b)) for a, b in zip(pd, p, strict=True))
                + _mp(lam) * mpmath.log(mpmath.fsum(_mp(b) * mpmath.exp(_mp(v))
                                                   for b, v in zip(p, r, strict=True))))
    scale = 1 + abs(float(want)) + lam * (1 + abs(r).max())  # size of the summed terms
    _close(cd.mixed_functional(p, pd, r, lam), float(want), atol=16 * p.size * EPS * scale)


@SETTINGS
@given(st.floats(0.05, 2.0), st.floats(-2.0, 2.0), st.floats(0.2, 2.0), st.floats(0.05, 5.0),
       st.integers(1, 15))
def test_nonparametric_weights_are_iterated_gmm_tilts(sd2, mu_d, a, lam, steps):
    """π_{t+1} = (w, (1−w)·π_t tilted), the tilt by gmm_linear_tilt of Σ_k π_t(k)
    N(μ_d + kσ_d²a, σ_d²) by e^{ax}: the component recursion of nonparametric_linear_mixed_tilt.
    Rounding grows like t·max(k s²)·ε ≤ 15·60·ε: rtol 1e-10."""
    weights, _ = cg.nonparametric_linear_mixed_tilt(a * a * sd2, lam, steps)
    w = 1 / (1 + lam)
    pi = np.array([1.0])
    for t in range(steps):
        means = (mu_d + np.arange(pi.size) * sd2 * a)[:, None]
        covs = np.full((pi.size, 1, 1), sd2)
        tilted, new_means, _ = cg.gmm_linear_tilt(pi, means, covs, [a], 1)
        np.testing.assert_allclose(new_means[:, 0], mu_d + np.arange(1, pi.size + 1) * sd2 * a,
                                   rtol=1e-13, atol=1e-13 * (1 + abs(mu_d)))
        pi = np.concatenate([[w], (1 - w) * tilted])
        _close(weights[t + 1, :pi.size], pi, atol=1e-300)
        assert np.all(weights[t + 1, pi.size:] == 0)


# ------------------------------------------------------------------------------ Gaussian records


@SETTINGS
@given(st.floats(-3, 3), st.floats(0.05, 4), st.floats(-3, 3), st.floats(0, 4),
       st.floats(0, 3))
def test_quadratic_mgf_record_1d(mu, var, c, a, beta):
    """The log-MGF is −½log(1 + q) − O(1) terms: absolute term 8ε·(1 + |value|) for values ~0."""
    want = cg.quadratic_log_mgf([mu], [[var]], [c], [[a]], beta)
    _close(_rec("curation_quadratic_mgf")([mu], [[var]], [c], [[a]], beta), want,
           atol=8 * EPS * (1 + abs(want)))


@SETTINGS
@given(st.floats(0, 2 * math.pi), st.tuples(st.floats(0.1, 3), st.floats(0.1, 3)),
       st.tuples(st.floats(0, 3), st.floats(0, 3)), st.tuples(st.floats(-2, 2),
                                                               st.floats(-2, 2)),
       st.floats(0, 2))
def test_quadratic_mgf_in_2d_is_the_sum_of_1d_records(angle, sig, avals, delta, beta):
    """Σ = Q diag(s) Qᵀ and A = Q diag(a) Qᵀ commute: in the rotated frame the d-dimensional
    integral factorises into 1-D ones (record curation_quadratic_mgf per axis). The 2-D matrix
    algebra (solve, slogdet) errs by a few ε times the condition number (≤ 30): atol 1e3ε."""
    q = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    cov = q @ np.diag(sig) @ q.T
    mat = q @ np.diag(avals) @ q.T
    c = np.array([0.3, -0.7])
    mu = c + q @ np.asarray(delta)
    f = _rec("curation_quadratic_mgf")
    parts = sum(f([delta[i]], [[sig[i]]], [0.0], [[avals[i]]], beta) for i in range(2))
    want = cg.quadratic_log_mgf(mu, 0.5 * (cov + cov.T), c, 0.5 * (mat + mat.T), beta)
    _close(parts, want, atol=1e3 * EPS * (1 + abs(want)))


@SETTINGS
@given(st.floats(-2.5, 2.5), st.floats(0.2, 2.0), st.floats(-1, 1), st.floats(0.05, 3),
       st.floats(0.05, 1.5), st.floats(0, 2))
def test_flat_top_mgf_record(z, std, center, radius, slope, scale):
    """μ = c + zσ ± R keeps P(B) away from 0; βγσ ≤ 6 keeps the tails in range. The log of a
    sum near 1 has absolute rounding ~ε: atol 8ε."""
    mean = center + z * std + math.copysign(radius, z)
    want = cg.flat_top_log_mgf_1d(mean, std, center, radius, slope, scale)
    _close(_rec("curation_flat_top_mgf")(mean, std, center, radius, slope, scale), want,
           atol=8 * EPS)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 2), st.floats(0, 5), st.integers(0, 2**32 - 1))
def test_gmm_linear_tilt_record(m, d, t, seed):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(m))
    means = rng.normal(size=(m, d))
    root = rng.normal(size=(m, d, d))
    covs = root @ np.transpose(root, (0, 2, 1)) + 0.2 * np.eye(d)
    a = rng.normal(size=d)
    got = _rec("curation_gmm_linear_tilt")(w, means, covs, a, t)
    want = cg.gmm_linear_tilt(w, means, covs, a, t)
    _close(got[0], want[0], atol=1e-300)
    scale = np.abs(means) + t * np.abs(covs @ a)
    assert np.all(np.abs(got[1] - want[1]) <= RTOL * scale + 1e-300)
    _close(got[2], want[2])


@SETTINGS
@given(st.floats(-3, 3), st.floats(0.05, 3), st.floats(-2, 2).filter(lambda v: abs(v) > 1e-3),
       st.floats(-3, 3), st.floats(0.05, 3), st.floats(0, 20))
def test_gaussian_mixed_step_record(mu, var, a, mu_d, var_d, lam):
    """1-D moment match; the mean is a weighted sum of terms of size |μ| + σ²|a| + |μ_d|, so
    its error is compared on that scale."""
    got = _rec("curation_gaussian_mixed_step")([mu], [[var]], [a], [mu_d], [[var_d]], lam)
    want = cg.gaussian_mixed_tilt_step([mu], [[var]], [a], [mu_d], [[var_d]], lam)
    scale = abs(mu) + var * abs(a) + abs(mu_d)
    assert abs(got[0][0] - want[0][0]) <= RTOL * scale
    _close(got[1], want[1])


@SETTINGS
@given(st.floats(-3, 3), st.floats(0.1, 4), st.floats(0.1, 2), st.floats(-3, 3),
       st.sampled_from([1, 2, 5, math.inf]), st.floats(0, 20))
def test_mean_only_step_and_fixed_point_from_their_record(theta, sigma2, a, mu_d, k, lam):
    """Record curation_mean_only_contraction: its recursion θ' = wμ_d + (1−w)(θ + c_K) and its
    solved fixed point θ* = μ_d + λc_K, with c_K = σ²a m_K(s)/s from selection_moments."""
    assume(abs(a) > 1e-3)
    der = dv.get_derivation("curation_mean_only_contraction")
    th, md, shift = sp.symbols("theta mu_d c_K", real=True)
    lam_ = sp.Symbol("lambda", positive=True)
    step = sp.lambdify((th, md, shift, lam_), der.recursion.rhs)
    fixed = sp.lambdify((md, shift, lam_), der.limit)
    s = math.sqrt(sigma2) * abs(a)
    c_k = sigma2 * a * cg.selection_moments(s, k)[0] / s
    scale = abs(theta) + abs(mu_d) + (1 + lam) * abs(c_k)
    got = cg.mean_only_curation_step([theta], sigma2, [a], [mu_d], k, lam)[0]
    assert abs(step(theta, mu_d, c_k, lam) - got) <= RTOL * scale
    got = cg.mean_only_fixed_point(sigma2, [a], [mu_d], k, lam)[0]
    assert abs(fixed(mu_d, c_k, lam) - got) <= RTOL * scale
