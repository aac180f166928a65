"""Figures for the tests of ``--jobs`` and ``--time-limit`` (tests/figures/test_jobs.py).

Importing this module registers them, so it is imported only by the test's own subprocess,
never by pytest's process. A worker finds them by importing the module that registered each.
"""

import os
import time

from figures._registry import figure


def _register(name: str, seconds: float) -> None:
    @figure(name)
    def _main(quick, out):
        time.sleep(seconds)
        path = os.path.join(out, f"{name}.csv")
        with open(path, "w") as fh:
            fh.write(f"quick\n{quick}\n")
        return [path]


_register("zzjobs2000_a", 0.0)
_register("zzjobs2000_b_sleeps", 120.0)
_register("zzjobs2000_c", 0.0)
