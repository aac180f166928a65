"""Run selected claims, print the table, write JSON and the Markdown and HTML reports.

:func:`run_claims` evaluates the claims in this process, one after another, or in worker
processes (:mod:`simulations._workers`) several at a time, each claim with a time limit; the
results, the table's row order, the JSON and the checkpoint are the same either way.
"""

from __future__ import annotations

import fnmatch
import hashlib
import inspect
import json
import os
import platform
import sys
import tempfile
import time
import traceback

from paper_checks.claim import REGISTRY, Claim, ClaimResult, Context, judge
from paper_checks.report_html import collect_figures, paper_key, render_html


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
    sub = Context(quick=ctx.quick, seed=claim.seed_for(ctx.seed), control=ctx.control)
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
    return (f"{result.claim.id:<44} {pred:>14} {meas:>30}  {verdict:<5} {result.seconds:6.1f}s"
            f" {power_cell(result):>5} {percent(result.resolution()):>7}")


HEADER = (f"{'claim':<44} {'predicted':>14} {'measured ± SE':>30}  {'':<5} {'time':>7}"
          f" {'power':>5} {'res.':>7}")


def power_cell(result: ClaimResult) -> str:
    """The power column: "k/n" controls rejected, "-" when the controls were not run."""
    power = result.power()
    return "-" if power is None else power


def percent(x: float | None) -> str:
    """A resolution as a percentage ("4.89%"), "-" when there is none."""
    return "-" if x is None else f"{100 * x:.3g}%"


def details(result: ClaimResult) -> list[str]:
    """One line per comparison of a result (``--verbose``)."""
    lines = []
    for m in result.measurements:
        ok = m.verdict(result.per_comparison_alpha)[0]
        se = "exact" if m.stderr is None else f"SE {_fmt(m.stderr)}"
        if m.pvalue is not None:
            se = f"p = {m.pvalue:.3g}"
        lines.append(f"    {'ok ' if ok else 'NO '} {m.label}: predicted {_fmt(m.predicted)}, "
                     f"measured {_fmt(m.measured)} ({se})")
    return lines


# --------------------------------------------------------------------------------------------
# checkpoints: a killed run resumes without recomputing finished claims
# --------------------------------------------------------------------------------------------


def claim_fingerprint(claim: Claim) -> str:
    """SHA-256 of the source of the module that defines ``claim`` (a changed claim, or a changed
    helper in its module, is recomputed rather than resumed)."""
    module = inspect.getmodule(claim.evaluate)
    try:
        text = inspect.getsource(module) if module is not None else claim.id
    except (OSError, TypeError):
        text = claim.id
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def result_from_json(claim: Claim, data: dict) -> ClaimResult:
    """Rebuild a :class:`ClaimResult` from :meth:`ClaimResult.to_json`: each comparison's
    tolerance becomes its ``atol``, so :func:`~paper_checks.claim.judge` gives the same
    verdict and the same worst comparison."""
    from paper_checks.claim import Measurement, judge

    def num(x):
        return None if x is None else float(x)

    ms = [Measurement(c["label"], num(c["predicted"]), num(c["measured"]), num(c["stderr"]),
                      c["sided"], atol=num(c["tolerance"]), pvalue=num(c["pvalue"]))
          for c in data["comparisons"]]
    result = judge(claim, ms, float(data["seconds"]))
    result.resumed = True
    result.controls = restore_controls(claim, data)
    return result


def restore_controls(claim: Claim, data: dict):
    """The control outcomes saved with a result (:meth:`ClaimResult.to_json`), or None when
    they were not run (``power`` null; a ``--controls`` run then runs them) or the claim's
    declared controls changed since."""
    from paper_checks.controls import ControlOutcome

    saved = data.get("controls")
    if data.get("power") is None or not isinstance(saved, list):
        return None
    if any(o.get("verdict") == "not run" for o in saved):
        return None
    if [o.get("name") for o in saved] != [k.name for k in claim.controls]:
        return None
    return [ControlOutcome.from_json(o) for o in saved]


class Checkpoint:
    """Finished claims of a run, saved atomically after each claim to ``path`` (JSON).

    A rerun with the same seed, mode and library versions reuses a saved claim when its
    module's source is unchanged (:func:`claim_fingerprint`; an edit elsewhere in the toolkit
    is not detected: delete the file to force a full run); claims that raised are never
    saved, so they run again. Nothing else is trusted: a file that does not parse, or that
    was written for another seed or mode, is ignored (and replaced as the run progresses).
    """

    def __init__(self, path: str, ctx: Context):
        self.path = path
        self.key = {"seed": int(ctx.seed), "quick": bool(ctx.quick), "versions": versions()}
        self.done: dict[str, dict] = {}
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            if data.get("key") == self.key and isinstance(data.get("claims"), dict):
                self.done = data["claims"]
        except (OSError, ValueError):
            pass

    def restore(self, claim: Claim) -> ClaimResult | None:
        saved = self.done.get(claim.id)
        if saved is None or saved.get("fingerprint") != claim_fingerprint(claim):
            return None
        try:
            return result_from_json(claim, saved["result"])
        except (KeyError, TypeError, ValueError):
            return None

    def save(self, result: ClaimResult) -> None:
        if result.error:
            return
        self.done[result.claim.id] = {"fingerprint": claim_fingerprint(result.claim),
                                      "result": result.to_json()}
        atomic_write(self.path, json.dumps({"key": self.key, "claims": self.done}) + "\n")

    def remove(self) -> None:
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


def checkpoint_path(json_path: str | None, report_dir: str | None) -> str | None:
    """Where a run with these outputs keeps its checkpoint (None: no output, no checkpoint)."""
    if json_path:
        return json_path + ".partial"
    if report_dir:
        return os.path.join(report_dir, "claims.json.partial")
    return None


def _evaluate_by_id(module: str, claim_id: str, quick: bool, seed: int,
                    controls: bool = False, profile: bool = False):
    """Evaluate a claim (and, with ``controls``, its negative controls) in a worker process
    (:func:`run_claims` with ``jobs`` ≥ 1).

    ``module`` is the module that registers the claim (imported here, so a claim registered
    outside :mod:`paper_checks.claims`, e.g. by a test module, is found too). Returns what the
    parent needs to rebuild the :class:`ClaimResult` (:func:`_rebuild`): the measurements, the
    seconds, the error and traceback of a claim that raised, the controls' outcomes and, with
    ``profile``, the compile profile measured in this worker (else None).
    """
    import importlib

    importlib.import_module(module)
    claims = load_claims()
    if claim_id not in claims:
        raise LookupError(f"claim {claim_id!r} is not registered by importing {module!r} "
                          "(a claim defined in __main__ runs in-process only: --jobs 0)")
    ctx = Context(quick=quick, seed=seed)
    result = _evaluate_with_controls(claims[claim_id], ctx, controls, profile)
    return (result.measurements, result.seconds, result.error, result.traceback,
            result.controls, result.profile)


def _evaluate_with_controls(claim: Claim, ctx: Context, controls: bool,
                            profile: bool = False) -> ClaimResult:
    """:func:`evaluate` (and :func:`attach_controls`); with ``profile``, the compilations of
    both, measured in this process (:mod:`simulations.compile_profile`), go to
    ``result.profile``."""
    def run():
        result = evaluate(claim, ctx)
        return attach_controls(result, ctx) if controls else result

    if not profile:
        return run()
    from simulations.compile_profile import profiled

    result, result.profile = profiled(run)
    return result


def _rebuild(claim: Claim, outcome) -> ClaimResult:
    """The :class:`ClaimResult` of a worker's :class:`~simulations._workers.Outcome`: the
    same object that :func:`evaluate` returns in-process, or an error result when the worker
    was stopped at the time limit or died."""
    if outcome.error is None:
        measurements, seconds, error, tb, controls, profile = outcome.value
        if tb is None:
            result = judge(claim, measurements, seconds)
            result.controls, result.profile = controls, profile
            return result
    else:
        seconds, error, tb = outcome.seconds, outcome.error, outcome.traceback
    result = ClaimResult(claim, [], False, seconds)
    result.error, result.traceback = error, tb
    return result


def _evaluations(claims: list[Claim], todo: list[int], ctx: Context, jobs: int,
                 time_limit: float | None, on_dispatch, controls: bool = False,
                 profile: bool = False):
    """Yield ``(i, result)`` for each index ``i`` in ``todo``: in order in-process
    (``jobs == 0``), else in completion order from ``jobs`` worker processes."""
    if jobs == 0:
        for i in todo:
            on_dispatch(i)
            yield i, _evaluate_with_controls(claims[i], ctx, controls, profile)
        return
    from simulations._workers import Task, WorkerPool

    tasks = [Task("paper_checks.runner:_evaluate_by_id",
                  (claims[i].evaluate.__module__, claims[i].id, bool(ctx.quick), int(ctx.seed),
                   bool(controls), bool(profile)))
             for i in todo]
    modules = sorted({"paper_checks.claims"} | {claims[i].evaluate.__module__ for i in todo})
    with WorkerPool(jobs, time_limit, preload=modules) as pool:
        for outcome in pool.run(tasks, on_dispatch=lambda k: on_dispatch(todo[k])):
            i = todo[outcome.index]
            yield i, _rebuild(claims[i], outcome)


def run_claims(claims: list[Claim], ctx: Context, *, stream=None, verbose: bool = True,
               progress: bool = False, progress_stream=None, detailed: bool = False,
               checkpoint: Checkpoint | None = None, jobs: int = 0,
               time_limit: float | None = None, controls: bool = False,
               profile: bool = False):
    """Evaluate ``claims``; the results (and the table's rows) are in the order given.

    Args:
        claims: the claims to run.
        ctx: mode and base seed.
        stream: where the table goes (default: ``sys.stdout`` at call time).
        verbose: print the table (header and one row per claim) on ``stream``.
        progress: print ``[i/N] id …`` on ``progress_stream`` (default stderr) when a claim
            starts (the command line enables it on a terminal, see
            :func:`figures._registry.progress_enabled`).
        detailed: print every comparison under its row (``--verbose``).
        checkpoint: a :class:`Checkpoint`; claims it holds are restored instead of run (their
            row is marked ``resumed``) and each newly finished claim is saved to it as soon as
            it finishes.
        jobs: 0 evaluates the claims one after another in this process; N ≥ 1 evaluates them
            in N worker processes (:mod:`simulations._workers`), several at a time. Each claim's
            seed derives from ``ctx.seed`` and its id (:meth:`Claim.seed_for`), so the results
            are the same either way; a row is printed once the rows above it are.
        time_limit: seconds a claim may run in a worker (None: no limit; needs ``jobs`` ≥ 1).
            A claim past it is stopped (its worker is killed and replaced) and reported as an
            error, ``"exceeded the time limit of N s after M s"``; the run goes on.
        controls: also run each claim's declared negative controls (:func:`attach_controls`),
            in the same process or worker and within the same time limit as the claim; a
            restored claim whose controls were not run is evaluated again with them.
        profile: measure each evaluated claim's compilations where it runs (in this process
            or its worker; :mod:`simulations.compile_profile`) into ``result.profile``
            (restored claims and claims stopped at the time limit have none). They depend on
            the claims that ran before in the same process, so they never enter the claims'
            JSON (:func:`profile_json` gives them separately).
    """
    from simulations._workers import check_jobs

    time_limit = check_jobs(jobs, time_limit)
    stream = sys.stdout if stream is None else stream
    progress_stream = sys.stderr if progress_stream is None else progress_stream
    results: list[ClaimResult | None] = [None] * len(claims)
    if verbose:
        print(HEADER, file=stream)
        print("-" * len(HEADER), file=stream)
    shown = 0

    def show_ready():  # the rows of the finished prefix, in order
        nonlocal shown
        while shown < len(claims) and results[shown] is not None:
            result = results[shown]
            shown += 1
            if not verbose:
                continue
            print(row(result) + (" (resumed)" if result.resumed else ""), file=stream,
                  flush=True)
            if result.error:
                print(f"    error: {result.error}", file=stream)
            if detailed and result.measurements:
                print("\n".join(details(result)), file=stream, flush=True)
            if result.controls:
                print("\n".join(control_lines(result)), file=stream, flush=True)

    def started(i):
        if progress:
            print(f"[{i + 1}/{len(claims)}] {claims[i].id} …", file=progress_stream, flush=True)

    todo = []
    for i, claim in enumerate(claims):
        restored = checkpoint.restore(claim) if checkpoint is not None else None
        if restored is None or (controls and restored.controls is None):
            todo.append(i)
        else:
            results[i] = restored
    show_ready()
    for i, result in _evaluations(claims, todo, ctx, jobs, time_limit, started, controls,
                                  profile):
        if checkpoint is not None:
            checkpoint.save(result)
        results[i] = result
        show_ready()
    return results


def attach_controls(result: ClaimResult, ctx: Context) -> ClaimResult:
    """Run ``result``'s claim under each of its declared controls (same mode and seed, through
    :func:`evaluate`) and store the outcomes on ``result``."""
    from paper_checks.controls import run_controls

    result.controls = run_controls(result.claim, ctx, evaluate)
    return result


def control_lines(result: ClaimResult) -> list[str]:
    """One line per control run: its verdict and where the claim failed (or did not)."""
    return [f"    control {o.name}: {o.verdict.upper()} ({o.detail})" for o in result.controls]


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


def payload(results: list[ClaimResult], ctx: Context, profile: bool = False) -> dict:
    """The claims' JSON; with ``profile``, also a top-level ``"profile"`` object
    (:func:`profile_json`)."""
    data = {
        "claims": [r.to_json() for r in results],
        "seed": ctx.seed,
        "quick": ctx.quick,
        "versions": versions(),
    }
    if profile:
        data["profile"] = profile_json(results)
    return data


def profile_rows(results: list[ClaimResult]) -> list[tuple]:
    """``(claim id, Profile or None)`` for each result (None: resumed or not measured)."""
    return [(r.claim.id, r.profile) for r in results]


def profile_json(results: list[ClaimResult]) -> dict:
    """The compile profile of a ``--profile`` run: ``{"claims": {id: {compile_seconds,
    run_seconds, wall_seconds, programs, cache_hits, cache_misses, backend_seconds} or null},
    "total": {...}}`` (:mod:`simulations.compile_profile`)."""
    from simulations.compile_profile import to_json

    return to_json(profile_rows(results), key="claims")


def profile_lines(results: list[ClaimResult]) -> list[str]:
    """The profile table of a ``--profile`` run, one row per claim and a total line."""
    from simulations.compile_profile import table

    return table(profile_rows(results), what="claim")


def atomic_write(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=directory, delete=False, encoding="utf-8", suffix=".tmp"
    ) as fh:
        fh.write(text)
        tmp = fh.name
    os.replace(tmp, path)


def write_json(path: str, results: list[ClaimResult], ctx: Context,
               profile: bool = False) -> None:
    atomic_write(path, json.dumps(payload(results, ctx, profile), indent=2) + "\n")


def markdown_report(results: list[ClaimResult], ctx: Context, figures=None,
                    base: str | None = None, calibration: dict | None = None) -> str:
    """The report in Markdown; ``figures`` (paper key → PNG paths) are linked relative to
    ``base`` (the report's folder) under the first claim of their paper; ``calibration`` is
    the calibration record (:mod:`paper_checks.calibration_record`) whose failures/seeds are
    shown per claim."""
    from paper_checks import calibration_record

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
        "Power: negative controls rejected / declared (`--controls`; - when not run).",
        "Resolution: the largest relative deviation, over a claim's comparisons, that would",
        "still pass (z·SE + tolerance over |predicted|). Calibration: failures/seeds recorded",
        "in paper_checks/calibration.json.",
        "",
        "| claim | provenance | kind | predicted | measured ± SE | verdict | power "
        "| resolution | calibration |",
        "|---|---|---|---|---|---|---|---|---|",
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
            f"| {verdict} | {power_cell(r)} | {percent(r.resolution())} "
            f"| {calibration_record.cells(calibration, r.claim.id)} |"
        )
    lines.append("")
    shown = set()
    for r in results:
        c = r.claim
        lines += [f"## `{c.id}`", "", f"*{c.paper}* ({c.provenance}, {c.kind})", "", c.statement]
        key = paper_key(c.id)
        if figures and key not in shown:
            shown.add(key)
            for path in figures.get(key, ()):
                rel = os.path.relpath(path, base) if base else path
                lines += ["", f"![{os.path.basename(path)}]({rel.replace(os.sep, '/')})"]
        if c.method:
            lines += ["", f"Method: {c.method}"]
        lines += ["", f"False-failure probability: {c.false_failure:g}.", ""]
        lines += metadata_markdown(r)
        if r.error:
            lines += [f"Error: `{r.error}`", ""]
        if r.measurements:
            lines += ["| comparison | predicted | measured | SE | resolution | slack | pass |",
                      "|---|---|---|---|---|---|---|"]
            for m in r.measurements:
                ok = m.verdict(r.per_comparison_alpha)[0]
                se = "exact" if m.stderr is None else _fmt(m.stderr)
                if m.pvalue is not None:
                    se = f"KS p = {m.pvalue:.3g}"
                lines.append(
                    f"| {m.label} | {_fmt(m.predicted)} | {_fmt(m.measured)} | {se} "
                    f"| {percent(m.resolution(r.per_comparison_alpha))} | {_fmt(m.slack())} "
                    f"| {'yes' if ok else 'NO'} |"
                )
            lines.append("")
    return "\n".join(lines) + "\n"


def metadata_markdown(r: ClaimResult) -> list[str]:
    """Source, exact statement, scope, resolution, slack and the controls of a claim, as
    Markdown lines (a field the claim leaves empty is shown as "not given")."""
    c = r.claim
    lines = [f"- Source: {c.source or 'not given'}",
             f"- Exact statement: {c.exact_statement or 'not given'}",
             f"- Scope: {c.scope or 'not given'}",
             f"- Resolution (worst comparison): {percent(r.resolution())}; slack (tightest "
             f"bound): {_fmt(r.slack())}",
             f"- Power: {power_cell(r)} controls rejected"]
    outcomes = r.controls
    if outcomes is None:
        outcomes = [None] * len(c.controls)
    for k, o in zip(c.controls, outcomes, strict=True):
        verdict = "not run" if o is None else o.verdict
        detail = "" if o is None or not o.detail else f" ({o.detail})"
        lines.append(f"  - control `{k.name}`: {k.perturbs} **{verdict}**{detail}")
    if not c.controls:
        lines.append("  - no negative control declared")
    return lines + [""]


FIGURES_SUBDIR = "figures"


def write_report(directory: str, results: list[ClaimResult], ctx: Context) -> list[str]:
    """Write ``report.md``, ``report.html`` (self-contained) and ``claims.json`` to
    ``directory``, with the PNG figures found in ``directory/figures`` placed beside the claims
    of their papers (:func:`paper_checks.report_html.collect_figures`). Returns the paths."""
    from paper_checks import calibration_record

    figures = collect_figures(os.path.join(directory, FIGURES_SUBDIR))
    calibration = calibration_record.load()
    paths = [os.path.join(directory, name) for name in ("report.md", "report.html",
                                                         "claims.json")]
    atomic_write(paths[0], markdown_report(results, ctx, figures, base=directory,
                                           calibration=calibration))
    atomic_write(paths[1], render_html(results, ctx, figures=figures, versions=versions(),
                                       calibration=calibration))
    write_json(paths[2], results, ctx)
    return paths
