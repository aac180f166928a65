"""A check run killed mid-way (SIGINT or SIGKILL) resumes on rerun without recomputing the
claims it finished, and ends with the results of an uninterrupted run.

The run is a subprocess (a script, ``_SCRIPT``) that registers three claims of its own next to
the toolkit's by importing a module written beside it (``_CLAIMS``; its worker process imports
the same module to find them): two fast exact ones around a slow one that sleeps until it is
killed on the first run and returns at once on the rerun. Each evaluation appends the claim's
id to a log file, so the test sees what was evaluated in each run. The parent kills the run
from outside once the checkpoint holds the first claim, the way a user or a scheduler would;
the run's worker exits with it. ``--jobs 1`` keeps the claims in order, one at a time.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_CLAIMS = textwrap.dedent('''
    import os, time
    from paper_checks.claim import Measurement, claim

    LOG = os.environ["RESUME_TEST_LOG"]

    def note(name):
        with open(LOG, "a") as fh:
            fh.write(name + "\\n")

    def make(cid, wait):
        @claim(id=cid, paper="Resume test", statement="a test claim", kind="equality",
               provenance="derived", method="exact")
        def _evaluate(ctx):
            note(cid)
            if wait and os.environ.get("RESUME_TEST_SLOW") == "1":
                time.sleep(120)
            return [Measurement("x", 1.0, 1.0 + ctx.seed * 0.0)]

    make("zzresume.a_fast", False)
    make("zzresume.b_slow", True)
    make("zzresume.c_fast", False)
''')

_SCRIPT = textwrap.dedent('''
    import signal, sys
    # a shell starts background jobs (e.g. a CI runner's) with SIGINT ignored and children
    # inherit that; restore Python's Ctrl-C handler, which a terminal would give
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import resume_claims  # registers the claims; the script's folder is on sys.path
    from paper_checks.cli import checks_main

    sys.exit(checks_main(sys.argv[1:]))
''')


def _start(tmp_path, slow):
    script = tmp_path / "run_checks.py"
    script.write_text(_SCRIPT)
    (tmp_path / "resume_claims.py").write_text(_CLAIMS)
    env = {**os.environ, "RESUME_TEST_LOG": str(tmp_path / "log.txt"),
           "RESUME_TEST_SLOW": "1" if slow else "0", "PYTHONPATH": ROOT, "CI": "1"}
    args = [sys.executable, str(script), "--only", "zzresume.*", "--json",
            str(tmp_path / "out.json"), "--quick", "--jobs", "1"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=str(tmp_path))


def _log(tmp_path):
    path = tmp_path / "log.txt"
    return path.read_text().split() if path.exists() else []


@pytest.fixture
def processes():
    """Children started by a test; killed and reaped (pipes closed) whatever the outcome."""
    started = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_killed_check_run_resumes(tmp_path, sig, processes):
    partial = tmp_path / "out.json.partial"
    proc = _start(tmp_path, slow=True)
    processes.append(proc)
    deadline = time.monotonic() + 120
    # wait until the slow claim has started: the first claim is then in the checkpoint
    while "zzresume.b_slow" not in _log(tmp_path):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run did not reach the slow claim"
        time.sleep(0.05)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "interrupted" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "out.json").exists()
    saved = json.loads(partial.read_text())
    assert list(saved["claims"]) == ["zzresume.a_fast"]

    proc = _start(tmp_path, slow=False)
    processes.append(proc)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    # the rerun evaluated only the unfinished claims
    assert _log(tmp_path) == ["zzresume.a_fast", "zzresume.b_slow", "zzresume.b_slow",
                              "zzresume.c_fast"]
    result = json.loads((tmp_path / "out.json").read_text())
    by_id = {c["id"]: c for c in result["claims"]}
    assert [by_id[i]["resumed"] for i in sorted(by_id)] == [True, False, False]
    assert all(c["passed"] for c in result["claims"])
    assert by_id["zzresume.a_fast"]["comparisons"] == saved["claims"]["zzresume.a_fast"][
        "result"]["comparisons"]
    assert "resumed" in out and "1 claim(s) resumed" in err
    assert not partial.exists()


def test_checkpoint_ignores_another_seed_and_a_changed_claim(tmp_path):
    from paper_checks.claim import Context
    from paper_checks.runner import Checkpoint, evaluate, run_claims, select

    claims = select(["suresh2024.thm3.bound"])
    path = str(tmp_path / "c.partial")
    ck = Checkpoint(path, Context(quick=True, seed=0))
    ck.save(evaluate(claims[0], Context(quick=True, seed=0)))
    assert Checkpoint(path, Context(quick=True, seed=0)).restore(claims[0]) is not None
    assert Checkpoint(path, Context(quick=True, seed=1)).restore(claims[0]) is None
    assert Checkpoint(path, Context(quick=False, seed=0)).restore(claims[0]) is None
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    data["claims"]["suresh2024.thm3.bound"]["fingerprint"] = "0" * 64
    with open(path, "w") as fh:
        json.dump(data, fh)
    assert Checkpoint(path, Context(quick=True, seed=0)).restore(claims[0]) is None
    with open(path, "w") as fh:
        fh.write("{not json")
    ck = Checkpoint(path, Context(quick=True, seed=0))
    results = run_claims(claims, Context(quick=True, seed=0), verbose=False, checkpoint=ck)
    assert not results[0].resumed and results[0].passed


def test_restored_result_has_the_same_verdict_and_worst_comparison(tmp_path):
    from paper_checks.claim import Context
    from paper_checks.runner import evaluate, result_from_json, select

    claim_ = select(["suresh2024.thm3.bound"])[0]
    fresh = evaluate(claim_, Context(quick=True, seed=0))
    back = result_from_json(claim_, json.loads(json.dumps(fresh.to_json())))
    a, b = fresh.to_json(), back.to_json()
    assert back.resumed and a.pop("resumed") is False and b.pop("resumed") is True
    assert a == b
