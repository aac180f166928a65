"""``MixtureTrajectory``: the fitted mixtures of every replicate and generation, and metrics."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from theory._x64 import in_float64
from theory.distances import gaussian_w2_squared
from theory.mixtures import (
    match_components,
    mixture_l2_squared,
    mixture_moments,
    mixture_w2_squared,
    permute_components,
)

MIXTURE_METRICS = {
    "l2sq_to_initial": "∫(p_t − p_0)², squared L2 distance to the generation-0 fit (Shumailov "
                       "et al. 2024's GMM metric)",
    "l2sq_to_truth": "∫(p_t − p_data)² (p_data a Gaussian or a Gaussian mixture)",
    "mw2sq_to_truth": "mixture-Wasserstein MW₂²(p_t, p_data) (Delon & Desolneux 2020), an "
                      "upper bound on W₂²; a linear program per item (slow for big runs)",
    "mw2sq_to_initial": "MW₂²(p_t, p_0)",
    "w2sq_moments_to_target": "W₂² between the Gaussians with the moments of p_t and p_data "
                              "(Gelbrich's lower bound on W₂²(p_t, p_data))",
    "matched_mean_error2": "Σ_j ‖μ_π(j),t − μ*_j‖² after optimal matching π of the components "
                           "(p_data a mixture with the same number of components)",
    "matched_weight_error2": "Σ_j (w_π(j),t − w*_j)² after the same matching",
    "trace": "tr Cov(p_t), the total variance of the fitted mixture",
    "variance": "Cov(p_t)[0, 0]",
    "min_weight": "min_j w_j,t",
    "max_weight": "max_j w_j,t",
    "floored": "components floored or empty in the last M-step",
    "em_iterations": "EM iterations used",
    "loglik": "mean log-likelihood of the generation's training data at its fit",
    "loglik_start": "the same at EM's starting fit (θ_{t−1}; the k-means++ seeding at t = 0)",
    "reward": "E_{p_t}[r] = Σ_j w_j E_{N(μ_j, Σ_j)}[r] (linear and quadratic rewards)",
}


def truth_mixture(law):
    """(weights (m,), means (m, d), covs (m, d, d)) of a Gaussian or Gaussian-mixture law."""
    if law.kind == "gaussian":
        mean, cov = law.moments
        return np.ones(1), mean[None], cov[None]
    if law.kind == "gaussian_mixture":
        return (np.asarray(law.weights), np.asarray(law.means), np.asarray(law.covs))
    raise ValueError(f"this metric needs p_data to be a Gaussian or a Gaussian mixture, not "
                     f"{law.kind!r}")


_L2 = jax.jit(mixture_l2_squared)
_MOMENTS = jax.jit(mixture_moments)
_W2 = jax.jit(gaussian_w2_squared)


@dataclass
class MixtureTrajectory:
    """Result of :func:`simulations.gmm_loop.run_gmm`.

    Attributes:
        spec, seed: what was run.
        weights: ``(R, T+1, m)``; means ``(R, T+1, m, d)``; covs ``(R, T+1, m, d, d)``.
        floored: ``(R, T+1)`` components whose covariance floor applied or that were empty
            in the last M-step of that generation.
        em_iterations: ``(R, T+1)`` EM iterations (M-steps) used.
        loglik: ``(R, T+1)`` mean log-likelihood of the generation's training data.
        loglik_start: ``(R, T+1)`` the same at EM's starting point (the k-means++ seeding
            at generation 0, the warm start θ_{t−1} at t ≥ 1), so ``loglik >= loglik_start``
            is EM's monotonicity in the loop.
        seconds: wall-clock time of the run.
    """

    spec: object
    seed: int
    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    floored: np.ndarray
    em_iterations: np.ndarray
    loglik: np.ndarray
    loglik_start: np.ndarray | None = None
    seconds: float = 0.0
    engine: str = "gmm"
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def generations(self) -> np.ndarray:
        """Generation indices ``0 … T``."""
        return np.arange(self.weights.shape[1])

    @in_float64
    def matched(self, reference=None):
        """(weights, means, covs) with components permuted to best match ``reference`` means.

        ``reference``: ``(m, d)`` means; default the truth's (a mixture with m components).
        Label-free metrics need no matching; parameter errors do (label switching).
        """
        if reference is None:
            w_ref, reference, _ = truth_mixture(self.spec.truth)
            if w_ref.size != self.weights.shape[-1]:
                raise ValueError(f"matching to the truth needs a truth with "
                                 f"{self.weights.shape[-1]} components, got {w_ref.size}")
        perm = match_components(self.means, reference)
        return permute_components(perm, self.weights, self.means, self.covs)

    @in_float64
    def metric(self, name: str) -> np.ndarray:
        """A metric for every replicate and generation, shape ``(R, T+1)`` (see
        :data:`MIXTURE_METRICS`). Distances between mixtures are label-free."""
        if name not in MIXTURE_METRICS:
            raise ValueError(f"metric must be one of {tuple(MIXTURE_METRICS)}, got {name!r}")
        if name not in self._cache:
            self._cache[name] = np.asarray(self._compute(name))
        return self._cache[name]

    @in_float64
    def _compute(self, name):
        w, mu, cv = self.weights, self.means, self.covs
        if name in ("floored", "em_iterations", "loglik", "loglik_start"):
            if getattr(self, name) is None:
                raise ValueError(f"this trajectory has no {name!r} (not recorded)")
            return getattr(self, name)
        if name == "min_weight":
            return w.min(axis=-1)
        if name == "max_weight":
            return w.max(axis=-1)
        if name in ("trace", "variance", "w2sq_moments_to_target"):
            mean, cov = _MOMENTS(w, mu, cv)
            if name == "trace":
                return jnp.trace(cov, axis1=-2, axis2=-1)
            if name == "variance":
                return cov[..., 0, 0]
            tm = jnp.asarray(self.spec.truth_mean)
            tc = jnp.asarray(self.spec.truth_cov)
            return _W2(mean, cov, jnp.broadcast_to(tm, mean.shape),
                       jnp.broadcast_to(tc, cov.shape))
        if name == "l2sq_to_initial":
            return _L2(w, mu, cv, w[:, :1], mu[:, :1], cv[:, :1])
        if name == "l2sq_to_truth":
            tw, tm, tc = truth_mixture(self.spec.truth)
            return _L2(w, mu, cv, tw, tm, tc)
        if name in ("mw2sq_to_truth", "mw2sq_to_initial"):
            out = np.empty(w.shape[:2])
            for r in range(w.shape[0]):
                ref = (truth_mixture(self.spec.truth) if name == "mw2sq_to_truth"
                       else (w[r, 0], mu[r, 0], cv[r, 0]))
                for t in range(w.shape[1]):
                    out[r, t] = mixture_w2_squared(w[r, t], mu[r, t], cv[r, t], *ref)
            return out
        if name in ("matched_mean_error2", "matched_weight_error2"):
            tw, tm, _ = truth_mixture(self.spec.truth)
            mw, mm, _ = self.matched()
            if name == "matched_mean_error2":
                return np.sum((mm - tm) ** 2, axis=(-1, -2))
            return np.sum((mw - tw) ** 2, axis=-1)
        if name == "reward":
            reward = getattr(self.spec, "reward", None)
            if reward is None or not reward.has_closed_form:
                raise ValueError("metric 'reward' needs a spec with a linear or quadratic reward")
            per = np.asarray(reward.expected(jnp.asarray(mu), jnp.asarray(cv)))
            return np.sum(w * per, axis=-1)
        raise AssertionError(name)  # pragma: no cover

    @in_float64
    def mean_and_se(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean over replicates of a metric and its standard error, each ``(T+1,)``."""
        values = np.asarray(self.metric(name), dtype=np.float64)
        r = values.shape[0]
        se = values.std(axis=0, ddof=1) / np.sqrt(r) if r > 1 else np.full(values.shape[1], np.nan)
        return values.mean(axis=0), se

    def save(self, path: str | os.PathLike) -> None:
        """Write the arrays to ``path`` (NPZ) and the metadata beside it (JSON), atomically."""
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, suffix=".npz", delete=False) as fh:
            np.savez_compressed(fh, weights=self.weights, means=self.means, covs=self.covs,
                                floored=self.floored, em_iterations=self.em_iterations,
                                loglik=self.loglik, **({} if self.loglik_start is None else
                                                       {"loglik_start": self.loglik_start}))
            tmp = fh.name
        os.replace(tmp, path)
        meta = {"spec": self.spec.to_dict(), "seed": self.seed, "engine": self.engine,
                "seconds": self.seconds,
                "versions": {"jax": jax.__version__, "numpy": np.__version__}}
        with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".json", delete=False,
                                         encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2)
            tmp = fh.name
        os.replace(tmp, path[: -len(".npz")] + ".json")


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
