"""Sympy derivations for Ferbach et al. 2024 (K-choice curation).

Records are registered into :mod:`theory.derivations` on import.
"""

from __future__ import annotations
