"""``run(spec, seed)``: execute a :class:`LoopSpec` with one of the engines, return a Trajectory.

Engines (each an initial state and a step function, ``vmap``-ed over replicates and
``lax.scan``-ed over generations, traced once per spec shape; the sufficient engine scans
blocks of generations whose random numbers are drawn together):

``"samples"`` (:mod:`simulations.gaussian_loop`)
    draws every point; exact for every policy, p_data, corrector and curation rule.
``"sufficient"`` (:mod:`simulations.sufficient_loop`)
    draws each batch's sample mean and scatter from their exact Normal–Wishart law; exact in
    law wherever that holds (Gaussian p_data, no finite-K curation, not
    ``"accumulate_subsample"``; a clear ``ValueError`` otherwise); cost flat in n.
``"population"`` (:mod:`simulations.population`)
    the deterministic n → ∞ map (moment matching); one replicate.
``"auto"``
    currently always ``"samples"``: the claims and figures run ``run(spec, seed)`` and their
    random streams (hence their recorded numbers) stay those of the sample-level engine. Pass
    ``engine="sufficient"`` for the fast exact engine.

``model="gmm"`` runs the Gaussian-mixture engine (:func:`simulations.gmm_loop.run_gmm`, which
draws every point: engine ``"samples"`` or ``"auto"``) and returns its
:class:`~simulations.mixture_trajectory.MixtureTrajectory`. The ``"sufficient"`` and
``"population"`` engines refuse it, and any point-wise corrector (``spec.corrector`` other than
``"ideal"``): they are exact for the ideal corrector π_γ of Gaussian models only.

Replicates are split over all local devices (:mod:`simulations.sharding`), one batch per device
and call, so the result does not depend on the number of devices; it does not depend on
``batch_size`` in law (bit for bit with the sufficient engine; the sample-level engine's
compiled program can round differently at large batch sizes).
"""

from __future__ import annotations

import numbers
import sys
import time
from functools import lru_cache

import jax
import numpy as np

from simulations import gaussian_loop, population, sharding, sufficient_loop
from simulations.gmm_loop import run_gmm
from simulations.sharding import replicate_keys
from simulations.spec import LoopSpec, check_seed
from simulations.trajectory import Trajectory

ENGINES = ("auto", "samples", "sufficient", "population")

# Replicates per compiled batch are chosen so that one batch's working set stays near this.
_BATCH_BYTES = 256 * 2**20


def resolve_engine(spec: LoopSpec, engine: str = "auto") -> str:
    """The engine that ``run(spec, engine=engine)`` uses; ``ValueError`` if it cannot run spec.

    ``"auto"`` resolves to ``"samples"`` (see the module docstring; for ``model="gmm"`` that is
    the mixture engine, which draws every point). ``"sufficient"`` and ``"population"`` are
    checked against the spec (:func:`sufficient_loop.check_sufficient`,
    :func:`population.check_population`: Gaussian models and the ideal corrector only), so
    ``"auto"`` never picks them for a spec they cannot run exactly.
    """
    if not isinstance(engine, str) or engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "auto":
        return "samples"
    if spec.model == "gmm" and engine != "samples":
        raise ValueError(f"engine={engine!r} cannot run model='gmm' (a mixture fitted by EM); "
                         "use engine='samples' or 'auto' (simulations.gmm_loop.run_gmm)")
    if engine == "sufficient":
        sufficient_loop.check_sufficient(spec)
    elif engine == "population":
        population.check_population(spec)
    return engine


def _per_replicate_bytes(spec: LoopSpec, engine: str) -> int:
    d, n, m, t = spec.dim, spec.n_real, spec.num_synthetic, spec.generations
    out = (t + 1) * (d + d * d)
    if engine == "samples":
        pool = spec.pool_size * d if spec.data == "accumulate_subsample" else 0
        work = 4 * ((n + m) * d + 2 * d * d + pool)
    else:
        work = 16 * d * d
    return 8 * (out + work)


def _default_batch(spec: LoopSpec, engine: str = "samples") -> int:
    per_rep = _per_replicate_bytes(spec, engine)
    return int(max(1, min(spec.replicates, _BATCH_BYTES // max(per_rep, 1))))


@lru_cache(maxsize=128)
def _sharded_samples_runner(static):
    def fn(keys, hyper):
        return jax.vmap(lambda k: gaussian_loop.replicate_trajectory(static, hyper, k))(keys)

    return sharding.shard_replicates(fn)


@lru_cache(maxsize=128)
def _sharded_sufficient_runner(static):
    return sharding.shard_replicates(
        lambda keys, hyper: sufficient_loop.batch_trajectories(static, keys, hyper))


def samples_runner(static):
    """The sample-level engine's compiled ``(keys, hyper) -> (means, covs)`` for ``static``
    (with several devices, one batch per device)."""
    if sharding.device_count() == 1:
        return gaussian_loop.compiled_runner(static)
    return _sharded_samples_runner(static)


def runner_for(engine: str, static):
    """The compiled ``(keys, hyper) -> (means, covs)`` of a sampling engine (``"samples"`` or
    ``"sufficient"``) for the shape ``static`` (one per shape, cached; sharded over the local
    devices when there are several)."""
    if engine == "samples":
        return samples_runner(static)
    if sharding.device_count() == 1:
        return sufficient_loop.compiled_runner(static)
    return _sharded_sufficient_runner(static)


def engine_runner(spec: LoopSpec, engine: str):
    """(compiled ``(keys, hyper) -> (means, covs)``, hyper) of a sampling engine for ``spec``."""
    module = gaussian_loop if engine == "samples" else sufficient_loop
    return runner_for(engine, module.static_of(spec)), module.hyper_of(spec)


def batches(seed: int, total: int, batch_size: int):
    """Yield ``(start, keys, takes)`` covering replicates ``0 … total − 1``.

    Each call of a compiled runner gets one batch of ``batch_size`` replicates per local
    device (keys ``fold_in(key(seed), r)``, placed so that device i holds batch i), so every
    device runs exactly the single-device program on its batch and results are the same on any
    number of devices. The last call is padded with further replicates, computed and dropped;
    ``takes`` lists how many replicates of each batch are kept.
    """
    per_call = batch_size * sharding.device_count()
    for lo in range(0, total, per_call):
        keys = sharding.place_keys(replicate_keys(seed, per_call, lo))
        takes = [min(batch_size, total - start)
                 for start in range(lo, min(lo + per_call, total), batch_size)]
        yield lo, keys, takes


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
        seed: integer seed; replicate r uses ``fold_in(jax.random.key(seed), r)`` and its
            generation t ``fold_in(·, t)``.
        engine: ``"samples"`` (draws every point, exact for every policy), ``"sufficient"``
            (draws the sufficient statistics, exact in law for Gaussian data and models with
            the ideal corrector, without finite-K curation or subsampling; cost flat in n),
            ``"population"`` (the deterministic n → ∞ map, one replicate) or ``"auto"``
            (currently ``"samples"``).
        batch_size: replicates per compiled batch and device (memory bound); results do not
            depend on it in law (see the module docstring).
        progress: print one line per batch on stderr.

    Returns:
        For ``model="gaussian"`` or ``"gaussian_mean"``: a :class:`Trajectory` with ``means``
        ``(R, T+1, d)`` and ``covs`` ``(R, T+1, d, d)`` (R = 1 for the population engine).
        For ``model="gmm"``: what :func:`simulations.gmm_loop.run_gmm` returns, a
        :class:`~simulations.mixture_trajectory.MixtureTrajectory` (``weights`` ``(R, T+1, m)``,
        ``means`` ``(R, T+1, m, d)``, ``covs`` ``(R, T+1, m, d, d)``, ``floored``,
        ``em_iterations``, ``loglik`` and ``loglik_start`` ``(R, T+1)``; ``engine == "gmm"``).

    Raises:
        ValueError: an unknown engine, or one that cannot run ``spec`` exactly (the message
            says why); a bad seed or batch size.
    """
    if not isinstance(spec, LoopSpec):
        raise TypeError(f"spec must be a LoopSpec, got {type(spec).__name__}")
    check_seed(seed)
    engine = resolve_engine(spec, engine)
    if spec.model == "gmm":
        return run_gmm(spec, int(seed), batch_size=batch_size, progress=progress)
    if batch_size is None:
        batch_size = _default_batch(spec, engine)
    elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an integer, got {batch_size!r}")
    elif batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    batch_size = min(int(batch_size), spec.replicates)

    start = time.perf_counter()
    if engine == "population":
        static = population.static_of(spec)
        means, covs = population.compiled_runner(static)(population.hyper_of(spec))
        return Trajectory(spec=spec, seed=int(seed), engine=engine, means=np.asarray(means),
                          covs=np.asarray(covs), seconds=time.perf_counter() - start)

    runner, hyper = engine_runner(spec, engine)
    total = spec.replicates
    means, covs = [], []
    for lo, keys, takes in batches(int(seed), total, batch_size):
        m, c = (np.asarray(x) for x in runner(keys, hyper))  # host arrays: numpy slices are
        for i, take in enumerate(takes):                     # views, a jax slice a dispatch
            means.append(m[i * batch_size:i * batch_size + take])
            covs.append(c[i * batch_size:i * batch_size + take])
        whole = len(takes) == 1 and takes[0] == m.shape[0]
        if progress:
            done = min(lo + len(takes) * batch_size, total)
            print(f"  replicates {done}/{total}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start

    def joined(parts):
        """One array, read-only: a single call's whole output as it is (no copy); a part of
        one is copied, so that it does not keep the padding and the other batches alive."""
        if len(parts) > 1:
            out = np.concatenate(parts, axis=0)
        else:
            out = parts[0] if whole else parts[0].copy()
        out.flags.writeable = False
        return out

    return Trajectory(
        spec=spec,
        seed=int(seed),
        engine=engine,
        means=joined(means),
        covs=joined(covs),
        seconds=seconds,
    )


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
