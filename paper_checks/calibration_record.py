"""The committed calibration record: how often each claim failed over many seeds.

DESIGN.md §5 asks every claim to pass at ≥ 20 base seeds in quick mode and ≥ 5 in full mode,
*recorded*: a reader of the report should see, next to a verdict, whether the check was ever
run under other seeds and how it fared, without rerunning hours of Monte Carlo.
``python -m paper_checks.calibrate --record`` merges its rows into ``paper_checks/
calibration.json`` (one entry per claim and mode, replacing an older entry of the same claim
and mode); the report reads it and shows "failures/seeds" per mode.

Format (``"format": 1``)::

    {"format": 1,
     "claims": {"<claim id>": {"quick": {"seeds": 20, "base_seed": 1000, "failures": 0,
                                         "false_failure": 1e-06, "pvalue": 1.0,
                                         "commit": "<git hash>", "date": "YYYY-MM-DD"},
                               "full": {...}}}}

``commit`` is the commit the calibration ran on (``"<hash>+dirty"`` when the work tree had
uncommitted changes, None outside git): an entry older than a claim's last change says how
the claim *was* calibrated, not how it is.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess

FORMAT = 1
MODES = ("quick", "full")
RECORD_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calibration.json")
ENTRY_KEYS = {"seeds", "base_seed", "failures", "false_failure", "pvalue", "commit", "date"}


def empty() -> dict:
    return {"format": FORMAT, "claims": {}}


def load(path: str = RECORD_PATH) -> dict:
    """The record at ``path``; an empty record when the file does not exist. A file that
    does not parse raises ValueError (a corrupt record must not be silently replaced)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return empty()
    problems = format_problems(data)
    if problems:
        raise ValueError(f"calibration record {path}: {problems[0]}")
    return data


def format_problems(record) -> list[str]:
    """What is wrong with the record's structure (empty when it is well formed)."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return [f"not a calibration record of format {FORMAT}"]
    claims = record.get("claims")
    if not isinstance(claims, dict):
        return ["'claims' must be an object"]
    problems = []
    for cid, modes in claims.items():
        if not isinstance(modes, dict) or not modes or not set(modes) <= set(MODES):
            problems.append(f"{cid}: modes must be a non-empty subset of {MODES}")
            continue
        for mode, entry in modes.items():
            if not isinstance(entry, dict) or set(entry) != ENTRY_KEYS:
                problems.append(f"{cid}/{mode}: keys must be {sorted(ENTRY_KEYS)}")
                continue
            seeds, failures = entry["seeds"], entry["failures"]
            if not (isinstance(seeds, int) and isinstance(failures, int)
                    and seeds >= 1 and 0 <= failures <= seeds):
                problems.append(f"{cid}/{mode}: needs integers 0 <= failures <= seeds, seeds >= 1")
    return problems


def git_commit(cwd: str | None = None) -> str | None:
    """The checked-out commit, with ``+dirty`` when tracked files other than the record itself
    have uncommitted changes (a record merged by an earlier calibration run is not a change of
    the code being calibrated); None when git or the repository is unavailable."""
    cwd = cwd or os.path.dirname(os.path.abspath(__file__))
    record = os.path.basename(RECORD_PATH)
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=30, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", f":(exclude){record}"],
                               cwd=cwd, capture_output=True, text=True, timeout=30,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def merge(record: dict, rows, *, mode: str, base_seed: int, commit: str | None,
          date: str | None = None) -> dict:
    """A new record: ``record`` with the calibration ``rows`` (:class:`~paper_checks.
    calibrate.CalibrationRow`) of ``mode`` replacing the entries of the same claims and mode.
    Pure: ``record`` is not modified."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    date = date or datetime.date.today().isoformat()
    claims = {cid: dict(modes) for cid, modes in record.get("claims", {}).items()}
    for row in rows:
        claims.setdefault(row.claim_id, {})[mode] = {
            "seeds": int(row.seeds), "base_seed": int(base_seed), "failures": int(row.failures),
            "false_failure": float(row.false_failure), "pvalue": float(row.pvalue),
            "commit": commit, "date": date,
        }
    return {"format": FORMAT, "claims": dict(sorted(claims.items()))}


def combine(record: dict, other: dict) -> dict:
    """A new record: ``record`` with every entry of ``other`` (another record, e.g. from a
    calibration run in another process or on another machine) replacing the entry of the same
    claim and mode. Pure; both must be well formed (:func:`format_problems`)."""
    for name, data in (("record", record), ("other", other)):
        problems = format_problems(data)
        if problems:
            raise ValueError(f"{name}: {problems[0]}")
    claims = {cid: dict(modes) for cid, modes in record["claims"].items()}
    for cid, modes in other["claims"].items():
        claims.setdefault(cid, {}).update(modes)
    return {"format": FORMAT, "claims": dict(sorted(claims.items()))}


def write(record: dict, path: str = RECORD_PATH) -> None:
    """Write ``record`` atomically (sorted, indented: it is committed and reviewed)."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(record, fh, indent=1, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def cell(record: dict | None, claim_id: str, mode: str) -> str:
    """"failures/seeds" of a claim in ``mode``, or "–" when the record has no entry."""
    entry = (record or {}).get("claims", {}).get(claim_id, {}).get(mode)
    return "–" if entry is None else f"{entry['failures']}/{entry['seeds']}"


def cells(record: dict | None, claim_id: str) -> str:
    """Both modes in one cell: "quick 0/20, full 0/5" (a mode without entry shows "–")."""
    return ", ".join(f"{m} {cell(record, claim_id, m)}" for m in MODES)
