"""A claim and a figure for the tests of ``--profile`` (tests/paper_checks/test_profile.py).

Each compiles one small program of its own (a few milliseconds), so that a profile has at
least one program to count. Importing this module registers them, so it is imported only by
the test's own subprocesses, never by pytest's process; a worker finds them by importing it.
"""

import os

import jax
import jax.numpy as jnp

from figures._registry import figure
from paper_checks.claim import Measurement, claim


@jax.jit
def _cube_sum(x):
    return jnp.sum(x ** 3)


def _value() -> float:
    return float(_cube_sum(jnp.arange(4.0)))  # 0 + 1 + 8 + 27


@claim(id="zzprofile.jit", paper="Profile test", statement="a test claim that compiles",
       kind="equality", provenance="derived", method="exact")
def _evaluate(ctx):
    return [Measurement("sum of cubes", 36.0, _value())]


@figure("zzprofile2000_jit")
def _figure(quick, out):
    path = os.path.join(out, "zzprofile2000_jit.csv")
    with open(path, "w") as fh:
        fh.write(f"sum\n{_value()}\n")
    return [path]
