"""theory.projection_strength.mixture_cdf against scipy (exact to float64 rounding)."""

import math

import numpy as np
import pytest
from scipy import stats

from theory.projection_strength import mixture_cdf


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 3.0, math.inf])
def test_mixture_cdf_matches_scipy(gamma):
    v = np.linspace(-4.0, 5.0, 37)
    t = 1.0 if math.isinf(gamma) else gamma / (1.0 + gamma)
    ref = (1 - t) * stats.norm.cdf(v, 0.4, 1.3) + t * stats.norm.cdf(v, -0.2, 0.8)
    got = np.asarray(mixture_cdf(v, 0.4, 1.3, -0.2, 0.8, gamma))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14)
