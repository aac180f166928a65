"""The README's "Not checked" table stays well formed and names only registered claims."""

import os
import re

from paper_checks.runner import select

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = "| paper | result | status | why not checked / where it is partly checked |"
CLAIM_ID = re.compile(r"`([a-z]+\d{4}\.[^`\s]+)`")
CELL_SPLIT = re.compile(r"(?<!\\)\|")  # a cell may hold an escaped \|


def _readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        return fh.read()


def _section():
    text = _readme()
    start = text.index("\n## Not checked\n")
    end = text.index("\n## ", start + 1)
    return text, start, text[start:end]


def _rows(section):
    """The table's body rows as lists of stripped cells; a trailing HTML comment (the
    merger's "in progress" marker) is not a cell."""
    lines = section.splitlines()
    head = lines.index(HEADER)
    assert re.fullmatch(r"\|( --- \|){4}", lines[head + 1])
    rows = []
    for line in lines[head + 2:]:
        if not line.startswith("|"):
            break
        line = re.sub(r"\s*<!--.*?-->\s*$", "", line)
        assert line.endswith("|"), line
        rows.append([c.strip() for c in CELL_SPLIT.split(line)[1:-1]])
    return rows


def test_section_sits_after_the_claims_table_and_before_figures():
    text, start, _ = _section()
    assert text.index("<!-- /claims-table -->") < start < text.index("\n## Figures\n")


def test_every_claim_id_in_the_section_is_registered():
    _, _, section = _section()
    ids = set(CLAIM_ID.findall(section))
    assert ids, "the section names no claim"
    registered = {c.id for c in select(None)}
    assert ids <= registered, sorted(ids - registered)


def test_rows_have_four_cells_a_known_status_and_a_reason():
    _, _, section = _section()
    rows = _rows(section)
    assert len(rows) >= 20
    registered = {c.id for c in select(None)}
    for cells in rows:
        assert len(cells) == 4, cells
        paper, result, status, reason = cells
        assert paper and result, cells
        assert len(reason) > 20, cells
        if status.startswith("partly checked by "):
            named = CLAIM_ID.findall(status)
            assert named and set(named) <= registered, cells
            assert re.search(r"\(.+\)$", status), f"say what is missing: {cells}"
        else:
            assert status in ("not checked", "open defect"), cells
