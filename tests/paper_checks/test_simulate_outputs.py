"""``selfconsuming simulate`` never overwrites another run's results silently, and a rerun of
a finished run is not recomputed."""

import os

from paper_checks.cli import main

CONFIG = """dim = 1
n_real = 10
data = "replace"
generations = 3
replicates = 8
seed = 4
"""


def _run(tmp_path, out, *extra):
    cfg = tmp_path / "loop.toml"
    cfg.write_text(CONFIG)
    return main(["simulate", str(cfg), "--out", str(out), *extra])


def test_rerun_is_not_recomputed_and_another_run_is_refused(tmp_path, capsys):
    out = tmp_path / "res"
    assert _run(tmp_path, out, "--quiet") == 0
    npz = out / "trajectory.npz"
    stamp = os.stat(npz).st_mtime_ns
    capsys.readouterr()
    assert _run(tmp_path, out) == 0
    assert "already holds this run" in capsys.readouterr().out
    assert os.stat(npz).st_mtime_ns == stamp
    # another seed: refused with a one-line message naming the way out
    assert _run(tmp_path, out, "--seed", "5") == 2
    err = capsys.readouterr().err
    assert "already holds another run's results" in err and "--force" in err
    assert os.stat(npz).st_mtime_ns == stamp
    # --force replaces them
    assert _run(tmp_path, out, "--seed", "5", "--force", "--quiet") == 0
    assert os.stat(npz).st_mtime_ns != stamp


def test_arrays_that_do_not_match_their_metadata_are_recomputed(tmp_path, capsys):
    out = tmp_path / "res"
    assert _run(tmp_path, out, "--quiet") == 0
    npz = out / "trajectory.npz"
    good = npz.read_bytes()
    npz.write_bytes(good[: len(good) // 2])  # a torn file: its hash no longer matches
    capsys.readouterr()
    assert _run(tmp_path, out, "--quiet") == 0
    # recomputed, bit for bit: the same compiled program on the same spec and seed
    assert npz.read_bytes() == good
