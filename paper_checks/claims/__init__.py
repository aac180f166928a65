"""Claim modules; importing this package registers every claim."""

from paper_checks.claims import (  # noqa: F401
    alemohammad2024,
    bertrand2024,
    deydonoho2024,
    ferbach2024,
    gillman2024,
    kazdan2025,
    mixtures,
    shumailov2024,
    suresh2024,
)
