"""Figures of suresh2024 (registered with figures._registry.figure)."""

from __future__ import annotations
