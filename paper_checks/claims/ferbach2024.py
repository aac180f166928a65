"""Claims of ferbach2024 (filled in by its module)."""

from __future__ import annotations
