"""``run``'s engine dispatch: which engine runs a spec, what it returns, what it refuses."""

import numpy as np
import pytest

from simulations import LoopSpec, run
from simulations.gmm_loop import run_gmm
from simulations.mixture_trajectory import MixtureTrajectory
from simulations.run import resolve_engine

GAUSS = LoopSpec(dim=2, n_real=6, data="mix", generations=2, replicates=3,
                 correction_strength=1.0)
GMM = LoopSpec(dim=1, n_real=12, data="mix", model="gmm", components=2, em_iterations=3,
               generations=1, replicates=2)


def test_auto_is_samples_and_never_an_exact_only_engine():
    assert resolve_engine(GAUSS, "auto") == "samples"
    practical = GAUSS.replace(corrector="histogram")
    assert resolve_engine(practical, "auto") == "samples"
    assert resolve_engine(GMM, "auto") == "samples"
    for engine in ("sufficient", "population"):
        assert resolve_engine(GAUSS, engine) == engine
        with pytest.raises(ValueError, match="ideal corrector"):
            resolve_engine(practical, engine)
        with pytest.raises(ValueError, match="cannot run model='gmm'"):
            resolve_engine(GMM, engine)
    with pytest.raises(ValueError, match="engine must be one of"):
        resolve_engine(GAUSS, "exact")


def test_gmm_runs_through_run_gmm():
    for engine in ("auto", "samples"):
        traj = run(GMM, seed=4, engine=engine)
        assert isinstance(traj, MixtureTrajectory) and traj.engine == "gmm"
        direct = run_gmm(GMM, seed=4)
        for name in ("weights", "means", "covs", "loglik"):
            # bitwise: run() dispatches to run_gmm, the same compiled runner
            np.testing.assert_array_equal(getattr(traj, name), getattr(direct, name), name)
        assert traj.weights.shape == (2, 2, 2) and traj.means.shape == (2, 2, 2, 1)
