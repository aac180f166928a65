"""Every registered figure runs in quick mode and writes a non-empty PNG and a CSV."""

import csv

import pytest

from figures import FIGURES


@pytest.mark.parametrize("name", sorted(FIGURES))
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
