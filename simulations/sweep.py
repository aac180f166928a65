"""Parameter sweeps: a grid of loops run in as few compilations as possible, with summaries.

``sweep(spec, over={"synthetic_ratio": [...], "correction_strength": [...], "n_real": [...]})``
runs every cell of the Cartesian grid ``spec.replace(**values)`` (cells in row-major order of
``over``) and returns, per cell, the mean over replicates of each requested metric and its
standard error, per generation (:class:`SweepResult`).

Compilations. Cells whose engine configuration has the same *shape* share one compiled function,
the very one ``run`` uses for that shape: values that only change traced hyperparameters
(temperature, correction strength γ, estimator, a Gaussian truth, a reward's parameters, and for
the sufficient engine also n_real and λ, which are counts there) never recompile; values that
change shapes (n_real and λ for the sample-level engine, the policy, the model, the corrector,
d) group by shape. γ = 0 and γ > 0 share a group: a corrected loop at γ = 0 reproduces the
uncorrected loop (the same random numbers; bit for bit with the sufficient engine, up to the
last bit with the sample-level one). Within a group the cells run one after the other through
that function (the population engine ``vmap``-s over all cells at once). Cells are not
``vmap``-ed together for the sampling engines, by measurement: a batched γ turns the sufficient
engine's Binomial draw (a ``lax.cond`` between two samplers) into a select that runs both, and
compiling the cell-batched program took 3× as long as the per-cell one (26 s against 8 s on a
2-core CPU, d = 2), while a cell of R ≥ 100 replicates already fills the machine.

Keys and reproducibility. Cell c uses the integer seed ``cell_seed(seed, c)`` (derived from
(seed, c) by :class:`numpy.random.SeedSequence`), and its replicates the keys of
``run(cell_spec, seed=cell_seed(seed, c))``: a cell's trajectories are those of that ``run``
call (the same random numbers and the same compiled program, so bit for bit, except that a γ = 0
cell of a group that also has γ > 0 runs the corrected program at γ = 0, which the sample-level
engine may round differently in the last bit), whatever the chunk size or the number of devices.

Memory. At most ``chunk`` trajectories of the sufficient engine are computed per call (the
sample-level engine uses ``run``'s batches, bounded near 256 MiB, whatever ``chunk``: its
compiled program can round its last bit differently when its batch shape changes). Per-cell
summaries are accumulated over replicates in replicate order by Welford's update (Welford 1962),
piece by piece — a piece is a fixed number of consecutive replicates of one cell, summarized by
one compiled function of fixed shape — so the summaries do not depend on the chunk size (bit for
bit) and memory stays bounded for any number of replicates.

Save and resume. With ``path``, the result is written (atomically: temporary file, then
``os.replace``) after each finished block of cells; a rerun with the same arguments loads it and
computes only the cells not yet done. A file written for different arguments is refused.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field, fields
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from simulations import gaussian_loop, population, sufficient_loop
from simulations.run import resolve_engine
from simulations.spec import LoopSpec, check_seed
from simulations.trajectory import _METRIC_FNS, METRICS
from theory.rewards import reward_expected

DEFAULT_METRICS = ("w2_to_target", "trace_ratio", "mean_error2")
#: LoopSpec fields a sweep cannot vary (they set the summaries' shape or are the sweep's own).
FIXED_FIELDS = ("dim", "generations", "replicates", "dtype")
SWEEPABLE = tuple(f.name for f in fields(LoopSpec) if f.name not in FIXED_FIELDS)

_CHUNK_BYTES = 64 * 2**20
_FORMAT = 1


def cell_seed(seed: int, index: int) -> int:
    """The integer seed of cell ``index`` of a sweep with ``seed``: 63 bits of
    ``SeedSequence([seed, index])`` (deterministic, independent streams per cell)."""
    state = np.random.SeedSequence([int(seed), int(index)]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


# ------------------------------------------------------------------------------ result
@dataclass
class SweepResult:
    """Per-cell summaries of a sweep.

    Attributes:
        spec: the base :class:`LoopSpec` (its replicates are each cell's).
        over: ``{field: values}`` in grid order (JSON-ready values: laws and rewards as dicts,
            ``inf`` as ``"inf"``).
        seed: the sweep's seed (cell c uses :func:`cell_seed`).
        engine: the engine asked for (per cell: :attr:`engines`).
        metrics: metric names (:data:`simulations.METRICS`).
        mean: ``{metric: array (*shape, generations + 1)}``, the mean over replicates.
        se: the same shape, the standard error of that mean (0 for the deterministic
            population engine; NaN with one replicate).
        engines: ``(*shape,)`` the engine each cell ran with.
        done: ``(*shape,)`` whether each cell is finished (all are, unless interrupted).
        seconds: wall time of the call that produced this result.
        computed: cells computed by that call (the others were loaded from ``path``).
        groups: compiled groups (distinct shapes) that call ran.
    """

    spec: LoopSpec
    over: dict
    seed: int
    engine: str
    metrics: tuple
    mean: dict
    se: dict
    engines: np.ndarray
    done: np.ndarray
    seconds: float = 0.0
    computed: int = 0
    groups: int = 0
    _meta: dict = field(default_factory=dict, repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape: one axis per swept field, in the order of ``over``."""
        return tuple(len(v) for v in self.over.values())

    @property
    def cells(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def index(self, flat: int) -> dict:
        """``{field: value}`` of the cell with row-major index ``flat``."""
        idx = np.unravel_index(int(flat), self.shape) if self.shape else ()
        return {name: values[i] for (name, values), i in zip(self.over.items(), idx, strict=True)}

    def cell_spec(self, flat: int) -> LoopSpec:
        """The :class:`LoopSpec` of cell ``flat``; ``run(cell_spec(c), seed=cell_seed(c))``
        reproduces its trajectories."""
        return self.spec.replace(**{k: _from_json(k, v) for k, v in self.index(flat).items()})

    def cell_seed(self, flat: int) -> int:
        return cell_seed(self.seed, flat)

    def save(self, path: str | os.PathLike) -> None:
        """Write the result to ``path`` (one NPZ file, atomically)."""
        _save(os.fspath(path), self._meta, self.mean, self.se, self.engines.reshape(-1),
              self.done.reshape(-1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> SweepResult:
        """Read a result written by :meth:`save` or by ``sweep(..., path=...)``."""
        meta, mean, se, engines, done = _load(os.fspath(path))
        spec = LoopSpec(**_spec_from_json(meta["spec"]))
        over = dict(meta["over"])
        shape = tuple(len(v) for v in over.values())
        return cls(spec=spec, over=over, seed=meta["seed"], engine=meta["engine"],
                   metrics=tuple(meta["metrics"]),
                   mean={k: v.reshape(shape + v.shape[1:]) for k, v in mean.items()},
                   se={k: v.reshape(shape + v.shape[1:]) for k, v in se.items()},
                   engines=engines.reshape(shape), done=done.reshape(shape), _meta=meta)


# ------------------------------------------------------------------------------ JSON helpers
_INF_FIELDS = ("synthetic_ratio", "correction_strength", "curation_k", "temperature")


def _from_json(name, value):
    if name in _INF_FIELDS and value == "inf":
        return math.inf
    return value


def _spec_from_json(d: dict) -> dict:
    out = {k: _from_json(k, v) for k, v in d.items()}
    reward = out.get("reward")
    if isinstance(reward, dict) and reward.get("kind") == "callable":
        raise ValueError("a sweep with a callable reward cannot be rebuilt from its file "
                         "(the function is not stored); its summaries are in the file")
    return out


def _save(path, meta, mean, se, engines, done):
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    arrays = {"meta": np.asarray(json.dumps(meta, sort_keys=True)),
              "engines": np.asarray(engines, dtype=str), "done": np.asarray(done, dtype=bool)}
    for name in mean:
        arrays[f"mean__{name}"] = mean[name].reshape((done.size, -1))
        arrays[f"se__{name}"] = se[name].reshape((done.size, -1))
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".tmp.npz", delete=False) as fh:
        np.savez(fh, **arrays)
        tmp = fh.name
    os.replace(tmp, path)


def _load(path):
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{path}: not a sweep file of format {_FORMAT}")
        mean = {k[len("mean__"):]: z[k] for k in z.files if k.startswith("mean__")}
        se = {k[len("se__"):]: z[k] for k in z.files if k.startswith("se__")}
        return meta, mean, se, np.asarray(z["engines"]), np.asarray(z["done"])


# ------------------------------------------------------------------------------ engines
class _Group:
    """Cells sharing one compiled function: engine, static configuration, members."""

    def __init__(self, engine, static):
        self.engine, self.static, self.cells, self.hypers = engine, static, [], []


def _group_key(engine, cell_spec):
    if engine == "samples":
        return gaussian_loop.static_of(cell_spec)._replace(corrected=False), \
            gaussian_loop.hyper_of(cell_spec)
    if engine == "sufficient":
        return sufficient_loop.static_of(cell_spec)._replace(corrected=False), \
            sufficient_loop.hyper_of(cell_spec)
    return population.static_of(cell_spec), population.hyper_of(cell_spec)


def _welford(state, values, valid):
    """Welford's (1962) update of (count, mean, M2) by the rows of ``values`` (S, T+1) in
    order, skipping rows where ``valid`` is False."""

    def body(carry, x):
        n, mean, m2 = carry
        v, ok = x
        n1 = n + 1.0
        delta = v - mean
        new_mean = mean + delta / n1
        new_m2 = m2 + delta * (v - new_mean)
        return (jnp.where(ok, n1, n), jnp.where(ok, new_mean, mean),
                jnp.where(ok, new_m2, m2)), None

    out, _ = jax.lax.scan(body, state, (values, valid))
    return out


@lru_cache(maxsize=64)
def _piece_summary(metrics: tuple, reward_kind):
    """Jitted update of the per-metric Welford states by one piece of S replicates of one cell.

    Arguments: states (one (count, mean, M2) per metric, each (T+1,)), means (S, T+1, d),
    covs (S, T+1, d, d), the target's mean and covariance, the reward's params and valid (S,).
    A piece always has the same shape and a replicate always the same place in it (pieces are
    aligned on multiples of S), so the summaries are the same bit for bit whatever the chunk.
    """

    def fn(states, means, covs, tm, tc, rparams, valid):
        out = []
        prev = jnp.zeros((), means.dtype)
        for name, state in zip(metrics, states, strict=True):
            # order the metrics one after the other (no two eigendecompositions run at once)
            _, means, covs = jax.lax.optimization_barrier((prev, means, covs))
            if name == "reward":
                vals = reward_expected(reward_kind, rparams, means, covs)
            else:
                vals = _METRIC_FNS[name](means, covs, jnp.broadcast_to(tm, means.shape),
                                         jnp.broadcast_to(tc, covs.shape))
            prev = jnp.sum(vals)
            out.append(_welford(state, vals.astype(jnp.float64), valid))
        return tuple(out)

    return jax.jit(fn)


def _summarize_piece(states, metrics, cell_spec, means, covs, valid):
    dt = means.dtype
    reward = cell_spec.reward
    has_reward = "reward" in metrics
    rparams = reward.params(dt) if has_reward else ()
    fn = _piece_summary(metrics, reward.kind if has_reward else None)
    device = jax.local_devices()[0]
    means, covs = jax.device_put((means, covs), device)
    return fn(states, means, covs, jnp.asarray(cell_spec.truth_mean, dt),
              jnp.asarray(cell_spec.truth_cov, dt), rparams, valid)


def _empty_states(metrics, t1):
    return tuple((jnp.zeros(()), jnp.zeros(t1), jnp.zeros(t1)) for _ in metrics)


# ------------------------------------------------------------------------------ validation
def _check_over(spec, over):
    if not isinstance(over, dict):
        raise TypeError(f"over must be a dict {{field: list of values}}, got {type(over).__name__}")
    out = {}
    for name, values in over.items():
        if name not in SWEEPABLE:
            if name in FIXED_FIELDS:
                raise ValueError(f"over: {name!r} cannot be swept (it sets the summaries' "
                                 f"shape); sweepable fields: {SWEEPABLE}")
            raise ValueError(f"over: unknown field {name!r}; sweepable fields: {SWEEPABLE}")
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise TypeError(f"over[{name!r}] must be a list of values, got {values!r}")
        values = list(values)
        if not values:
            raise ValueError(f"over[{name!r}] must not be empty")
        out[name] = values
    return out


def _check_metrics(metrics):
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(metrics)
    if not metrics:
        raise ValueError("metrics must name at least one metric")
    for name in metrics:
        if name not in METRICS:
            raise ValueError(f"metric must be one of {tuple(METRICS)}, got {name!r}")
    if len(set(metrics)) != len(metrics):
        raise ValueError(f"metrics must not repeat a name, got {metrics}")
    return metrics


def _cell_specs(spec, over):
    names = list(over)
    specs = []
    for combo in itertools.product(*(over[n] for n in names)):
        changes = dict(zip(names, combo, strict=True))
        try:
            specs.append(spec.replace(**changes))
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"over: cell {changes}: {exc}") from None
    return specs


def _over_json(over, cell_specs):
    names = list(over)
    shape = tuple(len(over[n]) for n in names)
    out = {}
    for axis, name in enumerate(names):
        vals = []
        for i in range(shape[axis]):
            idx = [0] * len(names)
            idx[axis] = i
            flat = int(np.ravel_multi_index(idx, shape))
            vals.append(cell_specs[flat].to_dict()[name])
        out[name] = vals
    return out


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


# ------------------------------------------------------------------------------ sweep
def sweep(
    spec: LoopSpec,
    over: dict,
    seed: int = 0,
    *,
    metrics=DEFAULT_METRICS,
    engine: str = "auto",
    chunk: int | None = None,
    path: str | os.PathLike | None = None,
    progress=False,
) -> SweepResult:
    """Run the grid ``spec.replace(**cell)`` for every cell of ``over`` and summarize it.

    Args:
        spec: the base loop; ``spec.replicates`` replicates per cell.
        over: ``{field: [values]}``, any LoopSpec field but dim, generations, replicates, dtype.
        seed: integer seed; cell c runs ``run(cell_spec, seed=cell_seed(seed, c))``.
        metrics: metric names (``simulations.METRICS``) summarized per generation.
        engine: ``"auto"``, ``"samples"``, ``"sufficient"`` or ``"population"`` (as
            :func:`simulations.run`), for every cell.
        chunk: most trajectories the sufficient engine computes per call (default: about
            64 MiB of them); the result does not depend on it.
        path: NPZ file to save to after each block of cells and to resume from.
        progress: ``True`` prints a line per block on stderr; a callable is called as
            ``progress(done_cells, total_cells)`` after each block.

    Returns:
        A :class:`SweepResult`.
    """
    start = time.perf_counter()
    if not isinstance(spec, LoopSpec):
        raise TypeError(f"spec must be a LoopSpec, got {type(spec).__name__}")
    seed = check_seed(seed)
    over = _check_over(spec, over)
    metrics = _check_metrics(metrics)
    if not isinstance(engine, str):
        raise ValueError(f"engine must be a string, got {engine!r}")
    cells = _cell_specs(spec, over)
    engines = []
    for c, cs in enumerate(cells):
        if cs.model == "gmm":
            raise ValueError(f"cell {c} ({_describe(over, c)}): a sweep summarizes Gaussian "
                             "fits (model 'gaussian' or 'gaussian_mean'), not model='gmm'; "
                             "run mixture loops with simulations.run")
        try:
            engines.append(resolve_engine(cs, engine))
        except ValueError as exc:
            raise ValueError(f"cell {c} ({_describe(over, c)}): {exc}") from None
        if "reward" in metrics:
            if cs.reward is None or not cs.reward.has_closed_form:
                raise ValueError(f"metric 'reward' needs a linear or quadratic reward in every "
                                 f"cell; cell {c} ({_describe(over, c)}) has {cs.reward!r}")
    t1 = spec.generations + 1
    # ``over`` as [name, values] pairs: the grid's axis order survives JSON's sorted keys
    meta = {"format": _FORMAT, "spec": spec.to_dict(),
            "over": [[k, v] for k, v in _over_json(over, cells).items()],
            "seed": seed, "metrics": list(metrics), "engine": engine}
    meta = json.loads(json.dumps(meta, sort_keys=True))
    n_cells = len(cells)
    mean = {k: np.full((n_cells, t1), np.nan) for k in metrics}
    se = {k: np.full((n_cells, t1), np.nan) for k in metrics}
    done = np.zeros(n_cells, dtype=bool)
    path = None if path is None else os.fspath(path)
    if path is not None and os.path.exists(path):
        old_meta, old_mean, old_se, _, old_done = _load(path)
        if old_meta != meta:
            raise ValueError(f"path {path!r} holds a different sweep (other spec, grid, seed, "
                             "metrics or engine); use another path or delete it")
        mean, se, done = old_mean, old_se, old_done.copy()
    engine_names = np.asarray(engines, dtype=str)

    groups = {}
    for c, cs in enumerate(cells):
        if done[c]:
            continue
        static, hyper = _group_key(engines[c], cs)
        key = (engines[c], static)
        if key not in groups:
            groups[key] = _Group(engines[c], static)
        groups[key].cells.append(c)
        groups[key].hypers.append(hyper)
    if chunk is None:
        per_traj = 8 * t1 * (spec.dim + spec.dim**2 + len(metrics) + 4)
        chunk = max(1, _CHUNK_BYTES // per_traj)
    chunk = _positive_int("chunk", chunk)

    computed = 0

    def report():
        if path is not None:
            _save(path, meta, mean, se, engine_names, done)
        if callable(progress):
            progress(int(done.sum()), n_cells)
        elif progress:
            print(f"  cells {int(done.sum())}/{n_cells}", file=sys.stderr, flush=True)

    for (eng, static), group in groups.items():
        if eng == "population":
            means, covs = population.compiled_grid_runner(static)(
                jax.tree.map(lambda *xs: jnp.stack(xs), *group.hypers))
            valid = jnp.ones(1, bool)
            for i, c in enumerate(group.cells):
                states = _summarize_piece(_empty_states(metrics, t1), metrics, cells[c],
                                          means[i][None], covs[i][None], valid)
                for name, (_, m, _) in zip(metrics, states, strict=True):
                    mean[name][c] = np.asarray(m)
                    se[name][c] = 0.0
            done[group.cells] = True
            computed += len(group.cells)
            report()
            continue
        if any(cells[c].correction_strength > 0 for c in group.cells):
            static = static._replace(corrected=True)
        _run_group(eng, static, group, cells, spec.replicates, seed, chunk, metrics, t1,
                   mean, se, done, report)
        computed += len(group.cells)
    shape = tuple(len(v) for v in over.values())
    result = SweepResult(
        spec=spec, over=dict(meta["over"]), seed=seed, engine=engine, metrics=metrics,
        mean={k: v.reshape(shape + (t1,)) for k, v in mean.items()},
        se={k: v.reshape(shape + (t1,)) for k, v in se.items()},
        engines=engine_names.reshape(shape), done=done.reshape(shape),
        seconds=time.perf_counter() - start, computed=computed, groups=len(groups),
        _meta=meta)
    return result


def _describe(over, flat):
    shape = tuple(len(v) for v in over.values())
    idx = np.unravel_index(flat, shape) if shape else ()
    return ", ".join(f"{k}={v[i]!r}" for (k, v), i in zip(over.items(), idx, strict=True))


_PIECE = 1024  # replicates per piece (the unit of the summaries), at most


def _finish(states, metrics, c, reps, mean, se):
    for name, (n, m, m2) in zip(metrics, states, strict=True):
        n, m, m2 = float(n), np.asarray(m), np.asarray(m2)
        mean[name][c] = m
        if reps > 1:
            with np.errstate(invalid="ignore"):
                se[name][c] = np.sqrt(m2 / (n - 1.0)) / np.sqrt(n)
        else:
            se[name][c] = np.nan


def _run_group(eng, static, group, cells, reps, seed, chunk, metrics, t1, mean, se, done,
               report):
    """Compute the cells of one compiled group, cell after cell (see :func:`sweep`).

    Every cell runs through ``run``'s own compiled function for the group's shape
    (:func:`simulations.run.engine_runner`, one compilation for the whole group, the same one
    ``run`` uses) in ``run``'s batches of replicates (:func:`simulations.run.batches`; with the
    sufficient engine at most ``chunk`` replicates per batch). The trajectories of a batch are
    moved to the host and summarized piece by piece: a piece is ``min(R, 1024)`` consecutive
    replicates of one cell, aligned on multiples of its size and summarized by one compiled
    function of fixed shape, so the summaries do not depend on the chunk, bit for bit.
    """
    from simulations.run import _default_batch, batches, runner_for

    runner = runner_for(eng, static)
    piece = min(reps, _PIECE)
    for c, hyper in zip(group.cells, group.hypers, strict=True):
        cs = cells[c]
        batch = _default_batch(cs, eng)
        if eng == "sufficient":  # bit for bit whatever the batch (sufficient_loop docstring)
            batch = max(1, min(batch, chunk))
        states = _empty_states(metrics, t1)
        buf_m, buf_c, held = [], [], 0
        for lo, keys, takes in batches(cell_seed(seed, c), reps, batch):
            m, cv = runner(keys, hyper)
            for i, take in enumerate(takes):
                buf_m.append(np.asarray(m[i * batch:i * batch + take]))
                buf_c.append(np.asarray(cv[i * batch:i * batch + take]))
                held += take
            last = lo + sum(takes) >= reps
            while held >= piece or (last and held > 0):
                all_m, all_c = np.concatenate(buf_m), np.concatenate(buf_c)
                take = min(piece, held)
                pm, pc = all_m[:piece], all_c[:piece]
                if take < piece:  # the last piece: pad with copies, masked out
                    pad = piece - take
                    pm = np.concatenate([pm, np.repeat(pm[-1:], pad, axis=0)])
                    pc = np.concatenate([pc, np.repeat(pc[-1:], pad, axis=0)])
                valid = jnp.arange(piece) < take
                states = _summarize_piece(states, metrics, cs, pm, pc, valid)
                buf_m, buf_c, held = [all_m[take:]], [all_c[take:]], held - take
        _finish(states, metrics, c, reps, mean, se)
        done[c] = True
        report()


from theory._x64 import scope_module as _scope_module  # noqa: E402

_scope_module(__name__)  # float64 in its own scope, whatever jax.config says (theory/_x64.py)
