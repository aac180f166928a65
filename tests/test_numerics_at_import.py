"""Importing the toolkit leaves ``jax.config`` as it was, and results are float64 either way.

DESIGN §2 "Numerics": no ``jax.config.update`` at import; ``run``, the theory, the claims and
the figures compute in float64 in their own scope (``theory/_x64.py``). Each check runs in a
fresh process, because this test process has 64-bit JAX on (tests/conftest.py).
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

_SCRIPT = r"""
import json, sys
import jax
if sys.argv[1] == "on":
    jax.config.update("jax_enable_x64", True)
before = bool(jax.config.jax_enable_x64)
import numpy as np
import figures, paper_checks, paper_checks.claims, simulations, theory  # noqa: F401
from paper_checks.claim import REGISTRY, Context
from paper_checks.runner import evaluate
from simulations import LoopSpec, run
after_import = bool(jax.config.jax_enable_x64)

w2 = theory.gaussian_w2_squared(np.zeros(2), np.eye(2), np.array([1e-5, 0.0]), 2.0 * np.eye(2))
spec = LoopSpec(dim=2, n_real=10, data="mix", synthetic_ratio=1.0, correction_strength=0.5,
                generations=3, replicates=4)
tr = run(spec, seed=3)
kl = tr.metric("kl_to_target")
res = evaluate(REGISTRY["suresh2024.thm3.bound"], Context(quick=True, seed=0))
# the user's own float32 program may call a theory function inside its trace
keys = simulations.replicate_keys(0, 3)  # typed keys come back as keys, not NumPy
traced = jax.jit(lambda m: theory.gaussian_w2_squared(m, np.eye(2), m, np.eye(2)))(
    np.zeros(2, np.float32))
print(json.dumps({
    "before": before, "after_import": after_import, "after": bool(jax.config.jax_enable_x64),
    "w2": [str(np.asarray(w2).dtype), float(w2).hex()],
    "means": [str(tr.means.dtype), tr.means.tobytes().hex()],
    "kl": [str(kl.dtype), kl.tobytes().hex()],
    "claim": [res.passed, [float(m.measured).hex() for m in res.measurements]],
    "traced_dtype": str(traced.dtype),
    "keys": [str(keys.dtype), jax.random.key_data(keys).tolist()],
}))
"""


def _run(mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    out = subprocess.run([sys.executable, "-c", _SCRIPT, mode], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _here(capsys) -> dict:
    """The script's numbers in this process, where 64-bit JAX is on (tests/conftest.py) and
    the packages are already imported: the "on" side without a second fresh process."""
    import jax

    assert jax.config.jax_enable_x64
    saved = sys.argv
    sys.argv = ["-c", "on"]
    try:
        exec(compile(_SCRIPT, "<numerics script>", "exec"), {"__name__": "__numerics__"})
    finally:
        sys.argv = saved
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_import_leaves_x64_alone_and_results_are_the_float64_ones(capsys):
    off, on = _run("off"), _here(capsys)
    # importing theory, simulations, figures and the claims changed nothing, nor did computing
    assert (off["before"], off["after_import"], off["after"]) == (False, False, False)
    assert (on["before"], on["after_import"], on["after"]) == (True, True, True)
    # with 64-bit JAX off, the toolkit still computed in float64: bit for bit the numbers of a
    # process that turned it on itself (a theory function, a run and its metric, a claim)
    for key in ("w2", "means", "kl", "claim", "keys"):
        assert off[key] == on[key], key
    assert off["w2"][0] == off["means"][0] == off["kl"][0] == "float64"
    assert off["claim"][0] is True
    # inside the user's own float32 trace, the function kept the user's precision
    assert off["traced_dtype"] == "float32" and on["traced_dtype"] == "float64"
