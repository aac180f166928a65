"""figures/mixtures.py: registration, the density helper against theory.mixtures, and the
settings it shares with the claims. (The figures themselves run in quick mode under
``python -m figures --quick --only 'ferbach2024_mog*' ...``; tens of seconds each.)

Exact comparison: the numpy density and exp(theory.mixtures.mixture_logpdf) evaluate the same
float64 formula by different routes (solve vs Cholesky): relative 1e-12.
"""

import numpy as np
import pytest

import figures
from figures import mixtures as fm
from figures._registry import papers_of
from theory.mixtures import mixture_logpdf


@pytest.mark.parametrize("name,paper", [("ferbach2024_mog_curation", "ferbach2024"),
                                        ("ferbach2024_ten_class_bias", "ferbach2024"),
                                        ("shumailov2024_gmm_l2", "shumailov2024")])
def test_registered_with_paper_key(name, paper):
    assert name in figures.FIGURES
    assert papers_of(name) == (paper,)


def test_mixture_density_matches_logpdf():
    law = fm.mog_law()
    w, mu, cv = (np.asarray(a) for a in (law.weights, law.means, law.covs))
    cv = cv.copy()
    cv[2] = [[0.3, 0.1], [0.1, 0.2]]
    gx, gy = np.meshgrid(np.linspace(-5, 5, 7), np.linspace(-5, 5, 9))
    got = fm.mixture_density(gx, gy, w, mu, cv)
    want = np.exp(np.asarray(mixture_logpdf(np.stack([gx, gy], -1), w, mu, cv)))
    assert np.allclose(got, want, rtol=1e-12, atol=0)


def test_settings_put_two_modes_in_the_top_level_set():
    reward = fm.mog_reward()
    r = np.asarray(reward(np.asarray(fm.MOG_MEANS)))
    assert np.all(r[list(fm.MOG_TOP)] == 0.0)
    assert np.all(r[[j for j in range(5) if j not in fm.MOG_TOP]] < -2.5)
    assert fm.MOG_LAMBDA < 1 / (fm.MOG_K - 1)  # Theorem 2.4's condition


def test_ten_class_reward_is_one_hot_at_the_class_means():
    r = np.asarray(fm.ten_class_reward()(np.asarray(fm.TEN_MEANS)))
    assert r[0] == pytest.approx(fm.TEN_GAMMA, rel=1e-12)
    assert np.all(r[1:] < 1e-12)
