"""Command lines: ``python -m paper_checks`` and the ``selfconsuming`` console script.

Invalid input (a ValueError or TypeError from validation) is reported as one line on stderr
with exit code 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

SEED_ENV = "SELFCONSUMING_SEED"


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
    p.add_argument("--only", nargs="+", metavar="GLOB", help="claim ids to run (glob patterns)")
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"base seed (default 0, or ${SEED_ENV}); each claim derives its own",
    )
    p.add_argument("--json", metavar="PATH", help="write the claims as JSON")
    p.add_argument("--report", metavar="DIR", help="write report.md and claims.json to DIR")
    p.add_argument("--list", action="store_true", help="list the claim ids and exit")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")


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
    from paper_checks.runner import run_claims, select, write_json, write_report

    seed = args.seed if args.seed is not None else _default_seed()
    if seed < 0:
        raise ValueError(f"--seed must be >= 0, got {seed}")
    claims = select(args.only)
    if args.json and not args.list:
        _prepare_dir(os.path.dirname(os.path.abspath(args.json)), "--json")
        if os.path.isdir(args.json):
            raise ValueError(f"--json: {args.json!r} is a folder, not a file path")
    if args.report and not args.list:
        _prepare_dir(args.report, "--report")
    if args.list:
        for c in claims:
            print(f"{c.id:<44} {c.provenance:<8} {c.kind:<9} {c.paper}")
        return 0
    ctx = Context(quick=args.quick, seed=seed)
    start = time.perf_counter()
    results = run_claims(claims, ctx, verbose=not args.quiet)
    n_pass = sum(r.passed for r in results)
    mode = "quick" if args.quick else "default"
    print(
        f"\n{n_pass}/{len(results)} claims passed ({mode} mode, seed {seed}, "
        f"{time.perf_counter() - start:.1f}s)"
    )
    if args.json:
        write_json(args.json, results, ctx)
    if args.report:
        write_report(args.report, results, ctx)
    if seed != 0 and n_pass < len(results):
        print(f"(seed {seed} was set; rerun with --seed {seed} to reproduce)", file=sys.stderr)
    return 0 if n_pass == len(results) else 1


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
    return _guard(_run_checks, parser.parse_args(argv))


def _simulate(args) -> int:
    from simulations import run
    from simulations.config import load_config

    spec, seed = load_config(args.config)
    _prepare_dir(args.out, "--out")
    if args.seed is not None:
        seed = args.seed
    traj = run(spec, seed=seed, progress=not args.quiet)
    out = os.path.join(args.out, "trajectory.npz")
    traj.save(out)
    print(f"wrote {out} and {out[:-4]}.json ({traj.seconds:.1f}s)")
    return 0


def _derive(args) -> int:
    from theory.derivations import get_derivation, list_derivations, render

    if args.name is None:
        for name in list_derivations():
            print(f"{name:<34} {get_derivation(name).title}")
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
    p_sim.add_argument("config", help="TOML file with LoopSpec fields (and optional seed)")
    p_sim.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p_sim.add_argument("--seed", type=int, default=None, help="override the config's seed")
    p_sim.add_argument("--quiet", action="store_true")
    p_sim.set_defaults(fn=_simulate)
    p_der = sub.add_parser("derive", help="print the sympy derivation of a closed form")
    p_der.add_argument("name", nargs="?", default=None, help="derivation name (omit to list)")
    p_der.add_argument("--latex", action="store_true", help="print the expressions as LaTeX")
    p_der.set_defaults(fn=_derive)
    args = parser.parse_args(argv)
    return _guard(args.fn, args)


if __name__ == "__main__":
    sys.exit(main())
