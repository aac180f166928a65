"""The README's claims table, rendered from a ``--controls`` run and the calibration record.

A reader of the README should see, beside each claim's id, whether its verdict could have come
out differently: how many of its negative controls the checks reject (power), the smallest
relative deviation its comparisons resolve (resolution), how it fared over other seeds
(calibration), and how what is checked differs from the paper's statement (scope).

    python -m paper_checks --quick --controls --json claims.json
    python -m paper_checks.readme_table claims.json [--write README.md]

prints the table (or replaces the block between ``<!-- claims-table -->`` and
``<!-- /claims-table -->`` in README.md). ``tests/test_readme.py`` checks that the committed
table names every registered claim with its provenance, kind, number of controls and scope.
"""

from __future__ import annotations

import argparse
import json
import sys

from paper_checks import calibration_record
from paper_checks.runner import select

START, END = "<!-- claims-table -->", "<!-- /claims-table -->"
HEADER = ("| id | provenance | kind | power (quick) | resolution (quick) | calibration "
          "| scope |\n| --- | --- | --- | --- | --- | --- | --- |")


def _cell(text: str) -> str:
    """A table cell: one line, no pipe."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _percent(x) -> str:
    if x is None or isinstance(x, str):
        return "–" if x is None else x
    return f"{100 * float(x):.3g}%"


def render(run: dict, record: dict | None = None) -> str:
    """The table (header and one row per registered claim, in registry order) from the JSON
    of a ``--controls`` run (``run["claims"]``) and the calibration ``record``.

    A claim absent from ``run`` shows "–" for power and resolution."""
    by_id = {c["id"]: c for c in run.get("claims", [])}
    lines = [START, HEADER]
    for claim in select(None):
        data = by_id.get(claim.id, {})
        power = data.get("power") or f"–/{len(claim.controls)}"
        lines.append(
            f"| `{claim.id}` | {claim.provenance} | {claim.kind} | {power} "
            f"| {_percent(data.get('resolution'))} "
            f"| {calibration_record.cells(record, claim.id)} | {_cell(claim.scope) or '–'} |")
    lines.append(END)
    return "\n".join(lines)


def replace_block(text: str, table: str) -> str:
    """``text`` with the block from START to END replaced by ``table``; ``ValueError`` naming
    the missing marker when the text has no such block."""
    for marker in (START, END):
        if marker not in text:
            raise ValueError(f"no {marker} marker: the claims table's place is unknown")
    i, j = text.index(START), text.index(END) + len(END)
    return text[:i] + table + text[j:]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paper_checks.readme_table",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="JSON of `python -m paper_checks --quick --controls --json`")
    parser.add_argument("--write", metavar="README", help="replace the table in this file")
    args = parser.parse_args(argv)
    try:
        with open(args.run, encoding="utf-8") as fh:
            run = json.load(fh)
    except (OSError, ValueError) as err:
        print(f"error: cannot read {args.run}: {err}", file=sys.stderr)
        return 2
    if not run.get("quick"):
        print("error: the table shows quick-mode power and resolution; pass the JSON of a "
              "--quick --controls run", file=sys.stderr)
        return 2
    table = render(run, calibration_record.load())
    if args.write:
        try:
            with open(args.write, encoding="utf-8") as fh:
                new = replace_block(fh.read(), table)
        except (OSError, ValueError) as err:
            print(f"error: cannot update {args.write}: {err}", file=sys.stderr)
            return 2
        with open(args.write, "w", encoding="utf-8") as fh:
            fh.write(new)
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
