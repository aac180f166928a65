"""The mixture derivation records (theory/derivations_mixtures.py) against the toolkit's
numeric functions and an independent quadrature route.

Tolerances: the record and theory.mixtures.mixture_l2_squared add the same float64 terms in a
different order; ∫(p − q)² = ∫p² + ∫q² − 2∫pq cancels, so the error is bounded by a few ulps of
∫p² + ∫q² (we allow 64 ε times that). The 2-D quadrature uses the trapezoid rule on ±9 sd,
whose error for these analytic, Gaussian-decaying integrands is below e^{−40} plus the
truncated tail (< 1e-17); tolerance 1e-9 relative.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import derivations as dv
from theory._derivation_registry import covered_functions
from theory.mixtures import gaussian_product_integral, mixture_l2_squared, suresh_gmm_collapse_bound

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)
EPS = np.finfo(np.float64).eps

_mixture_1d = st.integers(1, 3).flatmap(lambda m: st.tuples(
    st.lists(st.floats(0.05, 1.0), min_size=m, max_size=m),
    st.lists(st.floats(-3.0, 3.0), min_size=m, max_size=m),
    st.lists(st.floats(0.1, 3.0), min_size=m, max_size=m)))


def _as_1d(mix):
    w, m, v = (np.asarray(a, np.float64) for a in mix)
    return w / w.sum(), m, v


def _self_term(w, m, v):
    dens = gaussian_product_integral(m[:, None, None], v[:, None, None, None] + 0 * v[None, :,
                                     None, None], m[None, :, None], v[None, :, None, None])
    return float(w @ np.asarray(dens) @ w)


@pytest.mark.slow
@SETTINGS
@given(_mixture_1d, _mixture_1d)
def test_l2_record_equals_numeric(p, q):
    p, q = _as_1d(p), _as_1d(q)
    record = dv.get_derivation("mixture_l2_squared").lambdify()(*p, *q)
    numeric = float(mixture_l2_squared(p[0], p[1][:, None], p[2][:, None, None],
                                       q[0], q[1][:, None], q[2][:, None, None]))
    scale = _self_term(*p) + _self_term(*q)
    assert abs(record - numeric) <= 64 * EPS * scale


def test_l2_against_quadrature_2d():
    w1 = np.array([0.3, 0.7])
    m1 = np.array([[0.0, 0.0], [1.5, -0.5]])
    c1 = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.4, -0.1], [-0.1, 0.8]]])
    w2 = np.array([1.0])
    m2 = np.array([[0.5, 0.2]])
    c2 = np.array([[[1.5, 0.2], [0.2, 1.0]]])
    g = np.linspace(-10.0, 10.0, 801)
    x, y = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([x, y], -1)

    def dens(w, m, c):
        out = np.zeros(x.shape)
        for wj, mj, cj in zip(w, m, c, strict=True):
            d = pts - mj
            quad = np.einsum("...i,ij,...j->...", d, np.linalg.inv(cj), d)
            out += wj * np.exp(-0.5 * quad) / (2 * math.pi * math.sqrt(np.linalg.det(cj)))
        return out

    h = g[1] - g[0]
    quad = float(np.sum((dens(w1, m1, c1) - dens(w2, m2, c2)) ** 2) * h * h)
    closed = float(mixture_l2_squared(w1, m1, c1, w2, m2, c2))
    assert closed == pytest.approx(quad, rel=1e-9)


def test_l2_record_steps_prove_the_product_integral():
    steps = dv.get_derivation("mixture_l2_squared").steps
    assert steps[2].expr.rhs == 1  # (∫N N dx) / N(a − b; 0, A + B) simplifies to 1


@SETTINGS
@given(st.integers(0, 400), st.integers(1, 50), st.floats(0.1, 3.0), st.floats(0.05, 2.0))
def test_suresh_gmm_record_equals_numeric(k, n, sigma0, eps):
    der = dv.get_derivation("suresh_gmm_collapse_bound")
    assert der.taken_from_paper
    got = der.lambdify()(k, n, sigma0, eps)
    want = suresh_gmm_collapse_bound(k, n, sigma0, eps)
    assert abs(got - want) <= 4 * EPS * want


@pytest.mark.parametrize("kwargs", [dict(k=1, n=0, sigma0=1.0, eps=0.5),
                                    dict(k=1, n=10, sigma0=0.0, eps=0.5),
                                    dict(k=-1, n=10, sigma0=1.0, eps=0.5)])
def test_suresh_gmm_bound_rejects_inputs_outside_the_theorem(kwargs):
    with pytest.raises(ValueError):
        suresh_gmm_collapse_bound(**kwargs)


def test_mixture_closed_forms_are_accounted_for():
    covered = covered_functions()
    for path in ("theory.mixtures.mixture_l2_squared", "theory.mixtures.mixture_l2",
                 "theory.mixtures.gaussian_product_integral",
                 "theory.mixtures.suresh_gmm_collapse_bound"):
        assert path in covered, path
