"""Read a :class:`LoopSpec` from a TOML file.

Every top-level key is a LoopSpec field, plus an optional integer ``seed``; ``truth`` is a
table ``{mean = [...], cov = [[...]]}``; ``inf`` is written as the TOML float ``inf``.
Unknown keys, wrong types and out-of-range values raise ``ValueError``/``TypeError`` naming
the key.
"""

from __future__ import annotations

import dataclasses
import tomllib

from simulations.spec import LoopSpec


def spec_from_dict(data: dict) -> tuple[LoopSpec, int]:
    data = dict(data)
    seed = data.pop("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    names = {f.name for f in dataclasses.fields(LoopSpec)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown}; allowed: {sorted(names | {'seed'})}")
    truth = data.get("truth")
    if truth is not None:
        if not isinstance(truth, dict) or set(truth) != {"mean", "cov"}:
            raise ValueError("truth must be a table with exactly the keys 'mean' and 'cov'")
        data["truth"] = (truth["mean"], truth["cov"])
    return LoopSpec(**data), seed


def load_config(path: str) -> tuple[LoopSpec, int]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: invalid TOML: {exc}") from None
    return spec_from_dict(data)
