"""Every engine, metric and jitted theory function at d ≥ 3, for the no-hang stress test.

``python -m tests.stress_linalg DIM [--light]`` (from the repository root) runs, in one
process: the engines (samples, sufficient, population) under several data policies with the
ideal and the histogram (authors') corrector and K-choice curation, every Gaussian metric, the
mixture loop (EM, covariance floors, curation with a quadratic reward) and its metrics, the
sweep, and the theory functions that factor or solve (Gaussian KL, W₂, log-det, square root,
quadratic tilts, mixture densities and tilts). ``--light`` runs a subset. It prints ``ok`` at
the end. ``tests/test_no_hang.py`` runs it in fresh processes with a timeout (a hang is the
XLA:CPU deadlock of concurrent batched LAPACK calls described in :mod:`theory.linalg`) and,
with ``XLA_FLAGS=--xla_dump_to``, checks that no compiled program calls LAPACK.
"""

from __future__ import annotations

import sys

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from simulations import LoopSpec, run  # noqa: E402
from simulations.trajectory import METRICS  # noqa: E402


def _touch(x) -> float:
    return float(np.nansum(np.asarray(x, dtype=np.float64)))


def gaussian_engines(d: int, light: bool) -> None:
    reps, gens = (16, 4) if light else (500, 20)
    specs = [
        ("samples", dict(data="mix", synthetic_ratio=1.0, correction_strength=0.5)),
        ("sufficient", dict(data="mix", synthetic_ratio=1.0, correction_strength=0.5)),
        ("population", dict(data="mix", synthetic_ratio=1.0, correction_strength=0.5)),
        ("sufficient", dict(data="replace")),
        ("samples", dict(data="accumulate_subsample")),
        ("samples", dict(data="mix", correction_strength=1.0,
                         corrector={"name": "histogram_authors", "bins": 4})),
        ("samples", dict(data="fresh", synthetic_ratio=0.5, curation_k=4,
                         reward={"kind": "linear", "direction": [1.0] + [0.0] * (d - 1)})),
    ]
    for engine, kw in specs[:3] if light else specs:
        spec = LoopSpec(dim=d, n_real=30, generations=gens, replicates=reps, **kw)
        tr = run(spec, seed=1, engine=engine)
        for name in METRICS:
            if name == "reward" and spec.reward is None:
                continue
            _touch(tr.metric(name))


def mixture_loop(d: int, light: bool) -> None:
    reps, gens = (8, 3) if light else (24, 6)
    spec = LoopSpec(dim=d, model="gmm", components=2, n_real=60, data="mix",
                    synthetic_ratio=1.0, generations=gens, replicates=reps, em_iterations=20,
                    curation_k=2, reward={"kind": "quadratic", "center": [0.5] * d,
                                          "matrix": 1.0})
    tr = run(spec, seed=2)
    for name in ("l2sq_to_initial", "w2sq_moments_to_target", "trace"):
        _touch(tr.metric(name))


def sweep(d: int, light: bool) -> None:
    from simulations import sweep as sweep_fn

    res = sweep_fn(LoopSpec(dim=d, n_real=20, generations=4, replicates=32 if light else 200),
                   {"synthetic_ratio": [0.5, 2.0]}, metrics=("kl_to_target", "w2_to_target",
                                                             "logdet_ratio"), seed=3)
    for v in res.mean.values():
        _touch(v)


def theory_functions(d: int) -> None:
    from theory import gaussian_kl, gaussian_logdet, gaussian_w2_squared, sqrtm_psd
    from theory.mixtures import gaussian_log_mgf, mixture_logpdf, mixture_tilt
    from theory.rewards import as_reward, reward_tilt

    rng = np.random.default_rng(d)
    a = rng.normal(size=(300, d, d))
    covs = a @ np.swapaxes(a, -1, -2) / d + 0.1 * np.eye(d)
    means = rng.normal(size=(300, d))
    quadratic = as_reward({"kind": "quadratic", "center": [0.0] * d, "matrix": 1.0}, d)
    fns = [
        lambda m, c: gaussian_kl(m, c, m[::-1], c[::-1]),
        lambda m, c: gaussian_w2_squared(m, c, m[::-1], c[::-1]),
        lambda m, c: gaussian_logdet(c) + jnp.sum(sqrtm_psd(c), axis=(-2, -1)),
        lambda m, c: reward_tilt("quadratic", (jnp.zeros(d), jnp.eye(d)), m, c)[1],
        lambda m, c: jax.vmap(lambda mm, cc: mixture_logpdf(
            mm[None], jnp.ones(1), mm[None], cc[None]))(m, c),
    ]
    for fn in fns:
        _touch(jax.jit(fn)(means, covs))
    # gaussian_log_mgf and mixture_tilt probe their reward when called, so they run eagerly
    _touch(gaussian_log_mgf(quadratic, means, covs))
    _touch(mixture_tilt(quadratic, np.full(3, 1 / 3), means[:3], covs[:3])[2])


def main(argv: list[str]) -> int:
    d = int(argv[0])
    light = "--light" in argv
    import time

    for part in (gaussian_engines, mixture_loop) if light else (gaussian_engines, mixture_loop,
                                                                 sweep):
        start = time.perf_counter()
        part(d, light)
        print(f"{part.__name__}: {time.perf_counter() - start:.1f} s", flush=True)
    theory_functions(d)
    print("ok", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
