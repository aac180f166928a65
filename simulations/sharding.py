"""The replicate axis over every local device: one program per device on its share of replicates.

Replicates are independent, so a batch of replicate keys is split along its leading axis over
the local devices (a one-axis :class:`jax.sharding.Mesh` named ``"replicates"``) and each device
runs the same per-replicate program (:func:`jax.shard_map`) on its slice. A replicate's random
stream depends only on its key ``fold_in(key(seed), r)``, and each device evaluates exactly the
per-replicate computation of the single-device program, so the results on N devices equal those
on one device for the same seed. Batches are padded to a multiple of the device count (the extra
replicates are computed and dropped). Nothing here assumes a platform: CPU, GPU or TPU devices
are whatever :func:`jax.local_devices` returns.

Simulated devices on one CPU (for tests): set ``XLA_FLAGS=--xla_force_host_platform_device_count=4``
in the environment before JAX starts.

Several hosts (jax.distributed): start every process with :func:`jax.distributed.initialize`
(coordinator address, number of processes, process id; automatic on Cloud TPU and SLURM). Each
process then shards its own replicates over its local devices as above. Since replicate r's stream
depends only on (seed, r), give process p the replicate range of :func:`process_replicates`
(computed from ``jax.process_index()`` and ``jax.process_count()``), build its keys with
``replicate_keys(seed, count, start)`` and run them with the engine's compiled
runner (or run one ``LoopSpec`` per range and concatenate): the concatenation over processes,
in process order, is the single-host result for the same seed (bit for bit with the sufficient
engine; with the samples engine to rounding, as its batch shapes differ). For sweeps, split
the grid's cells instead (a cell's keys depend only on (seed, cell index), see
:mod:`simulations.sweep`).
``tests/simulations/test_devices.py`` runs this recipe with two processes and a local
coordinator and checks the concatenation against one process.
"""

from __future__ import annotations

from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

AXIS = "replicates"


def device_count() -> int:
    """Number of local devices the replicate axis is split over."""
    return jax.local_device_count()


def padded_size(batch: int, devices: int | None = None) -> int:
    """``batch`` rounded up to a multiple of the device count."""
    n = device_count() if devices is None else devices
    return -(-int(batch) // n) * n


@lru_cache(maxsize=8)
def replicate_mesh(devices: int) -> Mesh:
    """A one-axis mesh (``"replicates"``) over the first ``devices`` local devices."""
    return Mesh(np.asarray(jax.local_devices()[:devices]), (AXIS,))


def shard_replicates(fn, axis: int = 0):
    """Jit ``fn(keys, hyper)``, splitting ``keys`` along ``axis`` over the local devices.

    ``fn`` maps a batch of keys (the replicate axis at ``axis``) and replicated
    hyperparameters to outputs whose axis ``axis`` is the replicate axis. With one device this
    is ``jax.jit(fn)``; with several the keys' axis must be a multiple of the device count
    (:func:`padded_size`) and ``jax.shard_map`` runs ``fn`` on each device's slice.
    """
    n = device_count()
    if n == 1:
        return jax.jit(fn)
    spec = P(*([None] * axis), AXIS)
    mapped = jax.shard_map(fn, mesh=replicate_mesh(n), in_specs=(spec, P()), out_specs=spec,
                           check_vma=False)
    return jax.jit(mapped)


def place_keys(keys, axis: int = 0):
    """Put a key batch on the devices, split along ``axis`` (a no-op with one device)."""
    n = device_count()
    if n == 1:
        return keys
    spec = P(*([None] * axis), AXIS)
    return jax.device_put(keys, NamedSharding(replicate_mesh(n), spec))


def replicate_keys(seed: int, replicates: int, start: int = 0):
    """Typed keys ``fold_in(key(seed), r)`` for replicates ``start … start + replicates − 1``.

    A replicate's random stream depends only on (seed, replicate index), so results do not
    depend on how replicates are batched, sharded or split over processes.
    """
    return _replicate_keys(jax.random.key(seed), int(replicates), jnp.uint32(start))


@partial(jax.jit, static_argnums=1)
def _replicate_keys(base, replicates: int, start):
    return jax.vmap(lambda r: jax.random.fold_in(base, r))(
        start + jnp.arange(replicates, dtype=jnp.uint32))


def process_replicates(total: int, process_index: int | None = None,
                       process_count: int | None = None) -> tuple[int, int]:
    """(start, count) of the replicates that process ``process_index`` runs out of ``total``.

    Contiguous, balanced ranges in process order (defaults: ``jax.process_index()`` and
    ``jax.process_count()``), so that concatenating the processes' results in order gives
    replicates 0 … total − 1.
    """
    p = jax.process_index() if process_index is None else int(process_index)
    k = jax.process_count() if process_count is None else int(process_count)
    if k < 1 or not 0 <= p < k:
        raise ValueError(f"process_index must be in [0, {k - 1}], got {p}")
    if isinstance(total, bool) or int(total) != total or total < 0:
        raise ValueError(f"total must be an integer >= 0, got {total!r}")
    base, extra = divmod(int(total), k)
    start = p * base + min(p, extra)
    return start, base + (1 if p < extra else 0)


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
