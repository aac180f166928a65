"""The README stays true: its example runs, its claims table is the registry, and CI runs
its test command."""

import json
import os
import re

import pytest

from paper_checks.runner import select

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        return fh.read()


def test_readme_python_example_runs(capsys):
    block = re.search(r"## Ten lines of Python\s+```python\n(.*?)```", _readme(), re.S).group(1)
    exec(compile(block.replace("replicates=10_000", "replicates=500"), "README", "exec"), {})
    assert "E W2^2 at t=50" in capsys.readouterr().out


def test_readme_curation_example_runs():
    block = re.search(r"A curated loop, with real data mixed in:\s+```python\n(.*?)```", _readme(),
                      re.S).group(1)
    scope = {}
    exec(compile(block.replace("replicates=500", "replicates=50"), "README", "exec"), scope)
    assert scope["reward"].shape == (31,) and scope["reward"][-1] > scope["reward"][0]


def test_readme_claims_table_matches_registry():
    """Every registered claim, in order, with its provenance, kind, number of declared
    controls and scope; the power shown (from the committed --quick --controls run) rejects
    every control."""
    from paper_checks.readme_table import END, START, _cell

    text = _readme()
    table = text[text.index(START):text.index(END)]
    rows = re.findall(r"^\| `([^`]+)` \| (\w+) \| (\w+) \| ([^|]+) \|[^|]*\|[^|]*\| (.*) \|$",
                      table, re.M)
    registry = select(None)
    assert [r[:3] for r in rows] == [(c.id, c.provenance, c.kind) for c in registry]
    for (cid, _, _, power, scope), c in zip(rows, registry, strict=True):
        rejected, declared = power.strip().split("/")
        assert int(declared) == len(c.controls), cid
        assert rejected in ("–", declared), f"{cid}: power {power} in the README"
        assert scope == (_cell(c.scope) or "–"), cid


def test_readme_table_renders_from_a_run():
    from paper_checks.readme_table import END, START, render, replace_block

    first = select(None)[0]
    run = {"quick": True, "claims": [{"id": first.id, "power": f"{len(first.controls)}/"
                                      f"{len(first.controls)}", "resolution": 0.0123}]}
    table = render(run, {"format": 1, "claims": {}})
    assert table.startswith(START) and table.endswith(END)
    line = next(x for x in table.splitlines() if f"`{first.id}`" in x)
    assert "| 1.23% |" in line and "quick –, full –" in line
    assert replace_block(f"a\n{START}\nold\n{END}\nb", table) == f"a\n{table}\nb"
    with pytest.raises(ValueError, match="marker"):
        replace_block("a README without the markers", table)


def test_readme_table_command_fails_in_one_line_without_markers(tmp_path, capsys):
    from paper_checks.readme_table import main as table_main

    run = tmp_path / "run.json"
    run.write_text(json.dumps({"quick": True, "claims": []}))
    readme = tmp_path / "README.md"
    readme.write_text("# no table here\n")
    assert table_main([str(run), "--write", str(readme)]) == 2
    err = capsys.readouterr().err
    assert "marker" in err and "Traceback" not in err
    assert readme.read_text() == "# no table here\n"


def test_ci_runs_the_readme_test_command():
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as fh:
        ci = fh.read()
    assert "<!-- test-command -->" in ci and "<!-- test-command -->" in _readme()
    block = _readme().split("<!-- test-command -->", 1)[1]
    command = re.search(r"```\n(.*?)\n```", block, re.S).group(1)
    assert "python -m pytest" in command


def test_readme_figures_table_matches_registry():
    import figures  # noqa: F401  (registers every figure)
    from figures._registry import FIGURE_PAPERS, FIGURES

    text = _readme()
    table = text[text.index("<!-- figures-table -->"):text.index("<!-- /figures-table -->")]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|$", table, re.M)
    assert rows == [(n, ", ".join(FIGURE_PAPERS[n])) for n in sorted(FIGURES)]
