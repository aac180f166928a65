"""Figure registry and shared style.

A figure is ``main(quick: bool, out: str) -> list[str]`` (the files written) registered with
:func:`figure`. Its name starts with the key of the paper it reproduces, the prefix of that
paper's claim ids (``kazdan2025_replace_accumulate`` ↔ ``kazdan2025.*``); ``papers=`` names
other papers it illustrates. The HTML report of ``python -m paper_checks --report DIR`` embeds
a figure beside the claims of its papers (:func:`papers_of`).

Shared helpers keep the figures alike: :func:`style` (Okabe–Ito palette, no top/right
spines), :func:`mean_band` (Monte Carlo mean ± z·SE), :func:`quantile_band` (replicate
quantiles), :func:`caption` (the paper, the figure number and what each band means, under
the axes), :func:`save` (PNG and PDF) and :func:`write_csv` (every plotted series).
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable

from theory._x64 import in_float64

FIGURES: dict[str, Callable] = {}
FIGURE_PAPERS: dict[str, tuple[str, ...]] = {}

# Okabe–Ito colour-blind-safe palette.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
# Perceptually uniform colour map designed for colour-vision deficiency (heat maps).
CMAP = "cividis"


def paper_key(name: str) -> str:
    """The paper key of a figure or file name: the text before the first ``_`` or ``.``
    (``"kazdan2025_replace_accumulate"`` → ``"kazdan2025"``)."""
    return name.split("_", 1)[0].split(".", 1)[0]


def figure(name: str, *, papers: tuple[str, ...] | None = None):
    """Register ``main(quick: bool, out: str) -> list[str]`` (the files written).

    Args:
        name: the figure's name, ``<paper key>_<what>``; its files are ``<name>.png`` etc.
        papers: the paper keys (claim-id prefixes) the figure illustrates; default the
            name's own prefix (:func:`paper_key`).
    """

    def register(fn):
        if name in FIGURES:
            raise ValueError(f"duplicate figure {name!r}")
        FIGURES[name] = in_float64(fn)  # float64 whatever jax.config says (theory/_x64.py)
        FIGURE_PAPERS[name] = tuple(papers) if papers else (paper_key(name),)
        return fn

    return register


def papers_of(name: str) -> tuple[str, ...]:
    """Paper keys of a registered figure, or of a file stem by its prefix."""
    return FIGURE_PAPERS.get(name, (paper_key(name),))


def progress_enabled(quiet: bool, verbose: bool, stream=None) -> bool:
    """Whether a command line prints progress lines on ``stream`` (default stderr).

    Always with ``verbose``, never with ``quiet``; otherwise only on a terminal outside CI
    (the ``CI`` environment variable unset, empty, ``0``, ``false`` or ``no``), so logs stay
    quiet. Used by ``python -m figures``, ``python -m paper_checks`` and
    ``selfconsuming simulate``.
    """
    if verbose:
        return True
    if quiet:
        return False
    stream = sys.stderr if stream is None else stream
    in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return bool(getattr(stream, "isatty", lambda: False)()) and not in_ci


def style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": 11, "axes.titlesize": 11, "axes.labelsize": 11, "legend.fontsize": 9,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE), "figure.dpi": 110,
        "axes.spines.top": False, "axes.spines.right": False,
    })
    return plt


def mean_band(ax, x, mean, se, *, color, label, z: float = 2.0, alpha: float = 0.3):
    """Shade the Monte Carlo mean ± ``z``·SE (a pointwise ≈95 % band for z = 2)."""
    import numpy as np

    mean, se = np.asarray(mean, dtype=float), np.asarray(se, dtype=float)
    what = f"Monte Carlo mean ± {z:g} SE"
    return ax.fill_between(x, mean - z * se, mean + z * se, color=color, alpha=alpha, lw=0,
                           label=f"{label} ({what})" if label else what)


def quantile_band(ax, x, values, *, color, label, q=(0.05, 0.95), alpha: float = 0.15):
    """Shade the replicate quantiles ``q`` of ``values`` (shape ``(replicates, len(x))``);
    returns the quantiles (shape ``(2, len(x))``)."""
    import numpy as np

    lo_hi = np.quantile(np.asarray(values, dtype=float), q, axis=0)
    ax.fill_between(x, lo_hi[0], lo_hi[1], color=color, alpha=alpha, lw=0,
                    label=f"{label} ({100 * q[0]:g}–{100 * q[1]:g} % of replicates)")
    return lo_hi


def caption(fig, text: str, *, width: int = 150, fontsize: float = 8.5,
            tight: bool = True) -> float:
    """Write ``text`` under the axes (wrapped to ``width`` characters) and make room for it.

    Returns the height of the caption as a fraction of the figure. ``tight=False`` (figures
    with colour bars, which ``tight_layout`` cannot place) leaves the layout to the caller,
    who keeps the axes above that fraction.
    """
    import textwrap

    lines = textwrap.wrap(text, width)
    fig.text(0.01, 0.005, "\n".join(lines), ha="left", va="bottom", fontsize=fontsize,
             color="#333333")
    bottom = min(0.45, (len(lines) * fontsize * 1.45 + 6) / 72 / fig.get_figheight())
    if tight:
        fig.tight_layout(rect=(0, bottom, 1, 1))
    return bottom


def save(fig, out: str, name: str) -> list[str]:
    """Write ``out/name.png`` and ``out/name.pdf`` and close the figure; return the paths."""
    import matplotlib.pyplot as plt

    paths = [os.path.join(out, f"{name}.{ext}") for ext in ("png", "pdf")]
    for path in paths:
        fig.savefig(path)
    plt.close(fig)
    return paths


def write_csv(path: str, columns: dict[str, list]) -> str:
    names = list(columns)
    rows = zip(*(columns[k] for k in names), strict=True)
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        w.writerows(rows)
    os.replace(tmp, path)
    return path
