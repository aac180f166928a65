"""Every claim of the papers as a record: predicted, measured ± standard error, verdict.

Run ``python -m paper_checks`` (``--quick``, ``--only GLOB``, ``--seed N``, ``--json PATH``,
``--report DIR``, ``--jobs N`` worker processes, ``--time-limit SECONDS`` per claim; see
:mod:`paper_checks.cli`). The claim JSON schema is documented in DESIGN.md §3 and the README.
"""

from paper_checks.claim import REGISTRY, Claim, ClaimResult, Context, Measurement, claim, judge
from paper_checks.runner import load_claims, run_claims, select

__all__ = [
    "REGISTRY",
    "Claim",
    "ClaimResult",
    "Context",
    "Measurement",
    "claim",
    "judge",
    "load_claims",
    "run_claims",
    "select",
]
