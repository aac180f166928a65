"""JAX engines for iterated maximum-likelihood fitting in self-consuming loops.

>>> from simulations import LoopSpec, run
>>> spec = LoopSpec(dim=2, n_real=50, synthetic_ratio=0.5, data="mix", generations=20,
...                 replicates=100)
>>> traj = run(spec, seed=0)
>>> traj.means.shape, traj.covs.shape
((100, 21, 2), (100, 21, 2, 2))

Importing it leaves ``jax.config`` as it was: every function computes in float64 in its own
scope (``theory/_x64.py``); :func:`enable_x64` turns 64-bit JAX on for the whole process.
"""

from simulations.gaussian_loop import trace_count  # noqa: E402
from simulations.run import ENGINES, replicate_keys, run  # noqa: E402
from simulations.spec import DATA_POLICIES, ESTIMATORS, MODELS, LoopSpec  # noqa: E402
from simulations.sweep import SweepResult, sweep  # noqa: E402
from simulations.trajectory import METRICS, Trajectory  # noqa: E402
from theory._x64 import enable_x64  # noqa: E402

__all__ = [
    "DATA_POLICIES",
    "ENGINES",
    "ESTIMATORS",
    "METRICS",
    "MODELS",
    "LoopSpec",
    "SweepResult",
    "Trajectory",
    "enable_x64",
    "replicate_keys",
    "run",
    "sweep",
    "trace_count",
]
