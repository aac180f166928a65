"""``--profile`` of ``python -m paper_checks`` and ``python -m figures``
(simulations/compile_profile.py).

The command tests run in subprocesses that first import ``tests/paper_checks/_profile_claims.py``
(a claim and a figure that each compile one small program), with a compilation cache folder of
their own (``SELFCONSUMING_CACHE_DIR``): the first run compiles and writes the program, the
second, a fresh process, loads it from the cache.
"""

import json
import os
import re
import subprocess
import sys

from simulations import compile_profile
from simulations.compile_profile import CompileStats, Profile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_CHECKS = ("import sys; import tests.paper_checks._profile_claims; "
           "from paper_checks.cli import checks_main; sys.exit(checks_main(sys.argv[1:]))")
_FIGURES = ("import sys; import tests.paper_checks._profile_claims; "
            "from figures.__main__ import main; sys.exit(main(sys.argv[1:]))")


def _run(tmp_path, script, *args):
    env = {**os.environ, "PYTHONPATH": ROOT, "CI": "1",
           "SELFCONSUMING_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("SELFCONSUMING_NO_CACHE", None)
    r = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                       cwd=str(tmp_path), env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _row(stdout: str, name: str) -> tuple[float, float, int, int]:
    """compile s, run s, programs, cache hits of ``name``'s row in the profile table."""
    table = stdout[stdout.index("compile profile"):]
    m = re.search(rf"^{re.escape(name)}\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)$", table, re.M)
    assert m, stdout
    return float(m[1]), float(m[2]), int(m[3]), int(m[4])


def test_compile_stats_subtract_and_add_field_by_field():
    a = CompileStats(2.0, 1.5, 7, 3, 4, 9, 8)
    b = CompileStats(0.5, 0.5, 2, 1, 1, 3, 2)
    assert a - b == CompileStats(1.5, 1.0, 5, 2, 3, 6, 6)
    assert (a - b) + b == a
    p = Profile(a, wall_seconds=3.0)
    assert p.run_seconds == 1.0 and p.to_json()["programs"] == 7


def test_overlapping_spans_are_counted_once():
    rec = compile_profile._Recorder()
    rec.on_span(compile_profile.TRACE_EVENT, 1.0, 2.0)        # nested in the next one
    rec.on_span(compile_profile.LOWER_EVENT, 0.5, 3.0)
    rec.on_span(compile_profile.BACKEND_EVENT, 3.0, 4.0)      # after it
    rec.on_event(compile_profile.CACHE_HIT_EVENT)
    s = rec.snapshot()
    assert s.compile_seconds == 3.5 and s.backend_seconds == 1.0
    assert (s.programs, s.cache_hits, s.traces, s.lowerings) == (1, 1, 1, 1)


def test_claims_profile_in_process_then_in_a_worker_from_the_cache(tmp_path):
    cold_json, warm_json, plain_json = (tmp_path / f"{n}.json" for n in ("cold", "warm", "plain"))
    cold = _run(tmp_path, _CHECKS, "--only", "zzprofile.*", "--profile", "--jobs", "0",
                "--json", str(cold_json))
    compile_s, run_s, programs, hits = _row(cold, "zzprofile.jit")
    assert programs >= 1 and hits == 0 and compile_s > 0 and run_s >= 0
    assert _row(cold, "total")[2] == programs
    data = json.loads(cold_json.read_text())
    entry = data["profile"]["claims"]["zzprofile.jit"]
    assert entry["programs"] == programs and entry["cache_misses"] >= 1
    assert entry["compile_seconds"] <= entry["wall_seconds"]
    assert data["profile"]["total"]["programs"] == programs
    assert all("profile" not in c and "programs" not in c for c in data["claims"])

    # a fresh process with the same cache folder, the claim in a worker: loaded, not compiled
    warm = _run(tmp_path, _CHECKS, "--only", "zzprofile.*", "--profile", "--jobs", "1",
                "--json", str(warm_json))
    _, _, programs, hits = _row(warm, "zzprofile.jit")
    assert programs >= 1 and hits >= 1
    assert json.loads(warm_json.read_text())["profile"]["claims"]["zzprofile.jit"][
        "cache_hits"] == hits

    # without --profile: no table, and the JSON holds the claims only
    plain = _run(tmp_path, _CHECKS, "--only", "zzprofile.*", "--jobs", "1",
                 "--json", str(plain_json))
    assert "compile profile" not in plain
    data = json.loads(plain_json.read_text())
    assert "profile" not in data and set(data) == {"claims", "seed", "quick", "versions"}
    warm_claims = json.loads(warm_json.read_text())["claims"]
    for entry in warm_claims + data["claims"]:
        entry.pop("seconds")
    assert data["claims"] == warm_claims  # --profile changes nothing in the claims' objects


def test_figures_profile_in_a_worker(tmp_path):
    out = _run(tmp_path, _FIGURES, "--only", "zzprofile2000_*", "--profile", "--jobs", "1",
               "--out", str(tmp_path / "figs"))
    compile_s, _, programs, _ = _row(out, "zzprofile2000_jit")
    assert programs >= 1 and compile_s > 0
    assert out.splitlines()[-1].startswith("1/1 figures written")
