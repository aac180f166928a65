"""The committed calibration record (paper_checks/calibration.json): its format, that it names
registered claims only, merging new rows, the report's column, and that every claim has
passed at >= 20 quick seeds and >= 5 full-mode seeds."""

import json

import pytest

from paper_checks import calibration_record as record
from paper_checks.calibrate import CalibrationRow, main
from paper_checks.claim import Context, Measurement
from paper_checks.report_html import render_html
from paper_checks.runner import judge, markdown_report, select


def _row(cid, seeds, failures):
    return CalibrationRow(cid, seeds, failures, 1e-6, 1.0 if failures == 0 else 1e-5, 1.0, ())


def test_committed_record_is_well_formed_and_names_registered_claims():
    data = record.load()
    assert record.format_problems(data) == []
    ids = {c.id for c in select(None)}
    unknown = sorted(set(data["claims"]) - ids)
    assert unknown == [], f"the record names claims that are not registered: {unknown}"


def test_committed_record_covers_every_claim_in_quick_mode_with_no_failure():
    """DESIGN.md §5: every claim has passed at >= 20 quick seeds (recorded)."""
    data = record.load()
    short = [c.id for c in select(None)
             if data["claims"].get(c.id, {}).get("quick", {}).get("seeds", 0) < 20]
    assert short == []
    failed = {cid: m["quick"]["failures"] for cid, m in data["claims"].items()
              if m.get("quick", {}).get("failures")}
    assert failed == {}


def test_committed_record_covers_every_claim_in_full_mode_with_no_failure():
    """DESIGN.md §5: every claim has passed at >= 5 full-mode seeds (recorded)."""
    data = record.load()
    short = [c.id for c in select(None)
             if data["claims"].get(c.id, {}).get("full", {}).get("seeds", 0) < 5]
    assert short == []
    failed = {cid: m["full"]["failures"] for cid, m in data["claims"].items()
              if m.get("full", {}).get("failures")}
    assert failed == {}


def test_merge_replaces_the_same_claim_and_mode_only():
    old = record.merge(record.empty(), [_row("a.x", 20, 0), _row("b.y", 20, 1)], mode="quick",
                       base_seed=1000, commit="abc", date="2026-01-01")
    new = record.merge(old, [_row("a.x", 40, 0)], mode="quick", base_seed=7, commit="def",
                       date="2026-02-01")
    new = record.merge(new, [_row("a.x", 5, 0)], mode="full", base_seed=1000, commit="def",
                       date="2026-02-01")
    assert old["claims"]["a.x"]["quick"]["seeds"] == 20  # merge is pure
    assert new["claims"]["a.x"]["quick"] == {
        "seeds": 40, "base_seed": 7, "failures": 0, "false_failure": 1e-6, "pvalue": 1.0,
        "commit": "def", "date": "2026-02-01"}
    assert new["claims"]["b.y"]["quick"]["failures"] == 1
    assert record.format_problems(new) == []
    assert record.cell(new, "a.x", "full") == "0/5" and record.cell(new, "b.y", "full") == "–"
    assert record.cells(new, "b.y") == "quick 1/20, full –"
    with pytest.raises(ValueError, match="mode"):
        record.merge(old, [], mode="slow", base_seed=0, commit=None)


def test_format_problems_are_reported():
    assert record.format_problems({"claims": {}}) != []
    bad = {"format": 1, "claims": {"a.x": {"quick": {"seeds": 2, "failures": 3}}}}
    assert "keys" in record.format_problems(bad)[0]


def test_calibrate_record_option_writes_and_merges(tmp_path, monkeypatch):
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(record.merge(record.empty(), [_row("other.claim", 3, 0)],
                                            mode="full", base_seed=1, commit=None)))
    monkeypatch.setattr(record, "git_commit", lambda cwd=None: "0123abc")
    assert main(["--seeds", "2", "--only", "suresh2024.thm3.bound", "--record", str(path)]) == 0
    data = json.loads(path.read_text())
    assert set(data["claims"]) == {"other.claim", "suresh2024.thm3.bound"}
    entry = data["claims"]["suresh2024.thm3.bound"]["full"]
    assert (entry["seeds"], entry["failures"], entry["commit"]) == (2, 0, "0123abc")
    path.write_text("{not json")
    assert main(["--seeds", "1", "--only", "suresh2024.thm3.bound", "--record", str(path)]) == 2


def test_reports_show_the_calibration():
    ms = [Measurement("x", 1.0, 1.0, 0.01)]
    [c] = select(["suresh2024.thm3.bound"])
    result = judge(c, ms, 0.0)
    cal = record.merge(record.empty(), [_row(c.id, 20, 0)], mode="quick", base_seed=1000,
                       commit=None)
    assert "| quick 0/20, full – |" in markdown_report([result], Context(), calibration=cal)
    html = render_html([result], Context(), calibration=cal)
    assert "<th>calibration quick</th>" in html and "<td class=num>0/20</td>" in html


def test_combine_and_merge_option(tmp_path, capsys):
    a = record.merge(record.empty(), [_row("a.x", 20, 0)], mode="quick", base_seed=1000,
                     commit="abc", date="2026-01-01")
    b = record.merge(record.empty(), [_row("a.x", 5, 0), _row("b.y", 20, 0)], mode="full",
                     base_seed=1000, commit="def", date="2026-01-02")
    both = record.combine(a, b)
    assert set(both["claims"]["a.x"]) == {"quick", "full"} and "b.y" in both["claims"]
    assert a["claims"]["a.x"].keys() == {"quick"}  # pure
    with pytest.raises(ValueError, match="other"):
        record.combine(a, {"format": 99})
    pa, pb, target = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "t.json"
    record.write(a, str(pa))
    record.write(b, str(pb))
    assert main(["--merge", str(pa), str(pb), "--record", str(target)]) == 0
    assert record.load(str(target)) == both
    assert main(["--merge", str(tmp_path / "missing.json"), "--record", str(target)]) == 2
    assert "no such record" in capsys.readouterr().err
