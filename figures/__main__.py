"""``python -m figures [--quick] [--only GLOB ...] [--out DIR] [--jobs N] [--time-limit SECONDS]
[--profile] [--list] [--quiet | --verbose]``.

Writes each figure's PNG, PDF and CSV files to DIR and records them in ``DIR/index.json``
(figure name → its papers and files). Output: one line per figure on stdout (its files and
time) and a summary line; ``--quiet`` prints the summary line only. Progress (``[i/N] name …``
before each figure, on stderr) is shown on a terminal and hidden when stderr is not a TTY or
the ``CI`` environment variable is set; ``--verbose`` always shows it. Exit status: 0 when
every figure was written, 1 when one failed (the others are still made), 2 on bad input (one
line on stderr).

The figures are made in ``--jobs N`` worker processes (default: the number of CPU cores;
``--jobs 0`` makes them one after another in this process, for debugging), with a
``--time-limit`` per figure (default :data:`FIGURE_TIME_LIMIT` seconds; 0 disables it): a figure
that exceeds it fails with ``exceeded the time limit of N s after M s`` and the others are still
made. Lines are printed in the selection order whatever ``--jobs``. Repeated ``--only`` flags
add up. ``--profile`` adds a table of each figure's compilations, measured where it was made
(:mod:`simulations.compile_profile`), and a total line.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import time
import traceback

from figures._registry import papers_of, progress_enabled
from simulations._workers import (
    Task,
    WorkerPool,
    add_jobs_arguments,
    check_jobs,
    jobs_from_arguments,
)
from simulations.compilation_cache import add_cli_options as add_cache_options
from simulations.compilation_cache import configure_from_args as configure_cache

INDEX = "index.json"
# Default --time-limit of one figure, in seconds: several times the slowest full-size figure.
FIGURE_TIME_LIMIT = 1200.0


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def select(patterns: list[str] | None) -> list[str]:
    """Registered figure names matching any glob in ``patterns`` (all when None), sorted."""
    from figures import FIGURES

    names = sorted(FIGURES)
    if patterns:
        names = [n for n in names if any(fnmatch.fnmatchcase(n, g) for g in patterns)]
        if not names:
            raise ValueError(f"--only {' '.join(patterns)!r} matches no figure")
    return names


def _make_one(module: str, name: str, quick: bool, out: str, profile: bool = False):
    """Make figure ``name`` in a worker process; ``module`` registers it (imported here, so a
    figure registered outside :mod:`figures`, e.g. by a test module, is found too). Returns
    its files, or with ``profile`` ``(files, Profile)`` (:func:`_make`)."""
    import importlib

    from figures import FIGURES

    importlib.import_module(module)
    if name not in FIGURES:
        raise LookupError(f"figure {name!r} is not registered by importing {module!r} (a figure "
                          "defined in __main__ or at run time is made in-process only: --jobs 0)")
    files, prof = _make(name, quick, out, profile)
    return (files, prof) if profile else files


def _make(name: str, quick: bool, out: str, profile: bool):
    """``(files, Profile or None)`` of figure ``name``, made in this process; with ``profile``
    its compilations are measured here (:mod:`simulations.compile_profile`)."""
    from figures import FIGURES

    def make_it():
        return list(FIGURES[name](quick, out))

    if not profile:
        return make_it(), None
    from simulations.compile_profile import profiled

    return profiled(make_it)


def _outcomes(names: list[str], out: str, quick: bool, jobs: int, time_limit: float | None,
              on_start, profile: bool = False):
    """Yield ``(i, files, seconds, error, traceback, profile)`` for each figure (files None
    when it failed; profile None unless ``profile`` and it succeeded): in order in-process
    (``jobs == 0``), else in completion order from workers."""
    from figures import FIGURES

    if jobs == 0:
        for i, name in enumerate(names):
            on_start(i)
            start = time.perf_counter()
            try:
                files, prof = _make(name, quick, out, profile)
            except Exception as exc:  # one broken figure must not stop the others
                yield (i, None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}",
                       traceback.format_exc(), None)
                continue
            yield i, files, time.perf_counter() - start, None, None, prof
        return
    tasks = [Task("figures.__main__:_make_one",
                  (FIGURES[n].__module__, n, bool(quick), out, bool(profile)))
             for n in names]
    modules = sorted({"figures.__main__"} | {FIGURES[n].__module__ for n in names})
    with WorkerPool(jobs, time_limit, preload=modules) as pool:
        for o in pool.run(tasks, on_dispatch=on_start):
            files, prof = None, None
            if o.error is None:
                files, prof = o.value if profile else (o.value, None)
            yield o.index, files, o.seconds, o.error, o.traceback, prof


def make(names: list[str], out: str, *, quick: bool, quiet: bool = False,
         verbose: bool = False, stdout=None, stderr=None, jobs: int = 0,
         time_limit: float | None = None,
         profile: bool = False) -> dict[str, list[str] | None]:
    """Run the figures ``names`` into ``out``; returns name → files (None when it failed).

    ``jobs`` 0 makes them one after another in this process; N ≥ 1 in N worker processes
    (:mod:`simulations._workers`), where a figure running longer than ``time_limit`` seconds
    (None: no limit) is stopped and fails. One line per figure, in the order of ``names``.
    ``profile``: measure each figure's compilations where it is made and print the table of
    :func:`simulations.compile_profile.table` on ``stdout`` after the figures' lines (a failed
    figure has no profile: "-").
    """
    time_limit = check_jobs(jobs, time_limit)
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    show = progress_enabled(quiet, verbose, stderr)
    done: list[tuple | None] = [None] * len(names)
    results: dict[str, list[str] | None] = {}

    def started(i):
        if show:
            print(f"[{i + 1}/{len(names)}] {names[i]} …", file=stderr, flush=True)

    profiles = [None] * len(names)

    def report(i, files, seconds, error, tb, prof):
        profiles[i] = prof
        name = names[i]
        results[name] = files
        if files is None:
            print(f"{name}: FAILED: {error}", file=stderr, flush=True)
            if verbose and tb:
                print(tb, file=stderr, end="" if tb.endswith("\n") else "\n", flush=True)
        elif verbose:
            print(f"{name} ({seconds:.1f}s):", file=stdout)
            for f in files:
                print(f"    {f}", file=stdout)
        elif not quiet:
            print(f"{name}: {', '.join(files)} ({seconds:.1f}s)", file=stdout, flush=True)

    shown = 0
    for i, *rest in _outcomes(names, out, quick, jobs, time_limit, started, profile):
        done[i] = rest
        while shown < len(names) and done[shown] is not None:
            report(shown, *done[shown])
            shown += 1
    write_index(out, results)
    if profile:
        from simulations.compile_profile import table

        rows = zip(names, profiles, strict=True)
        print("\n".join(table(rows, what="figure")), file=stdout, flush=True)
    return results


def write_index(out: str, results: dict[str, list[str] | None]) -> str:
    """Merge the figures just made into ``out/index.json``: name → {papers, files} (file
    names relative to ``out``). The HTML report reads it to place each figure beside the claims
    of its papers."""
    path = os.path.join(out, INDEX)
    try:
        with open(path, encoding="utf-8") as fh:
            index = json.load(fh)
        if not isinstance(index, dict):
            index = {}
    except (OSError, ValueError):
        index = {}
    for name, files in results.items():
        if files is not None:
            index[name] = {"papers": list(papers_of(name)),
                           "files": [os.path.relpath(f, out) for f in files]}
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(index, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)
    return path


def main(argv=None) -> int:
    p = _Parser(prog="python -m figures", description="Regenerate the papers' figures.")
    p.add_argument("--quick", action="store_true", help="small Monte Carlo sizes")
    p.add_argument("--only", nargs="+", action="extend", metavar="GLOB",
                   help="figure names (glob patterns); repeated flags add up")
    p.add_argument("--out", default="figures_out", metavar="DIR",
                   help="output folder (default figures_out)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.add_argument("--profile", action="store_true",
                   help="print each figure's compile seconds (tracing, lowering, XLA compile "
                   "or cache load), run seconds, programs compiled or loaded and cache hits, "
                   "with a total")
    add_cache_options(p)
    add_jobs_arguments(p, what="figure", limit=FIGURE_TIME_LIMIT)
    loud = p.add_mutually_exclusive_group()
    loud.add_argument("--quiet", "-q", action="store_true", help="print the summary line only")
    loud.add_argument("--verbose", "-v", action="store_true",
                      help="always show progress; list every file and print tracebacks")
    args = p.parse_args(argv)
    configure_cache(args)
    try:
        names = select(args.only)
        jobs, time_limit = jobs_from_arguments(args, FIGURE_TIME_LIMIT)
        if args.list:
            for name in names:
                print(f"{name:<44} {', '.join(papers_of(name))}")
            return 0
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"--out: cannot create folder {args.out!r}: {exc.strerror}") from None
        if not os.access(args.out, os.W_OK):
            raise ValueError(f"--out: folder {args.out!r} is not writable")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        results = make(names, args.out, quick=args.quick, quiet=args.quiet,
                       verbose=args.verbose, jobs=jobs, time_limit=time_limit,
                       profile=args.profile)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    failed = [n for n, files in results.items() if files is None]
    print(f"{len(results) - len(failed)}/{len(results)} figures written to {args.out} "
          f"({'quick' if args.quick else 'default'} mode, {time.perf_counter() - start:.1f}s)"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
