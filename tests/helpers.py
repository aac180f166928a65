"""Shared constants and checks for statistical tests."""

import os

import numpy as np
from scipy import stats

TEST_SEED = int(os.environ.get("SELFCONSUMING_TEST_SEED", "0"))
# Two-sided z for a false-failure probability of 1e-6 per comparison.
Z_TEST = float(stats.norm.isf(0.5e-6))


def assert_mean_close(values, predicted, label="", z=Z_TEST, rounding=0.0):
    """|mean − predicted| ≤ z·SE + rounding, with the CLT standard error of the mean and
    ``rounding`` a derived bound on the floating-point bias of the simulated values (0 where
    it is negligible against the SE, e.g. float64)."""
    values = np.asarray(values, dtype=np.float64)
    m = values.mean()
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(m - predicted) <= z * se + rounding, (
        f"{label}: mean {m:.6g} vs predicted {predicted:.6g}, SE {se:.3g}, "
        f"z = {(m - predicted) / se:.2f} (seed {TEST_SEED})"
    )
