"""Claims as frozen records in a registry, their measurements, and the verdict rule.

A claim is a function ``evaluate(ctx) -> list[Measurement]`` registered with its metadata by
:func:`claim`. Each :class:`Measurement` is one comparison of a measured value with a
prediction. The claim's false-failure probability α (default 1e-6) is split evenly over its
k comparisons (Bonferroni), so each comparison uses α/k:

* two-sided equality: pass iff |measured − predicted| ≤ z_{α/(2k)}·SE + tolerance;
* ``sided="upper"`` (measured must not exceed a bound): pass iff
  measured − predicted ≤ z_{α/k}·SE + tolerance; ``"lower"`` symmetrically;
* a distributional test (``pvalue`` given): pass iff p-value ≥ α/k;
* exact comparisons (no SE) use the numerical tolerance only.

``tolerance = atol + rtol·|predicted|`` covers floating-point error only, never Monte Carlo
error.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from scipy import stats as _st

from paper_checks.stats import z_one_sided, z_two_sided

KINDS = ("equality", "bound", "monotone", "rate", "limit")
PROVENANCES = ("paper", "derived")


@dataclass(frozen=True)
class Measurement:
    """One comparison. ``stderr=None`` means exact (no Monte Carlo)."""

    label: str
    predicted: float
    measured: float
    stderr: float | None = None
    sided: str = "two"  # "two" | "upper" | "lower"
    atol: float = 0.0
    rtol: float = 0.0
    pvalue: float | None = None

    def __post_init__(self):
        for name in ("predicted", "measured", "stderr", "atol", "rtol", "pvalue"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, float(value))
        if self.sided not in ("two", "upper", "lower"):
            raise ValueError(f"sided must be 'two', 'upper' or 'lower', got {self.sided!r}")

    @property
    def tolerance(self) -> float:
        return self.atol + self.rtol * abs(self.predicted)

    def verdict(self, alpha: float) -> tuple[bool, float]:
        """(passed, discrepancy in standard errors) at per-comparison false-failure ``alpha``."""
        if not (math.isfinite(self.measured) and math.isfinite(self.predicted)):
            return False, math.inf
        if self.pvalue is not None:
            # score on the z scale (two-sided normal quantile of the p-value), comparable with
            # the other comparisons when the table picks a claim's worst one
            score = float(_st.norm.isf(max(float(self.pvalue), 1e-300) / 2.0))
            return bool(self.pvalue >= alpha), score
        diff = self.measured - self.predicted
        if self.sided == "upper":
            excess = diff
        elif self.sided == "lower":
            excess = -diff
        else:
            excess = abs(diff)
        se = self.stderr or 0.0
        z = z_two_sided(alpha) if self.sided == "two" else z_one_sided(alpha)
        allowed = z * se + self.tolerance
        score = excess / (se if se > 0 else max(self.tolerance, 1e-300))
        return bool(excess <= allowed), float(score)


@dataclass
class Context:
    """What a claim's evaluation may depend on: the mode and its seed."""

    quick: bool = False
    seed: int = 0

    def size(self, default: int, quick: int) -> int:
        """A Monte Carlo size for this mode."""
        return quick if self.quick else default


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    statement: str
    kind: str
    provenance: str
    evaluate: Callable[[Context], list[Measurement]]
    false_failure: float = 1e-6
    method: str = ""

    def seed_for(self, seed: int) -> int:
        """The claim's own seed: the run's seed combined with a stable hash of the id."""
        return (int(seed) * 1_000_003 + zlib.crc32(self.id.encode())) % (2**31)


@dataclass
class ClaimResult:
    claim: Claim
    measurements: list[Measurement]
    passed: bool
    seconds: float
    worst: Measurement | None = None
    error: str | None = None
    per_comparison_alpha: float = field(default=0.0)
    traceback: str | None = None
    resumed: bool = False  # restored from a checkpoint rather than evaluated in this run

    def to_json(self) -> dict:
        w = self.worst
        c = self.claim
        return {
            "id": c.id,
            "paper": c.paper,
            "statement": c.statement,
            "kind": c.kind,
            "provenance": c.provenance,
            "method": c.method,
            "false_failure_probability": c.false_failure,
            "predicted": None if w is None else _num(w.predicted),
            "measured": None if w is None else _num(w.measured),
            "stderr": None if (w is None or w.stderr is None) else _num(w.stderr),
            "tolerance": None if w is None else _num(w.tolerance),
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "resumed": self.resumed,
            "error": self.error,
            "comparisons": [
                {
                    "label": m.label,
                    "predicted": _num(m.predicted),
                    "measured": _num(m.measured),
                    "stderr": None if m.stderr is None else _num(m.stderr),
                    "sided": m.sided,
                    "tolerance": _num(m.tolerance),
                    "pvalue": None if m.pvalue is None else _num(m.pvalue),
                    "passed": m.verdict(self.per_comparison_alpha)[0],
                }
                for m in self.measurements
            ],
        }


def _num(x: float):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


REGISTRY: dict[str, Claim] = {}


def claim(
    *,
    id: str,
    paper: str,
    statement: str,
    kind: str,
    provenance: str,
    method: str = "",
    false_failure: float = 1e-6,
):
    """Decorator registering ``evaluate(ctx) -> list[Measurement]`` as a claim."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if provenance not in PROVENANCES:
        raise ValueError(f"provenance must be one of {PROVENANCES}, got {provenance!r}")
    if not 0 < false_failure < 1:
        raise ValueError("false_failure must be in (0, 1)")

    def register(fn):
        if id in REGISTRY:
            raise ValueError(f"duplicate claim id {id!r}")
        REGISTRY[id] = Claim(id, paper, statement, kind, provenance, fn, false_failure, method)
        return fn

    return register


def judge(claim_: Claim, measurements: list[Measurement], seconds: float) -> ClaimResult:
    """Apply the verdict rule with the Bonferroni split of the claim's α."""
    if not measurements:
        return ClaimResult(claim_, [], False, seconds, None, "no measurement", 0.0)
    alpha = claim_.false_failure / len(measurements)
    verdicts = [m.verdict(alpha) for m in measurements]
    passed = all(ok for ok, _ in verdicts)
    failing = [i for i, (ok, _) in enumerate(verdicts) if not ok]
    idx = failing[0] if failing else max(range(len(verdicts)), key=lambda i: verdicts[i][1])
    return ClaimResult(claim_, measurements, passed, seconds, measurements[idx], None, alpha)
