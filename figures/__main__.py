"""``python -m figures [--quick] [--only GLOB ...] [--out DIR]``."""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
import time


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m figures", description="Regenerate figures.")
    p.add_argument("--quick", action="store_true", help="small Monte Carlo sizes")
    p.add_argument("--only", nargs="+", metavar="GLOB", help="figure names (glob patterns)")
    p.add_argument("--out", default="figures_out", metavar="DIR", help="output folder")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    args = p.parse_args(argv)
    from figures import FIGURES

    names = sorted(FIGURES)
    if args.only:
        names = [n for n in names if any(fnmatch.fnmatchcase(n, g) for g in args.only)]
        if not names:
            print(f"error: --only {' '.join(args.only)!r} matches no figure", file=sys.stderr)
            return 2
    if args.list:
        print("\n".join(names))
        return 0
    os.makedirs(args.out, exist_ok=True)
    for name in names:
        start = time.perf_counter()
        files = FIGURES[name](args.quick, args.out)
        print(f"{name}: {', '.join(files)} ({time.perf_counter() - start:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
