"""Every registered figure runs in quick mode and writes a non-empty PNG and a CSV."""

import csv

import pytest

from figures import FIGURES

# The slow tier: these figures compile programs of their own for several seconds each; CI runs
# every figure through `python -m figures --quick` in .ci/run, and the cheap ones stay in the
# default tier. A renamed figure must be renamed here too (the assertion below says so).
SLOW_FIGURES = {
    "alemohammad2024_fresh_heatmap",
    "deydonoho2024_universality",
    "ferbach2024_contrast",
    "ferbach2024_mog_curation",
    "ferbach2024_ten_class_bias",
    "gillman2024_correctors",
    "gillman2024_stability",
    "gillman2024_toy",
    "kazdan2025_replace_accumulate",
    "shumailov2024_collapse",
    "shumailov2024_gmm_l2",
    "suresh2024_collapse_probability",
}
assert SLOW_FIGURES <= set(FIGURES), f"not figures: {sorted(SLOW_FIGURES - set(FIGURES))}"


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow)
                                  if name in SLOW_FIGURES else name for name in sorted(FIGURES)])
def test_figure_quick(name, tmp_path):
    files = FIGURES[name](True, str(tmp_path))
    pngs = [f for f in files if f.endswith(".png")]
    csvs = [f for f in files if f.endswith(".csv")]
    assert pngs and csvs
    for f in pngs:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    for f in csvs:
        with open(f, newline="") as fh:
            rows = list(csv.reader(fh))
        assert len(rows) > 2 and all(len(r) == len(rows[0]) for r in rows)
