"""The claim record, the verdict rule, the runner, the JSON schema and the CLI."""

import json
import math
import os
import subprocess
import sys

import pytest

from paper_checks.claim import Claim, Context, Measurement, judge
from paper_checks.runner import evaluate, payload, select
from paper_checks.stats import z_one_sided, z_two_sided

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = {"id", "paper", "statement", "kind", "provenance", "predicted", "measured", "stderr",
          "tolerance", "passed", "seconds"}


def _claim(fn, alpha=1e-6):
    return Claim("test.claim", "paper", "statement", "equality", "derived", fn, alpha)


def test_two_sided_rule_at_its_threshold():
    z = z_two_sided(1e-6)
    assert Measurement("a", 1.0, 1.0 + 0.99 * z * 0.1, 0.1).verdict(1e-6)[0]
    assert not Measurement("a", 1.0, 1.0 + 1.01 * z * 0.1, 0.1).verdict(1e-6)[0]
    assert not Measurement("a", 1.0, 1.0 - 1.01 * z * 0.1, 0.1).verdict(1e-6)[0]


def test_one_sided_rules():
    z = z_one_sided(1e-6)
    # an upper bound is only violated from above
    assert Measurement("b", 1.0, -100.0, 0.1, sided="upper").verdict(1e-6)[0]
    assert not Measurement("b", 1.0, 1.0 + 1.01 * z * 0.1, 0.1, sided="upper").verdict(1e-6)[0]
    assert Measurement("b", 1.0, 100.0, 0.1, sided="lower").verdict(1e-6)[0]
    assert not Measurement("b", 1.0, 1.0 - 1.01 * z * 0.1, 0.1, sided="lower").verdict(1e-6)[0]


def test_exact_and_distributional_rules():
    assert Measurement("c", 1.0, 1.0 + 1e-12, rtol=1e-10).verdict(1e-6)[0]
    assert not Measurement("c", 1.0, 1.0 + 1e-8, rtol=1e-10).verdict(1e-6)[0]
    assert Measurement("d", 0.0, 0.01, pvalue=1e-5).verdict(1e-6)[0]
    assert not Measurement("d", 0.0, 0.01, pvalue=1e-7).verdict(1e-6)[0]
    assert not Measurement("e", 1.0, math.nan, 0.1).verdict(1e-6)[0]
    with pytest.raises(ValueError, match="sided"):
        Measurement("f", 0.0, 0.0, sided="both")


def test_bonferroni_split_and_worst_comparison():
    ms = [Measurement("ok", 0.0, 0.0, 1.0), Measurement("far", 0.0, 5.2, 1.0)]
    res = judge(_claim(lambda ctx: ms), ms, 0.0)
    # 5.2 SE passes at α = 1e-6 (z = 4.89)? no: 5.2 > 4.89; with k = 2, z(5e-7) = 5.03 < 5.2
    assert res.per_comparison_alpha == pytest.approx(5e-7)
    assert not res.passed and res.worst.label == "far"
    assert not judge(_claim(lambda ctx: []), [], 0.0).passed


def test_a_crashing_claim_is_a_failed_result():
    def boom(ctx):
        raise RuntimeError("kaput")

    res = evaluate(_claim(boom), Context(quick=True))
    assert not res.passed and "kaput" in res.error
    assert res.to_json()["passed"] is False


def test_json_schema_of_a_real_exact_claim():
    claims = select(["suresh2024.thm3.bound"])
    res = [evaluate(c, Context(quick=True)) for c in claims]
    data = json.loads(json.dumps(payload(res, Context(quick=True))))
    assert set(data) >= {"claims", "seed", "versions"}
    entry = data["claims"][0]
    assert SCHEMA <= set(entry)
    assert entry["kind"] in ("equality", "bound", "monotone", "rate", "limit")
    assert entry["provenance"] in ("paper", "derived")
    assert entry["passed"] is True and entry["stderr"] is None


def test_every_claim_is_well_formed():
    claims = select(None)
    assert len(claims) >= 15
    for c in claims:
        paper = c.id.split(".")[0]
        assert paper[-4:].isdigit(), c.id
        assert c.statement and c.method, c.id


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    r = _cli("-m", "paper_checks", "--only", "nosuchpaper.*")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "matches no" in r.stderr
    r = _cli("-m", "paper_checks", "--seed", "-3")
    assert r.returncode == 2 and "seed" in r.stderr and "Traceback" not in r.stderr
    r = _cli("-m", "paper_checks", "--bogus")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_cli_runs_selected_claims_and_writes_json(tmp_path):
    out = tmp_path / "claims.json"
    r = _cli("-m", "paper_checks", "--only", "suresh2024.thm3.*", "--json", str(out),
             "--report", str(tmp_path / "rep"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1/1 claims passed" in r.stdout
    data = json.loads(out.read_text())
    assert data["claims"][0]["id"] == "suresh2024.thm3.bound"
    assert (tmp_path / "rep" / "report.md").read_text().startswith("# Paper checks")


@pytest.mark.slow  # tests/test_examples.py and test_simulate_outputs.py run simulate by default
def test_simulate_command(tmp_path):
    cfg = tmp_path / "loop.toml"
    cfg.write_text('dim = 2\nn_real = 10\ndata = "accumulate"\ngenerations = 3\n'
                   'replicates = 4\nseed = 7\n[truth]\nmean = [1.0, 0.0]\n'
                   'cov = [[1.0, 0.2], [0.2, 1.0]]\n')
    r = _cli("-m", "paper_checks.cli", "simulate", str(cfg), "--out", str(tmp_path / "o"),
             "--quiet")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "o" / "trajectory.json").read_text())
    assert meta["seed"] == 7 and meta["spec"]["data"] == "accumulate"
    bad = tmp_path / "bad.toml"
    bad.write_text("dim = 2\ntemprature = 0.5\n")
    r = _cli("-m", "paper_checks.cli", "simulate", str(bad), "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "temprature" in r.stderr and "Traceback" not in r.stderr
    bad.write_text("dim = 2\ntemperature = -0.5\n")
    r = _cli("-m", "paper_checks.cli", "simulate", str(bad), "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "temperature" in r.stderr


def test_numpy_values_serialize():
    import numpy as np

    ms = [Measurement("np", np.float64(1.0), np.float32(1.0), np.float64(0.1)),
          Measurement("p", 0.0, np.float64(0.01), pvalue=np.float64(0.5))]
    res = judge(_claim(lambda ctx: ms), ms, 0.0)
    json.dumps(res.to_json())
    assert res.passed is True


def test_gridded_cdf_matches_exact_cdf():
    import numpy as np
    from scipy import stats

    from paper_checks.claims._common import gridded_cdf, ks_check

    x = np.random.default_rng(0).normal(size=20_000)
    approx = gridded_cdf(stats.norm.cdf, x)
    np.testing.assert_allclose(approx(x), stats.norm.cdf(x), atol=1e-5)
    assert ks_check("normal", x, stats.norm.cdf).pvalue > 1e-3
    # a wrong law is rejected
    assert ks_check("shifted", x + 0.1, stats.norm.cdf).pvalue < 1e-6


def test_cli_bad_output_paths_fail_fast_with_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = _cli("-m", "paper_checks", "--only", "suresh2024.thm3.*", "--report", str(blocker))
    assert r.returncode == 2 and "--report" in r.stderr and "Traceback" not in r.stderr
    r = _cli("-m", "paper_checks", "--only", "suresh2024.thm3.*", "--json",
             str(blocker / "x.json"))
    assert r.returncode == 2 and "--json" in r.stderr and "Traceback" not in r.stderr
