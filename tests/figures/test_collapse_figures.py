"""The collapse papers' figures (Kazdan, Dey & Donoho, Alemohammad, Suresh): their exact curves
against independent evaluations of the papers' formulas, their helpers, the registry's
paper mapping and the ``python -m figures`` command line (progress, --quiet, --verbose).

The plotted Monte Carlo is compared with the exact curves in a slow test (each figure in quick
mode, z for a false-failure probability of 1e-6 per figure, Bonferroni over its comparisons);
tests/figures/test_figures.py already runs every figure in quick mode.
"""

import csv
import io
import json
import math
import os

import numpy as np
import pytest

from figures import FIGURES
from figures import alemohammad2024 as mad
from figures import deydonoho2024 as dd
from figures import kazdan2025 as kaz
from figures import suresh2024 as sur
from figures.__main__ import main as figures_main
from figures._registry import FIGURE_PAPERS, figure, paper_key, papers_of, progress_enabled
from paper_checks.stats import z_one_sided, z_two_sided
from theory import fresh_recursion_matrix

MINE = {
    "kazdan2025_replace_accumulate": ("kazdan2025", "gerstgrasser2024"),
    "deydonoho2024_universality": ("deydonoho2024",),
    "alemohammad2024_fresh_heatmap": ("alemohammad2024",),
    "suresh2024_collapse_probability": ("suresh2024",),
}
# Products and sums of ≤ 10⁴ float64 terms: relative rounding below 1e-12.
RTOL = 1e-12


def test_registered_with_their_papers():
    for name, papers in MINE.items():
        assert name in FIGURES and FIGURE_PAPERS[name] == papers == papers_of(name)
    assert paper_key("suresh2024_collapse_probability") == "suresh2024"
    assert papers_of("notregistered2001_x") == ("notregistered2001",)
    with pytest.raises(ValueError, match="duplicate"):
        figure("suresh2024_collapse_probability")(lambda quick, out: [])


def test_kazdan_exact_curves_match_the_papers_formulas():
    n, d = kaz.N, kaz.DIM
    ts = np.arange(kaz.T + 1)
    got = kaz.exact_curves(ts)
    k = np.arange(1, kaz.T + 2, dtype=float)
    factors = 1.0 - 1.0 / (n * k**2)  # E[Σ_t | Σ_{t−1}] = (1 − 1/(n(t+1)²))Σ_{t−1}
    prod = np.cumprod(factors)
    before = np.concatenate([[1.0], prod[:-1]])  # ∏_{j<k}
    np.testing.assert_allclose(got["replace_trace"], ((n - 1) / n) ** (ts + 1), rtol=RTOL)
    np.testing.assert_allclose(got["accumulate_trace"], prod, rtol=RTOL)
    np.testing.assert_allclose(got["replace_mean_error2"], d * (1 - ((n - 1) / n) ** (ts + 1)),
                               rtol=RTOL)
    np.testing.assert_allclose(got["accumulate_mean_error2"],
                               d / n * np.cumsum(before / k**2), rtol=RTOL)
    assert np.all(got["accumulate_mean_error2"] <= math.pi**2 / 6 * d / n)


def test_deydonoho_ratios_match_the_recursions():
    g = np.arange(1, dd.FITS + 1)
    from theory import augment_risk_ratio, discard_risk_ratio, subsample_risk_ratio

    np.testing.assert_allclose(augment_risk_ratio(g), np.cumsum(1.0 / g**2), rtol=RTOL)
    np.testing.assert_array_equal(discard_risk_ratio(g), g)
    # reference notes §5: p_1 = 1, p_g = p_{g−1} + (2 − 1/(g−1))/g², v_g = p_g + 1 − 1/g
    p, v = [1.0], [1.0]
    for gg in g[1:]:
        p.append(p[-1] + (2 - 1 / (gg - 1)) / gg**2)
        v.append(p[-1] + 1 - 1 / gg)
    np.testing.assert_allclose(subsample_risk_ratio(g), v, rtol=RTOL)


def test_alemohammad_grid_is_the_fixed_point():
    nr, ns = np.array([10, 37, 1000]), np.array([0, 5, 300, 10_000])
    for tau in mad.TEMPERATURES:
        ratio, keep = mad.fixed_point_grid(tau, nr, ns)
        # no synthetic data: the real-only fit, n_e = n_r and C* = tr Σ₀ (unbiased) exactly
        np.testing.assert_allclose(ratio[0], 1.0, rtol=RTOL)
        np.testing.assert_allclose(keep[0], 1.0, rtol=RTOL)
        for i, s in enumerate(ns):
            for j, r in enumerate(nr):
                a, b = fresh_recursion_matrix(int(r), int(s), 1.0, estimator="unbiased",
                                              temperature=tau)
                x = np.array([1.0 / (r * ratio[i, j]), keep[i, j]])
                np.testing.assert_allclose(a @ x + b, x, rtol=1e-10)


def test_alemohammad_cell_edges_are_geometric_midpoints():
    e = mad._edges(np.array([10, 100, 1000]))
    np.testing.assert_allclose(e, [10 / math.sqrt(10), math.sqrt(1000), math.sqrt(1e5),
                                   1000 * math.sqrt(10)], rtol=RTOL)


def test_wilson_interval():
    total, z = 2000, 2.0
    lo, hi = sur.wilson_interval(np.array([0, 37, total]), total, z)
    # derived: p̂ = 0 gives [0, z²/(N + z²)]; p̂ = 1 mirrors it
    np.testing.assert_allclose([lo[0], hi[0]], [0.0, z**2 / (total + z**2)], atol=1e-15)
    np.testing.assert_allclose([lo[2], hi[2]], [total / (total + z**2), 1.0], atol=1e-15)
    assert lo[1] < 37 / total < hi[1]
    lo_m, hi_m = sur.wilson_interval(np.array([total - 37]), total, z)
    np.testing.assert_allclose([lo_m[0], hi_m[0]], [1 - hi[1], 1 - lo[1]], rtol=1e-12)


def test_suresh_panel_bounds_hold():
    k = np.arange(1, sur.K_MC + 1)
    c = sur.curves(k, sur.N_MC)
    assert np.all(np.diff(c["exact"]) < 0) and c["exact"][0] <= 1.0
    for key in ("suresh_thm3", "markov_alpha", "markov_r035"):
        assert np.all(c["exact"] <= c[key] * (1 + 1e-9)), key


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_enabled(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert progress_enabled(False, False, _Tty()) is True
    assert progress_enabled(False, False, io.StringIO()) is False
    assert progress_enabled(True, False, _Tty()) is False
    assert progress_enabled(False, True, io.StringIO()) is True
    monkeypatch.setenv("CI", "true")
    assert progress_enabled(False, False, _Tty()) is False
    assert progress_enabled(False, True, io.StringIO()) is True
    monkeypatch.setenv("CI", "0")
    assert progress_enabled(False, False, _Tty()) is True


def _dummy(name, fail=False):
    def main(quick, out):
        if fail:
            raise RuntimeError("broken figure")
        path = os.path.join(out, f"{name}.csv")
        with open(path, "w") as fh:
            fh.write(f"quick\n{quick}\n")
        return [path]

    return main


@pytest.fixture
def dummies(monkeypatch):
    monkeypatch.setitem(FIGURES, "zzdummy2000_a", _dummy("zzdummy2000_a"))
    monkeypatch.setitem(FIGURES, "zzdummy2000_b", _dummy("zzdummy2000_b", fail=True))
    monkeypatch.setitem(FIGURES, "zzdummy2000_c", _dummy("zzdummy2000_c"))
    monkeypatch.delenv("CI", raising=False)


def test_cli_only_quiet_verbose_and_failures(dummies, tmp_path, capsys):
    out = tmp_path / "figs"
    # the dummies are registered at run time, so they are made in this process (--jobs 0)
    assert figures_main(["--only", "zzdummy2000_[ac]", "--out", str(out), "--quick",
                         "--jobs", "0"]) == 0
    stdout, stderr = capsys.readouterr()
    assert "zzdummy2000_a: " in stdout and "2/2 figures written" in stdout
    assert "[1/2]" not in stderr  # captured stderr is not a terminal
    assert (out / "zzdummy2000_a.csv").read_text() == "quick\nTrue\n"
    index = json.loads((out / "index.json").read_text())
    assert index["zzdummy2000_a"] == {"papers": ["zzdummy2000"], "files": ["zzdummy2000_a.csv"]}

    assert figures_main(["--only", "zzdummy2000_*", "--out", str(out), "--quiet",
                         "--jobs", "0"]) == 1
    stdout, stderr = capsys.readouterr()
    assert stdout.strip().startswith("2/3 figures written") and "failed: zzdummy2000_b" in stdout
    assert stdout.strip().count("\n") == 0
    assert "zzdummy2000_b: FAILED: RuntimeError: broken figure" in stderr

    assert figures_main(["--only", "zzdummy2000_a", "--out", str(out), "--verbose",
                         "--jobs", "0"]) == 0
    stdout, stderr = capsys.readouterr()
    assert "[1/1] zzdummy2000_a …" in stderr and "zzdummy2000_a.csv" in stdout
    assert set(json.loads((out / "index.json").read_text())) == {"zzdummy2000_a",
                                                                "zzdummy2000_c"}


def test_cli_list_and_bad_input(dummies, tmp_path, capsys):
    assert figures_main(["--list", "--only", "zzdummy2000_a", "kazdan*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["kazdan2025_replace_accumulate",
                                                    "zzdummy2000_a"]
    assert "kazdan2025, gerstgrasser2024" in lines[0]
    assert figures_main(["--only", "nothing*"]) == 2
    assert "matches no figure" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert figures_main(["--only", "zzdummy2000_a", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and err.count("\n") == 1


def _csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def _assert_within(pairs, alpha=1e-6, sided="two"):
    """pairs of (label, measured, predicted, se); Bonferroni over the pairs."""
    z = (z_two_sided if sided == "two" else z_one_sided)(alpha / len(pairs))
    for label, m, p, se in pairs:
        excess = abs(m - p) if sided == "two" else m - p
        assert excess <= z * se, f"{label}: {m:.6g} vs {p:.6g}, SE {se:.3g}"


@pytest.mark.slow
def test_monte_carlo_agrees_with_theory_in_quick_figures(tmp_path):
    out = str(tmp_path)
    kaz.main(True, out)
    k = _csv(os.path.join(out, f"{kaz.NAME}.csv"))
    pairs = [(f"{key} t={t}", k[f"{key}_mc_mean"][t], k[f"{key}_exact"][t], k[f"{key}_mc_se"][t])
             for key in kaz.exact_curves([0]) for t in (10, 50, 100)]
    _assert_within(pairs)
    dd.main(True, out)
    d = _csv(os.path.join(out, f"{dd.NAME}.csv"))
    exact = {"augment": d["augment_limit"], "discard": d["discard_limit"],
             "subsample": d["subsample_exact_finite_n"]}
    _assert_within([(f"{w} g={g}", d[f"{w}_mc_mean"][g - 1], exact[w][g - 1],
                     d[f"{w}_mc_se"][g - 1]) for w in exact for g in (2, 10, 50)])
    mad.main(True, out)
    m = _csv(os.path.join(out, f"{mad.NAME}_checks.csv"))
    _assert_within([(f"cell {i} {key}", m[key][i], m[f"{key}_exact_T"][i], m[f"{key}_se"][i])
                    for i in range(len(m["ratio"])) for key in ("ratio", "keep")])
    sur.main(True, out)
    s = _csv(os.path.join(out, f"{sur.NAME}.csv"))
    from scipy import stats

    reps, ks = 2_000, (10, 50, 100, 200)  # exact binomial tests, Bonferroni over the k's
    for kk in ks:
        hits = int(round(s["mc_fraction"][kk - 1] * reps))
        pvalue = stats.binomtest(hits, reps, s["exact"][kk - 1]).pvalue
        assert pvalue >= 1e-6 / len(ks), f"k={kk}: {hits}/{reps} vs {s['exact'][kk - 1]:.4g}"
