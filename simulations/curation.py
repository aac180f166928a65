"""K-choice curation (Ferbach et al. 2024, §2): keep one of K model samples, chosen by softmax(r).

A user shown K i.i.d. samples x_1 … x_K keeps x_k with probability
e^{r(x_k)} / Σ_j e^{r(x_j)} (the K-way Bradley–Terry / Luce choice). The kept point has density
p H^K_p with H^K_p(x) = E[K e^{r(x)} / (e^{r(x)} + Σ_{i<K} e^{r(x_i)})] (Lemma 2.1), and as
K → ∞ the exponential tilt p e^r / E_p[e^r].

The choice is drawn by the Gumbel-max trick, argmax_k (r(x_k) + G_k) with G_k i.i.d. Gumbel(0,
1), which has exactly the softmax law and never exponentiates r: rewards of size 10³ (or any
finite size) do not overflow. A NaN reward is treated as −∞ (never chosen); the engine checks
rewards at construction so that this does not happen silently for a valid reward.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from simulations import threefry
from theory.distances import sqrtm_psd
from theory.rewards import reward_tilt, reward_value

__all__ = ["curated_gaussian_draws", "select", "select_index"]


def select_index(key, rewards):
    """Index of the kept candidate along the last axis of ``rewards`` (shape (..., K))."""
    rewards = jnp.where(jnp.isnan(rewards), -jnp.inf, rewards)
    g = jax.random.gumbel(key, rewards.shape, rewards.dtype)
    return jnp.argmax(rewards + g, axis=-1)


def select(key, candidates, rewards):
    """The kept point of each group: candidates (..., K, d), rewards (..., K) → (..., d)."""
    idx = select_index(key, rewards)
    return jnp.take_along_axis(candidates, idx[..., None, None], axis=-2)[..., 0, :]


def curated_gaussian_draws(key, mean, root, size: int, k, reward_kind: str, reward_params,
                           reward=None):
    """``size`` curated points from N(mean, rootᵀ root): each the choice among ``k`` draws.

    Points are row vectors, x = mean + z·root with z ~ N(0, I_d), so the model's covariance is
    rootᵀ root for any square ``root`` (the convention of the engine's plain draws; the engine
    passes the symmetric Σ^{1/2}, for which rootᵀ root = root rootᵀ up to rounding). ``k`` is
    a static int ≥ 1 or ``float('inf')``; K = ∞ draws from the exact tilt of N(mean,
    rootᵀ root) (linear and quadratic rewards only). K = 1 returns plain draws (the same key
    use as K = 1 candidates).
    """
    d = mean.shape[-1]
    dt = mean.dtype
    if k == float("inf"):
        cov = root.T @ root  # the law of mean + z·root (row vectors)
        t_mean, t_cov = reward_tilt(reward_kind, reward_params, mean, cov)
        t_root = sqrtm_psd(t_cov)
        z = threefry.normal(key, (size, d), dt)
        return t_mean + z @ t_root
    k = int(k)
    k_z, k_pick = jax.random.split(key)
    z = threefry.normal(k_z, (size, k, d), dt)
    cand = mean + z @ root
    if k == 1:
        return cand[:, 0, :]
    r = reward_value(reward_kind, reward_params, cand, reward)
    return select(k_pick, cand, r)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
