"""Command lines: ``python -m paper_checks`` and the ``selfconsuming`` console script.

Invalid input (a ValueError or TypeError from validation) is reported as one line on stderr
with exit code 2, never as a traceback.

Output levels, the same for every command: the results (the claims table, the files written)
go to stdout; progress lines go to stderr and are shown on a terminal only, never when stderr
is not a TTY or the ``CI`` environment variable is set (:func:`figures._registry.
progress_enabled`); ``--quiet`` keeps the summary line only, ``--verbose`` always shows the
progress and adds detail (every comparison of a claim, the loop's spec).

``python -m paper_checks`` evaluates the claims in ``--jobs N`` worker processes (default: the
number of CPU cores; ``--jobs 0`` evaluates them one after another in this process, for
debugging) with a ``--time-limit`` per claim (default :data:`CLAIM_TIME_LIMIT` seconds; 0
disables it): a claim that exceeds it is reported as an ERROR row, ``exceeded the time limit of
N s after M s``, the run goes on and exits 1. The table, the JSON and the reports are the same
whatever ``--jobs``: rows keep the selection order, and each claim's seed derives from the base
seed and its id. Repeated ``--only`` flags add up (``--only 'a*' --only 'b*'`` runs both).

``--profile`` prints, after the claims table, each claim's compile seconds (tracing, lowering
and XLA compile or persistent-cache load), run seconds (the rest of its wall time), programs
(XLA executables compiled or loaded) and persistent-cache hits, measured in the process that
ran it (:mod:`simulations.compile_profile`), and a total line. These depend on what ran
before in the same worker, so they never enter the claims' objects: with ``--json`` they go
to a separate top-level ``"profile"`` object (:func:`paper_checks.runner.profile_json`); the
JSON of a run without ``--profile`` has none.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from simulations._workers import add_jobs_arguments, jobs_from_arguments
from simulations.compilation_cache import add_cli_options as add_cache_options
from simulations.compilation_cache import configure_from_args as configure_cache

SEED_ENV = "SELFCONSUMING_SEED"
# Default --time-limit of one claim, in seconds: several times the slowest claim of a full run.
CLAIM_TIME_LIMIT = 1800.0


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _default_seed() -> int:
    raw = os.environ.get(SEED_ENV)
    if raw is None:
        return 0
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be an integer, got {raw!r}") from None


def _add_check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small Monte Carlo sizes (< 2 min)")
    p.add_argument("--only", nargs="+", action="extend", metavar="GLOB",
                   help="claim ids to run (glob patterns); repeated flags add up")
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"base seed (default 0, or ${SEED_ENV}); each claim derives its own",
    )
    p.add_argument("--json", metavar="PATH", help="write the claims as JSON")
    p.add_argument("--report", metavar="DIR",
                   help="write report.md, report.html (self-contained) and claims.json to DIR; "
                   "PNG figures in DIR/figures are embedded beside their papers' claims")
    p.add_argument("--figures", action="store_true",
                   help="with --report: first regenerate the figures of the selected claims' "
                   "papers into DIR/figures (quick sizes with --quick)")
    p.add_argument("--list", action="store_true", help="list the claim ids and exit")
    add_cache_options(p)
    add_jobs_arguments(p, what="claim", limit=CLAIM_TIME_LIMIT)
    p.add_argument("--controls", action="store_true",
                   help="also run each claim's negative controls (same sizes and seed); exit "
                   "1 if a control is not rejected (the claim has no power against it)")
    p.add_argument("--profile", action="store_true",
                   help="print each claim's compile seconds (tracing, lowering, XLA compile or "
                   "cache load), run seconds, programs compiled or loaded and cache hits, with "
                   "a total; with --json, also a top-level \"profile\" object")
    p.add_argument("--require-controls", action="store_true",
                   help="with --controls (implied): also exit 1 for a claim declaring no control")
    _add_loudness(p, quiet="print only the summary line",
                  verbose="always show progress; print every comparison under its claim")


def _add_loudness(p: argparse.ArgumentParser, *, quiet: str, verbose: str) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--quiet", "-q", action="store_true", help=quiet)
    group.add_argument("--verbose", "-v", action="store_true", help=verbose)


def _progress(args) -> bool:
    from figures._registry import progress_enabled

    return progress_enabled(args.quiet, args.verbose)


def _prepare_dir(path: str, what: str) -> None:
    """Create ``path`` (a folder) now, so that a bad output path fails before any work."""
    try:
        os.makedirs(path or ".", exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{what}: cannot create folder {path!r}: {exc.strerror}") from None
    if not os.access(path or ".", os.W_OK):
        raise ValueError(f"{what}: folder {path!r} is not writable")


def _run_checks(args) -> int:
    from paper_checks.claim import Context
    from paper_checks.runner import (
        Checkpoint,
        checkpoint_path,
        run_claims,
        select,
        write_json,
        write_report,
    )

    seed = args.seed if args.seed is not None else _default_seed()
    if seed < 0:
        raise ValueError(f"--seed must be >= 0, got {seed}")
    claims = select(args.only)
    jobs, time_limit = jobs_from_arguments(args, CLAIM_TIME_LIMIT)
    if args.json and not args.list:
        _prepare_dir(os.path.dirname(os.path.abspath(args.json)), "--json")
        if os.path.isdir(args.json):
            raise ValueError(f"--json: {args.json!r} is a folder, not a file path")
    if args.figures and not args.report:
        raise ValueError("--figures needs --report DIR (the figures go to DIR/figures)")
    if args.report and not args.list:
        _prepare_dir(args.report, "--report")
    if args.list:
        for c in claims:
            print(f"{c.id:<44} {c.provenance:<8} {c.kind:<9} {c.paper}")
        return 0
    ctx = Context(quick=args.quick, seed=seed)
    start = time.perf_counter()
    where = checkpoint_path(args.json, args.report)
    checkpoint = Checkpoint(where, ctx) if where else None
    with_controls = args.controls or args.require_controls
    results = run_claims(claims, ctx, verbose=not args.quiet, progress=_progress(args),
                         detailed=args.verbose, checkpoint=checkpoint, jobs=jobs,
                         time_limit=time_limit, controls=with_controls,
                         profile=args.profile)
    if args.profile:
        from paper_checks.runner import profile_lines

        print("\n".join(profile_lines(results)), flush=True)
    if args.figures:
        _make_figures(claims, os.path.join(args.report, "figures"), args)
    n_pass = sum(r.passed for r in results)
    mode = "quick" if args.quick else "default"
    print(
        f"\n{n_pass}/{len(results)} claims passed ({mode} mode, seed {seed}, "
        f"{time.perf_counter() - start:.1f}s)"
    )
    if args.json:
        write_json(args.json, results, ctx, profile=args.profile)
    if args.report:
        write_report(args.report, results, ctx)
    if checkpoint is not None:
        checkpoint.remove()
    resumed = sum(r.resumed for r in results)
    if resumed and not args.quiet:
        print(f"({resumed} claim(s) resumed from {where}, not recomputed)", file=sys.stderr)
    if seed != 0 and n_pass < len(results):
        print(f"(seed {seed} was set; rerun with --seed {seed} to reproduce)", file=sys.stderr)
    weak = _report_controls(results, args) if with_controls else []
    return 0 if n_pass == len(results) and not weak else 1


def _report_controls(results, args) -> list:
    """Print the controls' summary line; return the results that fail the run for them (no
    power; no controls too with --require-controls)."""
    from paper_checks.controls import failing, summary

    print(summary(results))
    return failing(results, require_controls=args.require_controls)


def _make_figures(claims, directory: str, args) -> None:
    """Regenerate the figures whose papers (figures._registry.papers_of) include a selected
    claim's paper key, with the same ``--jobs`` and ``--time-limit`` (default
    ``figures.__main__.FIGURE_TIME_LIMIT`` per figure); a failing figure is reported on stderr
    and left out of the report."""
    from figures import FIGURES
    from figures.__main__ import FIGURE_TIME_LIMIT, make
    from figures._registry import papers_of
    from paper_checks.report_html import paper_key

    keys = {paper_key(c.id) for c in claims}
    names = sorted(n for n in FIGURES if keys & set(papers_of(n)))
    _prepare_dir(directory, "--figures")
    jobs, time_limit = jobs_from_arguments(args, FIGURE_TIME_LIMIT)
    results = make(names, directory, quick=args.quick, quiet=args.quiet, verbose=args.verbose,
                   jobs=jobs, time_limit=time_limit, profile=args.profile)
    failed = [n for n, files in results.items() if files is None]
    if failed:
        print(f"warning: figure(s) failed and are not in the report: {', '.join(failed)}",
              file=sys.stderr)


def _guard(fn, args) -> int:
    try:
        return fn(args)
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def checks_main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m paper_checks``."""
    parser = _Parser(prog="python -m paper_checks", description="Check the papers' claims.")
    _add_check_args(parser)
    args = parser.parse_args(argv)
    configure_cache(args)
    return _guard(_run_checks, args)


PLOT_METRICS = ("w2_to_target", "trace_ratio", "mean_error2")


def plot_metrics(traj, directory: str, metrics=PLOT_METRICS) -> list[str]:
    """Draw the standard metrics of a trajectory, one PNG per metric, and their CSV.

    Each plot shows, over generations, the Monte Carlo mean with its ± 2 SE band (pointwise
    ≈95 % for the mean), the median and the 5–95 % quantile band of the replicates (a
    heavy-tailed metric, e.g. the trace ratio under replace at t ≫ n, has a mean that rare
    paths dominate: read the median). Files: ``DIR/<metric>.png`` and ``DIR/metrics.csv``.
    """
    import numpy as np

    from figures._registry import PALETTE, caption, mean_band, style, write_csv
    from simulations import METRICS

    plt = style()
    spec = traj.spec
    ts = traj.generations
    columns = {"generation": ts.tolist()}
    files = []
    setting = (f"data={spec.data}, d={spec.dim}, n={spec.n_real}, λ={spec.synthetic_ratio:g}, "
               f"τ={spec.temperature:g}, γ={spec.correction_strength:g}, "
               f"estimator={spec.estimator}, R={spec.replicates}, seed={traj.seed}")
    if getattr(spec, "curation_k", 1) != 1:
        setting += f", K={spec.curation_k}, reward={spec.to_dict().get('reward')}"
    for name in metrics:
        values = traj.metric(name)
        mean, se = traj.mean_and_se(name)
        q05, median, q95 = np.quantile(values, [0.05, 0.5, 0.95], axis=0)
        fig, ax = plt.subplots(figsize=(7.5, 4.6))
        ax.fill_between(ts, q05, q95, color=PALETTE[0], alpha=0.15, lw=0,
                        label="5–95 % of replicates")
        ax.plot(ts, median, color=PALETTE[0], ls="--", lw=1.2, label="median")
        if traj.means.shape[0] > 1:
            mean_band(ax, ts, mean, se, color=PALETTE[1], label="")
        ax.plot(ts, mean, color=PALETTE[1], lw=1.6, label="Monte Carlo mean")
        shown = np.concatenate([q05, q95, mean])
        shown = shown[np.isfinite(shown)]
        if shown.size and shown.min() > 0 and shown.max() > 100 * shown.min():
            ax.set_yscale("log")  # the plotted curves span more than two decades
        ax.set_xlabel("generation t (t = 0: fit on the real data)")
        ax.set_ylabel(f"{name}: {METRICS[name]}")
        ax.set_title(METRICS[name])
        ax.legend(fontsize=8)
        caption(fig, setting, width=110)
        path = os.path.join(directory, f"{name}.png")
        fig.savefig(path)
        plt.close(fig)
        files.append(path)
        columns.update({f"{name}_mean": mean.tolist(), f"{name}_se": se.tolist(),
                        f"{name}_q05": q05.tolist(), f"{name}_median": median.tolist(),
                        f"{name}_q95": q95.tolist()})
    files.append(write_csv(os.path.join(directory, "metrics.csv"), columns))
    return files


def _prior_run(directory: str) -> dict | None:
    """The metadata of a run saved in ``directory`` (``trajectory.json``), with ``complete``
    true when its NPZ is the one it describes (SHA-256); None when there is none."""
    import hashlib

    meta_path = os.path.join(directory, "trajectory.json")
    npz_path = os.path.join(directory, "trajectory.npz")
    if not os.path.exists(meta_path):
        return None
    try:
        with open(meta_path, encoding="utf-8") as fh:
            meta = json.load(fh)
        with open(npz_path, "rb") as fh:
            meta["complete"] = hashlib.sha256(fh.read()).hexdigest() == meta.get("npz_sha256")
    except (OSError, ValueError):
        return {"spec": None, "complete": False}
    return meta


def _simulate(args) -> int:
    import shutil

    from simulations.config import read_config
    from simulations.run import run

    cfg = read_config(args.config)
    _prepare_dir(args.out, "--out")
    seed = cfg.seed if args.seed is None else args.seed
    if seed < 0:
        raise ValueError(f"--seed must be >= 0, got {seed}")
    prior = _prior_run(args.out)
    if prior is not None and not args.force:
        same = (prior.get("spec") == json.loads(json.dumps(cfg.spec.to_dict()))
                and prior.get("seed") == seed
                and cfg.run_options.get("engine", prior.get("engine")) == prior.get("engine"))
        if not same:
            raise ValueError(f"--out {args.out!r} already holds another run's results (its spec, "
                             "seed or engine differ); choose another folder or pass --force to "
                             "replace them")
        if prior.get("complete"):
            if not args.quiet:
                print(f"{args.out} already holds this run (same spec, seed and engine): nothing "
                      "recomputed (--force recomputes it)")
            return 0
    show = _progress(args)
    if args.verbose:
        print(f"spec: {cfg.spec.to_dict()}", file=sys.stderr)
        print(f"seed {seed}, run options {cfg.run_options}", file=sys.stderr)
    if show:
        print(f"running {cfg.spec.replicates} replicates × {cfg.spec.generations} "
              f"generations …", file=sys.stderr, flush=True)
    traj = run(cfg.spec, seed=seed, progress=show, **cfg.run_options)
    out = os.path.join(args.out, "trajectory.npz")
    traj.save(out)
    files = [out, out[:-4] + ".json"]
    copy = os.path.join(args.out, "config.toml")
    if not (os.path.exists(copy) and os.path.samefile(args.config, copy)):
        shutil.copyfile(args.config, copy)
    files.append(copy)
    if args.plot:
        if show:
            print("plotting the metrics …", file=sys.stderr, flush=True)
        files += plot_metrics(traj, args.out)
    if not args.quiet:
        print(f"wrote {', '.join(files)} (run {traj.seconds:.1f}s, engine {traj.engine})")
    return 0


def _derive(args) -> int:
    from theory.derivations import get_derivation, list_derivations, numerical_routines, render

    if args.numerical:
        for path, reason in numerical_routines().items():
            print(f"{path}\n    {reason}")
        return 0
    if args.name is None:
        for name in list_derivations():
            der = get_derivation(name)
            mark = " [taken from the paper]" if der.taken_from_paper else ""
            print(f"{name:<34} {der.title}{mark}")
        print(f"(and {len(numerical_routines())} numerical routines used by the claims, not "
              "closed forms: selfconsuming derive --numerical)")
        return 0
    print(render(args.name, latex=args.latex))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``selfconsuming`` console script."""
    parser = _Parser(prog="selfconsuming", description="Self-consuming loops toolkit.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p_check = sub.add_parser("check", help="run the papers' claims (= python -m paper_checks)")
    _add_check_args(p_check)
    p_check.set_defaults(fn=_run_checks)
    p_sim = sub.add_parser("simulate", help="run a loop described in a TOML file")
    p_sim.add_argument("config", help="TOML file: LoopSpec fields, an optional seed and an "
                       "optional [run] table (engine, batch_size); see examples/")
    p_sim.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p_sim.add_argument("--seed", type=int, default=None, help="override the config's seed")
    p_sim.add_argument("--force", action="store_true",
                       help="replace results already in DIR (by default a folder holding the "
                       "same run is left as it is and one holding another run is refused)")
    p_sim.add_argument("--plot", action="store_true",
                       help="draw w2_to_target, trace_ratio and mean_error2 (mean ± 2 SE, "
                       "median, 5–95 %%) to DIR/*.png with DIR/metrics.csv")
    _add_loudness(p_sim, quiet="print nothing on success",
                  verbose="always show progress; print the spec")
    p_sim.set_defaults(fn=_simulate)
    p_der = sub.add_parser("derive", help="print the sympy derivation of a closed form")
    p_der.add_argument("name", nargs="?", default=None, help="derivation name (omit to list)")
    p_der.add_argument("--latex", action="store_true", help="print the expressions as LaTeX")
    p_der.add_argument("--numerical", action="store_true",
                       help="list the numerical routines the claims use (quadrature, root "
                       "finding, fits, samplers) with the check that stands in for a derivation")
    p_der.set_defaults(fn=_derive)
    from simulations.bench import add_subcommand as _add_bench

    _add_bench(sub)
    from simulations.compilation_cache import add_subcommand as _add_cache

    _add_cache(sub)
    args = parser.parse_args(argv)
    if args.command != "bench":  # the bench times compilation: never from the cache
        configure_cache(args)
    return _guard(args.fn, args)


if __name__ == "__main__":
    sys.exit(main())
