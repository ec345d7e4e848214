"""The spec's optional ``sam:`` section: serviceable-market filters read, validated, written back, not hashed."""

from __future__ import annotations

import pytest

from icpkit.errors import SpecError
from icpkit.spec import Op, content_hash, dump_spec, load_spec

SPEC = """\
name: acme
layers:
  firmographic:
    - {field: industry, in: [computer software], points: 50}
sam:
  - {field: country, in: [united states, canada]}
  - {field: employees, between: [50, null]}
"""


def test_sam_round_trip():
    spec = load_spec(SPEC)
    assert [(c.field, c.op, c.value) for c in spec.sam] == [
        ("country", Op.IN, ["united states", "canada"]),
        ("employees", Op.BETWEEN, [50, None]),
    ]
    text = dump_spec(spec)
    assert "sam:\n  - {field: country, in: [united states, canada]}\n" in text
    assert load_spec(text) == spec


def test_no_sam_section_stays_absent():
    spec = load_spec(SPEC.split("sam:")[0])
    assert spec.sam is None and "sam" not in dump_spec(spec)


def test_sam_does_not_change_the_score_hash():
    assert content_hash(load_spec(SPEC)) == content_hash(load_spec(SPEC.split("sam:")[0]))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("in: [united states, canada]", "inn: [x]"), "spec:6 sam[0].inn: unknown key 'inn' (did you mean 'in'?)"),
        (("between: [50, null]", "between: [500, 50]"), "spec:7 sam[1].between: lower bound 500 > upper 50"),
        (("{field: employees, between: [50, null]}", "{field: employees, between: [50, 60], points: 5}"), "points"),
    ],
)
def test_bad_sam_clause_named_by_line(edit, expected):
    with pytest.raises(SpecError) as exc:
        load_spec(SPEC.replace(*edit))
    assert expected in str(exc.value)
