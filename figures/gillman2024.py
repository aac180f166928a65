"""Figures of gillman2024 (registered with figures._registry.figure)."""

from __future__ import annotations
