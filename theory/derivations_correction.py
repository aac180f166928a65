"""Sympy derivations for Gillman et al. 2024 and Bertrand et al. 2024 (ideal corrector).

Records are registered into :mod:`theory.derivations` on import.
"""

from __future__ import annotations
