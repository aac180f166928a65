"""``python -m figures [--quick] [--only GLOB ...] [--out DIR] [--list] [--quiet | --verbose]``.

Writes each figure's PNG, PDF and CSV files to DIR and records them in ``DIR/index.json``
(figure name → its papers and files). Output: one line per figure on stdout (its files and
time) and a summary line; ``--quiet`` prints the summary line only. Progress (``[i/N] name …``
before each figure, on stderr) is shown on a terminal and hidden when stderr is not a TTY or
the ``CI`` environment variable is set; ``--verbose`` always shows it. Exit status: 0 when
every figure was written, 1 when one failed (the others are still made), 2 on bad input (one
line on stderr).
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
from simulations.compilation_cache import add_cli_options as add_cache_options
from simulations.compilation_cache import configure_from_args as configure_cache

INDEX = "index.json"


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


def make(names: list[str], out: str, *, quick: bool, quiet: bool = False,
         verbose: bool = False, stdout=None, stderr=None) -> dict[str, list[str] | None]:
    """Run the figures ``names`` into ``out``; returns name → files (None when it failed)."""
    from figures import FIGURES

    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    show = progress_enabled(quiet, verbose, stderr)
    results: dict[str, list[str] | None] = {}
    for i, name in enumerate(names, 1):
        if show:
            print(f"[{i}/{len(names)}] {name} …", file=stderr, flush=True)
        start = time.perf_counter()
        try:
            files = FIGURES[name](quick, out)
        except Exception as exc:  # one broken figure must not stop the others
            results[name] = None
            print(f"{name}: FAILED: {type(exc).__name__}: {exc}", file=stderr, flush=True)
            if verbose:
                traceback.print_exc(file=stderr)
            continue
        results[name] = list(files)
        seconds = time.perf_counter() - start
        if verbose:
            print(f"{name} ({seconds:.1f}s):", file=stdout)
            for f in files:
                print(f"    {f}", file=stdout)
        elif not quiet:
            print(f"{name}: {', '.join(files)} ({seconds:.1f}s)", file=stdout, flush=True)
    write_index(out, results)
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
    p.add_argument("--only", nargs="+", metavar="GLOB", help="figure names (glob patterns)")
    p.add_argument("--out", default="figures_out", metavar="DIR",
                   help="output folder (default figures_out)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    add_cache_options(p)
    loud = p.add_mutually_exclusive_group()
    loud.add_argument("--quiet", "-q", action="store_true", help="print the summary line only")
    loud.add_argument("--verbose", "-v", action="store_true",
                      help="always show progress; list every file and print tracebacks")
    args = p.parse_args(argv)
    configure_cache(args)
    try:
        names = select(args.only)
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
                       verbose=args.verbose)
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
