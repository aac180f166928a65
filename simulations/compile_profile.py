"""Count and time JAX compilations (``--profile`` of ``python -m paper_checks`` and figures).

Most of the wall time of a quick run is JAX turning Python into XLA programs. This module
measures it through JAX's monitoring hooks (``jax.monitoring``), with the events of
jax 0.10 (``jax/_src/dispatch.py``, ``interpreters/pxla.py``, ``compiler.py``):

* ``/jax/core/compile/jaxpr_trace_duration``: tracing a jitted function to a jaxpr;
* ``/jax/core/compile/jaxpr_to_mlir_module_duration``: lowering the jaxpr to an MLIR module;
* ``/jax/core/compile/backend_compile_duration``: obtaining one XLA executable, compiled by
  XLA or loaded from the persistent cache (it wraps ``compiler.compile_or_get_cached``);
  each such event is one *program*;
* ``/jax/compilation_cache/cache_hits``: a program loaded from the persistent cache;
* ``/jax/compilation_cache/cache_misses``: a program compiled and written to it.

A call served by JAX's in-memory caches (the same function, shapes and dtypes again in the
same process) records nothing: it costs no compilation.

``compile_seconds`` is the wall time covered by the three duration events: the union of their
time spans, so that an event inside another (a trace that happens while another is being
lowered) is counted once. ``backend_seconds`` is the XLA part alone (compile or cache load).

Importing this module changes nothing; :func:`install` registers the listeners (once per
process, however often it is called) and :func:`snapshot` reads the counters, which only ever
grow: the stats of a piece of work are ``snapshot()`` after it minus ``snapshot()`` before.
Counts cover every thread of the process. The numbers depend on what ran before in the same
process (a program compiled for one claim is reused by the next), so they are a measurement
of a run, never a result of a claim.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields

TRACE_EVENT = "/jax/core/compile/jaxpr_trace_duration"
LOWER_EVENT = "/jax/core/compile/jaxpr_to_mlir_module_duration"
BACKEND_EVENT = "/jax/core/compile/backend_compile_duration"
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"
CACHE_MISS_EVENT = "/jax/compilation_cache/cache_misses"
_SPAN_EVENTS = (TRACE_EVENT, LOWER_EVENT, BACKEND_EVENT)


@dataclass(frozen=True)
class CompileStats:
    """Compilation counters of a process, or (a difference of two) of a piece of work.

    ``compile_seconds``: tracing + lowering + XLA compile or cache load (union of their time
    spans); ``backend_seconds``: the XLA compile or cache load part; ``programs``: XLA
    executables obtained (compiled or loaded); ``cache_hits`` / ``cache_misses``: of those,
    loaded from / written to the persistent compilation cache (both 0 when it is off);
    ``traces`` and ``lowerings``: jaxprs traced and MLIR modules lowered.
    """

    compile_seconds: float = 0.0
    backend_seconds: float = 0.0
    programs: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    traces: int = 0
    lowerings: int = 0

    def __sub__(self, other: CompileStats) -> CompileStats:
        return CompileStats(*(getattr(self, f.name) - getattr(other, f.name)
                              for f in fields(self)))

    def __add__(self, other: CompileStats) -> CompileStats:
        return CompileStats(*(getattr(self, f.name) + getattr(other, f.name)
                              for f in fields(self)))

    def to_json(self) -> dict:
        return {f.name: (round(v, 3) if isinstance(v := getattr(self, f.name), float) else v)
                for f in fields(self)}


class _Recorder:
    """The listeners' state: counters, and the merged time spans of the duration events."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {BACKEND_EVENT: 0, CACHE_HIT_EVENT: 0, CACHE_MISS_EVENT: 0,
                       TRACE_EVENT: 0, LOWER_EVENT: 0}
        self.backend_seconds = 0.0
        # Disjoint spans (start, end) in the order they ended, and their total length. A span
        # ends after the spans nested in it, so a new span absorbs the tail of the list that
        # ends after it starts.
        self.spans: list[tuple[float, float]] = []
        self.covered = 0.0

    def on_event(self, event: str, **_kwargs) -> None:
        if event in (CACHE_HIT_EVENT, CACHE_MISS_EVENT):
            with self.lock:
                self.counts[event] += 1

    def on_span(self, event: str, start: float, end: float, **_kwargs) -> None:
        if event not in _SPAN_EVENTS:
            return
        with self.lock:
            self.counts[event] += 1
            if event == BACKEND_EVENT:
                self.backend_seconds += end - start
            while self.spans and self.spans[-1][1] > start:
                s, e = self.spans.pop()
                self.covered -= e - s
                start, end = min(start, s), max(end, e)
            self.spans.append((start, end))
            self.covered += end - start
            if len(self.spans) > 4096:  # keep the recent ones: nesting is shallow
                del self.spans[:2048]

    def snapshot(self) -> CompileStats:
        with self.lock:
            return CompileStats(compile_seconds=self.covered,
                                backend_seconds=self.backend_seconds,
                                programs=self.counts[BACKEND_EVENT],
                                cache_hits=self.counts[CACHE_HIT_EVENT],
                                cache_misses=self.counts[CACHE_MISS_EVENT],
                                traces=self.counts[TRACE_EVENT],
                                lowerings=self.counts[LOWER_EVENT])


_recorder: _Recorder | None = None
_install_lock = threading.Lock()


def install() -> None:
    """Register the listeners with ``jax.monitoring`` (only the first call does anything)."""
    global _recorder
    with _install_lock:
        if _recorder is not None:
            return
        from jax import monitoring

        recorder = _Recorder()
        monitoring.register_event_listener(recorder.on_event)
        monitoring.register_event_time_span_listener(recorder.on_span)
        _recorder = recorder


def installed() -> bool:
    return _recorder is not None


def snapshot() -> CompileStats:
    """The counters since :func:`install` (all zero before it)."""
    return CompileStats() if _recorder is None else _recorder.snapshot()


@dataclass(frozen=True)
class Profile:
    """The profile of one task (a claim, a figure): its compile stats and its wall time."""

    stats: CompileStats
    wall_seconds: float

    @property
    def run_seconds(self) -> float:
        return max(0.0, self.wall_seconds - self.stats.compile_seconds)

    def to_json(self) -> dict:
        s = self.stats
        return {"compile_seconds": round(s.compile_seconds, 3),
                "run_seconds": round(self.run_seconds, 3),
                "wall_seconds": round(self.wall_seconds, 3), "programs": s.programs,
                "cache_hits": s.cache_hits, "cache_misses": s.cache_misses,
                "backend_seconds": round(s.backend_seconds, 3)}


def profiled(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), Profile)``: the call's value and its compile stats (after
    :func:`install`). An exception propagates (its profile is lost)."""
    import time

    install()
    before, start = snapshot(), time.perf_counter()
    value = fn(*args, **kwargs)
    wall = time.perf_counter() - start
    return value, Profile(snapshot() - before, wall)


def total(profiles) -> Profile:
    """The sum of ``profiles`` (None entries, e.g. a task stopped at its time limit, skipped)."""
    stats, wall = CompileStats(), 0.0
    for p in profiles:
        if p is not None:
            stats, wall = stats + p.stats, wall + p.wall_seconds
    return Profile(stats, wall)


def table(rows, what: str = "claim", width: int = 44) -> list[str]:
    """The lines of the profile table: ``rows`` are ``(name, Profile or None)`` pairs (None:
    not measured, e.g. resumed from a checkpoint or stopped at the time limit), then a total
    line and the compile share of the measured wall time."""
    rows = list(rows)
    head = (f"{what:<{width}} {'compile s':>10} {'run s':>9} {'programs':>9} {'cache hits':>11}")
    lines = ["", "compile profile (compile: tracing + lowering + XLA compile or cache load;"
             " run: the rest of the wall time)", head, "-" * len(head)]
    for name, p in rows:
        if p is None:
            lines.append(f"{name:<{width}} {'-':>10} {'-':>9} {'-':>9} {'-':>11}")
        else:
            lines.append(_line(name, p, width))
    tot = total(p for _, p in rows)
    lines.append("-" * len(head))
    lines.append(_line("total", tot, width))
    share = tot.stats.compile_seconds / tot.wall_seconds if tot.wall_seconds > 0 else 0.0
    lines.append(f"compile share {100 * share:.0f}% of {tot.wall_seconds:.1f}s; "
                 f"{tot.stats.programs} programs ({tot.stats.cache_hits} loaded from the cache, "
                 f"{tot.stats.cache_misses} written to it), XLA backend "
                 f"{tot.stats.backend_seconds:.1f}s")
    return lines


def _line(name: str, p: Profile, width: int) -> str:
    s = p.stats
    return (f"{name:<{width}} {s.compile_seconds:10.2f} {p.run_seconds:9.2f} {s.programs:9d}"
            f" {s.cache_hits:11d}")


def to_json(rows, key: str = "claims") -> dict:
    """``{key: {name: Profile.to_json() or None}, "total": Profile.to_json()}`` for ``rows``
    as in :func:`table` (None: not measured)."""
    rows = list(rows)
    return {key: {name: None if p is None else p.to_json() for name, p in rows},
            "total": total(p for _, p in rows).to_json()}


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
