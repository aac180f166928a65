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


def _result(proc, path):
    _, err = proc.communicate(timeout=600)
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
        np.testing.assert_array_equal(four[key], one[key], err_msg=key)
