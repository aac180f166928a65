"""Figure registry and shared style."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable

FIGURES: dict[str, Callable] = {}

# Okabe–Ito colour-blind-safe palette.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def figure(name: str):
    """Register ``main(quick: bool, out: str) -> list[str]`` (the files written)."""

    def register(fn):
        if name in FIGURES:
            raise ValueError(f"duplicate figure {name!r}")
        FIGURES[name] = fn
        return fn

    return register


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
