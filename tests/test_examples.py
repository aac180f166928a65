"""Every example config runs through ``selfconsuming simulate`` and writes what it promises;
where the toolkit has a closed form for the example's loop, the saved arrays agree with it.

Statistical checks: each test compares k replicate means with exact values at a two-sided
false-failure probability of 1e-6 per test (Bonferroni: z at 1e-6/k per comparison), with the
CLT standard error of the mean; every quantity compared is light-tailed at the example's
settings (log-variances, log-determinants, and accumulate/fresh/subsample moments, whose
covariances do not collapse). Seeds are the configs' fixed seeds.
"""

import json
import math
import os
import subprocess
import sys
import tomllib

import numpy as np
import pytest

from paper_checks.cli import main
from paper_checks.stats import z_two_sided
from simulations import LoopSpec
from theory import (
    accumulate_cov_factor,
    accumulate_mean_error2,
    accumulate_subsample_mean_error2_known_cov,
    fresh_moments,
    replace_log_variance_mean,
    replace_logdet_mean,
    replace_mean_error2,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
NAMES = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".toml"))
ALPHA = 1e-6
PLOTTED = ("mix_correction.toml", "replace_collapse.toml")  # also run with --plot


def _simulate(name, out, *extra):
    code = main(["simulate", os.path.join(EXAMPLES, name), "--out", str(out), "--quiet", *extra])
    assert code == 0
    with np.load(out / "trajectory.npz") as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads((out / "trajectory.json").read_text())
    with open(os.path.join(EXAMPLES, name), "rb") as fh:
        config = tomllib.load(fh)
    return arrays, meta, config


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Run each example once (compilation dominates the cost) and keep its outputs."""
    cache = {}

    def get(name):
        if name not in cache:
            out = tmp_path_factory.mktemp(name.removesuffix(".toml"))
            cache[name] = (out, *_simulate(name, out, *(["--plot"] if name in PLOTTED else [])))
        return cache[name]

    return get


def _check_means(pairs):
    """pairs: (label, values, exact); all must agree at a total false-failure prob. of 1e-6."""
    z = z_two_sided(ALPHA / len(pairs))
    for label, values, exact in pairs:
        values = np.asarray(values, dtype=np.float64)
        m, se = values.mean(), values.std(ddof=1) / math.sqrt(values.size)
        assert abs(m - exact) <= z * se, f"{label}: {m:.6g} vs exact {exact:.6g}, SE {se:.3g}"


def test_there_are_examples_with_comment_headers():
    assert 4 <= len(NAMES) <= 8
    for name in NAMES:
        with open(os.path.join(EXAMPLES, name), encoding="utf-8") as fh:
            head = fh.readline()
        assert head.startswith("# "), name


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_and_saves_what_it_describes(name, outputs):
    out, arrays, meta, config = outputs(name)
    spec = LoopSpec(**{k: v for k, v in config.items() if k != "seed"})
    r, t, d = spec.replicates, spec.generations + 1, spec.dim
    assert arrays["means"].shape == (r, t, d) and arrays["covs"].shape == (r, t, d, d)
    assert np.all(np.isfinite(arrays["means"])) and np.all(np.isfinite(arrays["covs"]))
    assert meta["spec"] == spec.to_dict() and meta["seed"] == config.get("seed", 0)
    assert meta["engine"] and meta["seconds"] > 0 and meta["versions"]["jax"]
    with open(os.path.join(EXAMPLES, name), "rb") as a, open(out / "config.toml", "rb") as b:
        assert a.read() == b.read()
    if name not in PLOTTED:
        assert not (out / "metrics.csv").exists()
        return
    for metric in ("w2_to_target", "trace_ratio", "mean_error2"):
        with open(out / f"{metric}.png", "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(out / "metrics.csv", encoding="utf-8") as fh:
        rows = [line.split(",") for line in fh.read().splitlines()]
    assert rows[0][0] == "generation" and len(rows) == t + 1
    for metric in ("w2_to_target", "trace_ratio", "mean_error2"):
        for stat in ("mean", "se", "q05", "median", "q95"):
            assert f"{metric}_{stat}" in rows[0]
    col = rows[0].index("mean_error2_mean")
    mean_error2 = np.sum((arrays["means"] - spec.truth_mean) ** 2, axis=-1).mean(axis=0)
    np.testing.assert_allclose([float(r[col]) for r in rows[1:]], mean_error2, rtol=1e-12)


def _load(name, outputs):
    _, arrays, _, config = outputs(name)
    spec = LoopSpec(**{k: v for k, v in config.items() if k != "seed"})
    return arrays["means"], arrays["covs"], spec


def test_replace_collapse_log_variance(outputs):
    means, covs, spec = _load("replace_collapse.toml", outputs)
    n, kw = spec.n_real, dict(estimator="unbiased")
    _check_means([
        (f"E log σ_t², t={t}", np.log(covs[:, t, 0, 0]), replace_log_variance_mean(t, n, **kw))
        for t in (10, spec.generations)
    ])


def test_temperature_bias_logdet_and_frozen_drift(outputs):
    means, covs, spec = _load("temperature_bias.toml", outputs)
    n, d, t = spec.n_real, spec.dim, spec.generations
    kw = dict(estimator="unbiased", temperature=spec.temperature)
    cov0 = spec.truth_cov
    logdet = np.linalg.slogdet(covs[:, t])[1] - np.linalg.slogdet(cov0)[1]
    err = np.sum((means[:, t] - spec.truth_mean) ** 2, axis=-1)
    _check_means([
        ("E log det Σ_t/det Σ₀", logdet, replace_logdet_mean(t, n, d, **kw)),
        ("E‖μ_t − μ₀‖²", err, replace_mean_error2(t, n, float(np.trace(cov0)), **kw)),
    ])


def test_accumulate_covariance_and_mean(outputs):
    means, covs, spec = _load("accumulate.toml", outputs)
    n, t, cov0 = spec.n_real, spec.generations, spec.truth_cov
    tr0 = float(np.trace(cov0))
    ratio = np.trace(covs[:, t], axis1=-2, axis2=-1) / tr0
    err = np.sum((means[:, t] - spec.truth_mean) ** 2, axis=-1)
    _check_means([
        ("E trΣ_t/trΣ₀", ratio, accumulate_cov_factor(t, n, estimator="mle")),
        ("E‖μ_t − μ₀‖²", err, accumulate_mean_error2(t, n, tr0, estimator="mle")),
    ])


def test_accumulate_subsample_mean(outputs):
    means, _, spec = _load("accumulate_subsample.toml", outputs)
    tr0 = float(np.trace(spec.truth_cov))
    exact = accumulate_subsample_mean_error2_known_cov(spec.generations, spec.n_real, tr0)
    err = np.sum((means - spec.truth_mean) ** 2, axis=-1)
    _check_means([(f"E‖μ_t − μ₀‖², t={t}", err[:, t], exact[t]) for t in (1, spec.generations)])


def test_fresh_data_moments(outputs):
    means, covs, spec = _load("fresh_data.toml", outputs)
    t, tr0 = spec.generations, float(np.trace(spec.truth_cov))
    m_t, c_t = fresh_moments(t, spec.n_real, spec.num_synthetic, tr0, estimator="unbiased",
                             temperature=spec.temperature)
    _check_means([
        ("M_t", np.sum((means[:, t] - spec.truth_mean) ** 2, axis=-1), m_t),
        ("C_t", np.trace(covs[:, t], axis1=-2, axis2=-1), c_t),
    ])


BAD = [
    ("dim = 2\ntemprature = 0.5\n", "temprature", "did you mean 'temperature'"),
    ('dim = "2"\n', "dim", "integer"),
    ("generations = 2.5\n", "generations", "integer"),
    ("replicates = true\n", "replicates", "integer"),
    ('truth = "normal"\n', "truth", ""),
    ('seed = "x"\n', "seed", "integer"),
    ("temperature = -0.5\n", "temperature", "> 0"),
    ("n_real = 1\n", "n_real", ">= 2"),
    ("synthetic_ratio = -1.0\n", "synthetic_ratio", ">= 0"),
    ('data = "discard"\n', "data", "one of"),
    ("seed = -1\n", "seed", "non-negative"),
    ('[run]\nengin = "samples"\n', "engin", "did you mean 'engine'"),
    ("dim = \n", "invalid TOML", ""),
]


@pytest.mark.parametrize("text, key, detail", BAD)
def test_bad_config_is_one_line_naming_the_key_exit_2(text, key, detail, tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    assert main(["simulate", str(cfg), "--out", str(tmp_path / "o")]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("error: ") and str(cfg) in err
    assert key in err and detail in err and "Traceback" not in err
    assert not (tmp_path / "o" / "trajectory.npz").exists()


def test_bad_config_through_the_console_entry_point(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("dim = 1\nn_real = 10\ncorrection_strength = -2.0\n")
    r = subprocess.run([sys.executable, "-m", "paper_checks.cli", "simulate", str(cfg),
                        "--out", str(tmp_path / "o")], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "correction_strength" in r.stderr
    assert "Traceback" not in r.stderr
