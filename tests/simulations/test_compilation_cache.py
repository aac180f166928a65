"""The persistent compilation cache (simulations/compilation_cache.py): where it lives, that
importing it changes nothing, and that no cache state (empty, warm, truncated or overwritten
entries) changes a result or crashes a run.

Every process that configures a cache is a subprocess with a timeout, so that this test
session's own cache (tests/conftest.py) is left alone and a hang cannot block the suite.
"""

import glob
import json
import os
import subprocess
import sys
import textwrap

import pytest

from simulations import compilation_cache as cc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 180
CHEAP_CLAIM = "shumailov2024.thm3.1.w2_1d"  # a quick claim that runs the engine


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in (cc.ENV_DIR, cc.ENV_OFF, cc.JAX_ENV_DIR)}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _python(code, env, *args):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=TIMEOUT)


# ---------------------------------------------------------------------------------------------
# Where the cache lives (pure functions: no JAX configuration involved)
# ---------------------------------------------------------------------------------------------

def test_folder_order_argument_then_env_then_jax_env_then_default(monkeypatch, tmp_path):
    for var in (cc.ENV_DIR, cc.JAX_ENV_DIR):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default = cc.resolve_dir()
    assert default == cc.default_dir()
    if sys.platform.startswith("linux"):
        assert default.startswith(str(tmp_path / "xdg" / "selfconsuming" / "jax" / "jax-"))
    monkeypatch.setenv(cc.JAX_ENV_DIR, str(tmp_path / "jaxenv"))
    assert cc.resolve_dir() == str(tmp_path / "jaxenv")
    monkeypatch.setenv(cc.ENV_DIR, str(tmp_path / "ours"))
    assert cc.resolve_dir() == str(tmp_path / "ours")
    assert cc.resolve_dir(str(tmp_path / "arg")) == str(tmp_path / "arg")


@pytest.mark.parametrize("value, off", [("1", True), ("yes", True), ("0", False),
                                        ("false", False), ("", False)])
def test_no_cache_variable(monkeypatch, value, off):
    monkeypatch.setenv(cc.ENV_OFF, value)
    assert cc.disabled_by_env() is off


def test_clear_deletes_the_folder_and_reports_its_size(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "x-cache").write_bytes(b"0" * 1000)
    path, size = cc.clear(str(folder))
    assert path == str(folder) and size == 1000 and not folder.exists()


# ---------------------------------------------------------------------------------------------
# configure(): only it changes jax.config; its choice reaches worker processes
# ---------------------------------------------------------------------------------------------

CONFIGURE_CHILD = """
    import json, os, subprocess, sys
    import jax
    import simulations, theory, figures, paper_checks  # (their own imports are not tested here)
    before = dict(jax.config.values)
    from simulations import compilation_cache as cc
    import paper_checks.cli, figures.__main__
    out = {"unchanged": dict(jax.config.values) == before}
    # a worker: loads the module from its file (no package import) and calls configure()
    WORKER = ("import importlib.util as u, jax; s = u.spec_from_file_location('cc', %r); "
              "m = u.module_from_spec(s); s.loader.exec_module(m); "
              "print(m.configure(), jax.config.jax_compilation_cache_dir)" % cc.__file__)

    def state(where):
        child = subprocess.run([sys.executable, "-c", WORKER], capture_output=True, text=True,
                               check=True).stdout.split()
        return {"where": where, "child": child, "dir": jax.config.jax_compilation_cache_dir,
                "on": jax.config.jax_enable_compilation_cache,
                "min_secs": jax.config.jax_persistent_cache_min_compile_time_secs}

    out["on"] = state(cc.configure(sys.argv[1]))
    out["unwritable"] = state(cc.configure(sys.argv[2]))
    os.environ[cc.ENV_OFF] = "1"
    out["off"] = state(cc.configure(sys.argv[1]))
    print(json.dumps(out))
"""


def test_import_changes_nothing_and_configure_reaches_workers(tmp_path):
    """Importing the module (and the entry points) leaves jax.config as it was; configure()
    sets it and a worker started afterwards gets the same setting from configure() with no
    argument; an unwritable folder warns and turns the cache off; SELFCONSUMING_NO_CACHE=1
    turns it off here and in the worker."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    folder = str(tmp_path / "c")
    r = _python(CONFIGURE_CHILD, _env(), folder, str(blocker / "c"))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["unchanged"], "importing the cache module or the entry points changed jax.config"
    on = out["on"]
    assert on["where"] == on["dir"] == folder and on["on"], on
    assert on["min_secs"] == cc.MIN_COMPILE_TIME_SECS
    assert on["child"] == [folder, folder], "the worker did not get the same cache"
    assert out["unwritable"]["where"] is None and not out["unwritable"]["on"]
    assert out["unwritable"]["child"][0] == "None"
    assert "compilation cache off: cannot use" in r.stderr
    assert out["off"]["where"] is None and not out["off"]["on"]
    assert out["off"]["child"][0] == "None"


# ---------------------------------------------------------------------------------------------
# Safety: cold, warm and damaged caches give identical numbers
# ---------------------------------------------------------------------------------------------

RUN_CHILD = """
    import hashlib, json, sys
    import numpy as np
    import jax
    from simulations import compilation_cache as cc
    where = cc.configure(sys.argv[1])
    hits = []
    jax.monitoring.register_event_listener(
        lambda event, **kw: hits.append(1) if event == "/jax/compilation_cache/cache_hits"
        else None)
    from simulations import LoopSpec, run
    spec = LoopSpec(dim=2, n_real=12, synthetic_ratio=0.5, data="mix",
                    correction_strength=0.7, generations=4, replicates=6)
    t = run(spec, seed=3)
    digest = hashlib.sha256(np.ascontiguousarray(t.means).tobytes()
                            + np.ascontiguousarray(t.covs).tobytes()).hexdigest()
    from paper_checks.cli import checks_main
    rc = checks_main(["--quick", "--only", sys.argv[2], "--json", sys.argv[3], "--quiet"])
    print(json.dumps({"where": where, "digest": digest, "hits": len(hits), "rc": rc}))
"""


def _run_phase(cache, tmp_path, phase):
    out_json = tmp_path / f"{phase}.json"
    r = _python(RUN_CHILD, _env(), str(cache), CHEAP_CLAIM, str(out_json))
    assert r.returncode == 0, f"{phase}: exit {r.returncode}\n{r.stderr[-3000:]}"
    out = json.loads(r.stdout.splitlines()[-1])
    claims = json.loads(out_json.read_text())["claims"]
    out["claims"] = [{k: c[k] for k in ("id", "predicted", "measured", "stderr", "passed")}
                     for c in claims]
    out["stderr"] = r.stderr
    return out


def _entries(cache):
    return sorted(glob.glob(os.path.join(cache, "*-cache")))


def test_results_are_identical_with_a_cold_warm_or_damaged_cache(tmp_path):
    """A loop run and a claim give bit-identical numbers with an empty cache, the cache they
    filled, and that cache with half its entries truncated to half their size and the other
    half overwritten with random bytes (what a process killed while writing, or a disk
    error, leaves): JAX warns for each damaged entry and compiles the program again."""
    cache = tmp_path / "cache"
    cold = _run_phase(cache, tmp_path, "cold")
    entries = _entries(cache)
    assert cold["where"] == str(cache) and len(entries) >= 2, "the cold run wrote no entry"
    assert cold["rc"] == 0 and cold["claims"]
    warm = _run_phase(cache, tmp_path, "warm")
    assert warm["hits"] > 0, "the warm run loaded nothing from the cache"
    for i, path in enumerate(entries):
        with open(path, "rb") as fh:
            data = fh.read()
        with open(path, "wb") as fh:
            fh.write(data[: len(data) // 2] if i % 2 else os.urandom(len(data)))
    damaged = _run_phase(cache, tmp_path, "damaged")
    assert damaged["stderr"].count("Error reading persistent compilation cache entry") >= 2
    assert damaged["hits"] == 0, "a damaged entry was loaded"
    # bitwise: the same programs, compiled or loaded from the cache, on the same inputs
    for phase in (warm, damaged):
        for key in ("digest", "claims", "rc"):
            assert phase[key] == cold[key], f"{key} differs from the cold run"
