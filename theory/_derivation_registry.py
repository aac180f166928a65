"""The registry behind :mod:`theory.derivations`: records, lookup and rendering.

Derivation modules (``theory.derivations`` for the collapse loops, ``theory.derivations_correction``
for Gillman et al. 2024 / Bertrand et al. 2024, ``theory.derivations_curation`` for Ferbach et al.
2024) call :func:`register`; :mod:`theory.derivations` imports them all, so its
``list_derivations()`` lists every record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from scipy import special

__all__ = ["Derivation", "Step", "Built", "register", "get_derivation", "list_derivations",
           "render", "lam", "covered_functions", "declare_numerical", "numerical_routines"]

@dataclass(frozen=True)
class Step:
    """One step of a derivation: ``label`` (recursion/solution/limit/...), the sympy ``method``
    that produced ``expr`` (``"given"`` for the model's input), a ``note`` and the ``expr``."""

    label: str
    method: str
    expr: object
    note: str = ""


@dataclass(frozen=True)
class Built:
    recursion: object
    solution: object
    limit: object
    steps: tuple
    lambdify: Callable


@dataclass(frozen=True)
class Derivation:
    """A derivation record. ``recursion``, ``solution``, ``limit`` and ``steps`` are computed by
    sympy on first access (a few seconds at most) and cached."""

    name: str
    title: str
    source: str
    numeric: str | None
    signature: str
    _build: Callable[[], Built] = field(repr=False, compare=False)
    covers: tuple = ()  # import paths of further toolkit functions this record accounts for
    taken_from_paper: bool = False  # a transcribed formula (no derivation), with the reason

    def _get(self) -> Built:
        if self.name not in _CACHE:
            _CACHE[self.name] = self._build()
        return _CACHE[self.name]

    @property
    def recursion(self):
        return self._get().recursion

    @property
    def solution(self):
        return self._get().solution

    @property
    def limit(self):
        return self._get().limit

    @property
    def steps(self) -> tuple:
        return self._get().steps

    def lambdify(self) -> Callable:
        """Numpy callable of the derived solution, argument convention of ``numeric``
        (see ``signature``)."""
        return self._get().lambdify


_CACHE: dict[str, Built] = {}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

_MODULES = [{"loggamma": special.gammaln, "polygamma": special.polygamma}, "scipy", "numpy"]


def lam(args, expr):
    return sp.lambdify(args, expr, modules=_MODULES)




_REGISTRY: dict[str, Derivation] = {}


def register(name, title, source, numeric, signature, build, *, covers=(),
             taken_from_paper=False) -> None:
    """Add a record; ``build()`` returns a :class:`Built` (called lazily, cached).

    ``covers`` lists further toolkit functions (import paths) that the record accounts for,
    e.g. the CDFs computed by numerical inversion of a derived characteristic function.
    ``taken_from_paper=True`` marks a formula transcribed from a paper without a derivation; its
    first step's note gives the reason.
    """
    if name in _REGISTRY:
        raise ValueError(f"derivation {name!r} is registered twice")
    _REGISTRY[name] = Derivation(name, title, source, numeric, signature, build,
                                 tuple(covers), bool(taken_from_paper))


def covered_functions() -> dict[str, str]:
    """``{import path: record name}`` for every toolkit function a record derives or covers."""
    out = {}
    for der in _REGISTRY.values():
        for path in ((der.numeric,) if der.numeric else ()) + der.covers:
            out.setdefault(path, der.name)
    return out


_NUMERICAL: dict[str, str] = {}


def declare_numerical(path: str, reason: str) -> None:
    """Mark the toolkit function ``path`` as a numerical routine, not a closed form.

    Quadrature, root finding, automatic differentiation, statistical fits, samplers and
    parameter packing have no symbolic derivation to record; ``reason`` (at least 40
    characters) names the method and the independent route its test compares it with.
    """
    if not isinstance(reason, str) or len(reason) < 40:
        raise ValueError(f"declare_numerical({path!r}): give the method and its check "
                         "(at least 40 characters)")
    if path in _NUMERICAL:
        raise ValueError(f"{path!r} is declared numerical twice")
    _NUMERICAL[path] = reason


def numerical_routines() -> dict[str, str]:
    """``{import path: reason}`` of the functions declared by :func:`declare_numerical`."""
    return dict(_NUMERICAL)


def list_derivations() -> list[str]:
    """Names of all derivations, in registry order."""
    return list(_REGISTRY)


def get_derivation(name: str) -> Derivation:
    """The :class:`Derivation` called ``name``; ``ValueError`` listing the names otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown derivation {name!r}; choose one of: {', '.join(_REGISTRY)}"
        ) from None


def _fmt(expr, latex):
    if isinstance(expr, tuple):
        return " = ".join(_fmt(v, latex) for v in expr)
    if isinstance(expr, dict):
        return "; ".join(f"{key}: {_fmt(v, latex)}" for key, v in expr.items())
    return sp.latex(expr) if latex else sp.sstr(expr)


def render(name: str, latex: bool = False) -> str:
    """Step-by-step derivation of ``name`` as plain text (sympy ``sstr``) or LaTeX."""
    der = get_derivation(name)
    lines = [f"{der.name}: {der.title}", f"source: {der.source}",
             f"numeric: {der.numeric or '(none in the toolkit)'} {der.signature}"]
    if der.covers:
        lines.append("covers: " + ", ".join(der.covers))
    if der.taken_from_paper:
        lines.append("status: taken from the paper, not derived here (reason in step 1)")
    lines.append("")
    for j, st in enumerate(der.steps, 1):
        head = f"[{j}] {st.label} ({st.method})"
        if st.note:
            head += f": {st.note}"
        lines.append(head)
        body = _fmt(st.expr, latex)
        lines.append(f"    $${body}$$" if latex else f"    {body}")
    return "\n".join(lines)




from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
