"""Scores in the shape a CRM import expects, so the import updates each record in place.

HubSpot matches an import row to a record by ``Record ID``, Salesforce (Data Import Wizard / Data Loader) by ``Id``.
The score travels as four custom properties: ``icp_score``, ``icp_tier``, ``icp_route`` and ``icp_reasons`` (the
matched criteria and exclusions in plain words, so a rep reads why, not ``firmographic.0``). A spec with buyer
personas adds ``icp_persona`` (the matched persona's name, empty when none matched).

Every text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, or a tab or
carriage return) is prefixed with ``'``: a company named ``=HYPERLINK(…)`` stays text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from icpkit.csvsafe import FORMULA_PREFIXES, atomic_path
from icpkit.errors import InputError
from icpkit.score.semantics import criterion_ids, exclusion_ids
from icpkit.spec.model import Clause, Criterion, ICPSpec, Op

__all__ = [
    "CRM_FORMATS",
    "FORMULA_PREFIXES",
    "crm_columns",
    "crm_select_sql",
    "describe_clause",
    "neutralise",
    "neutralise_sql",
    "reason_texts",
    "write_crm_csv",
]

# format -> header of the record id column the CRM matches on
CRM_FORMATS: dict[str, str] = {"hubspot": "Record ID", "salesforce": "Id", "csv": "account_id"}
SCORE_COLUMNS = ("icp_score", "icp_tier", "icp_route", "icp_reasons")

_OP_WORDS = {
    Op.EQUALS: "is",
    Op.IN: "is",
    Op.NOT_IN: "is not",
    Op.CONTAINS_ANY: "includes",
    Op.CONTAINS_ALL: "includes all of",
    Op.CONTAINS_NONE: "includes none of",
}


def _field_words(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _value_words(values: Sequence[Any], joiner: str) -> str:
    items = [str(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {joiner} {items[-1]}"


def _number(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,}"


def describe_clause(cl: Clause) -> str:
    """One clause in plain words: ``Industry is Software or Fintech``, ``Employees between 50 and 500``."""
    name, op, v = _field_words(cl.field), cl.op, cl.value
    if op == Op.EQUALS:
        return f"{name} is {v}"
    if op in (Op.IN, Op.NOT_IN, Op.CONTAINS_ANY):
        return f"{name} {_OP_WORDS[op]} {_value_words(v, 'or')}"
    if op in (Op.CONTAINS_ALL, Op.CONTAINS_NONE):
        return f"{name} {_OP_WORDS[op]} {_value_words(v, 'and' if op == Op.CONTAINS_ALL else 'or')}"
    if op == Op.BETWEEN:
        lo, hi = v
        if lo is None:
            return f"{name} at most {_number(hi)}"
        if hi is None:
            return f"{name} at least {_number(lo)}"
        return f"{name} between {_number(lo)} and {_number(hi)}"
    if op == Op.GTE:
        return f"{name} at least {_number(v)}"
    if op == Op.LTE:
        return f"{name} at most {_number(v)}"
    if op == Op.IS_TRUE:
        return f"{name} is yes"
    if op == Op.IS_FALSE:
        return f"{name} is no"
    if op == Op.EXISTS:
        return f"{name} is known"
    if op == Op.WITHIN_DAYS:
        return f"{name} in the last {v} days"
    return f"{name} {op} {v}"


def reason_texts(spec: ICPSpec) -> dict[str, str]:
    """Plain words for every criterion and exclusion id; a criterion's ``label`` wins when the spec sets one."""
    out: dict[str, str] = {}
    for cid, _, c in criterion_ids(spec):
        out[cid] = c.label or " and ".join(describe_clause(cl) for cl in Criterion.clauses(c))
    for eid, e in exclusion_ids(spec):
        out[eid] = f"excluded: {e.reason}"
    return out


def _reasons(spec: ICPSpec, matched: Iterable[str], hits: Iterable[str]) -> str:
    texts = reason_texts(spec)
    return "; ".join([*(texts[i] for i in hits), *(texts[i] for i in matched)])


def neutralise(cell: Any) -> Any:
    """A text cell a spreadsheet would evaluate as a formula, made inert with a leading ``'``."""
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def neutralise_sql(expr: str) -> str:
    """DuckDB SQL applying :func:`neutralise` to a text expression."""
    starts = " OR ".join(f"starts_with({expr}, {_sql_string(p)})" for p in FORMULA_PREFIXES)
    return f"CASE WHEN {starts} THEN '''' || {expr} ELSE {expr} END"


def crm_columns(fmt: str, spec: ICPSpec | None = None) -> list[str]:
    """The import's header: the record id the CRM matches on, the score properties, ``icp_persona`` with personas."""
    if fmt not in CRM_FORMATS:
        raise InputError(f"unknown export format '{fmt}': use {', '.join(CRM_FORMATS)}")
    persona = ["icp_persona"] if spec is not None and spec.personas else []
    return [CRM_FORMATS[fmt], *SCORE_COLUMNS, *persona]


def crm_select_sql(spec: ICPSpec, fmt: str, id_column: str) -> str:
    """DuckDB select list turning a scored relation (with ``matched`` / ``exclusions_hit``) into the CRM columns."""
    header = crm_columns(fmt)[0]
    texts = reason_texts(spec)
    parts = [
        *(
            f"CASE WHEN list_contains(exclusions_hit, {_sql_string(i)}) THEN {_sql_string(t)} END"
            for i, t in texts.items()
            if i.startswith("exclusion.")
        ),
        *(
            f"CASE WHEN list_contains(matched, {_sql_string(i)}) THEN {_sql_string(t)} END"
            for i, t in texts.items()
            if not i.startswith("exclusion.")
        ),
    ]
    reasons = f"concat_ws('; ', {', '.join(parts)})" if parts else "''"
    ident = '"' + id_column.replace('"', '""') + '"'
    quoted = '"' + header.replace('"', '""') + '"'
    return ", ".join(
        [
            f"{neutralise_sql(f'CAST({ident} AS VARCHAR)')} AS {quoted}",
            "score AS icp_score",
            "tier AS icp_tier",
            f"{neutralise_sql('route')} AS icp_route",
            f"{neutralise_sql(reasons)} AS icp_reasons",
            *(["coalesce(persona, '') AS icp_persona"] if spec.personas else []),
        ]
    )


def write_crm_csv(
    spec: ICPSpec, rows: Iterable[Mapping[str, Any]], out: str | Path, *, fmt: str, id_column: str
) -> int:
    """Write scored rows (dicts with score, tier, route, matched, exclusions_hit) as a CRM import CSV, atomically."""
    header = crm_columns(fmt, spec)
    n = 0
    with atomic_path(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in rows:
            rid = r.get(id_column)
            reasons = _reasons(spec, r.get("matched") or [], r.get("exclusions_hit") or [])
            writer.writerow(
                [
                    neutralise("" if rid is None else str(rid)),
                    r["score"],
                    r["tier"],
                    neutralise(r["route"]),
                    neutralise(reasons),
                    *([r.get("persona") or ""] if spec.personas else []),
                ]
            )
            n += 1
    return n
