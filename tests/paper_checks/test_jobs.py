"""``--jobs`` and ``--time-limit`` of ``python -m paper_checks``, and ``--only`` repeated.

The time-limit test runs the command in a subprocess that first imports
``tests/paper_checks/_jobs_claims.py`` (three claims of its own: a fast one, one that sleeps
for two minutes, another fast one); the workers import that module to find them.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from paper_checks.claim import Context
from paper_checks.cli import checks_main
from paper_checks.runner import payload, run_claims, select

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SCRIPT = ("import sys; import tests.paper_checks._jobs_claims; "
           "from paper_checks.cli import checks_main; sys.exit(checks_main(sys.argv[1:]))")


def _run(tmp_path, *args, only="zzjobs.*", timeout=120):
    env = {**os.environ, "PYTHONPATH": ROOT, "CI": "1",
           "JOBS_TEST_LOG": str(tmp_path / "log.txt")}
    return subprocess.run([sys.executable, "-c", _SCRIPT, "--only", only, *args],
                          capture_output=True, text=True, cwd=str(tmp_path), env=env,
                          timeout=timeout)


def test_a_claim_past_the_time_limit_is_an_error_and_the_run_goes_on(tmp_path):
    out = tmp_path / "out.json"
    start = time.monotonic()
    r = _run(tmp_path, "--jobs", "2", "--time-limit", "2", "--json", str(out))
    elapsed = time.monotonic() - start
    assert r.returncode == 1, r.stdout + r.stderr
    assert elapsed < 100  # the sleeping claim (120 s) was stopped, not waited for
    ids = ["zzjobs.a_fast", "zzjobs.b_sleeps", "zzjobs.c_fast", "zzjobs.d_fast"]
    # c and d finish before b is stopped; the rows keep the selection order
    rows = [line.split()[0] for line in r.stdout.splitlines() if line.startswith("zzjobs.")]
    assert rows == ids
    assert "3/4 claims passed" in r.stdout
    claims = json.loads(out.read_text())["claims"]
    assert [c["id"] for c in claims] == ids
    slow = claims[1]
    assert slow["passed"] is False and 2.0 <= slow["seconds"] < 10.0
    assert slow["error"].startswith("exceeded the time limit of 2 s after ")
    assert f"error: {slow['error']}" in r.stdout and "ERROR" in r.stdout
    assert all(c["passed"] for c in claims if c is not slow)
    # the run went on in the other worker while the sleeping claim held its own
    pid = dict(line.split() for line in (tmp_path / "log.txt").read_text().splitlines())
    assert sorted(pid) == ids
    assert pid["zzjobs.a_fast"] == pid["zzjobs.c_fast"] == pid["zzjobs.d_fast"]
    assert pid["zzjobs.b_sleeps"] != pid["zzjobs.a_fast"] and str(os.getpid()) not in pid.values()


def test_jobs_zero_runs_in_process(tmp_path):
    r = _run(tmp_path, "--jobs", "0", only="zzjobs.[acd]_*")
    assert r.returncode == 0, r.stdout + r.stderr
    pids = {line.split()[1] for line in (tmp_path / "log.txt").read_text().splitlines()}
    assert len(pids) == 1  # every claim in one process: the command's own


@pytest.mark.parametrize("args, words", [
    (["--jobs", "0", "--time-limit", "5"], "--time-limit needs worker"),
    (["--jobs", "-1"], "--jobs must be"),
    (["--time-limit", "-1"], "--time-limit must be"),
    (["--time-limit", "nan"], "--time-limit must be"),
])
def test_bad_jobs_or_time_limit_is_one_line_and_exit_2(args, words, capsys):
    assert checks_main(["--only", "suresh2024.thm3.*", *args]) == 2
    out, err = capsys.readouterr()
    assert words in err and err.strip().count("\n") == 0 and out == ""


def _comparable(results):
    data = payload(results, Context(quick=True, seed=3))
    for entry in data["claims"]:
        entry.pop("seconds")
    return data


def test_workers_give_the_results_of_a_serial_run():
    claims = select(["suresh2024.thm3.bound", "kazdan2025.kde.heat_death",
                     "kazdan2025.accumulate.unbiased"])
    ctx = Context(quick=True, seed=3)
    serial = run_claims(claims, ctx, verbose=False)
    parallel = run_claims(claims, ctx, verbose=False, jobs=2, time_limit=600)
    assert [r.claim.id for r in parallel] == [c.id for c in claims]
    assert all(r.error is None for r in parallel)
    # bitwise: a worker runs each claim's same programs on the same seed as the serial run
    # (only the process differs), as --jobs promises identical output
    assert _comparable(parallel) == _comparable(serial)


def test_controls_run_in_the_workers_as_in_process():
    """--controls with workers: each claim's controls run in its worker, with the outcomes of
    a serial run (this claim declares two; one of them is not rejected in quick mode)."""
    claims = select(["kazdan2025.accumulate.unbiased"])
    ctx = Context(quick=True, seed=3)
    serial = run_claims(claims, ctx, verbose=False, controls=True)
    parallel = run_claims(claims, ctx, verbose=False, jobs=1, time_limit=600, controls=True)
    assert parallel[0].controls is not None and len(parallel[0].controls) == 2
    assert _comparable(parallel) == _comparable(serial)


def test_only_given_twice_accumulates(capsys):
    assert checks_main(["--list", "--only", "suresh2024.thm3.*",
                        "--only", "kazdan2025.replace.*"]) == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert ids == ["kazdan2025.replace.mle", "suresh2024.thm3.bound"]


@pytest.mark.parametrize("argv", [["--jobs", "x"], ["--time-limit", "soon"]])
def test_unparsable_jobs_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        checks_main(["--only", "suresh2024.thm3.*", *argv])
    assert exc.value.code == 2 and capsys.readouterr().err.strip().count("\n") == 0


def test_jobs_default_from_the_environment(monkeypatch, capsys):
    """SELFCONSUMING_JOBS sets --jobs' default; a bad value is one line and exit 2."""
    from simulations._workers import default_jobs

    monkeypatch.setenv("SELFCONSUMING_JOBS", "3")
    assert default_jobs() == 3
    monkeypatch.setenv("SELFCONSUMING_JOBS", "-1")
    assert checks_main(["--only", "suresh2024.thm3.bound", "--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert "SELFCONSUMING_JOBS" in err and err.count("\n") == 0
