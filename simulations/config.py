"""Read a loop from a TOML file: ``selfconsuming simulate CONFIG.toml --out DIR``.

Accepted keys, all optional (the defaults are :class:`LoopSpec`'s):

* every field of :class:`LoopSpec` at the top level, read from the dataclass itself, so a
  field added to ``LoopSpec`` is accepted without touching this module; tables are passed as
  dicts (``[truth]`` with ``mean``/``cov``, or a ``kind`` such as ``"gaussian_mixture"``;
  ``[reward]`` with a ``kind``; ``[corrector]`` with a ``name`` and its configuration, or
  ``corrector = "histogram"``); ``inf`` is the TOML float ``inf``;
* ``seed``: a non-negative integer (default 0; ``--seed`` overrides it);
* ``[run]``: keyword options of :func:`simulations.run` other than ``progress`` (e.g.
  ``engine``, ``batch_size``), read from its signature.

A key that is not one of these, a wrong type or an out-of-range value raises ``ValueError``
or ``TypeError`` with a one-line message that names the file and the key.

Example::

    # Shumailov et al. 2024, Theorem 3.1: unbiased 1-D replace loop
    dim = 1
    n_real = 20
    data = "replace"
    estimator = "unbiased"
    generations = 100
    replicates = 2000
    seed = 0
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import tomllib
from typing import NamedTuple

from simulations.spec import LoopSpec

RESERVED = ("seed", "run")


class Config(NamedTuple):
    spec: LoopSpec  # the validated loop
    seed: int  # base seed
    run_options: dict  # keyword arguments for simulations.run (engine, batch_size, …)


def spec_fields() -> tuple[str, ...]:
    """Keys of :class:`LoopSpec` accepted at the top level of a config."""
    return tuple(f.name for f in dataclasses.fields(LoopSpec) if f.init)


def run_options() -> tuple[str, ...]:
    """Keys accepted in the ``[run]`` table: keyword-only options of :func:`simulations.run`."""
    run = importlib.import_module("simulations.run").run

    params = inspect.signature(run).parameters.values()
    return tuple(p.name for p in params
                 if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "progress")


def _unknown(key: str, allowed, where: str) -> ValueError:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ValueError(f"unknown key {key!r}{where}{hint}; allowed: {', '.join(sorted(allowed))}")


def config_from_dict(data: dict) -> Config:
    """Validate a parsed config (see the module docstring) and build the :class:`Config`."""
    if not isinstance(data, dict):
        raise TypeError(f"a config must be a table of keys, got {type(data).__name__}")
    data = dict(data)
    seed = data.pop("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative integer below 2**63, got {seed}")
    options = data.pop("run", {})
    if not isinstance(options, dict):
        raise TypeError(f"run must be a table of options for simulations.run, got {options!r}")
    allowed_run = run_options()
    for key in options:
        if key not in allowed_run:
            raise _unknown(key, allowed_run, " in [run]")
    fields = spec_fields()
    for key in data:
        if key not in fields:
            raise _unknown(key, (*fields, *RESERVED), "")
    return Config(LoopSpec(**data), seed, dict(options))


def spec_from_dict(data: dict) -> tuple[LoopSpec, int]:
    """``(spec, seed)`` of a parsed config (the ``[run]`` options are validated, not
    returned; see :func:`config_from_dict`)."""
    cfg = config_from_dict(data)
    return cfg.spec, cfg.seed


def read_config(path: str) -> Config:
    """Parse and validate the TOML file ``path``; errors name the file and the key."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ValueError(f"config path is a folder, not a TOML file: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: invalid TOML: {exc}") from None
    try:
        return config_from_dict(data)
    except (ValueError, TypeError) as exc:
        one_line = " ".join(str(exc).split())
        raise type(exc)(f"{path}: {one_line}") from None


def load_config(path: str) -> tuple[LoopSpec, int]:
    """``(spec, seed)`` of the TOML file ``path`` (see :func:`read_config`)."""
    cfg = read_config(path)
    return cfg.spec, cfg.seed


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
