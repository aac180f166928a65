"""Performance of the engines, measured in one run and printed as a table.

``python -m simulations.bench [--quick] [--json PATH]``; :func:`add_subcommand` registers the
same command as ``selfconsuming bench``.

Measurements (wall-clock, after a warm-up call that compiles; compile times are listed apart):

1. the sample-level engine against a per-replicate NumPy loop written as published experiment
   code does (for each replicate, for each generation: ``numpy.random.multivariate_normal``
   draws and a ``numpy`` fit), on the same workload (R = 1000, T = 100, n = 1000, d = 2,
   fully synthetic "replace" loop; ``--quick``: R = 32, T = 10, n = 200);
2. the sample-level engine against the random-number floor: a jitted JAX function that draws
   the same count of normals, in the same (d, n) layout and with the same key structure (vmap
   over replicates, scan over generations), and only sums them, with the engines' generator
   (:func:`simulations.threefry.normal`; the target's floor) and with ``jax.random.normal``
   (the same bits through JAX's own CPU lowering, listed for comparison);
3. the sufficient engine against the sample-level engine at n ∈ {10², 10³, 10⁴, 10⁵}
   ("mix", λ = 1), per replicate-generation, each the best of its calls over at least
   :data:`MIN_SECONDS` (and at least three calls: about 70 calls of the sufficient engine,
   three of the sample-level one); and the sufficient engine's cost at n = 10⁶ against
   n = 10 (flat in n);
4. a sweep of a 1000-cell grid (λ × γ × n, 10 values each) × 1000 replicates × 100
   generations, d = 2, sufficient engine, in a fresh process: wall time (compilation
   included) and peak resident memory (``resource.getrusage``);
5. peak resident memory of ``run`` with R = 10⁵ (its output alone is R (T+1)(d + d²) floats)
   and of a one-cell sweep with R = 10⁶ (summaries only), each in a fresh process (``--quick``
   runs the three jobs of 4–5 in one process: a smoke test of the code path, not a
   measurement);
6. the mixture loop (:func:`simulations.gmm_loop.run_gmm`): a 2-D mixture of 5 components,
   n = 1000, T = 100, R = 256, fully synthetic, the default EM budget, wall time of one call
   compilation included (``--quick``: R = 8, T = 5, n = 200);
7. accumulate-subsample (d = 7, n = 89, T = 100, R = 200; ``--quick``: d = 7, n = 20, T = 10,
   R = 8) against a per-replicate NumPy loop that keeps the pool and draws the subsample with
   ``Generator.choice(replace=False)``, per replicate-generation;
8. break-even of the samples engine against the per-replicate NumPy loop of measurement 1 at
   d = 2, n = 100, T = 50 ("replace"): the replicate-generations at which compilation plus
   compiled run equals the NumPy loop, compile / (NumPy − engine) per replicate-generation, with
   an empty compilation cache (the bench never uses the cache).

Targets (for the full sizes): samples ≤ 1.3× the RNG floor and ≥ 3× faster than the NumPy
loop; sufficient ≥ 100× faster than samples at n = 1000 and its cost at n = 10⁶ within 1.5× of
n = 10; the sweep in < 5 min and < 2 GB; the mixture loop in < 2 min; accumulate-subsample
≥ 10× faster than its NumPy loop; break-even below 20 000 replicate-generations. Missed targets are
printed as such. Nothing here assumes a platform: the table's header names the JAX devices.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

FULL = dict(R=1000, T=100, n=1000, d=2, ns=(10**2, 10**3, 10**4, 10**5), suff_R=1000,
            samples_points=4 * 10**8, grid=10, sweep_R=1000, sweep_T=100, big_R=10**5,
            huge_R=10**6, gmm_R=256, gmm_T=100, gmm_n=1000)
QUICK = dict(R=32, T=10, n=200, d=2, ns=(10**2,), suff_R=64, samples_points=2 * 10**6,
             grid=2, sweep_R=50, sweep_T=10, big_R=2000, huge_R=20_000, gmm_R=8, gmm_T=5,
             gmm_n=200)

MIN_SECONDS = 1.0  # measurement 3: each engine's calls are timed for at least this long

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _timed(fn, repeat: int = 1, min_seconds: float = 0.0) -> tuple[float, float]:
    """(first call, best of the later calls) wall-clock seconds of ``fn()``: ``repeat`` later
    calls, and more until they add up to ``min_seconds`` (a call of a few milliseconds is timed
    over many calls, so that the best is not one of the first, slower calls after other
    work)."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - t0
    best, spent, calls = float("inf"), 0.0, 0
    while calls < repeat or spent < min_seconds:
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        elapsed = time.perf_counter() - t0
        best, spent, calls = min(best, elapsed), spent + elapsed, calls + 1
    return first, best


# ------------------------------------------------------------------------------ workloads
def numpy_loop(R: int, T: int, n: int, d: int, seed: int = 0):
    """The baseline: a per-replicate, per-generation NumPy loop (fully synthetic loop, MLE)."""
    rng = np.random.default_rng(seed)
    means = np.empty((R, T + 1, d))
    covs = np.empty((R, T + 1, d, d))
    for r in range(R):
        x = rng.multivariate_normal(np.zeros(d), np.eye(d), size=n)
        for t in range(T + 1):
            if t > 0:
                x = rng.multivariate_normal(means[r, t - 1], covs[r, t - 1], size=n)
            means[r, t] = x.mean(axis=0)
            covs[r, t] = np.cov(x, rowvar=False, bias=True)
    return means, covs


def numpy_subsample_loop(R: int, T: int, n: int, d: int, seed: int = 0):
    """The accumulate-subsample baseline: per replicate, the pool of every point drawn so far,
    and each generation's fit on n points drawn from it without replacement."""
    rng = np.random.default_rng(seed)
    means = np.empty((R, T + 1, d))
    covs = np.empty((R, T + 1, d, d))
    for r in range(R):
        pool = rng.multivariate_normal(np.zeros(d), np.eye(d), size=n)
        x = pool
        for t in range(T + 1):
            if t > 0:
                new = rng.multivariate_normal(means[r, t - 1], covs[r, t - 1], size=n)
                pool = np.concatenate([pool, new])
                x = pool[rng.choice(len(pool), n, replace=False)]
            means[r, t] = x.mean(axis=0)
            covs[r, t] = np.cov(x, rowvar=False, bias=True)
    return means, covs


def rng_floor(R: int, T: int, n: int, d: int, seed: int = 0, own: bool = True):
    """A jitted function drawing R (T + 1) n d normals with the engines' key structure: with
    the engines' own generator (:func:`simulations.threefry.normal`, ``own``) or with
    ``jax.random.normal`` (the same bits, through JAX's rolled CPU lowering)."""
    from simulations import threefry
    from simulations.sharding import replicate_keys

    keys = replicate_keys(seed, R)
    normal = threefry.normal if own else jax.random.normal

    def one(key):
        def body(total, t):
            # the engine's own layout (simulations.gaussian_loop draws z as (d, n))
            z = normal(jax.random.fold_in(key, t), (d, n), jnp.float64)
            return total + jnp.sum(z), None

        return jax.lax.scan(body, jnp.zeros(()), jnp.arange(T + 1))[0]

    fn = jax.jit(jax.vmap(one))
    return lambda: fn(keys)


def _engine_call(spec, engine):
    from simulations import run

    return lambda: run(spec, seed=0, engine=engine).means


def mixture_loop(R: int, T: int, n: int, seed: int = 0) -> tuple[float, float]:
    """(seconds of one ``run_gmm`` call, compilation included; mean EM iterations) for the
    2-D loop of 5 unit-covariance components at (0, 0) and (±6, 0), (0, ±6), equal weights."""
    from simulations import LoopSpec
    from simulations.gmm_loop import run_gmm
    from theory.laws import GaussianMixtureLaw

    truth = GaussianMixtureLaw(np.full(5, 0.2), [[0, 0], [6, 0], [0, 6], [-6, 0], [0, -6]],
                               [np.eye(2)] * 5)
    spec = LoopSpec(dim=2, n_real=n, model="gmm", components=5, data="replace",
                    generations=T, replicates=R, truth=truth)
    t0 = time.perf_counter()
    tr = run_gmm(spec, seed=seed)
    return time.perf_counter() - t0, float(tr.em_iterations.mean())


# ------------------------------------------------------------------------------ child jobs
_CHILD = r"""
import json, resource, sys, time
import numpy as np
from simulations import LoopSpec, run
from simulations.sweep import sweep
for job in json.loads(sys.argv[1]):
    start = time.perf_counter()
    spec = LoopSpec(dim=2, n_real=100, data="mix", generations=job["T"], replicates=job["R"])
    if job["kind"] == "sweep":
        g = job["grid"]
        over = {"synthetic_ratio": list(np.linspace(0.1, 2.0, g)),
                "correction_strength": [0.0] + list(np.geomspace(0.01, 10.0, g - 1)),
                "n_real": [int(v) for v in np.geomspace(10, 10**4, g)]}
        res = sweep(spec, over, seed=0, engine="sufficient")
        info = {"cells": res.cells, "groups": res.groups}
    elif job["kind"] == "run":
        traj = run(spec, seed=0, engine="sufficient")
        info = {"output_bytes": int(traj.means.nbytes + traj.covs.nbytes)}
    else:
        res = sweep(spec, {"temperature": [1.0]}, seed=0, engine="sufficient")
        info = {"cells": res.cells}
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_bytes = rss if sys.platform == "darwin" else rss * 1024
    print(json.dumps({"seconds": seconds, "peak_bytes": rss_bytes, **info}), flush=True)
"""


def _children(jobs: list[dict], separate: bool) -> list[dict]:
    """Run the jobs in fresh Python processes: one per job (``separate``: the peak resident
    memory is then each job's own) or all in one (``--quick``: the later jobs' peaks include the
    earlier ones'; only the code path is exercised)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = _ROOT + os.pathsep + env.get("PYTHONPATH", "")
    out = []
    for group in ([[j] for j in jobs] if separate else [jobs]):
        proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(group)], env=env,
                              capture_output=True, text=True, cwd=_ROOT)
        if proc.returncode != 0:
            raise RuntimeError(f"benchmark jobs {group} failed:\n{proc.stderr[-2000:]}")
        out += [json.loads(line) for line in proc.stdout.strip().splitlines()[-len(group):]]
    return out


# ------------------------------------------------------------------------------ the table
class _Table:
    def __init__(self, quick: bool):
        self.rows, self.quick = [], quick

    def add(self, name, value, unit="", target=None, ok=None, note=""):
        status = "" if ok is None else ("n/a (quick)" if self.quick else
                                        ("met" if ok else "MISSED"))
        self.rows.append(dict(name=name, value=value, unit=unit, target=target or "",
                              status=status, note=note))
        print(f"  measured {name}: {value:.4g} {unit}", file=sys.stderr, flush=True)

    def print(self, header):
        print(header)
        width = max(len(r["name"]) for r in self.rows) + 2
        print(f"{'measurement':<{width}} {'value':>12} {'unit':<14} {'target':<12} status")
        for r in self.rows:
            v = r["value"]
            text = f"{v:12.4g}" if isinstance(v, float) else f"{v!s:>12}"
            print(f"{r['name']:<{width}} {text} {r['unit']:<14} {r['target']:<12} "
                  f"{r['status']}{'  ' + r['note'] if r['note'] else ''}")


def measure(quick: bool = False) -> tuple[_Table, str]:
    """Run every measurement; returns the table and its header line."""
    from simulations import LoopSpec

    cfg = QUICK if quick else FULL
    table = _Table(quick)
    R, T, n, d = cfg["R"], cfg["T"], cfg["n"], cfg["d"]

    # 1-2: samples vs NumPy loop vs RNG floor (fully synthetic loop, m = n)
    spec = LoopSpec(dim=d, n_real=n, data="replace", generations=T, replicates=R)
    compile_s, samples_s = _timed(_engine_call(spec, "samples"))
    floor_first, floor_s = _timed(rng_floor(R, T, n, d))
    _, jax_floor_s = _timed(rng_floor(R, T, n, d, own=False))
    t0 = time.perf_counter()
    numpy_loop(R, T, n, d)
    numpy_s = time.perf_counter() - t0
    work = f"R={R}, T={T}, n={n}, d={d}"
    table.add(f"samples engine ({work})", samples_s, "s")
    table.add("  its first call (compiles)", compile_s, "s")
    table.add("RNG floor (same normals, jitted)", floor_s, "s",
              note="simulations.threefry.normal, the engines' generator")
    table.add("  with jax.random.normal (same bits)", jax_floor_s, "s",
              note="JAX's rolled Threefry loop on a CPU")
    table.add("NumPy per-replicate loop", numpy_s, "s")
    table.add("samples / RNG floor", samples_s / floor_s, "ratio", "<= 1.3",
              samples_s / floor_s <= 1.3)
    table.add("NumPy loop / samples", numpy_s / samples_s, "speed-up", ">= 3",
              numpy_s / samples_s >= 3)

    # 3: sufficient vs samples per replicate-generation
    suff_R = cfg["suff_R"]
    per_rg = {}
    for size in cfg["ns"]:
        base = LoopSpec(dim=d, n_real=size, synthetic_ratio=1.0, data="mix", generations=T,
                        replicates=suff_R)
        _, s_suff = _timed(_engine_call(base, "sufficient"), repeat=3, min_seconds=MIN_SECONDS)
        reps = int(max(4, min(suff_R, cfg["samples_points"] // (T * 2 * size * d))))
        _, s_samp = _timed(_engine_call(base.replace(replicates=reps), "samples"), repeat=3,
                           min_seconds=MIN_SECONDS)
        per_rg[size] = (s_samp / (reps * T), s_suff / (suff_R * T))
        table.add(f"n={size:>7}: samples per rep-gen", 1e6 * per_rg[size][0], "us",
                  note=f"R={reps}")
        table.add(f"n={size:>7}: sufficient per rep-gen", 1e6 * per_rg[size][1], "us",
                  note=f"R={suff_R}")
        table.add(f"n={size:>7}: samples / sufficient", per_rg[size][0] / per_rg[size][1],
                  "speed-up", ">= 100" if size == 1000 else "",
                  (per_rg[size][0] / per_rg[size][1] >= 100) if size == 1000 else None)
    flat = {}
    for size in (10, 10**6):
        base = LoopSpec(dim=d, n_real=size, synthetic_ratio=1.0, data="mix", generations=T,
                        replicates=suff_R)
        _, flat[size] = _timed(_engine_call(base, "sufficient"), repeat=3,
                               min_seconds=MIN_SECONDS)
    table.add("sufficient cost n=1e6 / n=10", flat[10**6] / flat[10], "ratio", "<= 1.5",
              flat[10**6] / flat[10] <= 1.5)

    # 4-5: the big sweep and peak memory for large R, each in a fresh process (full sizes)
    g = cfg["grid"]
    job, big, huge = _children([
        {"kind": "sweep", "grid": g, "R": cfg["sweep_R"], "T": cfg["sweep_T"]},
        {"kind": "run", "R": cfg["big_R"], "T": cfg["sweep_T"]},
        {"kind": "one_cell", "R": cfg["huge_R"], "T": cfg["sweep_T"]}], separate=not quick)
    label = f"sweep {g ** 3} cells x R={cfg['sweep_R']} x T={cfg['sweep_T']}"
    table.add(f"{label}: wall", job["seconds"], "s", "< 300", job["seconds"] < 300,
              note=f"{job['groups']} compiled group(s), compilation included")
    table.add(f"{label}: peak memory", job["peak_bytes"] / 2**30, "GiB", "< 2",
              job["peak_bytes"] < 2 * 2**30)
    table.add(f"run() R={cfg['big_R']}, T={cfg['sweep_T']}: peak memory",
              big["peak_bytes"] / 2**30, "GiB",
              note=f"output arrays {big['output_bytes'] / 2**30:.3g} GiB; {big['seconds']:.1f} s")
    table.add(f"sweep 1 cell R={cfg['huge_R']}, T={cfg['sweep_T']}: peak memory",
              huge["peak_bytes"] / 2**30, "GiB", note=f"{huge['seconds']:.1f} s")

    # 6: the mixture loop (EM in the loop), compilation included
    gmm_s, em_its = mixture_loop(cfg["gmm_R"], cfg["gmm_T"], cfg["gmm_n"])
    table.add(f"mixture loop (5 comp., R={cfg['gmm_R']}, T={cfg['gmm_T']}, n={cfg['gmm_n']})",
              gmm_s, "s", "< 120", gmm_s < 120,
              note=f"compilation included; mean EM iterations {em_its:.1f}")
    # 7: accumulate-subsample against its per-replicate NumPy loop, per replicate-generation
    sd, sn, sT, sR = (7, 20, 10, 8) if quick else (7, 89, 100, 200)
    sub = LoopSpec(dim=sd, n_real=sn, data="accumulate_subsample", generations=sT,
                   replicates=sR)
    _, sub_s = _timed(_engine_call(sub, "samples"))
    np_R = max(2, sR // 10)
    t0 = time.perf_counter()
    numpy_subsample_loop(np_R, sT, sn, sd)
    np_sub = (time.perf_counter() - t0) / (np_R * sT)
    eng_sub = sub_s / (sR * sT)
    table.add(f"accumulate-subsample d={sd}, n={sn}, T={sT}: samples per rep-gen",
              1e6 * eng_sub, "us", note=f"R={sR}")
    table.add("  NumPy loop per rep-gen", 1e6 * np_sub, "us", note=f"R={np_R}")
    table.add("  NumPy loop / samples", np_sub / eng_sub, "speed-up", ">= 10",
              np_sub / eng_sub >= 10)

    # 8: break-even against the NumPy loop, compilation included (no compilation cache)
    bR, bT, bn, bd = (16, 10, 100, 2) if quick else (200, 50, 100, 2)
    be = LoopSpec(dim=bd, n_real=bn, data="replace", generations=bT, replicates=bR)
    be_first, be_s = _timed(_engine_call(be, "samples"))
    t0 = time.perf_counter()
    numpy_loop(max(2, bR // 10), bT, bn, bd)
    np_be = (time.perf_counter() - t0) / (max(2, bR // 10) * (bT + 1))
    eng_be = be_s / (bR * (bT + 1))
    compile_be = max(be_first - be_s, 0.0)
    even = compile_be / (np_be - eng_be) if np_be > eng_be else float("inf")
    table.add(f"break-even vs NumPy (replace, d={bd}, n={bn}, T={bT})", even, "rep-gens",
              "< 20000", even < 20000,
              note=f"compile {compile_be:.2f} s; NumPy {1e6 * np_be:.0f} us, "
                   f"samples {1e6 * eng_be:.1f} us per rep-gen")
    header = (f"selfconsuming benchmark ({'quick' if quick else 'full'}): jax {jax.__version__}, "
              f"devices {[str(x) for x in jax.devices()]}, {os.cpu_count()} CPU(s), "
              f"{platform.machine()}")
    return table, header


def _add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write the measurements as JSON")


def add_subcommand(subparsers) -> None:
    """Register ``bench`` on an argparse sub-parser set (``selfconsuming bench``); its
    ``fn(args)`` returns the exit code."""
    p = subparsers.add_parser("bench", help="measure the engines' performance (a table)",
                              description=__doc__.split("\n\n")[0])
    _add_arguments(p)
    p.set_defaults(fn=lambda args: _run(args.quick, args.json))


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m simulations.bench [--quick] [--json PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m simulations.bench",
                                     description="Measure the engines' performance.")
    _add_arguments(parser)
    args = parser.parse_args(argv)
    return _run(args.quick, args.json)


def _run(quick: bool, json_path: str | None) -> int:
    table, header = measure(quick=quick)
    table.print(header)
    if json_path:
        directory = os.path.dirname(os.path.abspath(json_path))
        os.makedirs(directory, exist_ok=True)
        tmp = json_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"header": header, "quick": quick, "rows": table.rows}, fh, indent=2)
        os.replace(tmp, json_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
