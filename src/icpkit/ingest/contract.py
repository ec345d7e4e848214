"""The data contract: how the build read its data, written into the spec, and the one reader that follows it.

``build`` records in the spec's ``data:`` section the preset, each source header's canonical field, the stage map,
every field's kind with its unit scale and list separator, the id column and the fields discovery left out.
Every later reader — ``score``, ``validate``, ``report``, ``size``, ``drift``, the Spark engine and the API — reads
new files and records through the same contract, so a header, a ``;``-list or ``$250M`` means the same thing
wherever it arrives. What no longer fits (a spec field missing, a renamed header, another list separator, values
that do not parse) is a *mismatch*: a warning naming the fields, or with ``strict`` one ``ContractError``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import InputError
from icpkit.ingest.mapping import ColumnRule, MappingConfig, closest_header, load_mapping
from icpkit.ingest.presets import normalise_header
from icpkit.ingest.schema import ColumnKind, TableKind, kind_of_arrow_type
from icpkit.spec.model import FLAG_OPS, Clause, DataContract, FieldRead, ICPSpec, LeftOut, Op

__all__ = [
    "LIST_SEPARATORS",
    "ContractError",
    "ContractRead",
    "ReadRecords",
    "RecordReader",
    "check_columns",
    "check_table",
    "contract_from_load",
    "contract_mapping",
    "enforce",
    "expected_kinds",
    "left_out_fields",
    "list_separator_mismatch",
    "read_records",
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
    contract: DataContract | None = None,
    follow_preset: bool = True,
) -> ContractRead:
    """Read records to score (leads, accounts, a universe) as the spec's contract says, and check them against it.

    The preset is ``preset``, else the contract's (unless ``follow_preset`` is off, as for a data provider's
    universe), else detected; the contract's headers, kinds, scales and separators apply, with ``mapping`` on top.
    ``contract`` stands in for the spec's (e.g. how the accounts were just read, when the spec is built in the
    same run). Without either this is the usual ingest of one table.
    """
    from icpkit.ingest.load import load_table

    contract = contract or (spec.data if spec is not None else None)
    config = contract_mapping(contract, mapping)
    if not follow_preset and config is not None:
        config = dataclasses.replace(config, preset=None)
    loaded = load_table(
        source,
        kind,
        preset=preset or (contract.preset if contract is not None and follow_preset else None),
        mapping=config,
        encoding=encoding,
    )
    table_report = next(iter(loaded.report.tables.values()))
    path = table_report.source
    headers = [c.source for c in table_report.columns if c.source] + list(table_report.dropped_headers)
    if spec is not None and contract is not spec.data:
        spec = spec.model_copy(update={"data": contract})
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


_READS_AS = {  # a column of this type can be compared as the field's kind without a mismatch
    ColumnKind.MULTI: {ColumnKind.MULTI},
    ColumnKind.NUMERIC: {ColumnKind.NUMERIC},
    ColumnKind.DATE: {ColumnKind.DATE},
    ColumnKind.BOOLEAN: {ColumnKind.BOOLEAN},
}


def check_table(spec: ICPSpec, schema: pa.Schema, *, headers: Iterable[str] = ()) -> list[str]:
    """What in a typed table does not fit the spec: fields it lacks (with the header the contract expected or the
    closest one found), and fields whose values are not of the kind the spec compares them as."""
    return check_columns(spec, {f.name: kind_of_arrow_type(f.type) for f in schema}, headers=headers)


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


# ---------------------------------------------------------------------------------------------- records


_SEPARATOR_CHARS = frozenset("".join(LIST_SEPARATORS))
_MISS: Any = object()
_UNREADABLE: Any = object()
_VALUES_REMEMBERED = 65_536  # distinct (field, text) readings a reader keeps
_NONE: list[str] = []  # shared by every record with nothing unreadable: callers never change it
_KEYS_REMEMBERED = 4096
_ENUM_FIELD = "industry"  # the field whose HubSpot enum codes (COMPUTER_SOFTWARE) become labels


@dataclass(frozen=True, slots=True)
class ReadRecords:
    """Records read as a file's rows are, and per record the fields whose value could not be read."""

    records: list[dict[str, Any]]
    unreadable: list[list[str]]


class RecordReader:
    """Reads API and Python records (field -> value) exactly as ingest reads a file's rows, through the contract.

    A header or HubSpot property name (``Number of Employees``, ``numberofemployees``, ``Country/Region``) is
    mapped to its field; a value that is not already of its field's kind (``"1,200"``, ``"$250M"``, ``"51-200"``,
    ``"yes"``, ``"08/01/2026"``, ``"HubSpot;Intercom"``, ``COMPUTER_SOFTWARE``) is coerced by the same DuckDB
    expressions as a file's column; one that cannot be read becomes missing (unknown) and is named. The usual
    record, typed already, passes with a type check per number, flag, date and list field and comes back as it was.
    """

    __slots__ = ("_aliases", "_checks", "_enum", "_fields", "_kinds", "_memo", "_normal", "_scales", "_separator")

    def __init__(self, spec: ICPSpec) -> None:
        from icpkit.ingest.load import _for_kind
        from icpkit.ingest.presets import PRESETS, get_preset

        contract = spec.data
        kinds = expected_kinds(spec)
        fields = list(dict.fromkeys([*_field_order(spec), *_persona_fields(spec)]))
        self._fields = frozenset(fields)
        self._kinds = {f: kinds.get(f, ColumnKind.CATEGORICAL) for f in fields}
        preset = get_preset(contract.preset) if contract is not None and contract.preset else PRESETS["generic"]
        self._enum = preset.industry_enum and _ENUM_FIELD in self._fields
        read = contract.fields if contract is not None else {}
        self._separator = {
            f: read[f].separator if f in read else None for f in fields if self._kinds[f] is ColumnKind.MULTI
        }
        self._checks = self._compile_check(fields)
        aliases: dict[str, str] = {}
        for canonical, spellings in _for_kind(preset, TableKind.LEADS).aliases(TableKind.LEADS).items():
            for spelling in spellings:
                if canonical in self._fields:
                    aliases.setdefault(spelling, canonical)
        self._scales: dict[str, float] = {}
        for header, name in (contract.columns if contract is not None else {}).items():
            if name in self._fields:
                aliases[normalise_header(header)] = name
                scale = read[name].scale if name in read else None
                if scale is not None:
                    self._scales[normalise_header(header)] = scale
        self._normal = {**aliases, **{normalise_header(f): f for f in fields}}
        self._aliases: dict[Any, str | None] = {}  # a record's key -> its field (None: none), remembered
        self._memo: dict[tuple[str, str, float | None], Any] = {}  # (field, text, scale) -> value read

    def __call__(self, record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """(the record as scoring should read it, the fields whose value could not be read)."""
        raw, absent = self._checks(record)
        if raw is None and not absent:  # the usual record: every spec field there and of its kind
            return record, _NONE
        pending = self._pending(record, raw, absent)
        if pending is None:
            return record, _NONE
        read = self._coerce([pending])
        return read.records[0], read.unreadable[0]

    def many(self, records: list[dict[str, Any]]) -> ReadRecords:
        """Several records; those that need reading are coerced together, in one pass, as a file's rows are."""
        out = list(records)
        unreadable: list[list[str]] = [[] for _ in records]
        todo = [(i, p) for i, p in enumerate(map(self._pending, records)) if p is not None]  # type: ignore[arg-type]
        if todo:
            read = self._coerce([p for _, p in todo])
            for (i, _), rec, bad in zip(todo, read.records, read.unreadable, strict=True):
                out[i], unreadable[i] = rec, bad
        return ReadRecords(out, unreadable)

    # the fast check ---------------------------------------------------------------------------------------
    def _pending(self, record: dict[str, Any], raw: dict[str, Any] | None = None, absent: bool | None = None) -> Any:
        """None when every spec field is absent or of its kind already; else (the record with header and property
        names mapped to their fields, the values to read by field, the unit scale of those read from a header)."""
        if absent is None:
            raw, absent = self._checks(record)
        base, scales = record, {}
        if absent and record:
            renamed, scales = self._renamed(record)
            if renamed:
                base = {**record, **renamed}
                more, _ = self._checks(renamed)
                raw = {**(raw or {}), **(more or {})}
        if not raw:
            return None if base is record else (base, {}, {})
        return base, raw, scales

    def _compile_check(self, fields: list[str]) -> Callable[[dict[str, Any]], tuple[dict[str, Any] | None, bool]]:
        """One generated function that type-checks a record's spec fields in line: on the usual typed record, a
        lookup and a type test per number, flag, date or list field, and one subset test for absent fields. Text
        fields take any plain value and are not looked at (but for HubSpot enum codes). Field names are passed in
        as constants, never written into the code."""
        names = {f"_n{i}": f for i, f in enumerate(fields)}
        wrong = {
            ColumnKind.NUMERIC: "type(v) is not float and type(v) is not int",
            ColumnKind.DATE: "type(v) is not str or len(v) != 10 or v[4] != '-' or v[7] != '-' or not v.isascii()",
            ColumnKind.BOOLEAN: "type(v) is not bool",
            ColumnKind.MULTI: "type(v) is not list and (type(v) is not str or not _seps.isdisjoint(v))",
        }
        lines = ["def check(record):", "    get = record.get", "    raw = None"]
        for const, name in names.items():
            kind = self._kinds[name]
            if kind in wrong:
                test = wrong[kind]
                if kind is ColumnKind.DATE:
                    test = f"type(v) is not _date and ({test})"
            elif self._enum and name == _ENUM_FIELD:
                test = "type(v) is str and v.isupper()"
            else:
                continue
            lines += [
                f"    v = get({const})",
                f"    if v is not None and ({test}):",
                "        if raw is None:",
                "            raw = {}",
                f"        raw[{const}] = v",
            ]
        lines.append("    return raw, not (record.keys() >= _all)")
        scope: dict[str, Any] = {**names, "_date": dt.date, "_seps": _SEPARATOR_CHARS, "_all": frozenset(fields)}
        exec(compile("\n".join(lines), "<icpkit record check>", "exec"), scope)
        return scope["check"]

    def _renamed(self, record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
        """Values under a header or property name of a spec field the record lacks, by that field, and the unit
        scale of a header the contract reads with one (revenue in millions)."""
        out: dict[str, Any] = {}
        scales: dict[str, float] = {}
        for key, v in record.items():
            if key in self._fields or v is None:
                continue
            name = self._aliases.get(key, _MISS)
            if name is _MISS:
                name = self._normal.get(normalise_header(key)) if isinstance(key, str) else None
                if len(self._aliases) < _KEYS_REMEMBERED:
                    self._aliases[key] = name
            if name is not None and record.get(name) is None and name not in out:
                out[name] = v
                scale = self._scales.get(normalise_header(key))
                if scale is not None:
                    scales[name] = scale
        return out, scales

    # the slow path: the ingest's own coercion -------------------------------------------------------------
    def _coerce(self, pending: list[tuple[dict[str, Any], dict[str, Any], dict[str, float]]]) -> ReadRecords:
        """Read every pending value with ingest's coercion, each value alone (as a one-cell column, so no other
        record's values sway how it is read) and remembered, so a spelling seen before costs a lookup."""
        records = [dict(base) for base, _, _ in pending]
        unreadable: list[list[str]] = [[] for _ in pending]
        wanted: dict[tuple[str, str, float | None], None] = {}
        for i, (_, raw, scales) in enumerate(pending):
            for name, v in raw.items():
                text = self._text(name, v)
                if text is None:  # a list where one value is expected, an object: never readable
                    records[i][name] = None
                    unreadable[i].append(name)
                    continue
                key = (name, text, scales.get(name))
                if key not in self._memo:
                    wanted[key] = None
        if wanted:
            self._read_values(list(wanted))
        for i, (_, raw, scales) in enumerate(pending):
            for name, v in raw.items():
                text = self._text(name, v)
                if text is None:
                    continue
                value = self._memo.get((name, text, scales.get(name)), _UNREADABLE)
                if value is _UNREADABLE:
                    records[i][name] = None
                    unreadable[i].append(name)
                else:
                    records[i][name] = value
        return ReadRecords(records, unreadable)

    def _read_values(self, keys: list[tuple[str, str, float | None]]) -> None:
        """One coercion pass: a column per field (and unit scale) holding its distinct new spellings, as a file's
        column holds its values (so, as in a file, day-first dates or decimal commas are settled per column)."""
        from icpkit.ingest.canonical import _hubspot_industry
        from icpkit.ingest.coerce import CoerceSpec, coerce_columns

        groups: dict[tuple[str, float | None], list[str]] = {}
        for name, text, scale in keys:
            groups.setdefault((name, scale), []).append(text)
        height = max(len(v) for v in groups.values())
        columns = {
            f"__v{j}": pa.array(v + [None] * (height - len(v)), pa.string()) for j, v in enumerate(groups.values())
        }
        plan = {
            f"__v{j}": CoerceSpec(self._kinds[name], scale=scale or 1.0, separator=self._separator.get(name))
            for j, (name, scale) in enumerate(groups)
        }
        result = coerce_columns(pa.table(columns), plan, path="<record>")
        if len(self._memo) + len(keys) > _VALUES_REMEMBERED:
            self._memo.clear()
        for j, ((name, scale), texts) in enumerate(groups.items()):
            values = result.table.column(f"__v{j}").slice(0, len(texts))
            if self._enum and name == _ENUM_FIELD:
                values = _hubspot_industry(values)
            for text, value in zip(texts, values.to_pylist(), strict=True):
                self._memo[(name, text, scale)] = _UNREADABLE if value is None and not _missing(text) else value

    def _text(self, name: str, v: Any) -> str | None:
        if type(v) is str:
            return v
        if type(v) is bool:
            return "true" if v else "false"
        if type(v) in (int, float):
            return repr(v)
        if isinstance(v, dt.date):
            return v.isoformat()
        if type(v) is list and self._kinds[name] is ColumnKind.MULTI:
            sep = self._separator.get(name) or ";"
            return sep.join(str(x) for x in v if x is not None)
        return None


def _missing(text: str) -> bool:
    """Text ingest reads as a missing value (blank, ``n/a``, ``null``, ``-``, …), never as an unreadable one."""
    from icpkit.ingest.coerce import NULL_TOKENS

    return text.strip().lower() in NULL_TOKENS


def _persona_fields(spec: ICPSpec) -> list[str]:
    if not spec.personas:
        return []
    pf = spec.persona_fields
    return [pf.title, pf.seniority, pf.department]


def read_records(spec: ICPSpec) -> RecordReader:
    """The reader ``compile_scorer`` users put in front of the scorer: ``record, unreadable = reader(record)``."""
    return RecordReader(spec)
