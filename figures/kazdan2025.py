"""Figures of kazdan2025 (registered with figures._registry.figure)."""

from __future__ import annotations
