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

Two numbers say how much a verdict is worth (DESIGN.md §3, §5):

* **resolution** (:meth:`Measurement.resolution`): the smallest relative deviation
  |measured − predicted|/|predicted| that the comparison would detect at its own threshold,
  ``(z·SE + tolerance)/|predicted|`` with the z of the verdict. A claim that passes with a
  resolution of 40 % says little about a constant off by 10 %.
* **slack** (:meth:`Measurement.slack`), for bounds only: the factor of room between the
  measured value and the bound (predicted/measured for an upper bound). A bound that holds
  with slack 10 would hold for many wrong constants too.

A claim also declares **negative controls** (:class:`Control`): plausible defects that its
evaluation injects when ``ctx.control`` names them; each must make the claim fail with the
same sizes, seed and verdict rule (``python -m paper_checks --controls``, see
:mod:`paper_checks.controls`).
"""

from __future__ import annotations

import math
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from scipy import stats as _st

from paper_checks.stats import z_one_sided, z_two_sided
from theory._x64 import in_float64

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

    def threshold_z(self, alpha: float) -> float:
        """The z of :meth:`verdict` at per-comparison ``alpha`` (two-sided for equalities,
        one-sided for bounds)."""
        return z_two_sided(alpha) if self.sided == "two" else z_one_sided(alpha)

    def detectable(self, alpha: float) -> float | None:
        """The smallest absolute deviation of the measured value from the prediction (in the
        tested direction) that fails this comparison: ``z·SE + tolerance``.

        A deviation of exactly this size fails with probability about 1/2 (the estimate
        scatters around it); detecting it reliably takes roughly one to two more SE. None for
        an exact comparison (no SE: its power is that of the floating-point tolerance, not a
        sample size) and for a p-value comparison (a distributional test has no single
        threshold on the measured value: its power depends on the shape of the deviation).
        """
        if self.pvalue is not None or self.stderr is None:
            return None
        return self.threshold_z(alpha) * self.stderr + self.tolerance

    def resolution(self, alpha: float) -> float | None:
        """The smallest *relative* deviation this comparison detects at its threshold:
        :meth:`detectable` over |predicted|.

        None when :meth:`detectable` is None, and when the prediction is 0 (no relative scale;
        the absolute :meth:`detectable` is reported beside it instead).
        """
        absolute = self.detectable(alpha)
        if absolute is None or self.predicted == 0 or not math.isfinite(self.predicted):
            return None
        return absolute / abs(self.predicted)

    def slack(self) -> float | None:
        """For a bound, the factor of room between the measured value and the bound: ``upper``
        (measured ≤ predicted) gives predicted/measured, ``lower`` gives measured/predicted.

        ≥ 1: the bound holds with that factor to spare; < 1: the measured value is past it (a
        verdict may still pass within z·SE). ∞ when the denominator is 0 (or, for an upper
        bound, negative: any non-positive value is below a non-negative bound). The ratio
        reads as room only for non-negative quantities (variances, distances, probabilities,
        which is what the papers bound); a negative bound, a negative measured value under a
        lower bound's zero, a two-sided comparison and non-finite values give None. So does a
        lower bound at 0 or at the smallest normal float (a sign check, "measured > 0"): no
        factor of room against zero is meaningful (it read ∞, or 10³⁰⁰ against ``tiny``).
        """
        pred, meas = self.predicted, self.measured
        if self.sided == "two" or not (math.isfinite(pred) and math.isfinite(meas)):
            return None
        if pred < 0:
            return None
        if self.sided == "upper":
            if meas <= 0:
                return math.inf if pred > 0 or meas < 0 else 1.0
            return pred / meas
        if pred <= sys.float_info.min:  # lower bound 0 or tiny: a sign check
            return None
        return meas / pred


@dataclass
class Context:
    """What a claim's evaluation may depend on: the mode, its seed and the negative control to
    inject (None: the normal evaluation).

    A claim implements each control it declares by testing ``ctx.control == "<name>"`` and
    injecting that defect into its prediction or into the simulated loop's inputs, keeping
    the sizes, the seed and the verdict rule of the normal evaluation.
    """

    quick: bool = False
    seed: int = 0
    control: str | None = None

    def size(self, default: int, quick: int) -> int:
        """A Monte Carlo size for this mode."""
        return quick if self.quick else default


@dataclass(frozen=True)
class Control:
    """A negative control: a plausible defect the claim's evaluation injects when
    ``ctx.control == name``, which the claim must reject.

    Attributes:
        name: a short identifier, e.g. ``"wrong_constant"``.
        perturbs: one sentence saying what is injected, e.g. "the constant (1+λ) replaced by
            (1+λ)²".
    """

    name: str
    perturbs: str

    def __post_init__(self):
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise ValueError(f"control name must be an identifier, got {self.name!r}")
        if not (isinstance(self.perturbs, str) and self.perturbs.strip()):
            raise ValueError(f"control {self.name!r}: perturbs must say what is injected")


METADATA_FIELDS = ("source", "exact_statement", "scope", "controls")


@dataclass(frozen=True)
class Claim:
    """A registered claim.

    ``source`` names the paper version and the theorem, lemma, equation or figure;
    ``exact_statement`` is the paper's statement with its hypotheses and constants ("not
    stated in the paper" for a derived claim, "not quoted: <why>" when the text was not at
    hand); ``scope`` says how what is checked differs from it (a special case, a dimension,
    finite sizes); ``controls`` are the negative controls the evaluation implements.
    """

    id: str
    paper: str
    statement: str
    kind: str
    provenance: str
    evaluate: Callable[[Context], list[Measurement]]
    false_failure: float = 1e-6
    method: str = ""
    source: str = ""
    exact_statement: str = ""
    scope: str = ""
    controls: tuple[Control, ...] = ()

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
    # outcomes of the declared negative controls (paper_checks.controls.ControlOutcome), or
    # None when they were not run
    controls: list | None = None
    # compile profile of the evaluation (simulations.compile_profile.Profile, --profile), None
    # when not profiled; it depends on what ran before in the same process, so it is a
    # measurement of the run and never part of to_json()
    profile: object | None = None

    def resolution(self) -> float | None:
        """The claim's worst (largest) :meth:`Measurement.resolution` over its comparisons;
        None when no comparison has one (exact or distributional comparisons only)."""
        return claim_resolution(self.measurements, self.per_comparison_alpha)

    def slack(self) -> float | None:
        """The claim's tightest (smallest) :meth:`Measurement.slack` over its bounds; None
        when it has no bound with a slack."""
        return claim_slack(self.measurements)

    def power(self) -> str | None:
        """"k/n": k of the n declared controls rejected; None when the controls were not
        run."""
        if self.controls is None:
            return None
        rejected = sum(o.verdict == "rejected" for o in self.controls)
        return f"{rejected}/{len(self.controls)}"

    def _controls_json(self) -> list[dict]:
        if self.controls is not None:
            return [o.to_json() for o in self.controls]
        return [{"name": k.name, "perturbs": k.perturbs, "verdict": "not run", "detail": ""}
                for k in self.claim.controls]

    def to_json(self) -> dict:
        w = self.worst
        c = self.claim
        alpha = self.per_comparison_alpha
        return {
            "id": c.id,
            "paper": c.paper,
            "statement": c.statement,
            "kind": c.kind,
            "provenance": c.provenance,
            "method": c.method,
            "source": c.source,
            "exact_statement": c.exact_statement,
            "scope": c.scope,
            "false_failure_probability": c.false_failure,
            "predicted": None if w is None else _num(w.predicted),
            "measured": None if w is None else _num(w.measured),
            "stderr": None if (w is None or w.stderr is None) else _num(w.stderr),
            "tolerance": None if w is None else _num(w.tolerance),
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "resumed": self.resumed,
            "error": self.error,
            "controls": self._controls_json(),
            "power": self.power(),
            "resolution": _opt(self.resolution()),
            "slack": _opt(self.slack()),
            "comparisons": [
                {
                    "label": m.label,
                    "predicted": _num(m.predicted),
                    "measured": _num(m.measured),
                    "stderr": None if m.stderr is None else _num(m.stderr),
                    "sided": m.sided,
                    "tolerance": _num(m.tolerance),
                    "pvalue": None if m.pvalue is None else _num(m.pvalue),
                    "passed": m.verdict(alpha)[0],
                    "resolution": _opt(m.resolution(alpha)),
                    "detectable": _opt(m.detectable(alpha)),
                    "slack": _opt(m.slack()),
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


def _opt(x: float | None):
    return None if x is None else _num(x)


def claim_resolution(measurements: list[Measurement], alpha: float) -> float | None:
    """The worst (largest) resolution over ``measurements`` at per-comparison ``alpha``; the
    comparisons without one (exact, distributional, zero prediction) are left out."""
    values = [r for m in measurements if (r := m.resolution(alpha)) is not None]
    return max(values) if values else None


def claim_slack(measurements: list[Measurement]) -> float | None:
    """The smallest slack over the bounds among ``measurements`` (None when there is none)."""
    values = [s for m in measurements if (s := m.slack()) is not None]
    return min(values) if values else None


def missing_metadata(claims) -> dict[str, list[str]]:
    """For each field of :data:`METADATA_FIELDS`, the ids of the ``claims`` that leave it
    empty (the work still to do before every verdict can be read against its paper)."""
    return {name: [c.id for c in claims if not getattr(c, name)] for name in METADATA_FIELDS}


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
    source: str = "",
    exact_statement: str = "",
    scope: str = "",
    controls: tuple[Control, ...] = (),
):
    """Decorator registering ``evaluate(ctx) -> list[Measurement]`` as a claim.

    ``source``, ``exact_statement``, ``scope`` and ``controls`` are described on
    :class:`Claim`; the evaluation implements each control of ``controls`` (see
    :class:`Context`).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if provenance not in PROVENANCES:
        raise ValueError(f"provenance must be one of {PROVENANCES}, got {provenance!r}")
    if not 0 < false_failure < 1:
        raise ValueError("false_failure must be in (0, 1)")
    controls = tuple(controls)
    if not all(isinstance(k, Control) for k in controls):
        raise TypeError("controls must be Control records")
    names = [k.name for k in controls]
    if len(set(names)) != len(names):
        raise ValueError(f"claim {id!r}: duplicate control names in {names}")

    def register(fn):
        if id in REGISTRY:
            raise ValueError(f"duplicate claim id {id!r}")
        # evaluated in float64 whatever jax.config says (theory/_x64.py)
        REGISTRY[id] = Claim(id, paper, statement, kind, provenance, in_float64(fn),
                             false_failure, method, source, exact_statement, scope, controls)
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
