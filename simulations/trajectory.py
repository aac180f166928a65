"""``Trajectory``: the fitted parameters of every replicate and generation, and their metrics."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from theory._x64 import in_float64
from theory.distances import gaussian_kl, gaussian_logdet, gaussian_w2_squared

METRICS = {
    "w2_to_target": "2-Wasserstein distance W₂(p_θt, p_θ*)",
    "w2sq_to_target": "squared 2-Wasserstein distance W₂²(p_θt, p_θ*)",
    "kl_to_target": "KL(p_θt ‖ p_θ*)",
    "kl_from_target": "KL(p_θ* ‖ p_θt)",
    "mean_error2": "squared mean error ‖μ_t − μ*‖²",
    "trace_ratio": "tr Σ_t / tr Σ*",
    "logdet_ratio": "log det Σ_t − log det Σ*",
    "variance": "Σ_t[0, 0] (the fitted variance of the first coordinate)",
    "reward": "E_{N(μ_t, Σ_t)}[r(x)], the fitted model's expected reward (closed form: linear "
              "and quadratic rewards)",
}


def _trace(c):
    return jnp.trace(c, axis1=-2, axis2=-1)


# name -> f(means, covs, target_mean, target_cov); each is jitted on its own, computed only
# when asked for (one closed form per XLA program).
_METRIC_FNS = {
    "w2_to_target": lambda m, c, tm, tc: jnp.sqrt(gaussian_w2_squared(m, c, tm, tc)),
    "w2sq_to_target": lambda m, c, tm, tc: gaussian_w2_squared(m, c, tm, tc),
    "kl_to_target": lambda m, c, tm, tc: gaussian_kl(m, c, tm, tc),
    "kl_from_target": lambda m, c, tm, tc: gaussian_kl(tm, tc, m, c),
    "mean_error2": lambda m, c, tm, tc: jnp.sum((m - tm) ** 2, axis=-1),
    "trace_ratio": lambda m, c, tm, tc: _trace(c) / _trace(tc),
    "logdet_ratio": lambda m, c, tm, tc: gaussian_logdet(c) - gaussian_logdet(tc),
    "variance": lambda m, c, tm, tc: c[..., 0, 0],
}
_JITTED = {name: jax.jit(fn) for name, fn in _METRIC_FNS.items()}


@dataclass
class Trajectory:
    """Result of :func:`simulations.run`.

    Attributes:
        spec: the :class:`~simulations.LoopSpec` that was run.
        seed: the integer seed.
        engine: the engine that produced it.
        means: ``(replicates, generations + 1, d)`` fitted means; index 0 is the real-data fit.
        covs: ``(replicates, generations + 1, d, d)`` fitted covariances. Arrays returned by
            :func:`simulations.run` are read-only (metrics are cached from them).
        seconds: wall-clock time of the run.
    """

    spec: object
    seed: int
    engine: str
    means: np.ndarray
    covs: np.ndarray
    seconds: float = 0.0
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def generations(self) -> np.ndarray:
        """Generation indices ``0 … T``."""
        return np.arange(self.means.shape[1])

    @in_float64
    def metric(self, name: str) -> np.ndarray:
        """A metric for every replicate and generation, shape ``(replicates, generations + 1)``.

        Names (see :data:`METRICS`): ``w2_to_target``, ``w2sq_to_target``, ``kl_to_target``,
        ``kl_from_target``, ``mean_error2``, ``trace_ratio``, ``logdet_ratio``, ``variance``,
        ``reward`` (E_{N(μ_t,Σ_t)}[r] for a spec with a linear or quadratic reward).
        The target θ* is the truth's mean and covariance. All are computed in closed form,
        batched in JAX; a degenerate (singular) fit gives ``inf`` KL and ``-inf`` log-det,
        never NaN.
        """
        if name not in METRICS:
            raise ValueError(f"metric must be one of {tuple(METRICS)}, got {name!r}")
        if name == "reward":
            return self._reward()
        if name not in self._cache:
            dt = self.means.dtype
            m, c = jnp.asarray(self.means), jnp.asarray(self.covs)
            tm = jnp.broadcast_to(jnp.asarray(self.spec.truth_mean, dt), m.shape)
            tc = jnp.broadcast_to(jnp.asarray(self.spec.truth_cov, dt), c.shape)
            self._cache[name] = np.asarray(_JITTED[name](m, c, tm, tc))
        return self._cache[name]

    @in_float64
    def _reward(self) -> np.ndarray:
        reward = getattr(self.spec, "reward", None)
        if reward is None:
            raise ValueError("metric 'reward' needs a spec with a reward")
        if not reward.has_closed_form:
            raise ValueError(
                f"metric 'reward' has a closed form only for linear and quadratic rewards, not "
                f"{reward.kind!r}")
        if "reward" not in self._cache:
            m, c = jnp.asarray(self.means), jnp.asarray(self.covs)
            self._cache["reward"] = np.asarray(reward.expected(m, c))
        return self._cache["reward"]

    @in_float64
    def mean_and_se(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean over replicates of a metric and its standard error, each ``(generations + 1,)``."""
        values = self.metric(name)
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
            np.savez_compressed(fh, means=self.means, covs=self.covs)
            tmp = fh.name
        os.replace(tmp, path)
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        meta = {
            "npz_sha256": digest,  # ties this metadata to the arrays written just before it
            "spec": self.spec.to_dict(),
            "seed": self.seed,
            "engine": self.engine,
            "seconds": self.seconds,
            "versions": {"jax": jax.__version__, "numpy": np.__version__},
        }
        with tempfile.NamedTemporaryFile(
            "w", dir=directory, suffix=".json", delete=False, encoding="utf-8"
        ) as fh:
            json.dump(meta, fh, indent=2)
            tmp = fh.name
        os.replace(tmp, path[: -len(".npz")] + ".json")


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
