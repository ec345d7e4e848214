"""The data contract: how the build read its data, written into the spec, and the one reader that follows it.

``build`` records in the spec's ``data:`` section the preset, each source header's canonical field, the stage map,
every field's kind with its unit scale and list separator, the id column and the fields discovery left out.
Every later reader — ``score``, ``validate``, ``report``, ``size``, ``drift``, the Spark engine and the API — reads
new files and records through the same contract, so a header, a ``;``-list or ``$250M`` means the same thing
wherever it arrives. What no longer fits (a spec field missing, a renamed header, another list separator, values
that do not parse) is a *mismatch*: a warning naming the fields, or with ``strict`` one ``ContractError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import InputError
from icpkit.ingest.mapping import ColumnRule, MappingConfig, closest_header, load_mapping
from icpkit.ingest.presets import normalise_header
from icpkit.ingest.schema import ColumnKind, TableKind
from icpkit.spec.model import FLAG_OPS, Clause, DataContract, FieldRead, ICPSpec, LeftOut, Op

__all__ = [
    "LIST_SEPARATORS",
    "ContractError",
    "ContractRead",
    "check_columns",
    "check_table",
    "contract_from_load",
    "contract_mapping",
    "enforce",
    "expected_kinds",
    "left_out_fields",
    "list_separator_mismatch",
    "read_table",
    "with_contract",
]

LIST_SEPARATORS = (";", "|", ",")  # the order ingest tries them in when a mapping names none
_LIST_OPS = (Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE)
_NUMBER_OPS = (Op.BETWEEN, Op.GTE, Op.LTE)
_SAMPLE = 10_000  # list cells looked at for a separator that is not the contract's


class ContractError(InputError):
    """Input that does not fit the spec's data contract, under ``--strict``."""


@dataclass
class ContractRead:
    """A table read through the contract, and what did not fit it (one line per problem, naming the field)."""

    table: pa.Table
    kinds: dict[str, ColumnKind]
    mismatches: list[str] = field(default_factory=list)
    path: str | None = None


# ---------------------------------------------------------------------------------------------- recording


def left_out_fields(result: Any) -> list[LeftOut]:
    """The fields a build read but never learned from, with the reason.

    A build result that carries one list of them (``result.left_out``: items with ``field``, ``reason`` and
    ``kind``) is taken as it is; otherwise they come from discovery's field profiles (identifier, outcome, free
    text, constant, sparse, unsupported).
    """
    if result is None:
        return []
    listed = getattr(result, "left_out", None)
    if listed is not None:
        out = []
        for item in listed:
            kind = getattr(item, "kind", None)
            out.append(
                LeftOut(field=str(item.field), reason=str(item.reason), kind=None if kind is None else str(kind))
            )
        return out
    disc = getattr(result, "discoverer", None)
    profiles = getattr(disc, "profiles_", None) or []
    return [
        LeftOut(field=p.name, reason=p.role.replace("_", " "), kind=str(p.kind.value))
        for p in profiles
        if p.role != "candidate"
    ]


def contract_from_load(loaded: Any, result: Any = None, *, mapping: Any = None) -> DataContract:
    """The contract of a build: how ``loaded`` (a ``LoadResult``) read the accounts, and what ``result`` left out.

    ``mapping`` is the mapping the exports were read with (``--map`` entries or a mapping file), whose unit
    scales and list separators the report does not keep.
    """
    report = loaded.report
    config = load_mapping(mapping)
    rules = config.rules_for(TableKind.ACCOUNTS)
    accounts = report.tables.get("accounts")
    kinds = loaded.dataset.kinds.get("accounts", {})
    columns: dict[str, str] = {}
    fields: dict[str, FieldRead] = {}
    id_column = None
    for col in accounts.columns if accounts is not None else []:
        kind = kinds.get(col.name)
        if col.source is not None and col.origin not in ("derived", "constant") and col.source != col.name:
            columns[col.source] = col.name  # a header read as itself needs no entry
        if kind is None or col.origin == "constant":
            continue
        rule = rules.get(normalise_header(col.source)) if col.source else None
        separator = rule.separator if rule is not None else None
        if kind is ColumnKind.MULTI and separator is None:
            separator = _build_separator(loaded, col.source)
        scale = rule.scale if rule is not None and rule.scale not in (None, 1.0) else None
        fields[col.name] = FieldRead(kind=kind.value, scale=scale, separator=separator)
        if kind is ColumnKind.ID and col.name == "account_id":
            id_column = col.name
    return DataContract(
        preset=report.preset.name,
        id_column=id_column,
        columns=columns,
        stage_map=dict(report.stage_map),
        fields=fields,
        left_out=left_out_fields(result),
    )


def _build_separator(loaded: Any, header: str | None) -> str:
    """The separator ingest chose for a multi-valued text column of the accounts file (``;`` for native lists)."""
    source = loaded.dataset.sources.get("accounts")
    if header is None or not isinstance(source, str) or not Path(source).is_file():
        return ";"
    try:
        from icpkit.ingest.readers import read_raw

        raw = read_raw(source)
        values = raw.table.column(raw.columns.index(header)).slice(0, _SAMPLE)
    except Exception:  # the file was read once already; a second failure only loses the detail
        return ";"
    return _detect_separator(values) or ";"


def _detect_separator(values: pa.Array | pa.ChunkedArray) -> str | None:
    """The first of ``LIST_SEPARATORS`` found in text cells, as ingest decides; None for lists or no text."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    for sep in LIST_SEPARATORS:
        if pc.any(pc.fill_null(pc.match_substring(values, sep), False)).as_py():
            return sep
    return None


def with_contract(spec: ICPSpec, loaded: Any, result: Any = None, *, mapping: Any = None) -> ICPSpec:
    """``spec`` with the ``data:`` section of the exports it was built from."""
    return spec.model_copy(update={"data": contract_from_load(loaded, result, mapping=mapping)})


# ---------------------------------------------------------------------------------------------- reading


def contract_mapping(contract: DataContract | None, mapping: Any = None) -> MappingConfig | None:
    """The contract as a mapping (header -> field with its kind, scale and separator), the user's ``mapping`` on top.

    A canonical field name is read as itself with the contract's kind, so a record or file that already uses the
    canonical names is typed the same way; only a source header gets the unit scale.
    """
    user = load_mapping(mapping) if mapping is not None else None
    if contract is None:
        return user
    rules: dict[str, ColumnRule] = {}
    for name, how in contract.fields.items():
        kind = ColumnKind(how.kind)
        rules[normalise_header(name)] = ColumnRule(to=name, kind=kind, separator=how.separator)
    for header, name in contract.columns.items():
        how = contract.fields.get(name)
        rules[normalise_header(header)] = ColumnRule(
            to=name,
            kind=ColumnKind(how.kind) if how is not None else None,
            scale=how.scale if how is not None else None,
            separator=how.separator if how is not None else None,
        )
    own = MappingConfig(columns=rules, preset=contract.preset, sources=["the spec's data contract"])
    return own if user is None else own.merge(user)


def expected_kinds(spec: ICPSpec) -> dict[str, ColumnKind]:
    """Each field the spec reads with the kind it is compared as: the contract's, else what its operators need."""
    out: dict[str, ColumnKind] = {}
    contract = spec.data.fields if spec.data is not None else {}
    for cl in _clauses(spec):
        if cl.field in out:
            continue
        if cl.field in contract:
            out[cl.field] = ColumnKind(contract[cl.field].kind)
        elif cl.op in _LIST_OPS:
            out[cl.field] = ColumnKind.MULTI
        elif cl.op in _NUMBER_OPS:
            out[cl.field] = ColumnKind.NUMERIC
        elif cl.op == Op.WITHIN_DAYS:
            out[cl.field] = ColumnKind.DATE
        elif cl.op in FLAG_OPS and cl.op != Op.EXISTS:
            out[cl.field] = ColumnKind.BOOLEAN
    return out


def _clauses(spec: ICPSpec) -> list[Clause]:
    specs = [seg for _, seg in spec.segment_specs()] or [spec]
    out: list[Clause] = []
    for sp in specs:
        for _, c in sp.criteria():
            out += c.clauses()
        out += sp.exclusions
    return out


def read_table(
    source: Any,
    kind: TableKind | str,
    *,
    spec: ICPSpec | None,
    preset: str | None = None,
    mapping: Any = None,
    encoding: str | None = None,
) -> ContractRead:
    """Read records to score (leads, accounts, a universe) as the spec's contract says, and check them against it.

    The preset is ``preset``, else the contract's, else detected; the contract's headers, kinds, scales and
    separators apply, with ``mapping`` on top. Without a spec (or a spec without ``data:``) this is the usual
    ingest of one table.
    """
    from icpkit.ingest.load import load_table

    contract = spec.data if spec is not None else None
    config = contract_mapping(contract, mapping)
    loaded = load_table(
        source,
        kind,
        preset=preset or (contract.preset if contract is not None else None),
        mapping=config,
        encoding=encoding,
    )
    table_report = next(iter(loaded.report.tables.values()))
    path = table_report.source
    headers = [c.source for c in table_report.columns if c.source] + list(table_report.dropped_headers)
    mismatches = check_table(spec, loaded.table.schema, headers=headers) if spec is not None else []
    fields = set(expected_kinds(spec)) if spec is not None else set()
    for name in sorted(fields & set(loaded.table.column_names)):
        wrong = list_separator_mismatch(name, loaded.table.column(name), contract)
        if wrong is not None:
            mismatches.append(wrong)
    sources = {c.source: c.name for c in table_report.columns if c.source}
    for p in table_report.problems:
        name = sources.get(p.column or "", p.column)
        if p.severity != "error" and name in fields:
            mismatches.append(f"{name}: {p.message}")
    return ContractRead(loaded.table, loaded.kinds, mismatches, path)


def _kind_of_type(typ: pa.DataType) -> ColumnKind | None:
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return ColumnKind.MULTI
    if pa.types.is_boolean(typ):
        return ColumnKind.BOOLEAN
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return ColumnKind.NUMERIC
    if pa.types.is_date(typ) or pa.types.is_timestamp(typ):
        return ColumnKind.DATE
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_dictionary(typ):
        return ColumnKind.TEXT
    return None


_READS_AS = {  # a column of this type can be compared as the field's kind without a mismatch
    ColumnKind.MULTI: {ColumnKind.MULTI},
    ColumnKind.NUMERIC: {ColumnKind.NUMERIC},
    ColumnKind.DATE: {ColumnKind.DATE},
    ColumnKind.BOOLEAN: {ColumnKind.BOOLEAN},
}


def check_table(spec: ICPSpec, schema: pa.Schema, *, headers: Iterable[str] = ()) -> list[str]:
    """What in a typed table does not fit the spec: fields it lacks (with the header the contract expected or the
    closest one found), and fields whose values are not of the kind the spec compares them as."""
    return check_columns(spec, {f.name: _kind_of_type(f.type) for f in schema}, headers=headers)


def check_columns(spec: ICPSpec, columns: Mapping[str, ColumnKind | None], *, headers: Iterable[str] = ()) -> list[str]:
    """``check_table`` on column names and the kind their type reads as (None: any), e.g. from a SQL relation."""
    names = set(columns)
    headers = [h for h in headers if h]
    expected = expected_kinds(spec)
    by_field: dict[str, list[str]] = {}
    if spec.data is not None:
        for header, name in spec.data.columns.items():
            by_field.setdefault(name, []).append(header)
    out = []
    for name in _field_order(spec):
        if name in names:
            want = expected.get(name)
            got = columns[name]
            if want in _READS_AS and got is not None and got not in _READS_AS[want]:
                out.append(f"{name}: read as {got.value}, the spec compares it as {want.value}")
            continue
        hint = ""
        if by_field.get(name):
            hint = f" (the contract reads it from header '{by_field[name][0]}')"
        close = closest_header(name, headers, TableKind.ACCOUNTS) if headers else None
        if close is not None:
            hint += f"; closest header: '{close}'"
        out.append(f"{name}: not in the input{hint}")
    return out


def _field_order(spec: ICPSpec) -> list[str]:
    return list(dict.fromkeys(cl.field for cl in _clauses(spec)))


def list_separator_mismatch(name: str, values: pa.Array | pa.ChunkedArray, contract: DataContract | None) -> str | None:
    """A list column whose items still hold another separator than the contract's: it was split the wrong way."""
    how = contract.fields.get(name) if contract is not None else None
    if how is None or how.separator is None:
        return None
    if not (pa.types.is_list(values.type) or pa.types.is_large_list(values.type)):
        return None
    items = pc.list_flatten(values.slice(0, _SAMPLE))
    for sep in LIST_SEPARATORS:
        if sep != how.separator and pc.any(pc.fill_null(pc.match_substring(items, sep), False)).as_py():
            return f"{name}: items hold '{sep}' but the contract splits on '{how.separator}'"
    return None


def enforce(mismatches: list[str], *, strict: bool, path: str | None = None) -> list[str]:
    """Mismatches as warnings, or under ``strict`` one ``ContractError`` line naming every field."""
    if mismatches and strict:
        raise ContractError(
            f"does not fit the spec's data contract: {'; '.join(mismatches)}",
            path=path,
            column=mismatches[0].split(":", 1)[0],
        )
    return [f"{path}: {m}" if path else m for m in mismatches]
