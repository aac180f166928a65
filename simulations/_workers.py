"""Worker processes that run independent tasks with a time limit each.

``python -m paper_checks`` and ``python -m figures`` run many independent jobs (claims,
figures). A JAX/XLA call can block forever inside C++ code, where no Python thread can
interrupt it, so each job runs in a worker *process* that the parent can kill:

* a :class:`WorkerPool` keeps up to ``jobs`` long-lived workers; each worker runs many tasks
  in turn, so the programs JAX compiled for one task are reused by the next;
* a task is a call ``function(*args)`` of a module-level function named
  ``"package.module:function"``; its arguments and its return value must pickle;
* a task that runs longer than ``time_limit`` seconds has its worker killed; the task's
  :class:`Outcome` carries the error ``"exceeded the time limit of N s after M s"``, a fresh
  worker is started for the next task and the pool goes on; a worker that dies (a crash, the
  kernel's out-of-memory killer) is reported and replaced the same way;
* an exception raised by the function is returned as the outcome's error and traceback; the
  worker lives on.

Workers are plain ``python -c`` subprocesses rather than ``multiprocessing`` children: they
never re-import the parent's ``__main__`` (a script without an ``if __name__ == "__main__"``
guard stays safe), and a hung one is killed without disturbing the others. Start-up
configuration lives in :func:`_worker_init`, the one place where a worker differs from a fresh
interpreter. A worker inherits the parent's environment and working folder and receives its
``sys.path``, writes anything it prints to stderr
(stdout carries the results back), ignores SIGINT (the parent handles Ctrl-C and kills its
workers) and exits by itself when its parent dies. POSIX only (``select`` on pipes).
"""

from __future__ import annotations

import importlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HEADER = struct.Struct(">Q")  # the length of each pickled frame on the pipes
_START_SECONDS = 300.0  # a worker's start-up (imports) may take this long, whatever the limit

# The worker's command: keep a copy of stdout for the results, send prints to stderr, then
# serve tasks read from stdin.
_BOOT = (
    "import os, sys; _out = os.dup(1); os.dup2(2, 1); sys.path.insert(0, {root!r}); "
    "from simulations._workers import _serve; _serve(0, _out)"
)


def _worker_init() -> None:
    """Configure a freshly started worker before it runs any task.

    JAX computes in float64 in this toolkit: the command lines enable it by importing
    :mod:`simulations` and :mod:`figures` (``jax_enable_x64``), and a worker does the same
    here, so a task computes exactly what it would compute in the parent. The persistent
    compilation cache is the parent's (:func:`simulations.compilation_cache.configure` exported
    its choice to the environment the worker inherits).
    """
    import jax

    from simulations import compilation_cache

    jax.config.update("jax_enable_x64", True)
    compilation_cache.configure()


@dataclass(frozen=True)
class Task:
    """A call ``target(*args)``; ``target`` is ``"package.module:function"``."""

    target: str
    args: tuple = ()


@dataclass(frozen=True)
class Outcome:
    """What became of task ``index``.

    ``value`` is the function's return value when ``error`` is None. ``error`` is
    ``"TypeName: message"`` for an exception (with its ``traceback``), or the pool's message
    for a task that exceeded the time limit (``timed_out``) or whose worker died.
    ``seconds`` is the task's wall time: in the worker, or until it was killed.
    """

    index: int
    value: object = None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0
    timed_out: bool = False


JOBS_ENV = "SELFCONSUMING_JOBS"


def default_jobs() -> int:
    """The default number of workers: ``$SELFCONSUMING_JOBS`` when set (an integer ≥ 0; 0 runs
    in-process), else the number of CPU cores (1 when unknown)."""
    value = os.environ.get(JOBS_ENV, "").strip()
    if not value:
        return os.cpu_count() or 1
    try:
        jobs = int(value)
    except ValueError:
        jobs = -1
    if jobs < 0:
        raise ValueError(f"{JOBS_ENV} must be an integer >= 0, got {value!r}")
    return jobs


def check_jobs(jobs: int, time_limit: float | None) -> float | None:
    """Validate ``--jobs`` and ``--time-limit``; returns the limit, None when disabled.

    ``jobs`` ≥ 1 runs that many worker processes; 0 runs in-process, where nothing can stop a
    task, so a positive ``time_limit`` is refused there. A ``time_limit`` of 0 or None
    disables the limit.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0:
        raise ValueError(f"--jobs must be an integer >= 0, got {jobs!r}")
    if time_limit is None or time_limit == 0:
        return None
    if not (isinstance(time_limit, int | float) and 0 < time_limit < float("inf")):
        raise ValueError(f"--time-limit must be a number of seconds >= 0, got {time_limit!r}")
    if jobs == 0:
        raise ValueError("--time-limit needs worker processes (--jobs >= 1); --jobs 0 runs "
                         "in-process without a time limit (pass --time-limit 0)")
    return float(time_limit)


def add_jobs_arguments(parser, *, what: str, limit: float) -> None:
    """Add ``--jobs N`` and ``--time-limit SECONDS`` to an argparse ``parser`` (the commands
    ``python -m paper_checks`` and ``python -m figures``; ``what`` names their task)."""
    parser.add_argument(
        "--jobs", "-j", type=int, default=None, metavar="N",
        help=f"worker processes that run the {what}s, several at a time (default: "
        f"${JOBS_ENV} when set, else the number of CPU cores, here {os.cpu_count() or 1}); 0 "
        "runs them one after another in this process, without a time limit (for debugging)")
    parser.add_argument(
        "--time-limit", type=float, default=None, metavar="SECONDS",
        help=f"stop a {what} that runs longer (default {limit:g}; 0: no limit); it is reported "
        "as an error, the run goes on and exits 1")


def jobs_from_arguments(args, limit: float) -> tuple[int, float | None]:
    """The validated ``(jobs, time_limit)`` of parsed :func:`add_jobs_arguments`: ``--jobs``
    defaults to :func:`default_jobs`, ``--time-limit`` to ``limit`` with workers and to no
    limit with ``--jobs 0`` (which cannot stop a task: an explicit limit there is an error)."""
    jobs = default_jobs() if args.jobs is None else args.jobs
    if args.time_limit is None:
        return jobs, check_jobs(jobs, limit if jobs else None)
    return jobs, check_jobs(jobs, args.time_limit)


def limit_message(time_limit: float, seconds: float) -> str:
    """The error of a task stopped at the time limit."""
    return f"exceeded the time limit of {time_limit:g} s after {seconds:.1f} s"


# --------------------------------------------------------------------------------------------
# framing: 8-byte length + pickle, on raw file descriptors
# --------------------------------------------------------------------------------------------


def _send(fd: int, obj) -> None:
    _send_bytes(fd, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _send_bytes(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(fd: int):
    """The next frame's object; raises EOFError when the other end has closed."""
    head = _read_exactly(fd, _HEADER.size)
    body = None if head is None else _read_exactly(fd, _HEADER.unpack(head)[0])
    if body is None:
        raise EOFError
    return pickle.loads(body)


# --------------------------------------------------------------------------------------------
# the worker side
# --------------------------------------------------------------------------------------------


def _call(target: str, args: tuple):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args)


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    """Exit this process as soon as its parent is gone (a killed parent leaves no worker)."""
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os._exit(1)


def _serve(fd_in: int, fd_out: int) -> None:
    """The worker's loop: the parent's ``sys.path`` and the modules to preload, then tasks
    until ``None`` or EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        paths, preload = _recv(fd_in)
        sys.path[:] = list(paths) + [p for p in sys.path if p not in paths]  # parent's order
        _worker_init()
        for module in preload:
            importlib.import_module(module)
    except EOFError:
        return
    except BaseException as exc:
        _send(fd_out, ("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        return
    _send(fd_out, ("ready",))
    while True:
        try:
            task = _recv(fd_in)
        except EOFError:
            return
        if task is None:
            return
        start = time.perf_counter()
        try:
            value = _call(task.target, task.args)
            # pickled here: a value that does not pickle is the task's error, not the worker's
            data = pickle.dumps(("ok", value, time.perf_counter() - start),
                                protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            data = pickle.dumps(("error", f"{type(exc).__name__}: {exc}",
                                 traceback.format_exc(), time.perf_counter() - start))
        _send_bytes(fd_out, data)


# --------------------------------------------------------------------------------------------
# the parent side
# --------------------------------------------------------------------------------------------


class _Worker:
    """One worker process and the task it holds (``index`` None when idle)."""

    def __init__(self, preload: tuple[str, ...]):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT.format(root=_ROOT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, close_fds=True)
        self.fd_in = self.proc.stdout.fileno()
        self.ready = False
        self.index: int | None = None
        self.task: Task | None = None
        self.since = time.perf_counter()  # start-up began, or the current task was sent
        self._post((list(sys.path), preload))

    def deadline(self, time_limit: float | None) -> float:
        """When the worker's task (or its start-up) is overdue; inf without a limit."""
        if time_limit is None:
            return float("inf")
        return self.since + (time_limit if self.ready else max(time_limit, _START_SECONDS))

    def give(self, index: int, task: Task) -> None:
        self.index, self.task = index, task
        if self.ready:
            self._send_task()

    def _send_task(self) -> None:
        self.since = time.perf_counter()
        self._post(self.task)

    def _post(self, obj) -> None:
        """Send ``obj``; a worker that has just died is reported by the read that follows
        (end of file on its stdout), not here."""
        try:
            _send(self.proc.stdin.fileno(), obj)
        except BrokenPipeError:
            pass

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def finish(self, until: float) -> None:
        """Wait for a worker asked to exit (sent ``None``) until ``until`` (a
        ``time.perf_counter`` time), then kill it if it is still there."""
        try:
            self.proc.wait(timeout=max(0.0, until - time.perf_counter()))
        except subprocess.TimeoutExpired:
            pass
        self.kill()


class WorkerPool:
    """Up to ``jobs`` worker processes running tasks with a ``time_limit`` (seconds) each.

    Use it as a context manager: leaving the block (normally, on an error or on Ctrl-C) ends
    every worker. ``time_limit`` None disables the limit. Each worker imports the modules
    ``preload`` while it starts, so that their import (JAX, the registries) is not counted in
    the time limit of its first task.

    >>> with WorkerPool(2, time_limit=60) as pool:                       # doctest: +SKIP
    ...     for outcome in pool.run([Task("math:factorial", (5,))]):
    ...         print(outcome.index, outcome.value)
    0 120
    """

    def __init__(self, jobs: int, time_limit: float | None = None,
                 preload: Sequence[str] = ()):
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit must be > 0 seconds or None, got {time_limit!r}")
        self.jobs = jobs
        self.time_limit = time_limit
        self.preload = tuple(preload)
        self._workers: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        workers, self._workers = self._workers, []
        idle = [w for w in workers if exc[0] is None and w.index is None]
        for w in workers:
            if w in idle:
                w._post(None)  # exit: all at once, then wait for them together
            else:
                w.kill()
        until = time.perf_counter() + 5.0
        for w in idle:
            w.finish(until)

    def run(self, tasks: Sequence[Task],
            on_dispatch: Callable[[int], None] | None = None) -> Iterator[Outcome]:
        """Run ``tasks``, at most ``jobs`` at a time, dispatched in order; yield each
        :class:`Outcome` as it finishes (in completion order; ``Outcome.index`` is the task's
        position). ``on_dispatch(index)`` is called when a task is handed to a worker."""
        pending = list(range(len(tasks)))[::-1]  # pop() gives the next task in order
        left = len(tasks)
        while left:
            for w in self._workers:
                if w.index is None and pending:
                    self._dispatch(w, pending.pop(), tasks, on_dispatch)
            while pending and len(self._workers) < min(self.jobs, len(tasks)):
                w = _Worker(self.preload)
                self._workers.append(w)
                self._dispatch(w, pending.pop(), tasks, on_dispatch)
            for outcome in self._wait():
                left -= 1
                yield outcome

    @staticmethod
    def _dispatch(w: _Worker, index: int, tasks, on_dispatch) -> None:
        if on_dispatch is not None:
            on_dispatch(index)
        w.give(index, tasks[index])

    def _wait(self) -> list[Outcome]:
        """Block until a busy worker answers or a deadline passes; the finished outcomes."""
        busy = [w for w in self._workers if w.index is not None]
        first = min(w.deadline(self.time_limit) for w in busy)
        timeout = None if first == float("inf") else max(0.0, first - time.perf_counter())
        readable, _, _ = select.select([w.fd_in for w in busy], [], [], timeout)
        done = []
        for w in busy:
            if w.fd_in in readable:
                outcome = self._answer(w)
            elif time.perf_counter() >= w.deadline(self.time_limit):
                outcome = self._expire(w)
            else:
                continue
            if outcome is not None:
                done.append(outcome)
        return done

    def _answer(self, w: _Worker) -> Outcome | None:
        """Read a worker's frame: start-up done (None, the task is sent), or an outcome."""
        index, seconds = w.index, time.perf_counter() - w.since
        try:
            reply = _recv(w.fd_in)
        except EOFError:
            w.kill()
            self._workers.remove(w)
            what = "task" if w.ready else "start-up"
            return Outcome(index, error=f"the worker process died during the {what} (exit "
                           f"code {w.proc.returncode})", seconds=seconds)
        if reply[0] == "ready":
            w.ready = True
            w._send_task()
            return None
        if reply[0] == "failed":
            w.kill()
            self._workers.remove(w)
            return Outcome(index, error=f"the worker failed to start: {reply[1]}",
                           traceback=reply[2], seconds=seconds)
        w.index = w.task = None
        if reply[0] == "ok":
            return Outcome(index, value=reply[1], seconds=reply[2])
        return Outcome(index, error=reply[1], traceback=reply[2], seconds=reply[3])

    def _expire(self, w: _Worker) -> Outcome:
        seconds = time.perf_counter() - w.since
        w.kill()
        self._workers.remove(w)
        limit = self.time_limit if w.ready else max(self.time_limit, _START_SECONDS)
        what = "" if w.ready else " (the worker was still starting)"
        return Outcome(w.index, error=limit_message(limit, seconds) + what,
                       seconds=seconds, timed_out=True)
