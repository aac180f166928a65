"""64-bit JAX in the toolkit's own scope: importing the toolkit never changes ``jax.config``.

The toolkit computes in float64 by default (DESIGN §2, "Numerics"), but JAX truncates every
float64 value to float32 unless ``jax_enable_x64`` is on, and flipping that flag at import would
change the user's whole process. So nothing is flipped at import; instead each public function
of ``theory`` and ``simulations`` runs as follows:

* 64-bit JAX already on (``jax.config.update("jax_enable_x64", True)``, :func:`enable_x64`, the
  command lines, the tests): the function is called as it is, and returns what it always
  returned; nothing else happens (one flag read).
* 64-bit JAX off and the function called on concrete values: it runs inside
  ``jax.enable_x64(True)`` (a context manager, restored on exit), and the JAX arrays it returns
  come back as NumPy arrays, which keep their float64 values (a JAX float64 array would be
  truncated to float32 by the next JAX operation outside the scope).
* 64-bit JAX off and the function traced inside the user's own ``jit``/``vmap``: it is called
  as it is, in the precision the user's program chose (float32); entering the scope in the
  middle of a trace would mix precisions in one program.

:func:`enable_x64` is the one call that turns 64-bit JAX on for the whole process (as numpyro's
``enable_x64``); it is never needed, only convenient when the user's own JAX code should also
see float64.
"""

from __future__ import annotations

import functools
import inspect
import sys

import jax
import numpy as np

__all__ = ["enable_x64", "in_float64", "scope_module", "x64_enabled"]

_MARK = "__selfconsuming_float64__"


def enable_x64(use_x64: bool = True) -> None:
    """Turn 64-bit JAX on (or off) for the whole process: ``jax_enable_x64``.

    The toolkit does not need it (its functions compute in float64 in their own scope); call it
    before any JAX computation when your own JAX code should also be float64."""
    jax.config.update("jax_enable_x64", bool(use_x64))


def x64_enabled() -> bool:
    """Whether 64-bit JAX is on in this thread (globally or inside ``jax.enable_x64``)."""
    return bool(jax.config.jax_enable_x64)


def _traced(args, kwargs) -> bool:
    return any(isinstance(leaf, jax.core.Tracer)
               for leaf in jax.tree_util.tree_leaves((args, kwargs)))


def _host(x):
    if not isinstance(x, jax.Array) or jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        return x  # typed PRNG keys have no NumPy form (and no float64 to lose)
    return np.asarray(x)


def _to_host(out):
    """JAX arrays in ``out`` (any pytree) → NumPy arrays with the same dtype and values; typed
    PRNG keys are returned as they are."""
    return jax.tree_util.tree_map(_host, out)


def in_float64(fn):
    """Decorator: ``fn`` computes in float64 whether or not 64-bit JAX is on (module docstring).

    Idempotent; keeps ``fn``'s name, signature and docstring (``functools.wraps``)."""
    if getattr(fn, _MARK, False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if jax.config.jax_enable_x64 or _traced(args, kwargs):
            return fn(*args, **kwargs)
        with jax.enable_x64(True):
            return _to_host(fn(*args, **kwargs))

    setattr(wrapper, _MARK, True)
    return wrapper


def scope_module(name: str) -> None:
    """Wrap, in place, every public function defined in module ``name`` with :func:`in_float64`.

    Called at the end of each module of ``theory`` and ``simulations``. Functions imported from
    another module are left alone (their own module wraps them), so nothing is wrapped twice;
    classes are left alone (their methods that compute are decorated where they are defined).
    """
    module = sys.modules[name]
    for attr, obj in list(vars(module).items()):
        if attr.startswith("_") or not inspect.isfunction(obj):
            continue
        if obj.__module__ != name or getattr(obj, _MARK, False):
            continue
        setattr(module, attr, in_float64(obj))
