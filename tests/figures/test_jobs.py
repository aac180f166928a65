"""``--jobs`` and ``--time-limit`` of ``python -m figures``, and ``--only`` repeated.

The time-limit test runs the command in a subprocess that first imports
``tests/figures/_jobs_figures.py`` (three figures of its own, the middle one sleeping for two
minutes); the workers import that module to find them.
"""

import json
import os
import subprocess
import sys
import time

from figures.__main__ import main as figures_main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SCRIPT = ("import sys; import tests.figures._jobs_figures; "
           "from figures.__main__ import main; sys.exit(main(sys.argv[1:]))")


def test_a_figure_past_the_time_limit_fails_and_the_others_are_made(tmp_path):
    out = tmp_path / "figs"
    env = {**os.environ, "PYTHONPATH": ROOT, "CI": "1"}
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-c", _SCRIPT, "--only", "zzjobs2000_*", "--out",
                        str(out), "--jobs", "2", "--time-limit", "2"],
                       capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=120)
    assert time.monotonic() - start < 100  # the sleeping figure was stopped, not waited for
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["zzjobs2000_a", "zzjobs2000_c"]
    assert lines[-1].startswith("2/3 figures written")
    assert lines[-1].endswith("failed: zzjobs2000_b_sleeps")
    assert "zzjobs2000_b_sleeps: FAILED: exceeded the time limit of 2 s after " in r.stderr
    assert set(json.loads((out / "index.json").read_text())) == {"zzjobs2000_a", "zzjobs2000_c"}
    assert (out / "zzjobs2000_c.csv").read_text() == "quick\nFalse\n"


def test_only_given_twice_accumulates_and_bad_jobs_exit_2(capsys):
    assert figures_main(["--list", "--only", "kazdan*", "--only", "suresh*"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names[0].startswith("kazdan2025_") and names[-1].startswith("suresh2024_")
    assert {n.split("_")[0] for n in names} == {"kazdan2025", "suresh2024"}
    for args in (["--jobs", "-2"], ["--jobs", "0", "--time-limit", "3"],
                 ["--time-limit", "-5"]):
        assert figures_main(["--list", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --") and err.count("\n") == 1
