"""Smoke test of the benchmark: ``main(["--quick"])`` runs every measurement at tiny sizes,
prints the table and writes the JSON.

The quick benchmark's child process compiles at XLA optimization level 0 (set in its
environment here): the smoke test checks that every measurement runs and is reported, not its
value, and compiling is most of a tiny job's time."""

import json
import os

import numpy as np
import pytest

from simulations.bench import main, numpy_loop


# slow tier: test_numpy_baseline_runs_the_same_loop_as_the_engine stays in the default tier and
# CI runs `selfconsuming bench --quick`
@pytest.mark.slow
def test_quick_benchmark_prints_and_writes_every_measurement(tmp_path, capsys, monkeypatch):
    flags = os.environ.get("XLA_FLAGS", "")
    monkeypatch.setenv("XLA_FLAGS", f"{flags} --xla_backend_optimization_level=0".strip())
    out = tmp_path / "bench.json"
    assert main(["--quick", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = json.loads(out.read_text())["rows"]
    names = [r["name"] for r in rows]
    for expected in ("samples / RNG floor", "NumPy loop / samples", "samples / sufficient",
                     "sufficient cost n=1e6 / n=10", "peak memory", "mixture loop"):
        assert any(expected in name for name in names), expected
        assert expected in printed
    assert all(r["status"] in ("", "n/a (quick)") for r in rows)  # targets are for full sizes
    for r in rows:
        assert isinstance(r["value"], float) and r["value"] > 0, r


def test_numpy_baseline_runs_the_same_loop_as_the_engine():
    """The baseline and the sample-level engine compute the same loop (fully synthetic, MLE),
    so the benchmark compares like with like: KS two-sample tests on tr Σ_T and μ_T[0]
    (false-failure probability 1e-6 in all)."""
    from scipy import stats

    from simulations import LoopSpec, run

    reps, t, n = 2000, 2, 20
    means, covs = numpy_loop(R=reps, T=t, n=n, d=2, seed=1)
    traj = run(LoopSpec(dim=2, n_real=n, data="replace", generations=t, replicates=reps),
               seed=1, engine="samples")
    for a, b in ((np.trace(covs[:, t], axis1=-2, axis2=-1),
                  np.trace(traj.covs[:, t], axis1=-2, axis2=-1)),
                 (means[:, t, 0], traj.means[:, t, 0])):
        assert stats.ks_2samp(a, b).pvalue > 0.5e-6


def test_timed_calls_until_min_seconds_and_returns_the_best():
    """_timed makes the first call, then at least ``repeat`` calls and more until they add
    up to ``min_seconds``; it returns the fastest of the later calls."""
    import time

    from simulations.bench import _timed

    durations = []

    def fn():
        t0 = time.perf_counter()
        time.sleep(0.002 if len(durations) % 2 else 0.004)
        durations.append(time.perf_counter() - t0)
        return np.zeros(())

    first, best = _timed(fn, repeat=3, min_seconds=0.05)
    later = durations[1:]
    assert len(later) >= 3
    assert sum(later) >= 0.05 - 1e-3 * len(later)  # the timer brackets each call
    assert sum(later[:-1]) < 0.05  # and it stopped at the first call past the budget
    assert best <= min(later) + 1e-3 and first >= durations[0] - 1e-3
