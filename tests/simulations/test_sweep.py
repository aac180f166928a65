"""Sweeps: grid layout, per-cell reproducibility, compilations, chunk invariance, save/resume
(in process and after a subprocess killed by SIGKILL or SIGINT), refusals.

Every comparison here is exact (same seeds, same compiled programs): no statistics.
"""

import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulations import LoopSpec, run
from simulations import gaussian_loop as gl
from simulations import sufficient_loop as sl
from simulations.sweep import SweepResult, cell_seed, sweep
from theory.rewards import LinearReward

ROOT = Path(__file__).resolve().parents[2]
TRUTH = ([0.5, -1.0], [[1.5, 0.4], [0.4, 0.8]])
# d = 2, mix, T = 3, R = 2000: the shape of test_sufficient.py's fast agreement group (its
# compiled programs are shared within a test session).
BASE = LoopSpec(dim=2, n_real=8, synthetic_ratio=0.5, data="mix", generations=3,
                replicates=2000, truth=TRUTH)
SUFFICIENT_GRID = {"synthetic_ratio": [0.5, 1.0], "correction_strength": [0.0, 1.0, math.inf],
                   "n_real": [10, 23]}
SAMPLES_GRID = {"correction_strength": [0.0, 2.0], "estimator": ["mle", "unbiased"]}
# one shape (n, m fixed): one compiled group
# a cheap shape (known covariance, no correction) for the chunk and resume tests
CHEAP = LoopSpec(dim=1, n_real=6, data="mix", model="gaussian_mean", generations=3,
                 replicates=2500)
CHEAP_GRID = {"synthetic_ratio": [0.5, 2.0], "temperature": [0.7, 1.0, 1.3]}
CHEAP_METRICS = ("mean_error2", "w2_to_target")


def _assert_same(a, b):
    # bitwise: used where the same compiled cell programs run on the same replicates in
    # other calls (chunks, resumed runs); summaries are taken in fixed 1024-replicate pieces,
    # by design, so the summation order does not depend on the chunk
    assert a.metrics == b.metrics
    for name in a.metrics:
        np.testing.assert_array_equal(a.mean[name], b.mean[name], err_msg=name)
        np.testing.assert_array_equal(a.se[name], b.se[name], err_msg=name)


def _check_cells_against_run(res, engine, cells):
    """Cell c is run(cell_spec(c), seed=cell_seed(seed, c)): the same replicates, so the same
    mean and SE up to summation order (Welford vs two-pass: relative error ≤ 40 R ε ≈ 2e-11
    at R = 2000, plus the SE's square root)."""
    for c in cells:
        traj = run(res.cell_spec(c), seed=cell_seed(res.seed, c), engine=engine)
        for name in res.metrics:
            m, se = traj.mean_and_se(name)
            np.testing.assert_allclose(res.mean[name].reshape(-1, m.size)[c], m,
                                       rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(res.se[name].reshape(-1, m.size)[c], se,
                                       rtol=1e-9, atol=1e-14)


def test_sufficient_grid_is_one_compilation_and_cells_reproduce_run():
    before = sl.trace_count()
    res = sweep(BASE, SUFFICIENT_GRID, seed=5, engine="sufficient")
    assert res.groups == 1 and sl.trace_count() - before <= 1
    assert res.shape == (2, 3, 2) and res.cells == 12 and res.computed == 12
    assert res.mean["w2_to_target"].shape == (2, 3, 2, 4)
    assert res.index(7) == {"synthetic_ratio": 1.0, "correction_strength": 0.0, "n_real": 23}
    assert res.cell_spec(7).n_real == 23 and res.cell_spec(7).correction_strength == 0.0
    assert np.all(res.done) and np.all(res.engines == "sufficient")
    # γ = 0 cells ran in the corrected group: they must still equal their own run()
    _check_cells_against_run(res, "sufficient", [0, 5, 7, 11])


@pytest.mark.slow
def test_samples_grid_groups_by_shape_and_cells_reproduce_run():
    before = gl.trace_count()
    res = sweep(BASE, SAMPLES_GRID, seed=2, engine="samples")
    assert res.groups == 1 and gl.trace_count() - before <= 1
    _check_cells_against_run(res, "samples", [1, 2])
    shapes = sweep(CHEAP.replace(replicates=4, generations=1),
                   {"synthetic_ratio": [0.5, 1.0], "temperature": [1.0, 1.1]}, engine="samples")
    assert shapes.groups == 2  # m = ⌊λ n⌋ ∈ {3, 6} is a shape of the sample-level engine


def test_results_do_not_depend_on_the_chunk():
    """chunk = R (one call per cell) against chunk = 700 (calls of 700 replicates, whose
    boundaries cut the summaries' 1024-replicate pieces): identical bits."""
    a = sweep(CHEAP, CHEAP_GRID, seed=5, engine="sufficient", metrics=CHEAP_METRICS,
              chunk=CHEAP.replicates)
    b = sweep(CHEAP, CHEAP_GRID, seed=5, engine="sufficient", metrics=CHEAP_METRICS, chunk=700)
    _assert_same(a, b)
    assert np.all(np.isfinite(a.mean["w2_to_target"])) and np.all(a.se["w2_to_target"] > 0)


def test_save_resume_in_process(tmp_path):
    path = tmp_path / "grid.npz"
    full = sweep(CHEAP, CHEAP_GRID, seed=5, engine="sufficient", metrics=CHEAP_METRICS)

    calls = []

    def interrupt(done, total):
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(CHEAP, CHEAP_GRID, seed=5, engine="sufficient", metrics=CHEAP_METRICS, path=path,
              progress=interrupt)
    saved = SweepResult.load(path)
    assert saved.done.sum() == calls[-1] == 2  # the file is saved after every finished cell
    assert sorted(os.listdir(tmp_path)) == ["grid.npz"]  # atomic: no temporary file left
    resumed = sweep(CHEAP, CHEAP_GRID, seed=5, engine="sufficient", metrics=CHEAP_METRICS,
                    path=path)
    assert resumed.computed == 4  # the two finished cells were not recomputed
    _assert_same(resumed, full)
    loaded = SweepResult.load(path)
    _assert_same(loaded, full)
    assert loaded.over == full.over and loaded.shape == full.shape
    again = sweep(CHEAP, CHEAP_GRID, seed=5, engine="sufficient", metrics=CHEAP_METRICS,
                  path=path)
    assert again.computed == 0
    with pytest.raises(ValueError, match="different sweep"):
        sweep(CHEAP, CHEAP_GRID, seed=6, engine="sufficient", metrics=CHEAP_METRICS, path=path)


CHILD = r"""
import os, signal, sys
# a shell starts background jobs (e.g. a CI runner's) with SIGINT ignored and children inherit
# that; restore Python's Ctrl-C handler, which a terminal would give
signal.signal(signal.SIGINT, signal.default_int_handler)
from simulations import LoopSpec
from simulations.sweep import sweep

path, how, stop = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = LoopSpec(dim=1, n_real=6, data="mix", model="gaussian_mean", generations=3,
                replicates=2500)
grid = {"synthetic_ratio": [0.5, 2.0], "temperature": [0.7, 1.0, 1.3]}
saves = []
if how == "SIGKILL":  # killed inside a save: the temporary file is written, not yet renamed
    replace = os.replace

    def dying_replace(src, dst):
        saves.append(dst)
        if len(saves) == stop:
            os.kill(os.getpid(), signal.SIGKILL)
        replace(src, dst)

    os.replace = dying_replace


def progress(done, total):
    if how == "SIGINT" and done == stop:
        os.kill(os.getpid(), signal.SIGINT)


sweep(spec, grid, seed=5, engine="sufficient", metrics=("mean_error2", "w2_to_target"),
      path=path, progress=progress)
"""


def test_resume_after_sigkill_and_sigint(tmp_path):
    """Two subprocesses run the CHEAP sweep with a file: one is killed by SIGKILL during its
    3rd save (after writing the temporary file, before renaming it: 2 cells are in the file),
    the other gets SIGINT after its 4th cell. A rerun here computes only the missing cells and
    gives exactly the uninterrupted result."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    jobs = {how: (tmp_path / how, stop) for how, stop in (("SIGKILL", 3), ("SIGINT", 4))}
    procs = {}
    for how, (folder, stop) in jobs.items():
        folder.mkdir()
        procs[how] = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(folder / "grid.npz"), how, str(stop)], cwd=ROOT,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        full = sweep(CHEAP, CHEAP_GRID, seed=5, engine="sufficient", metrics=CHEAP_METRICS)
        errs = {how: proc.communicate(timeout=600)[1] for how, proc in procs.items()}
    finally:  # never leave a child (or its pipes) behind
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
    for how, proc in procs.items():
        err = errs[how]
        assert proc.returncode == -getattr(signal, how), (how, proc.returncode, err[-2000:])
    for how, (folder, stop) in jobs.items():
        path = folder / "grid.npz"
        finished = stop - 1 if how == "SIGKILL" else stop
        assert SweepResult.load(path).done.sum() == finished, how
        resumed = sweep(CHEAP, CHEAP_GRID, seed=5, engine="sufficient", metrics=CHEAP_METRICS,
                        path=path)
        assert resumed.computed == full.cells - finished, how
        _assert_same(resumed, full)


PRACTICAL = LoopSpec(dim=2, n_real=6, data="mix", generations=3, replicates=50,
                     correction_strength=1.0, corrector="histogram")


def test_practical_corrector_is_refused_by_the_exact_engines():
    with pytest.raises(ValueError, match=r"cell 0 .*ideal corrector.*'histogram'"):
        sweep(PRACTICAL, {"correction_strength": [0.5]}, engine="sufficient")
    with pytest.raises(ValueError, match=r"cell 0 .*ideal corrector.*'histogram'"):
        sweep(PRACTICAL, {"correction_strength": [0.5, 2.0]}, engine="population")


@pytest.mark.slow
def test_practical_corrector_sweeps_through_the_samples_engine():
    spec = PRACTICAL
    res = sweep(spec, {"correction_strength": [0.5, 2.0]}, seed=1, metrics=("trace_ratio",))
    assert np.all(res.engines == "samples")
    traj = run(res.cell_spec(1), seed=cell_seed(1, 1))
    np.testing.assert_allclose(res.mean["trace_ratio"][1], traj.mean_and_se("trace_ratio")[0],
                               rtol=1e-12)


def test_population_sweep_and_reward_metric():
    spec = LoopSpec(dim=2, data="mix", generations=6, curation_k=math.inf,
                    reward=LinearReward([0.5, 0.2]))
    res = sweep(spec, {"synthetic_ratio": [0.3, 1.0, 2.0], "temperature": [0.9, 1.1]},
                engine="population", metrics=("reward", "w2_to_target"))
    assert res.groups == 1 and np.all(res.se["reward"] == 0)
    traj = run(res.cell_spec(4), engine="population")
    np.testing.assert_allclose(res.mean["reward"].reshape(6, -1)[4], traj.metric("reward")[0],
                               rtol=1e-13)
    np.testing.assert_allclose(res.mean["w2_to_target"].reshape(6, -1)[4],
                               traj.metric("w2_to_target")[0], rtol=1e-13, atol=1e-15)


def test_validation_names_the_argument():
    with pytest.raises(ValueError, match="unknown field 'lambda'"):
        sweep(BASE, {"lambda": [1.0]})
    with pytest.raises(ValueError, match="'generations' cannot be swept"):
        sweep(BASE, {"generations": [1, 2]})
    with pytest.raises(ValueError, match="must not be empty"):
        sweep(BASE, {"temperature": []})
    with pytest.raises(ValueError, match="metric must be one of"):
        sweep(BASE, {"temperature": [1.0]}, metrics=("w3",))
    with pytest.raises(ValueError, match="chunk must be >= 1"):
        sweep(BASE, {"temperature": [1.0]}, chunk=0)
    with pytest.raises(ValueError, match=r"cell 1 \(data='accumulate_subsample'\).*sufficient"):
        sweep(BASE, {"data": ["mix", "accumulate_subsample"]}, engine="sufficient")
    with pytest.raises(ValueError, match="temperature"):
        sweep(BASE, {"temperature": [1.0, -1.0]})
    with pytest.raises(TypeError, match="over"):
        sweep(BASE, [("temperature", [1.0])])
    with pytest.raises(ValueError, match="model='gmm'"):
        sweep(BASE, {"model": ["gmm"], "components": [2]})
