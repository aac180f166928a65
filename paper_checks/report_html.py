"""A self-contained HTML report of the claims: ``python -m paper_checks --report DIR``.

``report.html`` needs no network and no other file: inline CSS, no script, figures embedded
as base64 PNG. It holds the claims table (id, paper, kind, provenance, predicted, measured,
SE, verdict coloured and spelled out, power against the negative controls, resolution, the
recorded calibration), then one section per paper: the figures of that paper and, for each
claim, its statement, source, the paper's exact statement, scope, method, provenance,
false-failure probability, each negative control with its verdict and every comparison behind
its verdict with its resolution and slack. All text is escaped with :func:`html.escape`.

Figures and papers: a claim's paper key is its id prefix (``kazdan2025`` for
``kazdan2025.accumulate.cov``). A PNG in the figures folder belongs to the papers listed for
it in the folder's ``index.json`` (written by ``python -m figures``), otherwise to the paper
key of its file name, the text before the first ``_`` (``kazdan2025_replace_accumulate.png``).
"""

from __future__ import annotations

import base64
import html
import json
import os

from paper_checks import calibration_record
from paper_checks.claim import ClaimResult, Context

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;
 margin:0;background:#f6f8fa;color:#1f2328;line-height:1.45}
main{max-width:1140px;margin:0 auto;padding:24px 28px;background:#fff}
h1{margin:0 0 8px;font-size:26px}h2{margin:32px 0 8px;font-size:20px;
 border-bottom:2px solid #d0d7de;padding-bottom:4px}h3{margin:20px 0 6px;font-size:16px}
code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:13px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 7px;text-align:left;vertical-align:top}
th{background:#eaeef2}td.num{text-align:right;font-family:ui-monospace,monospace;
 white-space:nowrap}
tr:nth-child(even) td{background:#fafbfc}
.verdict{font-weight:700;text-align:center;white-space:nowrap}
.pass{background:#dafbe1 !important;color:#0f5323}.fail{background:#ffebe9 !important;
 color:#a40e26}.error{background:#fff1e5 !important;color:#953800}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;margin-left:8px}
.summary{font-size:16px;margin:6px 0}.summary .pass,.summary .fail{padding:2px 8px;
 border-radius:4px}
dl{display:grid;grid-template-columns:190px 1fr;gap:4px 12px;margin:6px 0 10px}
dt{font-weight:600;color:#57606a}dd{margin:0}
.claim{border-left:4px solid #d0d7de;padding:2px 0 2px 14px;margin:14px 0}
.claim.passed{border-color:#1a7f37}.claim.failed{border-color:#cf222e}
figure{margin:12px 0;text-align:center}figure img{max-width:100%;border:1px solid #d0d7de}
figcaption{font-size:12px;color:#57606a}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px;overflow-x:auto;font-size:12px}
.muted{color:#57606a;font-size:13px}
.ctl-rejected{background:#dafbe1 !important;color:#0f5323}.ctl-passed,.ctl-error{
 background:#ffebe9 !important;color:#a40e26}.ctl-notrun{color:#57606a}
"""

RULE = (
    "Verdict rule: each claim has a false-failure probability α (1e-6 unless stated), split "
    "evenly over its k comparisons; equalities pass when |measured − predicted| ≤ z·SE + "
    "tolerance (z two-sided at α/k), bounds are one-sided (z at α/k), distributional checks "
    "pass when the Kolmogorov–Smirnov or binomial p-value is ≥ α/k; exact comparisons use a "
    "floating-point tolerance only. Heavy-tailed quantities are checked through exact laws, "
    "log-moments or medians, never through a raw mean that rare paths dominate. Power: "
    "negative controls (plausible defects injected into the prediction or the simulated "
    "loop) rejected over declared; every control must be rejected. Resolution: the largest "
    "relative deviation that would still pass, (z·SE + tolerance)/|predicted|, worst over the "
    "claim's comparisons. Slack of a bound: the factor of room between measured value and bound."
)


def _pct(x) -> str:
    return "–" if x is None else f"{100 * float(x):.3g} %"


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _fmt(x) -> str:
    if x is None:
        return "–"
    x = float(x)
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "∞" if x > 0 else "−∞"
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.6g}"
    return f"{x:.4e}"


def paper_key(name: str) -> str:
    """Paper key of a claim id or a figure file name: the text before the first ``.``/``_``."""
    return os.path.basename(name).split(".", 1)[0].split("_", 1)[0]


def verdict(result: ClaimResult) -> tuple[str, str]:
    """(label, css class) of a result: PASS, FAIL or ERROR (the claim raised)."""
    if result.passed:
        return "PASS", "pass"
    return ("ERROR", "error") if result.error else ("FAIL", "fail")


def collect_figures(fig_dir: str) -> dict[str, list[str]]:
    """Paper key → PNG paths found in ``fig_dir`` (sorted; empty when the folder is absent)."""
    if not fig_dir or not os.path.isdir(fig_dir):
        return {}
    index = {}
    try:
        with open(os.path.join(fig_dir, "index.json"), encoding="utf-8") as fh:
            data = json.load(fh)
        for entry in data.values() if isinstance(data, dict) else ():
            for f in entry.get("files", ()):
                index[os.path.normpath(f)] = tuple(entry.get("papers", ()))
    except (OSError, ValueError, AttributeError):
        index = {}
    out: dict[str, list[str]] = {}
    for name in sorted(os.listdir(fig_dir)):
        if not name.lower().endswith(".png"):
            continue
        for key in index.get(os.path.normpath(name)) or (paper_key(name),):
            out.setdefault(key, []).append(os.path.join(fig_dir, name))
    return out


def _img(path: str) -> str:
    with open(path, "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    name = os.path.basename(path)
    return (f'<figure><img alt="{_e(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(name)}</figcaption></figure>")


def _se_cell(m) -> str:
    if m.pvalue is not None:
        return f"p = {_fmt(m.pvalue)}"
    return "exact" if m.stderr is None else _fmt(m.stderr)


def _comparisons(result: ClaimResult) -> str:
    if not result.measurements:
        return ""
    test = {"two": "two-sided", "upper": "measured ≤ predicted", "lower": "measured ≥ predicted"}
    rows = []
    alpha = result.per_comparison_alpha
    for m in result.measurements:
        ok = m.verdict(alpha)[0]
        kind = "p-value ≥ α/k" if m.pvalue is not None else test[m.sided]
        rows.append(
            f"<tr><td>{_e(m.label)}</td><td class=num>{_e(_fmt(m.predicted))}</td>"
            f"<td class=num>{_e(_fmt(m.measured))}</td><td class=num>{_e(_se_cell(m))}</td>"
            f"<td>{_e(kind)}</td><td class=num>{_e(_fmt(m.tolerance))}</td>"
            f"<td class=num>{_e(_pct(m.resolution(alpha)))}</td>"
            f"<td class=num>{_e(_fmt(m.slack()))}</td>"
            f"<td class='verdict {'pass' if ok else 'fail'}'>{'✓ yes' if ok else '✗ NO'}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>comparison</th><th>predicted</th><th>measured</th>"
        "<th>SE / p</th><th>test</th><th>tolerance</th><th>resolution</th><th>slack</th>"
        "<th>pass</th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>"
    )


def _power(r: ClaimResult) -> str:
    power = r.power()
    return "–" if power is None else power


def _controls(r: ClaimResult) -> str:
    """Each declared control with what it perturbs and its verdict (or "not run")."""
    c = r.claim
    if not c.controls:
        return "<p class=muted>No negative control declared.</p>"
    outcomes = r.controls if r.controls is not None else [None] * len(c.controls)
    rows = []
    for k, o in zip(c.controls, outcomes, strict=True):
        verdict = "not run" if o is None else o.verdict
        cls = "ctl-" + verdict.replace(" ", "")
        detail = "" if o is None else o.detail
        rows.append(f"<tr><td class=mono>{_e(k.name)}</td><td>{_e(k.perturbs)}</td>"
                    f"<td class='verdict {cls}'>{_e(verdict)}</td><td>{_e(detail)}</td></tr>")
    return ("<table><thead><tr><th>control</th><th>perturbs</th><th>verdict</th>"
            "<th>detail</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _claims_table(results: list[ClaimResult], calibration: dict | None = None) -> str:
    rows = []
    for r in results:
        c, w = r.claim, r.worst
        label, cls = verdict(r)
        pred = meas = se = "–"
        if w is not None:
            pred, meas, se = _fmt(w.predicted), _fmt(w.measured), _se_cell(w)
        rows.append(
            f"<tr><td><a class=mono href='#{_e(c.id)}'>{_e(c.id)}</a></td>"
            f"<td>{_e(c.paper)}</td><td>{_e(c.kind)}</td><td>{_e(c.provenance)}</td>"
            f"<td class=num>{_e(pred)}</td><td class=num>{_e(meas)}</td>"
            f"<td class=num>{_e(se)}</td><td class='verdict {cls}'>{label}</td>"
            f"<td class=num>{_e(_power(r))}</td><td class=num>{_e(_pct(r.resolution()))}</td>"
            f"<td class=num>{_e(calibration_record.cell(calibration, c.id, 'quick'))}</td>"
            f"<td class=num>{_e(calibration_record.cell(calibration, c.id, 'full'))}</td>"
            f"<td class=num>{r.seconds:.1f}s</td></tr>"
        )
    return (
        "<table class=claims><thead><tr><th>claim</th><th>paper</th><th>kind</th>"
        "<th>provenance</th><th>predicted</th><th>measured</th><th>SE</th><th>verdict</th>"
        "<th>power</th><th>resolution</th><th>calibration quick</th><th>calibration full</th>"
        "<th>time</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _claim_section(r: ClaimResult) -> str:
    c = r.claim
    label, cls = verdict(r)
    parts = [
        f"<article class='claim {'passed' if r.passed else 'failed'}' id='{_e(c.id)}'>",
        f"<h3><code>{_e(c.id)}</code><span class='badge {cls}'>{label}</span></h3><dl>",
        f"<dt>Statement</dt><dd>{_e(c.statement)}</dd>",
        f"<dt>Source</dt><dd>{_e(c.source) or '–'}</dd>",
        f"<dt>Exact statement</dt><dd>{_e(c.exact_statement) or '–'}</dd>",
        f"<dt>Scope</dt><dd>{_e(c.scope) or '–'}</dd>",
        f"<dt>Method</dt><dd>{_e(c.method) or '–'}</dd>",
        f"<dt>Provenance</dt><dd>{_e(c.provenance)}</dd>",
        f"<dt>Kind</dt><dd>{_e(c.kind)}</dd>",
        f"<dt>False-failure probability</dt><dd>{_e(f'{c.false_failure:g}')}"
        + (f" (α/k = {_e(f'{r.per_comparison_alpha:.3g}')} per comparison)"
           if r.measurements else "") + "</dd>",
        f"<dt>Resolution</dt><dd>{_e(_pct(r.resolution()))} (worst comparison)</dd>",
        f"<dt>Slack</dt><dd>{_e(_fmt(r.slack()))} (tightest bound)</dd>",
        f"<dt>Power</dt><dd>{_e(_power(r))} controls rejected</dd>",
        f"<dt>Time</dt><dd>{r.seconds:.2f} s</dd></dl>",
        _controls(r),
    ]
    if r.error:
        parts.append(f"<p><strong>Error:</strong> <code>{_e(r.error)}</code></p>")
    parts.append(_comparisons(r))
    parts.append("</article>")
    return "".join(parts)


def render_html(results: list[ClaimResult], ctx: Context, *, figures=None,
                versions: dict | None = None, calibration: dict | None = None) -> str:
    """The report as one HTML string.

    Args:
        results: the evaluated claims (in table order).
        ctx: the run's context (seed, mode).
        figures: paper key → PNG paths to embed (see :func:`collect_figures`), or None.
        versions: package versions to print (e.g. ``runner.versions()``), or None.
        calibration: the calibration record (:func:`paper_checks.calibration_record.load`)
            whose failures/seeds are shown per claim and mode, or None.
    """
    figures = figures or {}
    n_pass = sum(r.passed for r in results)
    all_ok = n_pass == len(results)
    groups: dict[str, list[ClaimResult]] = {}
    for r in results:
        groups.setdefault(paper_key(r.claim.id), []).append(r)
    head = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>Paper checks: {n_pass}/{len(results)} pass</title><style>{CSS}</style>"
        "</head><body><main>"
    )
    body = [
        "<h1>Paper checks</h1>",
        f"<p class=summary><span class={'pass' if all_ok else 'fail'}>{n_pass} of "
        f"{len(results)} claims pass</span> (seed {_e(ctx.seed)}, "
        f"{'quick' if ctx.quick else 'default'} mode).</p>",
        f"<p class=muted>{_e(RULE)}</p>",
    ]
    if versions:
        body.append("<p class=muted>Versions: " + ", ".join(
            f"{_e(k)} {_e(v)}" for k, v in versions.items()) + ".</p>")
    body.append(_claims_table(results, calibration))
    for key, group in groups.items():
        body.append(f"<section id='paper-{_e(key)}'><h2>{_e(group[0].claim.paper)}</h2>")
        for path in figures.get(key, ()):
            body.append(_img(path))
        body.extend(_claim_section(r) for r in group)
        body.append("</section>")
    return head + "".join(body) + "</main></body></html>\n"
