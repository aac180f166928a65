"""Ferbach et al. 2024 figures: the plotted numbers equal the theory they claim to show.

(The generic quick-mode smoke test of every registered figure, including
``ferbach2024_contrast`` with its engine band, is tests/figures/test_figures.py.)
"""

import csv
import math

import numpy as np

from figures import ferbach2024 as ff
from theory import curation as cu


def _read(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return {name: np.array([float(r[i]) for r in rows[1:]]) for i, name in enumerate(rows[0])}


def test_reward_figure_numbers(tmp_path):
    files = ff.reward_figure(True, str(tmp_path))
    assert any(f.endswith(".png") for f in files)
    cols = _read([f for f in files if f.endswith(".csv")][0])
    x, p = ff.discretised_normal()
    r = -np.abs(x - 1.5)
    t = cols["iteration"].astype(int)
    # K = 1 leaves p unchanged; K = ∞ pure is p_0 e^{tr}/Z; the curves are ordered in K
    np.testing.assert_allclose(cols["pure_K1"], p @ r, rtol=1e-12)
    np.testing.assert_allclose(cols["pure_Kinf"], cu.tilt_power(p, r, t) @ r, rtol=1e-10)
    for mode in ("pure", "mixed"):
        curves = [cols[f"{mode}_K{k}"] for k in (1, 2, 4, 10, "inf")]
        for lo, hi in zip(curves[:-1], curves[1:], strict=True):
            assert np.all(hi[1:] > lo[1:])
        assert np.all(np.diff(cols[f"{mode}_K2"]) >= -1e-12)
    assert np.all(cols["mixed_K2"] <= cols["mixed_K2_ceiling"])


def test_kl_figure_numbers(tmp_path):
    files = ff.kl_figure(True, str(tmp_path))
    cols = _read([f for f in files if f.endswith(".csv")][0])
    t = cols["iteration"]
    outside = cu.tilt_power(ff.KL_P0, ff.KL_R, t.astype(int))[:, 1:].sum(axis=1)
    np.testing.assert_allclose(cols["kl_Kinf"], -np.log1p(-outside), rtol=1e-10)
    for k in (2, 3, 10, "inf"):
        rho = cu.top_level_contraction(math.inf if k == "inf" else k, 0.5)
        pred = cols[f"predicted_rate_K{k}"]
        np.testing.assert_allclose(pred[1:] / pred[:-1], rho, rtol=1e-12)
        # late-time: the exact curve follows the predicted rate (ratio → ρ_K)
        kl = cols[f"kl_K{k}"]
        assert abs(kl[-1] / kl[-2] - rho) < 1e-3


def test_nonparametric_linear_first_step_is_the_selection_moments():
    """From a Gaussian p_0 the first curated law has mean m_K(1) and variance v_K(1), whatever
    the model class: the nonparametric grid route equals the Gaussian-family quadrature."""
    for k in (2, 4):
        mean, var = ff.nonparametric_linear(k, 1)
        m, v = cu.selection_moments(1.0, k)
        assert abs(mean[0]) < 1e-12 and abs(var[0] - 1) < 1e-12
        assert abs(mean[1] - m) < 1e-10 and abs(var[1] - v) < 1e-10
