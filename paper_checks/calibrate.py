"""Calibration of the claims: run each claim under many seeds and compare its failure rate with
its stated false-failure probability.

Every Monte Carlo claim declares a false-failure probability α (DESIGN.md §5): under the claim's
own model, a correct implementation fails with probability at most α. Running a claim with S
independent seeds gives F failures; under that hypothesis F is stochastically smaller than
Binomial(S, α), so the one-sided p-value P(Binomial(S, α) ≥ F) measures how surprising the
failures are. A claim is **miscalibrated** when that p-value is below ``level`` (default 1e-3):
it fails more often than its stated rate allows (a bias in the theory, the engine or the
standard error), or it is an exact claim that fails at all.

``python -m paper_checks.calibrate [--seeds S] [--only GLOB ...] [--quick] [--level L]
[--json PATH] [--record [PATH]]`` prints one line per claim and exits 1 when any claim is
miscalibrated. ``python -m paper_checks.calibrate --merge FILE ... [--record [PATH]]`` runs
nothing: it merges records written by calibrations run in parallel (``--record FILE`` in each
process or on each machine) into the committed record. The seeds are ``base_seed + 0 … S − 1``
(``--base-seed``, default 1000, so they differ from the CI seed 0). ``--record`` merges the
rows into the committed calibration record (``paper_checks/calibration.json`` by default,
:mod:`paper_checks.calibration_record`) that the report shows beside each verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass

from scipy import stats

from paper_checks import calibration_record as record
from paper_checks.claim import Context
from paper_checks.runner import evaluate, select

__all__ = ["CalibrationRow", "calibrate", "main"]


@dataclass(frozen=True)
class CalibrationRow:
    """Outcome of one claim over ``seeds`` runs."""

    claim_id: str
    seeds: int
    failures: int
    false_failure: float
    pvalue: float  # P(Binomial(seeds, false_failure) >= failures)
    seconds: float
    errors: tuple  # messages of runs that raised

    def miscalibrated(self, level: float) -> bool:
        return self.pvalue < level


def failure_pvalue(failures: int, seeds: int, rate: float) -> float:
    """One-sided p-value P(Binomial(seeds, rate) ≥ failures) (1 when failures = 0)."""
    if failures <= 0:
        return 1.0
    return float(stats.binom.sf(failures - 1, seeds, rate))


def calibrate(patterns=None, *, seeds: int = 20, quick: bool = True, base_seed: int = 1000,
              progress=None) -> list[CalibrationRow]:
    """Run every selected claim with ``seeds`` seeds; one :class:`CalibrationRow` per claim."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {seeds!r}")
    if isinstance(base_seed, bool) or not isinstance(base_seed, int) or base_seed < 0:
        raise ValueError(f"base_seed must be an integer >= 0, got {base_seed!r}")
    rows = []
    for claim in select(patterns):
        start = time.perf_counter()
        failures, errors = 0, []
        for s in range(seeds):
            result = evaluate(claim, Context(quick=quick, seed=base_seed + s))
            if not result.passed:
                failures += 1
                if getattr(result, "error", None):
                    errors.append(result.error)
        row = CalibrationRow(claim.id, seeds, failures, claim.false_failure,
                             failure_pvalue(failures, seeds, claim.false_failure),
                             time.perf_counter() - start, tuple(errors))
        rows.append(row)
        if progress is not None:
            progress(row)
    return rows


def _line(row: CalibrationRow, level: float) -> str:
    flag = "MISCALIBRATED" if row.miscalibrated(level) else "ok"
    return (f"{row.claim_id:<48} {row.failures:>3}/{row.seeds:<4} α={row.false_failure:.0e} "
            f"p={row.pvalue:.3g} {row.seconds:7.1f}s  {flag}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m paper_checks.calibrate",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=20, help="seeds per claim (default 20)")
    p.add_argument("--base-seed", type=int, default=1000)
    p.add_argument("--only", nargs="+", action="extend", metavar="GLOB",
                   help="claim ids (glob patterns); repeated flags add up")
    p.add_argument("--quick", action="store_true", help="quick Monte Carlo sizes")
    p.add_argument("--level", type=float, default=1e-3,
                   help="p-value below which a claim is reported miscalibrated")
    p.add_argument("--json", metavar="PATH", help="write the rows as JSON")
    p.add_argument("--record", nargs="?", const=record.RECORD_PATH, metavar="PATH",
                   help="merge the rows into the calibration record (default "
                   "paper_checks/calibration.json), replacing the same claims' entries of "
                   "this mode")
    p.add_argument("--merge", nargs="+", metavar="FILE",
                   help="run nothing: merge these records (from calibrations run elsewhere) "
                   "into the record of --record (default paper_checks/calibration.json)")
    args = p.parse_args(argv)
    if args.merge:
        target = args.record or record.RECORD_PATH
        try:
            merged = record.load(target)
            for path in args.merge:
                if not os.path.exists(path):
                    raise ValueError(f"no such record: {path}")
                merged = record.combine(merged, record.load(path))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        record.write(merged, target)
        print(f"merged {len(args.merge)} record(s) into {target}: "
              f"{len(merged['claims'])} claims")
        return 0
    if not 0 < args.level < 1:
        print("error: --level must be in (0, 1)", file=sys.stderr)
        return 2
    try:
        # read the record first: a corrupt one is reported before hours of runs, not after
        prior = record.load(args.record) if args.record else None
        rows = calibrate(args.only, seeds=args.seeds, quick=args.quick, base_seed=args.base_seed,
                         progress=lambda r: print(_line(r, args.level), flush=True))
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.record:
        merged = record.merge(prior, rows, mode="quick" if args.quick else "full",
                              base_seed=args.base_seed, commit=record.git_commit())
        record.write(merged, args.record)
    bad = [r for r in rows if r.miscalibrated(args.level)]
    print(f"{len(rows)} claims x {args.seeds} seeds: {len(bad)} miscalibrated")
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"level": args.level, "rows": [r.__dict__ for r in rows]}, fh, indent=2,
                      default=list)
        os.replace(tmp, args.json)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
