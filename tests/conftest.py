"""Test configuration: float64 JAX, deterministic hypothesis profile, opt-in seed sweeps.

Statistical tests use fixed seeds (``SELFCONSUMING_TEST_SEED`` selects another for
calibration runs; its value is printed in the header). Each states its false-failure
probability; ``Z_TEST`` below is the two-sided threshold for 1e-6 per comparison.
"""

import os

import jax
from hypothesis import HealthCheck, settings

from simulations.compilation_cache import configure as configure_compilation_cache

jax.config.update("jax_enable_x64", True)
configure_compilation_cache()  # a persistent cache (simulations/compilation_cache.py)
# The command lines run claims and figures in worker processes by default; a worker costs a
# JAX start-up and compiles its programs anew, which the many small CLI calls of the tests would
# pay again and again. They run in-process here (also in the CLI subprocesses, which inherit
# the variable); the tests of the worker pool pass --jobs explicitly.
os.environ.setdefault("SELFCONSUMING_JOBS", "0")

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


# ---------------------------------------------------------------------------------------------
# The default tier. Tests marked `@pytest.mark.slow` (on the function, or on one parametrization
# through `pytest.param(..., marks=pytest.mark.slow)`) compile a program of their own for several
# seconds each on a 2-core CPU; the default run (README's test command, `-m 'not slow'` in
# pyproject.toml) stays under 10 minutes without them and `python -m pytest -m slow` runs them.
# The mark sits on the test itself, so a renamed test keeps its tier. Every figure still runs in
# CI, through `python -m figures --quick` in .ci/run; each property marked slow for speed keeps a
# cheaper test in the default tier (named in a comment by the mark where it is not obvious).
# ---------------------------------------------------------------------------------------------
