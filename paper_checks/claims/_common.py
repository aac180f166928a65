"""Shared helpers for claim modules."""

from __future__ import annotations

import numpy as np

from paper_checks.claim import Measurement
from paper_checks.stats import ks_pvalue, mean_se, proportion_se
from simulations import LoopSpec, run


def simulate(ctx, **fields):
    """Run a LoopSpec built from ``fields`` with the claim's seed; returns the Trajectory."""
    return run(LoopSpec(**fields), seed=ctx.seed)


def mean_check(label, values, predicted, **kw) -> Measurement:
    """Compare the replicate mean of ``values`` with ``predicted`` (CLT standard error)."""
    m, se = mean_se(values)
    return Measurement(label, float(predicted), float(m), float(se), **kw)


def fraction_check(label, hits, predicted, **kw) -> Measurement:
    """Compare an observed proportion with a predicted probability (binomial SE)."""
    hits = np.asarray(hits)
    p, se = proportion_se(hits, hits.size)
    return Measurement(label, float(predicted), p, se, **kw)


def ks_check(label, samples, cdf) -> Measurement:
    """KS test of ``samples`` against an exact CDF; predicted 0 = the KS distance expected."""
    stat, pvalue = ks_pvalue(samples, cdf)
    return Measurement(label, 0.0, stat, None, pvalue=pvalue)


def exact_check(label, predicted, measured, rtol=1e-9, atol=0.0, sided="two") -> Measurement:
    return Measurement(label, float(predicted), float(measured), None, sided, atol, rtol)
