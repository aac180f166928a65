"""``run(spec, seed)``: execute a :class:`LoopSpec` and return a :class:`Trajectory`."""

from __future__ import annotations

import math
import numbers
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from simulations.gaussian_loop import compiled_runner, hyper_of, static_of
from simulations.spec import LoopSpec
from simulations.trajectory import Trajectory

ENGINES = ("auto", "samples")

# Replicates per compiled batch are chosen so that one batch's working set stays near this.
_BATCH_BYTES = 256 * 2**20


def replicate_keys(seed: int, replicates: int, start: int = 0):
    """Typed keys ``fold_in(key(seed), r)`` for replicates ``start … start + replicates − 1``.

    A replicate's random stream depends only on (seed, replicate index), so results do not
    depend on how replicates are batched.
    """
    base = jax.random.key(seed)
    return jax.vmap(lambda r: jax.random.fold_in(base, r))(
        jnp.arange(start, start + replicates, dtype=jnp.uint32)
    )


def _default_batch(spec: LoopSpec) -> int:
    d, n, m, t = spec.dim, spec.n_real, spec.num_synthetic, spec.generations
    pool = spec.pool_size * d if spec.data == "accumulate_subsample" else 0
    per_step = (n + m) * d + 2 * d * d + pool
    per_rep = 8 * ((t + 1) * (d + d * d) + 4 * per_step)
    return int(max(1, min(spec.replicates, _BATCH_BYTES // max(per_rep, 1))))


def run(
    spec: LoopSpec,
    seed: int = 0,
    *,
    engine: str = "auto",
    batch_size: int | None = None,
    progress: bool = False,
) -> Trajectory:
    """Run ``spec.replicates`` independent replicates of the loop.

    Args:
        spec: the loop (validated :class:`LoopSpec`).
        seed: integer seed; replicate r uses ``fold_in(jax.random.key(seed), r)``.
        engine: ``"samples"`` draws every point (exact for every policy); ``"auto"`` picks the
            fastest exact engine available for the spec (currently ``"samples"``).
        batch_size: replicates per compiled batch (memory bound); results do not depend on it.
        progress: print one line per batch on stderr.

    Returns:
        A :class:`Trajectory` with ``means`` ``(R, T+1, d)`` and ``covs`` ``(R, T+1, d, d)``.
    """
    if not isinstance(spec, LoopSpec):
        raise TypeError(f"spec must be a LoopSpec, got {type(spec).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"seed must be in [0, 2**63), got {seed}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if batch_size is None:
        batch_size = _default_batch(spec)
    elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an integer, got {batch_size!r}")
    elif batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    batch_size = min(int(batch_size), spec.replicates)

    start = time.perf_counter()
    static, hyper = static_of(spec), hyper_of(spec)
    runner = compiled_runner(static)
    total = spec.replicates
    n_batches = math.ceil(total / batch_size)
    means, covs = [], []
    for b in range(n_batches):
        lo = b * batch_size
        keys = replicate_keys(int(seed), batch_size, lo)  # last batch padded to the same shape
        m, c = runner(keys, hyper)
        take = min(batch_size, total - lo)
        means.append(np.asarray(m[:take]))
        covs.append(np.asarray(c[:take]))
        if progress:
            print(f"  replicates {lo + take}/{total}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    return Trajectory(
        spec=spec,
        seed=int(seed),
        engine="samples",
        means=np.concatenate(means, axis=0),
        covs=np.concatenate(covs, axis=0),
        seconds=seconds,
    )
