"""Gillman et al. 2024 figures: the toy simulator against a literal re-implementation of the
authors' accumulation loop (exact coupling, same random numbers), and the quick-mode figures'
plotted numbers against the theory."""

import csv
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from figures import gillman2024 as fig
from tests.helpers import Z_TEST
from theory import correction as cr


def _authors_loop(key, gamma, *, generations, n_real, m, dim, accumulate):
    """The authors' ``run_exps`` with the ideal corrector, written literally (lists of point
    arrays, np.mean / np.cov(bias=True)), drawing the same random numbers as
    figures.gillman2024._toy_batch."""
    real = np.asarray(jax.random.normal(jax.random.fold_in(key, 0), (n_real, dim)))
    mean, cov = real.mean(axis=0), np.cov(real.T, bias=True).reshape(dim, dim)
    gens, means, covs = [], [mean], [cov]
    for i in range(generations):
        k_z, k_u = jax.random.split(jax.random.fold_in(jax.random.fold_in(key, 1), i))
        z = np.asarray(jax.random.normal(k_z, (m, dim)))
        u = np.asarray(jax.random.uniform(k_u, (m,)))
        w, v = np.linalg.eigh(cov)
        root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        y = np.where((u < gamma / (1 + gamma))[:, None], z, mean + z @ root)
        gens.append(y)
        if accumulate:
            parts = [gens[j][: int((j + 1) / (i + 1) * m)] for j in range(i + 1)]
        else:
            parts = [y]
        data = np.concatenate([real, *parts])
        mean, cov = data.mean(axis=0), np.cov(data.T, bias=True).reshape(dim, dim)
        means.append(mean)
        covs.append(cov)
    return np.array(means), np.array(covs)


@pytest.mark.parametrize("accumulate", [pytest.param(True, marks=pytest.mark.slow), False])
def test_toy_batch_equals_the_authors_loop(accumulate):
    keys = jax.vmap(lambda r: jax.random.fold_in(jax.random.key(11), r))(jnp.arange(2))
    gammas = np.array([0.0, 0.7])
    means, covs = fig._toy_batch(keys, jnp.asarray(gammas), jnp.asarray(accumulate),
                                 generations=9, n_real=6, n_synthetic=5, dim=2)
    for r in range(2):
        for gi, g in enumerate(gammas):
            ref_m, ref_c = _authors_loop(keys[r], g, generations=9, n_real=6, m=5, dim=2,
                                         accumulate=accumulate)
            np.testing.assert_allclose(np.asarray(means[r, gi]), ref_m, rtol=0, atol=1e-11)
            np.testing.assert_allclose(np.asarray(covs[r, gi]), ref_c, rtol=0, atol=1e-11)


def test_toy_w2_shape_and_common_random_numbers():
    # the shapes of the test above (one compilation)
    w = fig.toy_w2(3, (0.0, 1.0), replicates=3, generations=9, n_real=6, n_synthetic=5,
                   accumulate=True, batch=2)
    assert w.shape == (2, 3, 10)
    # bitwise: one compiled program; generation 0 reads the same real data for every γ
    np.testing.assert_array_equal(w[0, :, 0], w[1, :, 0])
    assert np.all(np.isfinite(w)) and np.all(w >= 0)


def test_measured_rate_is_k():
    lams, gams = np.array([0.05, 0.5, 1.5]), np.array([0.0, 1.0, 8.0])
    rate = fig.measured_population_rate(lams, gams)
    k = np.array([[cr.population_contraction(lam, g) for lam in lams] for g in gams])
    np.testing.assert_allclose(rate, k, rtol=1e-6)


def _read(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    head, body = rows[0], np.array(rows[1:], dtype=float)
    return {name: body[:, j] for j, name in enumerate(head)}


# The quick figures themselves are smoke-tested by tests/figures/test_figures.py; checking
# their plotted numbers reruns them, so these tests are in the slow tier.
@pytest.fixture(scope="module")
def quick_outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("gillman")
    return fig.main_toy(True, str(out)) + fig.main_stability(True, str(out))


@pytest.mark.slow
def test_quick_figures_write_png_and_csv(quick_outputs):
    pngs = [f for f in quick_outputs if f.endswith(".png")]
    assert len(pngs) == 2
    for f in pngs:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_stability_csv_boundary_is_lambda_max(quick_outputs):
    cols = _read([f for f in quick_outputs if f.endswith("gillman2024_stability.csv")][0])
    for r in (0.0, 0.5, 1.0):
        expect = [cr.lambda_max(g, 1.0, r, 1.0) for g in cols["gamma"]]
        np.testing.assert_allclose(cols[f"lambda_max_epsL_over_alpha_{r:g}"], expect,
                                   rtol=1e-15)
    rate_cols = [k for k in cols if k.startswith("rate_lambda_")]
    assert rate_cols and all(np.all(cols[k] < 1) for k in rate_cols)


@pytest.mark.slow
def test_toy_csv_accumulated_correction_helps(quick_outputs):
    """With the authors' accumulation, the late-generation mean W₂ at γ = 5 is below γ = 0
    (z-test at Z_TEST on the plotted means and SEs; the gap is ~10× larger than needed)."""
    cols = _read([f for f in quick_outputs if f.endswith("gillman2024_toy.csv")][0])
    last = -1
    diff = cols["accumulate_gamma0_mean"][last] - cols["accumulate_gamma5_mean"][last]
    se = math.hypot(cols["accumulate_gamma0_se"][last], cols["accumulate_gamma5_se"][last])
    assert diff > Z_TEST * se, (diff, se)
