"""Calibration mode: claims run under many seeds fail no more often than their stated rate."""

import json

import pytest

from paper_checks.calibrate import calibrate, failure_pvalue, main


def test_failure_pvalue_is_the_binomial_tail():
    assert failure_pvalue(0, 10, 1e-6) == 1.0
    # one failure in 10 runs at rate 1e-6: P(Bin ≥ 1) = 1 − (1 − 1e-6)^10 ≈ 1e-5
    assert abs(failure_pvalue(1, 10, 1e-6) - (1 - (1 - 1e-6) ** 10)) < 1e-12
    assert failure_pvalue(5, 10, 0.5) == pytest.approx(0.623046875, rel=1e-12)


def test_calibration_subset_has_no_miscalibrated_claim(tmp_path):
    """A Monte Carlo claim (Shumailov's 1-D W₂ through the engine, its exact law) and an exact
    claim, 3 seeds each in quick mode: any failure of a claim with α = 1e-6 has p ≈ 3e-6 and
    is reported; the test fails then (false alarm of this test ≤ 3e-6 per claim). The record
    of every claim at 20 quick and 5 full seeds is paper_checks/calibration.json
    (test_calibration_record.py); this test checks the command that makes it."""
    path = tmp_path / "cal.json"
    code = main(["--seeds", "3", "--quick", "--only", "shumailov2024.thm3.1.w2_1d",
                 "suresh2024.thm3.*", "--json", str(path)])
    rows = json.loads(path.read_text())["rows"]
    assert {r["claim_id"] for r in rows} == {"shumailov2024.thm3.1.w2_1d",
                                             "suresh2024.thm3.bound"}
    assert all(r["seeds"] == 3 for r in rows)
    assert code == 0, rows


def test_bad_arguments():
    with pytest.raises(ValueError, match="seeds"):
        calibrate(["suresh2024.thm3.bound"], seeds=0)
    assert main(["--seeds", "2", "--only", "no.such.claim"]) == 2
    assert main(["--level", "2"]) == 2
