"""The curation derivations (theory.derivations_curation) equal their numeric functions.

Exact comparisons on hypothesis-drawn parameters, relative error ≤ 1e-10 (float64 rounding of
short closed forms; no randomness in the values).
"""

import importlib
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from theory import derivations as dv

RTOL = 1e-10
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)
NAMES = ["curation_tilt_increment", "curation_large_k", "curation_linear_tilt",
         "curation_quadratic_tilt", "curation_mixed_fixed_point", "curation_thm24_ratio",
         "curation_top_contraction", "curation_mean_only_contraction"]


def _numeric(name):
    module, fn = dv.get_derivation(name).numeric.rsplit(".", 1)
    return getattr(importlib.import_module(module), fn)


def _close(a, b, rtol=RTOL):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    assert np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(b), 1e-300)), (a, b)


def test_curation_records_are_registered_and_render():
    names = dv.list_derivations()
    for name in NAMES:
        assert name in names
        text = dv.render(name)
        assert "recursion" in text and "solution" in text
        _numeric(name)


def test_symbolic_limits():
    k = sp.Symbol("K", positive=True)
    delta = sp.Symbol("Delta", positive=True)
    assert dv.get_derivation("curation_top_contraction").limit == sp.exp(-delta)
    assert sp.simplify(dv.get_derivation("curation_top_contraction").solution
                       - k / (1 + (k - 1) * sp.exp(delta))) == 0
    lam = sp.Symbol("lambda", positive=True)
    kk = sp.Symbol("K", integer=True, positive=True)
    assert sp.simplify(dv.get_derivation("curation_thm24_ratio").limit
                       - 1 / (1 - lam * (kk - 1))) == 0
    assert sp.simplify(dv.get_derivation("curation_mean_only_contraction").solution
                       - lam / (1 + lam)) == 0
    assert dv.get_derivation("curation_quadratic_tilt").limit == sp.Symbol("c", real=True)


laws = st.integers(2, 6).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n),
    st.lists(st.floats(-3.0, 3.0), min_size=n, max_size=n)))


@SETTINGS
@given(laws)
def test_tilt_increment(law):
    w, r = law
    p = np.asarray(w) / np.sum(w)
    r = np.asarray(r)
    assume(np.ptp(r) > 1e-3)
    _close(dv.get_derivation("curation_tilt_increment").lambdify()(p, r),
           _numeric("curation_tilt_increment")(p, r))


@SETTINGS
@given(laws)
def test_large_k_coefficient(law):
    w, r = law
    p = np.asarray(w) / np.sum(w)
    r = np.asarray(r)
    f = dv.get_derivation("curation_large_k").lambdify()
    got, want = f(p, r), _numeric("curation_large_k")(p, r)
    # both are (y/μ)(…) with terms of size ≤ max(y/μ)²: compare on that scale
    scale = np.max(np.exp(r - r.max())) / (p @ np.exp(r - r.max()))
    assert np.max(np.abs(got - want)) <= RTOL * scale**2


@SETTINGS
@given(st.integers(0, 50), st.floats(-3, 3), st.floats(0.1, 4), st.floats(-2, 2),
       st.floats(-0.9, 0.9))
def test_linear_tilt(t, mu, var, a, rho):
    mean = np.array([mu, -mu / 2])
    cov = np.array([[var, rho * math.sqrt(var)], [rho * math.sqrt(var), 1.0]])
    direction = np.array([a, 1.0])
    got = dv.get_derivation("curation_linear_tilt").lambdify()(mean, cov, direction, t)
    want = _numeric("curation_linear_tilt")(mean, cov, direction, t)
    for g, w_ in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w_, rtol=RTOL, atol=1e-12 * (1 + t))


@SETTINGS
@given(st.integers(0, 50), st.floats(-3, 3), st.floats(0.1, 4), st.floats(-2, 2),
       st.floats(0.0, 3.0))
def test_quadratic_tilt(t, mu, var, c, a):
    got = dv.get_derivation("curation_quadratic_tilt").lambdify()([mu], [[var]], [c], [[a]], t)
    want = _numeric("curation_quadratic_tilt")([mu], [[var]], [c], [[a]], t)
    for g, w_ in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w_, rtol=RTOL, atol=1e-13)


@SETTINGS
@given(st.floats(-3, 3), st.floats(0.05, 3), st.floats(0.05, 2), st.floats(0.0, 5.0))
def test_mixed_fixed_point(mu, var, a, lam):
    f = dv.get_derivation("curation_mixed_fixed_point").lambdify()
    numeric = _numeric("curation_mixed_fixed_point")
    if 4 * lam * (1 + lam) * a * a * var > 1:
        for fn in (f, numeric):
            with pytest.raises(ValueError, match="no fixed point"):
                fn([mu], [[var]], [a], lam)
        return
    got, want = f([mu], [[var]], [a], lam), numeric([mu], [[var]], [a], lam)
    for g, w_ in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w_, rtol=RTOL, atol=1e-13)


@SETTINGS
@given(st.integers(1, 40), st.floats(0.0, 1.0))
def test_thm24_ratio(k, frac):
    lam = frac / max(k - 1, 1) * 0.999
    _close(dv.get_derivation("curation_thm24_ratio").lambdify()(k, lam),
           _numeric("curation_thm24_ratio")(k, lam))


@SETTINGS
@given(st.one_of(st.integers(1, 10_000), st.just(math.inf)), st.floats(0.01, 20.0))
def test_top_contraction(k, gap):
    _close(dv.get_derivation("curation_top_contraction").lambdify()(k, gap),
           _numeric("curation_top_contraction")(k, gap))


@SETTINGS
@given(st.floats(0.0, 50.0), st.floats(0.01, 10.0))
def test_mean_only_contraction(lam, alpha):
    _close(dv.get_derivation("curation_mean_only_contraction").lambdify()(lam, alpha, 0.0, 0.0),
           _numeric("curation_mean_only_contraction")(lam, alpha, 0.0, 0.0))
