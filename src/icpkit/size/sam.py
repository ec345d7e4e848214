"""The serviceable market (SAM): clauses with the criteria's operators, all of which a company must meet.

SAM clauses come from the spec's ``sam:`` section, a YAML file (``--sam-file``: a list of clauses, or a spec whose
``sam:`` is read) and the command line (``--sam "country in United States,Canada"``); they are ANDed. They are
evaluated by the scoring engine itself, so ``in``, ``between``, missing values … mean exactly what they mean in
the spec: a company whose value is missing is *unknown*, and an unknown company is outside the SAM (it cannot be
shown to be serviceable) — counted apart so a user sees how much data is missing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from icpkit.errors import InputError, SpecError
from icpkit.score.vector import score_table
from icpkit.spec.model import LIST_OPS, Clause, Criterion, ICPSpec, Op, Tiers

__all__ = ["SamOutcome", "evaluate_sam", "load_sam_file", "parse_sam"]

_OP_WORDS: dict[str, Op] = {
    "in": Op.IN,
    "not in": Op.NOT_IN,
    "not_in": Op.NOT_IN,
    "=": Op.EQUALS,
    "==": Op.EQUALS,
    "equals": Op.EQUALS,
    "between": Op.BETWEEN,
    ">=": Op.GTE,
    "gte": Op.GTE,
    "<=": Op.LTE,
    "lte": Op.LTE,
    "contains_any": Op.CONTAINS_ANY,
    "contains_all": Op.CONTAINS_ALL,
    "contains_none": Op.CONTAINS_NONE,
    "is_true": Op.IS_TRUE,
    "is true": Op.IS_TRUE,
    "is_false": Op.IS_FALSE,
    "is false": Op.IS_FALSE,
    "exists": Op.EXISTS,
    "within_days": Op.WITHIN_DAYS,
}
_WORD_OPS = sorted((w for w in _OP_WORDS if w[0].isalpha()), key=len, reverse=True)
_SYMBOL_OPS = sorted((w for w in _OP_WORDS if not w[0].isalpha()), key=len, reverse=True)
_CLAUSE_RE = re.compile(
    r"^\s*(?P<field>[A-Za-z_][\w.]*)\s*(?:"
    + "|".join(re.escape(w) for w in _SYMBOL_OPS)
    + r"|\s(?:"
    + "|".join(w.replace(" ", r"\s+") for w in _WORD_OPS)
    + r")(?=\s|$))"
)
_NUMBER_RE = re.compile(r"^\s*([+-]?[0-9][0-9,_]*(?:\.[0-9]+)?)\s*([kmb]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def _number(text: str, where: str) -> float | int:
    m = _NUMBER_RE.match(text)
    if not m:
        raise InputError(f"{where}: '{text.strip()}' is not a number (e.g. 500, 10k, 2.5M)")
    x = float(m.group(1).replace(",", "").replace("_", "")) * _SCALE[m.group(2).lower()]
    return int(x) if x.is_integer() else x


def parse_sam(text: str) -> Clause:
    """``"country in United States,Canada"``, ``"employees between 50..500"``, ``"annual_revenue >= 10M"``.

    Values are split on ``|`` when one is present (for names holding commas), else on ``,``. A ``between`` range
    is ``lo..hi``, ``lo,hi`` or ``lo-hi``; an empty end is open (``50..``).
    """
    where = f"--sam '{text}'"
    m = _CLAUSE_RE.match(text)
    if not m:
        ops = ", ".join(sorted({o.value for o in _OP_WORDS.values()}))
        raise InputError(f"{where}: expected '<field> <operator> <values>' with an operator among {ops}")
    field = m.group("field")
    op_word = re.sub(r"\s+", " ", text[m.start(0) + len(field) : m.end(0)].strip().lower())
    op = _OP_WORDS[op_word]
    rest = text[m.end(0) :].strip()
    value: Any
    if op in (Op.IS_TRUE, Op.IS_FALSE, Op.EXISTS):
        if rest:
            raise InputError(f"{where}: '{op.value}' takes no value")
        value = True
    elif op == Op.BETWEEN:
        parts = re.split(r"\.\.|,|(?<=[0-9kKmMbB])\s*-\s*(?=[0-9]|$)", rest, maxsplit=1)
        if len(parts) != 2:
            raise InputError(f"{where}: a range is 'low..high' (leave one end empty for an open range)")
        value = [_number(p, where) if p.strip() else None for p in parts]
    elif op in (Op.GTE, Op.LTE):
        value = _number(rest, where)
    elif op == Op.WITHIN_DAYS:
        value = int(_number(rest, where))
    else:
        items = [v.strip() for v in rest.split("|" if "|" in rest else ",")]
        items = [v for v in items if v]
        if not items:
            raise InputError(f"{where}: no values after '{op_word}'")
        value = items if op in LIST_OPS else items[0]
    try:
        return Clause(field=field, op=op, value=value)
    except ValidationError as exc:
        raise InputError(f"{where}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None


def load_sam_file(path: str | Path) -> list[Clause]:
    """A YAML list of clauses (``- {field: country, in: [Canada]}``), or a spec whose ``sam:`` section is used."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", path=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=p) from None
    try:
        doc = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise SpecError(f"invalid YAML: {str(exc).splitlines()[0]}", path=str(p)) from None
    if isinstance(doc, dict) and "sam" in doc:
        if "name" in doc:  # a whole spec: read it properly, with line numbers on any error
            from icpkit.spec.io import load_spec

            return list(load_spec(p).sam or [])
        doc = doc["sam"]
    if not isinstance(doc, list):
        raise SpecError("a SAM file is a list of clauses like - {field: country, in: [Canada]}", path=str(p))
    ops = {o.value for o in Op}
    out = []
    for i, item in enumerate(doc):
        found = [k for k in item if k in ops] if isinstance(item, dict) else []
        if len(found) != 1 or set(item) - {"field", found[0]}:
            raise SpecError("a clause is {field: <name>, <operator>: <value>}", path=str(p), field=f"sam[{i}]")
        try:
            out.append(Clause(field=item.get("field", ""), op=Op(found[0]), value=item[found[0]]))
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise SpecError(msg, path=str(p), field=f"sam[{i}].{found[0]}") from None
    return out


class SamOutcome:
    """Which companies are in the SAM, and for each clause how many it kept, dropped and could not check."""

    def __init__(self, inside: np.ndarray, per_clause: list[dict[str, int]], unknown_only: int) -> None:
        self.inside = inside
        self.per_clause = per_clause
        self.unknown_only = unknown_only  # outside only because some value is missing


def evaluate_sam(clauses: Sequence[Clause], table: pa.Table, *, as_of: dt.date | None = None) -> SamOutcome:
    """Evaluate ``clauses`` on every row with the scoring engine (one criterion per clause, so one semantics)."""
    n = table.num_rows
    if not clauses:
        return SamOutcome(np.ones(n, dtype=bool), [], 0)
    missing = [c.field for c in clauses if c.field not in table.column_names]
    if missing:
        shown = ", ".join(table.column_names[:30])
        raise InputError(
            f"the SAM filters on {', '.join(sorted(set(missing)))}, which the universe does not have "
            f"(its columns: {shown})",
            column=missing[0],
        )
    probe = ICPSpec(
        name="sam",
        layers={"firmographic": [Criterion(field=c.field, op=c.op, value=c.value, points=1) for c in clauses]},
        tiers=Tiers(tier1=100, tier2=100, tier3=100),
    )
    scored = score_table(probe, table.select(sorted({c.field for c in clauses})), as_of=as_of, explain=True)
    ids = [f"firmographic.{i}" for i in range(len(clauses))]
    matched, unknown = scored.column("matched"), scored.column("unknown")
    inside = np.asarray(pc.list_value_length(matched).to_numpy(zero_copy_only=False)) == len(clauses)
    m_counts = _id_counts(matched)
    u_counts = _id_counts(unknown)
    per_clause = [
        {
            "kept": m_counts.get(i, 0),
            "unknown": u_counts.get(i, 0),
            "dropped": n - m_counts.get(i, 0) - u_counts.get(i, 0),
        }
        for i in ids
    ]
    n_unknown = np.asarray(pc.list_value_length(unknown).to_numpy(zero_copy_only=False))
    n_matched = np.asarray(pc.list_value_length(matched).to_numpy(zero_copy_only=False))
    unknown_only = int(np.sum((n_unknown > 0) & (n_unknown + n_matched == len(clauses))))
    return SamOutcome(inside, per_clause, unknown_only)


def _id_counts(lists: pa.ChunkedArray) -> dict[str, int]:
    flat = pc.list_flatten(lists)
    return {d["values"]: int(d["counts"]) for d in pc.value_counts(flat).to_pylist()} if len(flat) else {}
