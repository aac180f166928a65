"""Test configuration: float64 JAX, deterministic hypothesis profile, opt-in seed sweeps.

Statistical tests use fixed seeds (``SELFCONSUMING_TEST_SEED`` selects another for
calibration runs; its value is printed in the header). Each states its false-failure
probability; ``Z_TEST`` below is the two-sided threshold for 1e-6 per comparison.
"""

import os

import jax
from hypothesis import HealthCheck, settings

jax.config.update("jax_enable_x64", True)

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("wide", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TEST_SEED = int(os.environ.get("SELFCONSUMING_TEST_SEED", "0"))


def pytest_report_header(config):
    return f"SELFCONSUMING_TEST_SEED={TEST_SEED}"
