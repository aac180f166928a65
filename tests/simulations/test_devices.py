"""Multi-device runs: the replicate axis split over 4 simulated CPU devices gives the same
arrays, bit for bit, as one device (same seed).

Each configuration runs in a fresh Python process, because the device count is fixed when JAX
starts (``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before the first import).
Both runs use the CPU platform and the same XLA flags, so that only the device count differs.
The fast variant compiles at XLA optimization level 0 (compiling is most of this small test's
time); the slow one at the default level.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import assert_equal_to_rounding

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import sys
import jax
import numpy as np
from simulations import LoopSpec, run
from simulations.sweep import sweep

devices = int(sys.argv[2])
assert jax.device_count() == devices, jax.devices()
out = {}
spec = LoopSpec(dim=2, n_real=6, synthetic_ratio=0.5, data="mix", correction_strength=1.0,
                generations=3, replicates=13)
for engine, batch in (("samples", 4), ("sufficient", None)):
    traj = run(spec, seed=7, engine=engine, batch_size=batch)
    out[f"{engine}_means"], out[f"{engine}_covs"] = traj.means, traj.covs
# the sample-level sweep runs through run()'s batches (checked above); the sufficient sweep
# vmaps over a block of cells and shards its replicates
res = sweep(spec, {"temperature": [0.8, 1.1], "correction_strength": [0.0, 2.0]}, seed=3,
            engine="sufficient", chunk=20)
for name in res.metrics:
    out[f"sweep_{name}_mean"], out[f"sweep_{name}_se"] = res.mean[name], res.se[name]
np.savez(sys.argv[1], **out)
"""


def _start_child(path, devices, extra_flags):
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" {extra_flags}"
                        f" --xla_force_host_platform_device_count={devices}").strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(devices)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(proc, path, timeout=600):
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return dict(np.load(path))


@pytest.mark.multidevice
@pytest.mark.parametrize("extra_flags", [
    "--xla_backend_optimization_level=0",
    pytest.param("", marks=pytest.mark.slow, id="default-optimization")])
def test_four_devices_equal_one_device(tmp_path, extra_flags):
    children = {n: _start_child(tmp_path / f"{n}.npz", n, extra_flags)
                for n in (1, 4)}  # in parallel
    one = _result(children[1], tmp_path / "1.npz")
    four = _result(children[4], tmp_path / "4.npz")
    assert one.keys() == four.keys()
    for key in one:
        # bitwise: each device runs the single-device program on a batch of the same size
        # (simulations.sharding and run.batches: the same shapes, the same keys)
        np.testing.assert_array_equal(four[key], one[key], err_msg=key)


PROCESS_CHILD = r"""
import sys
import jax

rank, count, port = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if count > 1:
    jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=count,
                               process_id=rank, initialization_timeout=120)
assert (jax.process_index(), jax.process_count()) == (rank, count)
import numpy as np
from simulations import LoopSpec, replicate_keys
from simulations.run import engine_runner
from simulations.sharding import process_replicates

spec = LoopSpec(dim=2, n_real=6, synthetic_ratio=0.5, data="mix", correction_strength=1.0,
                generations=3, replicates=13)
start, size = process_replicates(spec.replicates)  # from jax.process_index() / process_count()
out = {"start": start}
for engine in ("samples", "sufficient"):
    fn, hyper = engine_runner(spec, engine)
    means, covs = fn(replicate_keys(7, size, start), hyper)
    out[f"{engine}_means"], out[f"{engine}_covs"] = np.asarray(means), np.asarray(covs)
np.savez(sys.argv[1], **out)
if count > 1:
    jax.distributed.shutdown()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.multidevice
def test_processes_of_a_distributed_run_concatenate_to_the_single_process_result(tmp_path):
    """The multi-host recipe of simulations.sharding on one machine: two processes joined by
    ``jax.distributed.initialize`` (a local coordinator) each run the replicate range of
    ``process_replicates`` through the engine's compiled runner; their outputs, concatenated in
    process order, equal one process's run of all replicates (bit for bit with the sufficient
    engine, to rounding with the samples engine)."""
    env = dict(os.environ)
    env["JAX_PLATFORMS"] = "cpu"
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    port = str(_free_port())
    runs = [(tmp_path / "single.npz", 0, 1), (tmp_path / "p0.npz", 0, 2),
            (tmp_path / "p1.npz", 1, 2)]
    procs = [subprocess.Popen([sys.executable, "-c", PROCESS_CHILD, str(path), str(rank),
                               str(count), port], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for path, rank, count in runs]
    try:
        single, p0, p1 = (_result(proc, path, timeout=240)
                          for proc, (path, _, _) in zip(procs, runs, strict=True))
    finally:  # a failed or hung process must not leave the others waiting on the coordinator
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert (int(p0["start"]), int(p1["start"])) == (0, 7)  # 13 replicates: 7 + 6
    for key in single:
        if key != "start":
            joined = np.concatenate([p0[key], p1[key]])
            if key.startswith("sufficient"):
                # bitwise, as simulations.run promises for the sufficient engine: a replicate's
                # numbers do not depend on its batch (batches of 7 and 6 against 13)
                np.testing.assert_array_equal(joined, single[key], err_msg=key)
            else:
                # the samples engine compiled for batches of 7, 6 and 13 is three programs,
                # which may vectorize (and contract into FMAs) differently: equal to rounding,
                # 16 ulps of the largest entry for each of the 4 fits a replicate goes through
                assert_equal_to_rounding(joined, single[key], 64, err_msg=key)
