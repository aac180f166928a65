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


def assert_equal_to_rounding(actual, desired, ulps, err_msg=""):
    """|actual − desired| ≤ ulps·ε·max|desired|, ε the machine epsilon of ``desired``'s dtype.

    For two different compiled programs that compute the same quantity (other static
    configurations or code paths): XLA may fuse, vectorize, contract a·b + c into one FMA or
    reassociate a sum differently in each, so they agree to rounding, not bit for bit, and
    the result may differ between machines. The scale is the array's largest entry, not each
    entry's own size: an entry near zero is a sum of terms of that scale and carries their
    rounding. Each caller states why its ``ulps`` suffices; equality bit for bit is asserted
    only where the same compiled program runs on the same values."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape, (actual.shape, desired.shape, err_msg)
    scale = float(np.max(np.abs(desired))) if desired.size else 0.0
    tol = ulps * float(np.finfo(desired.dtype).eps) * scale
    np.testing.assert_allclose(actual, desired, rtol=0, atol=tol, err_msg=err_msg)
