"""Rewards: values against direct numpy formulas, closed forms against Monte Carlo, validation.

Monte Carlo comparisons are z-tests with z = Z_TEST (false-failure 1e-6 each), fixed seeds.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from tests.helpers import TEST_SEED, Z_TEST
from theory.rewards import (
    ClassifierReward,
    FlatTopReward,
    LinearReward,
    QuadraticReward,
    as_reward,
    reward_from_dict,
)

X = np.array([[0.5, -1.0], [1.0, 2.0], [-3.0, 4.0], [1.0, 1.0]])


def test_values_against_numpy():
    np.testing.assert_allclose(LinearReward([2.0, -1.0], 0.5)(X), X @ [2.0, -1.0] + 0.5)
    a = np.array([[2.0, 0.3], [0.3, 1.0]])
    q = QuadraticReward([1.0, 0.0], a)(X)
    d = X - [1.0, 0.0]
    np.testing.assert_allclose(q, -0.5 * np.einsum("ri,ij,rj->r", d, a, d), rtol=1e-14)
    f = FlatTopReward([[0.0, 0.0], [1.0, 1.0]], 0.5, 3.0)(X)
    dist = np.min(np.linalg.norm(X[:, None, :] - np.array([[0, 0], [1, 1]]), axis=-1), axis=1)
    np.testing.assert_allclose(f, -3.0 * np.maximum(0.0, dist - 0.5), rtol=1e-14)
    assert float(f[3]) == 0.0  # r_* = 0 on the top level set
    covs = [np.eye(2), [[1.0, 0.2], [0.2, 0.5]]]
    c = ClassifierReward([0.3, 0.7], [[0, 0], [2, 1]], covs, component=1, scale=5.0)(X)
    p0 = 0.3 * stats.multivariate_normal([0, 0], covs[0]).pdf(X)
    p1 = 0.7 * stats.multivariate_normal([2, 1], covs[1]).pdf(X)
    np.testing.assert_allclose(c, 5.0 * p1 / (p0 + p1), rtol=1e-10)


def test_classifier_far_from_all_components_is_finite():
    r = ClassifierReward([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[1.0]]], component=0)
    v = np.asarray(r(np.array([[1e4], [-1e4]])))
    assert np.all(np.isfinite(v)) and v[0] < 1e-6 and v[1] > 1 - 1e-6


def test_expected_reward_against_monte_carlo():
    mean, cov = np.array([0.5, -0.2]), np.array([[1.0, 0.4], [0.4, 2.0]])
    x = np.asarray(jax.random.multivariate_normal(
        jax.random.fold_in(jax.random.key(TEST_SEED), 7), mean, cov, (400_000,)))
    for r in (LinearReward([1.0, 2.0], -1.0), QuadraticReward([1.0, 1.0], [[2.0, 0], [0, 0.5]])):
        values = np.asarray(r(x))
        se = values.std(ddof=1) / np.sqrt(values.size)
        assert abs(values.mean() - float(r.expected(mean, cov))) <= Z_TEST * se


def test_tilt_batched_and_singular_matrix():
    r = QuadraticReward([0.0, 0.0], [[1.0, 0.0], [0.0, 0.0]])  # PSD, singular
    means = jnp.zeros((3, 2))
    covs = jnp.broadcast_to(jnp.eye(2), (3, 2, 2))
    m, c = r.tilt(means, covs)
    np.testing.assert_allclose(c[0], np.diag([0.5, 1.0]), rtol=1e-14)
    assert m.shape == (3, 2)
    with pytest.raises(ValueError, match="linear and quadratic"):
        FlatTopReward([[0.0]], 1.0).tilt(jnp.zeros(1), jnp.eye(1))


def test_round_trip_and_hash():
    for r in (LinearReward([1.0, 2.0], 0.5), QuadraticReward([0.0], 2.0),
              FlatTopReward([[0.0, 1.0]], 0.5), ClassifierReward([1.0], [[0.0]], [[[1.0]]], 0)):
        assert reward_from_dict(r.to_dict()) == r
        assert hash(r) == hash(reward_from_dict(r.to_dict()))


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: LinearReward([np.inf]), "finite"),
        (lambda: QuadraticReward([0.0, 0.0], [[-1.0, 0.0], [0.0, 1.0]]), "semi-definite"),
        (lambda: QuadraticReward([0.0], [[1.0, 0.0], [0.0, 1.0]]), "shape"),
        (lambda: FlatTopReward([[0.0]], -1.0), "radius"),
        (lambda: FlatTopReward([[0.0]], 1.0, slope=0.0), "slope"),
        (lambda: ClassifierReward([1.0], [[0.0]], [[[1.0]]], component=2), "component"),
        (lambda: reward_from_dict({"kind": "sigmoid"}), "kind"),
        (lambda: as_reward(LinearReward([1.0]), 2), "dimension"),
        (lambda: as_reward(lambda x: jnp.inf, 1), "finite"),
        (lambda: as_reward(lambda x: x.reshape(3), 1), "real number"),
    ],
)
def test_validation(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_type_errors():
    with pytest.raises(TypeError):
        as_reward(42, 1)
    with pytest.raises(TypeError):
        LinearReward([1.0], offset="0")
