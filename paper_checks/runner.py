"""Run selected claims, print the table, write JSON and a Markdown report."""

from __future__ import annotations

import fnmatch
import json
import os
import platform
import sys
import tempfile
import time
import traceback

from paper_checks.claim import REGISTRY, Claim, ClaimResult, Context, judge


def load_claims() -> dict[str, Claim]:
    """Import every claim module (registration happens at import) and return the registry."""
    import paper_checks.claims  # noqa: F401

    return REGISTRY


def select(patterns: list[str] | None) -> list[Claim]:
    """Claims whose id matches any of the glob ``patterns`` (all when None), in id order."""
    claims = load_claims()
    ids = sorted(claims)
    if patterns:
        chosen = [i for i in ids if any(fnmatch.fnmatchcase(i, p) for p in patterns)]
        if not chosen:
            raise ValueError(f"--only {' '.join(patterns)!r} matches no claim id")
        ids = chosen
    return [claims[i] for i in ids]


def evaluate(claim: Claim, ctx: Context) -> ClaimResult:
    """Evaluate one claim; an exception becomes a failed result carrying its message."""
    start = time.perf_counter()
    sub = Context(quick=ctx.quick, seed=claim.seed_for(ctx.seed))
    try:
        measurements = claim.evaluate(sub)
    except Exception as exc:  # a crashing claim is a failed claim, reported, not fatal
        result = ClaimResult(claim, [], False, time.perf_counter() - start)
        result.error = f"{type(exc).__name__}: {exc}"
        result.traceback = traceback.format_exc()
        return result
    return judge(claim, measurements, time.perf_counter() - start)


def _fmt(x) -> str:
    if x is None:
        return "-"
    x = float(x)
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.5g}"
    return f"{x:.4e}"


def row(result: ClaimResult) -> str:
    w = result.worst
    verdict = "PASS" if result.passed else ("ERROR" if result.error else "FAIL")
    if w is None:
        pred = meas = "-"
    else:
        pred = _fmt(w.predicted)
        meas = _fmt(w.measured) + ("" if w.stderr is None else f" ± {_fmt(w.stderr)}")
        if w.pvalue is not None:
            meas += f" (p={w.pvalue:.3g})"
    return f"{result.claim.id:<44} {pred:>14} {meas:>30}  {verdict:<5} {result.seconds:6.1f}s"


HEADER = f"{'claim':<44} {'predicted':>14} {'measured ± SE':>30}  {'':<5} {'time':>7}"


def run_claims(claims: list[Claim], ctx: Context, *, stream=sys.stdout, verbose: bool = True):
    results = []
    if verbose:
        print(HEADER, file=stream)
        print("-" * len(HEADER), file=stream)
    for claim in claims:
        result = evaluate(claim, ctx)
        results.append(result)
        if verbose:
            print(row(result), file=stream, flush=True)
            if result.error:
                print(f"    error: {result.error}", file=stream)
    return results


def versions() -> dict:
    import jax
    import numpy
    import scipy
    import sympy

    return {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
    }


def payload(results: list[ClaimResult], ctx: Context) -> dict:
    return {
        "claims": [r.to_json() for r in results],
        "seed": ctx.seed,
        "quick": ctx.quick,
        "versions": versions(),
    }


def atomic_write(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=directory, delete=False, encoding="utf-8", suffix=".tmp"
    ) as fh:
        fh.write(text)
        tmp = fh.name
    os.replace(tmp, path)


def write_json(path: str, results: list[ClaimResult], ctx: Context) -> None:
    atomic_write(path, json.dumps(payload(results, ctx), indent=2) + "\n")


def markdown_report(results: list[ClaimResult], ctx: Context) -> str:
    n_pass = sum(r.passed for r in results)
    lines = [
        "# Paper checks",
        "",
        f"{n_pass} of {len(results)} claims pass (seed {ctx.seed}, "
        f"{'quick' if ctx.quick else 'default'} mode).",
        "",
        "Verdict rule: each claim has a false-failure probability α (1e-6 unless stated), split",
        "evenly over its comparisons; equalities pass when |measured − predicted| ≤ z·SE +",
        "tolerance, bounds are one-sided, distributional checks pass when the KS p-value ≥ α/k.",
        "Heavy-tailed quantities (det Σ_t, σ_t², W₂² under replace) are checked through exact",
        "laws, log-moments or medians, never through a raw mean that rare paths dominate.",
        "",
        "| claim | provenance | kind | predicted | measured ± SE | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        w = r.worst
        meas = "-" if w is None else _fmt(w.measured)
        if w is not None and w.stderr is not None:
            meas += f" ± {_fmt(w.stderr)}"
        pred = "-" if w is None else _fmt(w.predicted)
        verdict = "PASS" if r.passed else "FAIL"
        lines.append(
            f"| `{r.claim.id}` | {r.claim.provenance} | {r.claim.kind} | {pred} | {meas} "
            f"| {verdict} |"
        )
    lines.append("")
    for r in results:
        c = r.claim
        lines += [f"## `{c.id}`", "", f"*{c.paper}* ({c.provenance}, {c.kind})", "", c.statement]
        if c.method:
            lines += ["", f"Method: {c.method}"]
        lines += ["", f"False-failure probability: {c.false_failure:g}.", ""]
        if r.error:
            lines += [f"Error: `{r.error}`", ""]
        if r.measurements:
            lines += ["| comparison | predicted | measured | SE | pass |", "|---|---|---|---|---|"]
            for m in r.measurements:
                ok = m.verdict(r.per_comparison_alpha)[0]
                se = "exact" if m.stderr is None else _fmt(m.stderr)
                if m.pvalue is not None:
                    se = f"KS p = {m.pvalue:.3g}"
                lines.append(
                    f"| {m.label} | {_fmt(m.predicted)} | {_fmt(m.measured)} | {se} "
                    f"| {'yes' if ok else 'NO'} |"
                )
            lines.append("")
    return "\n".join(lines) + "\n"


def write_report(directory: str, results: list[ClaimResult], ctx: Context) -> None:
    atomic_write(os.path.join(directory, "report.md"), markdown_report(results, ctx))
    write_json(os.path.join(directory, "claims.json"), results, ctx)
