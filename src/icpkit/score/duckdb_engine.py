"""Score tables of tens of millions of rows with DuckDB, out of core, streaming the result to a file.

The spec is compiled once by :mod:`icpkit.score.sql` for the input's real column types (``DESCRIBE``) and run as
``COPY (query) TO file``: DuckDB reads, scores and writes in parallel pipelines with bounded memory, spilling to a
temporary folder if it must. Parquet is written in row groups of ~128k rows, the unit DuckDB reads in parallel when
the file is scored again (measured on 2M rows: the same CPU seconds as one big row group, which one thread reads).
Output is written to a temporary file beside the target and renamed, never half-written.

What costs what on a bulk run (measured on 2M accounts x 20 criteria, 2 cores, CPU seconds against a bare scan
that reads the same columns and writes one): writing the id, score and tier is ~1.6x the scan before any scoring;
``route`` and five layer scores add ~11% to score + tier, which ``outputs`` (``--columns``) leaves out; a text
tier costs ~4x an ENUM one, hence tier and route as DuckDB ENUM constants in Parquet (stored as plain text).
Trimming and lower-casing every item of a multi-valued field cost ~0.4 s of a ~1.5 s run, so the distinct items are
read first (:func:`list_items`) and list criteria test the raw lists for the spellings that match.

In Parquet output the explanation columns (``matched``, ``unknown``, ``exclusions_hit``) are integer bitmasks
(INTEGER up to 31 ids, else BIGINT) by default: bit ``i`` of a column stands for the ``i``-th id of
:func:`icpkit.score.sql.explanation_ids`, and the file keeps those ids in its key-value metadata
(``icpkit.explanations``). Measured on 2M rows, building and writing three lists of ids per row costs 3.8x the CPU
of score + tier alone; the bitmasks 1.4x. :func:`decode_explanations` (or the SQL of
:func:`icpkit.score.sql.decode_masks_sql` in a view) turns them back into
lists of ids. CSV, JSON lines and CRM exports, which people read, always carry the ids.

Large Parquet (and DuckDB tables) are read directly; CSV, Excel and JSON exports go through ``icpkit.ingest`` so
CRM headers are mapped and values typed exactly as ``build`` sees them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.csvsafe import output_error
from icpkit.errors import EngineError, FileNotFoundInputError, IcpkitError, InputError, OutputError
from icpkit.frames import TableLike, as_arrow
from icpkit.ingest.contract import check_table, enforce
from icpkit.score.semantics import TIER_NAMES, scoring_date
from icpkit.score.sql import (
    EXPLAIN_COLUMNS,
    check_outputs,
    compile_expression,
    decode_masks_sql,
    explanation_ids,
    mask_type,
    masks_fit,
    output_columns,
    render,
)
from icpkit.spec.model import ICPSpec

__all__ = [
    "ROW_GROUP_SIZE",
    "ScoreSummary",
    "connect",
    "decode_explanations",
    "describe",
    "list_items",
    "score_arrow",
    "score_file",
]

ROW_GROUP_SIZE = 131_072
EXPLANATIONS_KEY = "icpkit.explanations"
_PARQUET = (".parquet", ".pq")
_DUCKDB = (".duckdb", ".ddb", ".db")


@dataclass
class ScoreSummary:
    """What a file scoring run did: rows, tier counts, the output written, and how long it took."""

    rows: int
    tier_counts: dict[str, int]
    output: str
    seconds: float
    id_column: str | None = None
    columns: list[str] = field(default_factory=list)
    explanations: str = "ids"  # "ids" (lists of ids), "bitmask" (integer columns) or "none"
    warnings: list[str] = field(default_factory=list)  # what in the input does not fit the spec's data contract


def connect(
    *, memory_limit: str | None = None, threads: int | None = None, temp_directory: str | Path | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the limits that keep a large scoring run within bounds."""
    con = duckdb.connect()
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    if threads:
        con.execute("SET threads = ?", [int(threads)])
    if temp_directory:
        con.execute("SET temp_directory = ?", [str(temp_directory)])
    return con


@contextlib.contextmanager
def _engine_errors(what: str) -> Iterator[None]:
    """The one place DuckDB errors become icpkit errors (a bad file is input, the rest is the engine)."""
    try:
        yield
    except IcpkitError:
        raise
    except duckdb.IOException as exc:
        raise InputError(f"cannot read or write: {exc}", path=what) from exc
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        raise InputError(str(exc).splitlines()[0], path=what) from exc
    except duckdb.Error as exc:
        raise EngineError(f"DuckDB failed scoring {what}: {str(exc).splitlines()[0]}") from exc


def describe(con: duckdb.DuckDBPyConnection, relation_sql: str) -> dict[str, str]:
    """Column name -> DuckDB type of a relation, what the compiler needs to compile exactly for it."""
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {relation_sql}").fetchall()}


def list_items(
    con: duckdb.DuckDBPyConnection,
    relation_sql: str,
    columns: Mapping[str, str],
    fields: Iterable[str],
    *,
    parquet: str | None = None,
) -> dict[str, set[str]]:
    """The distinct items of each ``VARCHAR[]`` field, read before scoring so list criteria test the raw lists.

    Normalising every item of every row (trim, lower-case) was the largest single cost of a bulk run; the items a
    CRM column holds are few, so they are normalised once here, in Python, and each criterion tests the raw list for
    the spellings that match (see :func:`icpkit.score.sql.compile_expression`). ``parquet`` names a single Parquet
    file, whose dictionaries pyarrow reads batch by batch (measured on 2M rows: ~0.09 s CPU, half of DuckDB's
    ``SELECT DISTINCT unnest(...)``, which reads any other relation). A field with more than ``_MAX_LIST_ITEMS``
    distinct items, or with an item holding a NUL character, is left out (its items are normalised per row).
    """
    out: dict[str, set[str]] = {}
    for name in dict.fromkeys(fields):
        if columns.get(name) != "VARCHAR[]":
            continue
        items = _parquet_items(parquet, name) if parquet else None
        if items is None:
            ident = '"' + name.replace('"', '""') + '"'
            rows = con.execute(
                f"SELECT DISTINCT _icp_item FROM (SELECT UNNEST({ident}) AS _icp_item FROM ({relation_sql})) "
                f"WHERE _icp_item IS NOT NULL LIMIT {_MAX_LIST_ITEMS + 1}"
            ).fetchall()
            items = {r[0] for r in rows} if len(rows) <= _MAX_LIST_ITEMS else None
        if items is not None and not any("\x00" in i for i in items):
            out[name] = items
    return out


_MAX_LIST_ITEMS = 10_000


def _items_for(
    con: duckdb.DuckDBPyConnection,
    spec: ICPSpec,
    relation: str,
    columns: Mapping[str, str],
    source: str | Path | pa.Table | None = None,
) -> dict[str, set[str]] | None:
    """:func:`list_items` of the spec's fields for a source about to be scored (None for a segmented spec)."""
    if spec.segments is not None:
        return None
    parquet = None
    if isinstance(source, str | Path) and relation.startswith("SELECT * FROM read_parquet("):
        text = str(source)
        parquet = text if "*" not in text and "::" not in text else None
    return list_items(con, relation, columns, spec.fields(), parquet=parquet)


def _parquet_items(path: str, name: str) -> set[str] | None:
    """The distinct items of list column ``name`` from a Parquet file's dictionaries, or None to ask DuckDB."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path)
        typ = meta.schema_arrow.field(name).type
        if not (pa.types.is_list(typ) or pa.types.is_large_list(typ)) or not pa.types.is_string(typ.value_type):
            return None
        leaves = [meta.schema.column(i).path for i in range(len(meta.schema))]
        leaf = [p for p in leaves if p.startswith(name + ".")]
        if len(leaf) != 1:
            return None
        groups = meta.num_row_groups
        local = threading.local()

        def group_items(group: int) -> set[str]:
            # a reader per thread (readers are not shared), a row group at a time: a batch spanning two row
            # groups would hold two dictionaries
            reader = getattr(local, "reader", None)
            if reader is None:
                reader = local.reader = pq.ParquetFile(path, read_dictionary=leaf)
            found: set[str] = set()
            for batch in reader.iter_batches(batch_size=ROW_GROUP_SIZE, row_groups=[group], columns=[name]):
                values = batch.column(0).values
                if pa.types.is_dictionary(values.type):
                    values = values.dictionary
                found.update(v for v in pc.unique(values).to_pylist() if v is not None)
            return found

        seen: set[str] = set()
        # pyarrow decodes without the GIL: the row groups are read on every core, a few at a time (flat memory)
        pool = ThreadPoolExecutor(max_workers=max(1, min(groups, os.cpu_count() or 1)))
        try:
            for found in pool.map(group_items, range(groups)):
                seen |= found
                if len(seen) > _MAX_LIST_ITEMS:
                    return None
        finally:
            pool.shutdown(cancel_futures=True)  # past the item limit, the row groups not yet read are not read
        return seen
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None


def arrow_zones(schema: pa.Schema) -> dict[str, str]:
    """The time zone of each zoned timestamp column: its days are counted in that zone, as the reference reads a
    zoned value (DuckDB would otherwise read them in the session's zone)."""
    return {f.name: f.type.tz for f in schema if pa.types.is_timestamp(f.type) and f.type.tz}


def _source_zones(source: str | Path | pa.Table) -> dict[str, str]:
    """:func:`arrow_zones` of an Arrow table or of one Parquet file's Arrow schema; none for other sources."""
    if isinstance(source, pa.Table):
        return arrow_zones(source.schema)
    path = Path(str(source))
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return {}
    try:
        import pyarrow.parquet as pq

        return arrow_zones(pq.read_schema(path))
    except (OSError, pa.ArrowException):
        return {}


def score_arrow(
    spec: ICPSpec, table: pa.Table, *, as_of: dt.date | None = None, explain: bool = True, masks: bool = False
) -> pa.Table:
    """Score an in-memory Arrow table with DuckDB: the same columns as ``icpkit.score.vector.score_table``
    (with ``masks``, the explanation columns as integer bitmasks; see :func:`decode_explanations`)."""
    as_of = scoring_date(as_of)  # "today" once, in Python, as the other engines read it
    con = connect()
    try:
        con.register("_icp_input", table)
        with _engine_errors("<table>"):
            columns = describe(con, "SELECT * FROM _icp_input")
            query = render(
                compile_expression(
                    spec,
                    dialect="duckdb",
                    table="_icp_input",
                    as_of=as_of,
                    zones=arrow_zones(table.schema),
                    explain=explain,
                    columns=columns,
                    masks=masks,
                    list_items=_items_for(con, spec, "SELECT * FROM _icp_input", columns),
                ),
                "duckdb",
            )
            return con.sql(query).to_arrow_table()
    finally:
        con.close()


def decode_explanations(source: str | Path | pa.Table, spec: ICPSpec | None = None) -> pa.Table:
    """A scored table with its bitmask explanation columns turned back into lists of ids.

    ``source`` is a Parquet file written by :func:`score_file` (its metadata names the ids, so ``spec`` may be
    left out) or an Arrow table (then ``spec`` is the one that scored it). Columns that already hold lists of ids
    are returned as they are.
    """
    ids: Mapping[str, Sequence[str]] | None = None
    if spec is not None:
        ids = explanation_ids(spec)
    con = connect()
    try:
        with _engine_errors(str(source) if not isinstance(source, pa.Table) else "<table>"):
            if isinstance(source, pa.Table):
                con.register("_icp_scored", source)
                relation = "_icp_scored"
            else:
                path = _sql_string(str(source))
                relation = f"read_parquet({path})"
                if ids is None:
                    rows = con.execute(
                        f"SELECT value FROM parquet_kv_metadata({path}) WHERE key = ?", [EXPLANATIONS_KEY.encode()]
                    ).fetchall()
                    if rows:
                        ids = json.loads(bytes(rows[0][0]).decode())["ids"]
            types = describe(con, f"SELECT * FROM {relation}")
            masked = [c for c in EXPLAIN_COLUMNS if c in types and types[c] in ("INTEGER", "BIGINT")]
            if not masked:
                return con.sql(f"SELECT * FROM {relation}").to_arrow_table()
            if ids is None:
                raise InputError("explanations are bitmasks: pass the spec that scored this table to decode them")
            decoded = decode_masks_sql({c: ids[c] for c in masked})
            replace = ", ".join(f'{decoded[c]} AS "{c}"' for c in masked)
            return con.sql(f"SELECT * REPLACE ({replace}) FROM {relation}").to_arrow_table()
    finally:
        con.close()


def _source_relation(
    con: duckdb.DuckDBPyConnection,
    source: str | Path | pa.Table,
    *,
    preset: str | None,
    mapping: Any,
    encoding: str | None,
    spec: ICPSpec | None = None,
) -> tuple[str, list[str]]:
    """Register the input and return the SQL relation to score, and what in it does not fit the spec's data
    contract: Parquet and DuckDB tables directly (headers renamed and ``;``-joined list fields split as the
    contract says, in SQL), the rest through ingest as the contract reads them."""
    if isinstance(source, pa.Table):
        con.register("_icp_input", source)
        return "SELECT * FROM _icp_input", check_table(spec, source.schema) if spec is not None else []
    text = str(source)
    path, _, table_name = text.partition("::") if "::" in text else (text, "", "")
    file = Path(path)
    lowered = file.name.lower()
    if preset is None and mapping is None and lowered.endswith(_PARQUET):
        if "*" not in path and not file.exists():
            raise FileNotFoundInputError("file not found", path=path)
        return _as_contract(con, f"SELECT * FROM read_parquet({_sql_string(path)})", spec)
    if lowered.endswith(_DUCKDB) and table_name:
        if not file.exists():
            raise FileNotFoundInputError("file not found", path=path)
        con.execute(f"ATTACH {_sql_string(path)} AS _icp_db (READ_ONLY)")
        ident = ".".join('"' + p.replace('"', '""') + '"' for p in table_name.split("."))
        return _as_contract(con, f"SELECT * FROM _icp_db.{ident}", spec)
    from icpkit.errors import MissingColumnError
    from icpkit.ingest.contract import read_table

    try:  # accounts first, so a CRM's record id maps to account_id; leads when there is no id at all
        loaded = read_table(source, "accounts", spec=spec, preset=preset, mapping=mapping, encoding=encoding)
    except MissingColumnError:
        loaded = read_table(source, "leads", spec=spec, preset=preset, mapping=mapping, encoding=encoding)
    con.register("_icp_input", loaded.table)
    return "SELECT * FROM _icp_input", loaded.mismatches


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duckdb_kind(typ: str) -> Any:
    from icpkit.ingest.schema import ColumnKind

    t = typ.upper()
    if t.endswith("[]"):
        return ColumnKind.MULTI
    if t == "BOOLEAN":
        return ColumnKind.BOOLEAN
    if t.startswith(("DATE", "TIMESTAMP")):
        return ColumnKind.DATE
    if t in ("VARCHAR", "TEXT") or t.startswith("ENUM"):
        return ColumnKind.TEXT
    if any(t.startswith(n) for n in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "U", "FLOAT", "DOUBLE")):
        return ColumnKind.NUMERIC
    return ColumnKind.NUMERIC if t.startswith("DECIMAL") else None


def _as_contract(con: duckdb.DuckDBPyConnection, relation: str, spec: ICPSpec | None) -> tuple[str, list[str]]:
    """``relation`` with the contract's headers renamed to their fields and text list fields split into lists.

    A list field stored as one ``;``-joined text cell (a CSV habit carried into Parquet) is split with the
    contract's separator, or the first of ``;``, ``|``, ``,`` found in the cells, exactly as ingest splits it.
    """
    if spec is None:
        return relation, []
    from icpkit.ingest.contract import LIST_SEPARATORS, check_columns, expected_kinds
    from icpkit.ingest.schema import ColumnKind

    columns = describe(con, f"({relation})")
    contract = spec.data
    rename = {}
    if contract is not None:
        for header, name in contract.columns.items():
            if header in columns and name not in columns and name not in rename.values():
                rename[header] = name
    wanted = expected_kinds(spec)
    exprs, kinds = [], {}
    for name, typ in columns.items():
        out = rename.get(name, name)
        ident, alias = _ident(name), _ident(out)
        kind = _duckdb_kind(typ)
        if wanted.get(out) is ColumnKind.MULTI and kind is ColumnKind.TEXT:
            how = contract.fields.get(out) if contract is not None else None
            sep = how.separator if how is not None and how.separator else None
            if sep is None:
                found = con.execute(
                    f"SELECT {', '.join(f'bool_or(contains({ident}, {_sql_string(x)}))' for x in LIST_SEPARATORS)}"
                    f" FROM (SELECT {ident} FROM ({relation}) LIMIT 100000)"
                ).fetchone()
                sep = next((x for x, hit in zip(LIST_SEPARATORS, found or (), strict=False) if hit), ";")
            items = f"list_transform(string_split({ident}, {_sql_string(sep)}), lambda x: trim(x))"
            kept = f"list_filter({items}, lambda x: x <> '')"
            exprs.append(f"CASE WHEN len({kept}) > 0 THEN {kept} END AS {alias}")
            kind = ColumnKind.MULTI
        elif out != name:
            exprs.append(f"{ident} AS {alias}")
        else:
            exprs.append(ident)
        kinds[out] = kind
    mismatches = check_columns(spec, kinds, headers=list(columns))
    if exprs == [_ident(n) for n in columns]:
        return relation, mismatches
    return f"SELECT {', '.join(exprs)} FROM ({relation})", mismatches


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _format_of(out: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = out.suffix.lower()
    if suffix in _PARQUET:
        return "parquet"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    raise InputError("unknown output format: use .parquet, .csv or .jsonl", path=str(out))


def _csv_cells(columns: Mapping[str, str]) -> list[str]:
    """Projection for CSV output: lists joined with ';', text cells that a spreadsheet would run as a formula
    (``=``, ``+``, ``-``, ``@``) prefixed with ``'``."""
    from icpkit.score.export import neutralise_sql

    out = []
    for name, typ in columns.items():
        ident = '"' + name.replace('"', '""') + '"'
        if typ.endswith("[]"):
            joined = f"array_to_string({ident}, ';')"
            out.append(f"{neutralise_sql(joined)} AS {ident}")
        elif typ == "VARCHAR":
            out.append(f"{neutralise_sql(ident)} AS {ident}")
        elif typ == "BLOB":  # Parquet BINARY holding text: written as that text, formula-safe like any other
            out.append(f"{neutralise_sql(f'coalesce(try(decode({ident})), CAST({ident} AS VARCHAR))')} AS {ident}")
        else:
            out.append(ident)
    return out


def score_file(
    spec: ICPSpec,
    source: str | Path | TableLike,
    out: str | Path,
    *,
    as_of: dt.date | None = None,
    explain: bool = True,
    select: str | Sequence[str] = "*",
    fmt: str | None = None,
    crm: str | None = None,
    preset: str | None = None,
    mapping: Any = None,
    encoding: str | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
    row_group_size: int = ROW_GROUP_SIZE,
    progress: bool = True,
    engine: str = "duckdb",
    keep_order: bool = False,
    masks: bool | None = None,
    outputs: Sequence[str] | None = None,
    strict: bool = False,
) -> ScoreSummary:
    """Score ``source`` into ``out`` (.parquet, .csv or .jsonl) with bounded memory; returns tier counts.

    ``source`` is a Parquet file or glob, a ``file.duckdb::table``, a CRM export (CSV, Excel, JSON; mapped with
    ``preset`` / ``mapping`` through ingest) or an Arrow table. Rows come out in parallel order unless
    ``keep_order`` (measured on 10M rows: keeping the order buffers results and raises peak memory from ~0.3 GB to
    ~0.6 GB for scores and to ~1.9 GB with explanations; every row keeps its id, which is what a CRM import
    matches). ``crm`` (hubspot, salesforce, csv) writes the CRM import columns instead of the full table.
    ``engine="python"`` scores with the reference Arrow engine in memory (small files); DuckDB only reads and writes.
    ``masks`` writes the explanation columns as integer bitmasks; by default they are bitmasks in Parquet output
    (when each column has at most 62 ids) and lists of ids in CSV, JSON lines and CRM exports.
    ``outputs`` names the scoring columns to write (say ``["score", "tier"]``: measured on 10M rows, that alone
    halves the writing); ``tier`` must be among them, since the summary counts it.
    The input is read through the spec's data contract (``icpkit.ingest.contract``); what does not fit it is in
    ``warnings``, or with ``strict`` a ``ContractError`` before anything is written.
    """
    started = time.perf_counter()
    if not isinstance(source, str | Path):
        source = as_arrow(source, "records")  # a pandas DataFrame is scored as the Arrow table it converts to
    as_of = scoring_date(as_of)  # the scoring date of the whole run, even one that passes midnight
    out = Path(out)
    kind = _format_of(out, fmt)
    explained = explain or bool(crm)
    if masks is None:
        masks = kind == "parquet" and not crm and masks_fit(spec)
    masks = masks and explained and not crm
    outputs = check_outputs(spec, outputs, explain=explained)
    if outputs is not None and (crm or "tier" not in outputs):
        raise InputError("a CRM export writes its own columns" if crm else "the output columns must include tier")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        spill = tempfile.mkdtemp(prefix=".icpkit-spill-", dir=out.parent)
    except OSError as exc:
        raise output_error(exc, out) from None
    # DuckDB writes into the private spill folder beside the target, then the file is renamed onto it; the folder
    # (spilled pages and any partial output) goes whatever happens, and a killed run leaves only a dotted folder.
    tmp = Path(spill) / out.name
    con: duckdb.DuckDBPyConnection | None = None
    try:  # from here on, the spill folder goes whatever happens (Ctrl-C and SIGTERM included)
        con = connect(memory_limit=memory_limit, threads=threads, temp_directory=spill)
        if not keep_order:
            con.execute("SET preserve_insertion_order = false")
        with _engine_errors(str(source) if not isinstance(source, pa.Table) else "<table>"):
            relation, mismatches = _source_relation(
                con, source, preset=preset, mapping=mapping, encoding=encoding, spec=spec
            )
            warnings = enforce(mismatches, strict=strict, path=None if isinstance(source, pa.Table) else str(source))
            columns = describe(con, relation)
            if engine == "python":
                sql = _python_scored(
                    con,
                    spec,
                    relation,
                    columns,
                    as_of=as_of,
                    explain=explained,
                    select=select,
                    masks=masks,
                    wanted=outputs,
                )
            else:
                query = compile_expression(
                    spec,
                    dialect="duckdb",
                    table=duckdb_subquery(relation),
                    as_of=as_of,
                    zones=_source_zones(source),
                    explain=explained,
                    columns=columns,
                    select=select,
                    masks=masks,
                    outputs=outputs,
                    enum_labels=kind == "parquet" and not crm,
                    list_items=_items_for(con, spec, relation, columns, source),
                )
                sql = render(query, "duckdb")
            if crm:
                from icpkit.score.export import crm_select_sql

                id_column = _id_column(columns)
                if id_column is None:
                    raise InputError(
                        f"a {crm} export needs the record id column (account_id); found {', '.join(columns)}"
                    )
                kind = "crm"
                sql = f"SELECT {crm_select_sql(spec, crm, id_column)} FROM ({sql})"
            elif kind == "csv":
                scored = describe(con, f"({sql})")
                sql = f"SELECT {', '.join(_csv_cells(scored))} FROM ({sql})"
            metadata = ""
            if masks and kind == "parquet":
                note = json.dumps({"form": "bitmask", "ids": explanation_ids(spec)})
                metadata = f", KV_METADATA {{{_sql_string(EXPLANATIONS_KEY)}: {_sql_string(note)}}}"
            options = {
                "parquet": f"FORMAT parquet, ROW_GROUP_SIZE {int(row_group_size)}{metadata}",
                "csv": "FORMAT csv, HEADER true",
                "jsonl": "FORMAT json",
                "crm": "FORMAT csv, HEADER true",
            }[kind]
            copy = f"COPY ({sql}) TO {_sql_string(str(tmp))} ({options})"
            try:
                _run_with_progress(
                    con,
                    copy,
                    progress,
                    label=f"scoring {Path(str(source)).name}" if not isinstance(source, pa.Table) else "scoring",
                )
            except duckdb.IOException as exc:
                raise _write_error(exc, spill, out) from exc
            counts = _tier_counts(con, tmp, kind)
        try:
            os.replace(tmp, out)
        except OSError as exc:
            raise output_error(exc, out) from None
    finally:
        try:
            if con is not None:
                con.close()
        finally:
            _remove_tree(spill)
    names = [c for c in columns if c not in output_columns(spec, explain=True)]
    return ScoreSummary(
        rows=sum(counts.values()),
        tier_counts=counts,
        output=str(out),
        seconds=time.perf_counter() - started,
        id_column=_id_column(names),
        columns=names,
        explanations="none" if not explained else "bitmask" if masks else "ids",
        warnings=warnings,
    )


def _python_scored(
    con: duckdb.DuckDBPyConnection,
    spec: ICPSpec,
    relation: str,
    columns: Mapping[str, str],
    *,
    as_of: dt.date | None,
    explain: bool,
    select: str | Sequence[str],
    masks: bool = False,
    wanted: Sequence[str] | None = None,
) -> str:
    """Score the relation with the reference Arrow engine; returns SQL selecting the result in the same shape."""
    from icpkit.score.vector import score_table

    scored = score_table(spec, con.sql(relation).to_arrow_table(), as_of=as_of, explain=explain)
    con.register("_icp_scored", scored)
    outputs = output_columns(spec, explain=explain)
    if isinstance(select, str) and select == "*":
        keep = [c for c in columns if c not in outputs]
    else:
        keep = [select] if isinstance(select, str) else list(select)
    cells = ['"' + c.replace('"', '""') + '"' for c in keep]
    for name in outputs if wanted is None else wanted:
        ident = '"' + name.replace('"', '""') + '"'
        ids = explanation_ids(spec).get(name) if masks else None
        if ids is None:
            cells.append(ident)
            continue
        bits = [
            f"CASE WHEN list_contains({ident}, {_sql_string(i)}) THEN {1 << b} ELSE 0 END" for b, i in enumerate(ids)
        ]
        cells.append(f"CAST({' + '.join(bits) or '0'} AS {mask_type(len(ids))}) AS {ident}")
    return "SELECT " + ", ".join(cells) + " FROM _icp_scored"


def _id_column(columns: Iterable[str]) -> str | None:
    names = list(columns)
    return next((c for c in ("account_id", "lead_id", "record_id", "id") if c in names), None)


def duckdb_subquery(relation_sql: str) -> Any:
    """A relation's SQL as a SQLGlot subquery, so the compiler can score any FROM clause."""
    import sqlglot

    return sqlglot.parse_one(relation_sql, dialect="duckdb").subquery("_icp_source")


def _tier_counts(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> dict[str, int]:
    reader = {"parquet": "read_parquet", "csv": "read_csv", "crm": "read_csv", "jsonl": "read_json"}[kind]
    extra = ", header = true, all_varchar = true" if kind in ("csv", "crm") else ""
    tier = "icp_tier" if kind == "crm" else "tier"
    rows = con.execute(
        f"SELECT {tier}, count(*) FROM {reader}({_sql_string(str(path))}{extra}) GROUP BY ALL"
    ).fetchall()
    got = {str(t): int(n) for t, n in rows}
    return {name: got.get(name, 0) for name in TIER_NAMES}


_WRITE_REASONS = ("No space left on device", "File too large", "Disk quota exceeded", "Read-only file system")


def _write_error(exc: duckdb.IOException, spill: str, out: Path) -> Exception:
    """A failed COPY: an error writing the output (full disk, file too large) names the output, not the spill path."""
    message = str(exc).splitlines()[0]
    if Path(spill).name not in message:
        return exc  # reading the source failed: _engine_errors names the source
    reason = next((r for r in _WRITE_REASONS if r in message), None)
    if reason is None:
        reason = message.replace(str(Path(spill) / out.name), str(out)).replace(spill, str(out.parent))
    return OutputError(f"cannot write ({reason})", path=out)


def _run_with_progress(con: duckdb.DuckDBPyConnection, sql: str, progress: bool, *, label: str) -> None:
    """Run ``sql`` in a worker thread; with ``progress``, a rich progress bar fed by DuckDB's own query progress.

    The calling thread only waits, so Ctrl-C or SIGTERM reach it at once (DuckDB polls for them only now and then):
    the query is interrupted and waited for before the exception goes on, so clean-up never races a running write.
    """
    failure: list[BaseException] = []
    finished = threading.Event()  # not Thread.join: a join interrupted by Ctrl-C can return early afterwards

    def work() -> None:
        try:
            con.execute(sql)
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)
        finally:
            finished.set()

    threading.Thread(target=work, daemon=True).start()
    try:
        if progress:
            _show_progress(con, finished, label)
        while not finished.wait(0.2):
            pass
    except BaseException:
        with contextlib.suppress(duckdb.Error, RuntimeError):
            con.interrupt()
        while True:  # the connection stays busy until the query has stopped; a second Ctrl-C does not skip this
            with contextlib.suppress(KeyboardInterrupt):
                if finished.wait(0.2):
                    break
        raise
    if failure:
        raise failure[0]


def _show_progress(con: duckdb.DuckDBPyConnection, finished: threading.Event, label: str) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=100)
        while not finished.wait(0.2):
            with contextlib.suppress(duckdb.Error, RuntimeError):
                done = con.query_progress()
                if done is not None and done >= 0:
                    bar.update(task, completed=done)
        bar.update(task, completed=100)


def _remove_tree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
