"""Negative controls: each claim must reject the plausible defects it declares.

A passing verdict means something only if the same check, with the same Monte Carlo sizes,
seed and verdict rule, *fails* when the theory or the simulation carries a defect a careful
author could have made: the nearest wrong constant, an off-by-one generation, swapped weights,
a small shift of the target (DESIGN.md §5). A claim declares such defects as
:class:`~paper_checks.claim.Control` records and its evaluation injects one when
``ctx.control`` names it.

``python -m paper_checks --controls`` evaluates each selected claim normally and then once per
declared control. Each control run gets a verdict:

* ``rejected``: the claim fails under the defect (it has power against it);
* ``passed``: the claim still passes (it cannot see the defect): the claim has **no power**;
* ``error``: the evaluation raised under the control. This counts as *not* rejected: a
  control that crashes proves nothing about the check, and counting it as rejected would let
  a broken control fake power.

A claim's power is "k/n" (k of its n controls rejected). A claim with a control not rejected
is reported "no power" and the run exits 1; a claim with no declared control is reported "no
controls" and fails the run only with ``--require-controls`` (most claims declare none yet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from paper_checks.claim import Claim, ClaimResult, Context, Control

VERDICTS = ("rejected", "passed", "error", "not run")


@dataclass(frozen=True)
class ControlOutcome:
    """The verdict of one control run and a one-line reason."""

    name: str
    perturbs: str
    verdict: str  # one of VERDICTS
    detail: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"name": self.name, "perturbs": self.perturbs, "verdict": self.verdict,
                "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict) -> ControlOutcome:
        return cls(data["name"], data["perturbs"], data["verdict"], data.get("detail", ""))


def outcome(control: Control, result: ClaimResult) -> ControlOutcome:
    """The verdict of ``control`` from the claim's result under it (see the module text)."""
    if result.error:
        return ControlOutcome(control.name, control.perturbs, "error", result.error,
                              result.seconds)
    alpha = result.per_comparison_alpha
    if result.passed:
        return ControlOutcome(control.name, control.perturbs, "passed",
                              f"still passes (worst comparison {_where(result.worst, alpha)})",
                              result.seconds)
    failing = [m for m in result.measurements if not m.verdict(alpha)[0]]
    if not failing:
        return ControlOutcome(control.name, control.perturbs, "rejected",
                              f"fails at {_where(result.worst, alpha)}", result.seconds)
    # the strongest failing comparison says how far the defect is past the threshold (the
    # verdict's "worst" is the first failing one, which may fail only narrowly)
    strongest = max(failing, key=lambda m: m.verdict(alpha)[1])
    count = f" ({len(failing)} of {len(result.measurements)} comparisons fail)"
    return ControlOutcome(control.name, control.perturbs, "rejected",
                          f"fails at {_where(strongest, alpha)}{count}", result.seconds)


def _where(m, alpha: float) -> str:
    """A comparison in words: label, measured, predicted, and its distance in SE (or its
    p-value; nothing for an exact comparison, which has no standard error to count in)."""
    if m is None:
        return ""
    where = f"{m.label}: measured {m.measured:.6g}, predicted {m.predicted:.6g}"
    if m.pvalue is not None:
        where += f", p = {m.pvalue:.3g}"
    elif m.stderr:
        where += f", {m.verdict(alpha)[1]:.3g} SE"
    return where


def run_controls(claim: Claim, ctx: Context,
                 evaluate: Callable[[Claim, Context], ClaimResult]) -> list[ControlOutcome]:
    """Evaluate ``claim`` once per declared control with ``ctx``'s mode and seed (through the
    runner's ``evaluate``, so a control run is judged exactly like the normal run)."""
    return [outcome(k, evaluate(claim, replace(ctx, control=k.name))) for k in claim.controls]


def status(result: ClaimResult) -> str | None:
    """"ok" (every control rejected), "no power" (one is not), "no controls" (none declared),
    or None when the controls were not run."""
    if result.controls is None:
        return None
    if not result.controls:
        return "no controls"
    return "ok" if all(o.verdict == "rejected" for o in result.controls) else "no power"


def failing(results: list[ClaimResult], require_controls: bool = False) -> list[ClaimResult]:
    """The results that make a ``--controls`` run exit 1: those with no power and, with
    ``require_controls``, those that declare no control."""
    bad = {"no power", "no controls"} if require_controls else {"no power"}
    return [r for r in results if status(r) in bad]


def summary(results: list[ClaimResult]) -> str:
    """One line: how many claims rejected all their controls, lack power, or declare none."""
    counts = {"ok": 0, "no power": 0, "no controls": 0}
    for r in results:
        s = status(r)
        if s is not None:
            counts[s] += 1
    line = (f"controls: {counts['ok']} claim(s) reject all their controls, "
            f"{counts['no power']} with no power, {counts['no controls']} with no controls")
    weak = [r.claim.id for r in results if status(r) == "no power"]
    return line + (f" (no power: {', '.join(weak)})" if weak else "")
