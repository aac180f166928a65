"""Claims for the tests of ``--jobs`` and ``--time-limit`` (tests/paper_checks/test_jobs.py).

Importing this module registers them, so it is imported only by the test's own subprocess,
never by pytest's process (the toolkit's registry stays as it is there). A worker finds them by
importing the module that registered each claim. Each evaluation appends the claim's id and
process id to the file named by ``JOBS_TEST_LOG``.
"""

import os
import time

from paper_checks.claim import Measurement, claim


def _note(cid: str) -> None:
    with open(os.environ["JOBS_TEST_LOG"], "a") as fh:
        fh.write(f"{cid} {os.getpid()}\n")


def _register(cid: str, seconds: float) -> None:
    @claim(id=cid, paper="Jobs test", statement="a test claim", kind="equality",
           provenance="derived", method="exact")
    def _evaluate(ctx):
        _note(cid)
        time.sleep(seconds)
        return [Measurement("seed", float(ctx.seed), float(ctx.seed))]


_register("zzjobs.a_fast", 0.0)
_register("zzjobs.b_sleeps", 120.0)
_register("zzjobs.c_fast", 0.0)
_register("zzjobs.d_fast", 0.0)
