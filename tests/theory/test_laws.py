"""Real-data laws: densities against scipy, moments against sampling, validation.

Monte Carlo checks are z-tests with z = Z_TEST (two-sided false-failure probability ≈ 1e-6
per comparison); the seeds are fixed.
"""

import jax
import numpy as np
import pytest
from scipy import stats

from tests.helpers import TEST_SEED, Z_TEST
from theory.laws import (
    GaussianLaw,
    GaussianMixtureLaw,
    StudentTLaw,
    as_law,
    law_from_dict,
    sample_law,
)

COV = np.array([[1.0, 0.3], [0.3, 2.0]])
MIX = GaussianMixtureLaw([0.3, 0.7], [[0.0, 0.0], [2.0, 1.0]], [np.eye(2), [[1, 0.2], [0.2, 0.5]]])
T5 = StudentTLaw(5.0, [0.0, 1.0], COV)
X = np.array([[0.5, -1.0], [1.0, 2.0], [-3.0, 4.0]])


def _key(i):
    return jax.random.fold_in(jax.random.key(TEST_SEED), i)


def test_logpdf_matches_scipy():
    g = GaussianLaw([1.0, -1.0], COV)
    np.testing.assert_allclose(g.logpdf(X), stats.multivariate_normal([1, -1], COV).logpdf(X),
                               rtol=1e-12)
    ref = stats.multivariate_t(loc=[0, 1], shape=COV, df=5).logpdf(X)
    np.testing.assert_allclose(T5.logpdf(X), ref, rtol=1e-12)
    mix = (0.3 * stats.multivariate_normal([0, 0], np.eye(2)).pdf(X)
           + 0.7 * stats.multivariate_normal([2, 1], [[1, 0.2], [0.2, 0.5]]).pdf(X))
    np.testing.assert_allclose(MIX.logpdf(X), np.log(mix), rtol=1e-12)


def test_mixture_moments_closed_form():
    mean, cov = MIX.moments
    np.testing.assert_allclose(mean, [1.4, 0.7], rtol=1e-14)
    # Σ w_j (Σ_j + μ_j μ_jᵀ) − μμᵀ, written out by hand for this mixture
    second = 0.3 * np.eye(2) + 0.7 * (np.array([[1, 0.2], [0.2, 0.5]]) + np.outer([2, 1], [2, 1]))
    np.testing.assert_allclose(cov, second - np.outer(mean, mean), rtol=1e-14)
    np.testing.assert_allclose(T5.moments[1], 5 / 3 * COV, rtol=1e-14)


@pytest.mark.parametrize("law", [GaussianLaw([1.0, -1.0], COV), MIX, T5], ids=lambda v: v.kind)
def test_sample_moments(law):
    n = 200_000
    x = np.asarray(law.sample(_key(11), n))
    assert x.shape == (n, 2) and np.all(np.isfinite(x))
    mean, cov = law.moments
    # mean: SE from the law's own variance (exact)
    se = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(x.mean(0) - mean) <= Z_TEST * se)
    # variance of coordinate 0: SE from the sample fourth moment (finite for t_5)
    c = x[:, 0] - x[:, 0].mean()
    se_var = np.sqrt(np.var(c**2) / n)
    assert abs(np.mean(c**2) - cov[0, 0]) <= Z_TEST * se_var


def test_student_t_marginal_ks():
    law = StudentTLaw(4.0, [0.5], [[2.0]])
    x = np.asarray(law.sample(_key(3), 20_000))[:, 0]
    p = stats.kstest(x, stats.t(df=4, loc=0.5, scale=np.sqrt(2.0)).cdf).pvalue
    assert p > 1e-6


@pytest.mark.slow
def test_float32_sampling():
    x = MIX.sample(_key(0), 10, dtype="float32")
    assert x.dtype == np.float32
    assert sample_law("student_t", T5.params("float32"), _key(1), 4).dtype == np.float32


def test_round_trip_and_hashable():
    for law in (GaussianLaw([1.0], [[2.0]]), MIX, T5):
        assert law_from_dict(law.to_dict()) == law
        assert hash(law) == hash(law_from_dict(law.to_dict()))


def test_as_law_normalizes():
    assert as_law(None, 2) == GaussianLaw(np.zeros(2), np.eye(2))
    assert as_law((1.0, 2.0), 1) == GaussianLaw([1.0], [[2.0]])
    assert as_law({"kind": "student_t", "df": 3, "loc": [0], "scale": [[1]]}, 1).df == 3.0


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: StudentTLaw(2.0, [0.0], [[1.0]]), "df"),
        (lambda: StudentTLaw(float("nan"), [0.0], [[1.0]]), "df"),
        (lambda: GaussianLaw([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]), "positive definite"),
        (lambda: GaussianLaw([np.nan], [[1.0]]), "finite"),
        (lambda: GaussianMixtureLaw([0.5, 0.6], [[0.0], [1.0]], [[[1.0]], [[1.0]]]), "sum to 1"),
        (lambda: GaussianMixtureLaw([0.5, 0.5], [[0.0], [1.0]], [[[1.0]]]), "covs"),
        (lambda: as_law((np.zeros(3), np.eye(3)), 2), "shape"),
        (lambda: as_law(MIX, 3), "dimension"),
        (lambda: law_from_dict({"kind": "cauchy"}), "kind"),
    ],
)
def test_validation(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_type_errors():
    with pytest.raises(TypeError):
        as_law("normal", 1)
    with pytest.raises(TypeError):
        StudentTLaw("5", [0.0], [[1.0]])


def test_mixture_accepts_read_only_covariances():
    """A broadcast (read-only) covariance stack is copied, not written into."""
    covs = np.broadcast_to(np.eye(2), (3, 2, 2))
    law = GaussianMixtureLaw(np.ones(3) / 3, np.zeros((3, 2)), covs)
    assert np.allclose(law.moments[1], np.eye(2))
