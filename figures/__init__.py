"""The papers' figures, theory curves over Monte Carlo bands: ``python -m figures``.

Each figure is a module with ``main(quick, out) -> list[str]`` registered in
:data:`FIGURES`; it writes a PNG and the plotted numbers as CSV.
"""

from figures import (  # noqa: E402, F401
    alemohammad2024,
    collapse,
    deydonoho2024,
    ferbach2024,
    gillman2024,
    kazdan2025,
    mixtures,
    suresh2024,
)
from figures._registry import FIGURES  # noqa: E402

__all__ = ["FIGURES"]
