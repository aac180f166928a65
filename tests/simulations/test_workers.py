"""The worker pool behind ``--jobs`` and ``--time-limit`` (:mod:`simulations._workers`).

One pool of two workers runs tasks that return, raise, return something that does not pickle,
kill their own worker, and sleep past the time limit; every outcome comes back under its
task's index, and the workers that died or were stopped are replaced.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from simulations._workers import Task, WorkerPool, check_jobs, limit_message


def test_outcomes_of_every_kind_of_task():
    tasks = [Task("math:factorial", (5,)),              # 0: a value
             Task("time:sleep", (60,)),                 # 1: past the limit
             Task("math:sqrt", (-1.0,)),                # 2: raises
             Task("threading:Lock", ()),                # 3: a value that does not pickle
             Task("os:_exit", (3,)),                    # 4: the worker dies
             Task("os:getpid", ()),                     # 5: after all that, still served
             Task("no_such_module_xyz:f", ())]          # 6: the target does not import
    dispatched = []
    start = time.monotonic()
    with WorkerPool(2, time_limit=2.0) as pool:
        outcomes = {o.index: o for o in pool.run(tasks, on_dispatch=dispatched.append)}
        workers = [w.proc for w in pool._workers]
    assert time.monotonic() - start < 50
    assert dispatched == list(range(len(tasks)))  # handed out in order
    assert sorted(outcomes) == list(range(len(tasks)))
    assert outcomes[0].value == 120 and outcomes[0].error is None
    slow = outcomes[1]
    assert slow.timed_out and slow.error == limit_message(2.0, slow.seconds)
    assert 2.0 <= slow.seconds < 8.0 and slow.error.startswith("exceeded the time limit of 2 s")
    assert outcomes[2].error == "ValueError: math domain error"
    assert "Traceback" in outcomes[2].traceback
    assert outcomes[3].error.startswith("TypeError") and "pickle" in outcomes[3].error
    assert outcomes[4].error == "the worker process died during the task (exit code 3)"
    # both first workers are gone (one died, one was stopped): 5 and 6 ran in new ones
    assert outcomes[5].value != os.getpid() and outcomes[5].error is None
    assert outcomes[6].error.startswith("ModuleNotFoundError")
    assert all(p.poll() is not None for p in workers)  # leaving the block ends the workers


def test_a_worker_exits_when_its_parent_is_killed(tmp_path):
    started = tmp_path / "started"
    code = f"import pathlib, time; pathlib.Path({str(started)!r}).touch(); time.sleep(120)"
    script = textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {os.getcwd()!r})
        from simulations._workers import Task, WorkerPool
        with WorkerPool(1) as pool:
            for _ in pool.run([Task("builtins:exec", ({code!r},))]):
                pass
    ''')
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ})
    children = []
    try:
        deadline = time.monotonic() + 60
        while not started.exists():  # the worker is inside its task
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.2)
        children = _children(proc.pid)
        assert children
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children):
            assert time.monotonic() < deadline, "the worker outlived its parent"
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in children:  # a worker left behind by a failure of this test
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        pytest.skip("no /proc/PID/task/PID/children on this system")


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("jobs, limit, words", [
    (-1, None, "--jobs must be"), (1.5, None, "--jobs must be"), (True, None, "--jobs must be"),
    (1, -2.0, "--time-limit must be"), (1, float("inf"), "--time-limit must be"),
    (1, float("nan"), "--time-limit must be"), (0, 10.0, "--time-limit needs worker"),
])
def test_check_jobs_rejects_bad_values(jobs, limit, words):
    with pytest.raises(ValueError, match=words):
        check_jobs(jobs, limit)


def test_check_jobs_accepts_good_values():
    assert check_jobs(0, None) is None and check_jobs(0, 0) is None
    assert check_jobs(3, 0.0) is None and check_jobs(1, 5) == 5.0


def test_a_worker_that_cannot_start_fails_its_task_with_the_reason():
    with WorkerPool(1, time_limit=30, preload=("no_such_module_xyz",)) as pool:
        (outcome,) = list(pool.run([Task("os:getpid", ())]))
    assert outcome.error.startswith("the worker failed to start: ModuleNotFoundError")
    assert "no_such_module_xyz" in outcome.error and not outcome.timed_out
