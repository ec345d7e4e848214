"""Score with Spark: the same compiled query, as Spark SQL over a DataFrame, on a laptop or a cluster.

No Python UDF runs per row: the spec compiles (``icpkit.score.sql``, dialect ``spark``) for the DataFrame's real
column types, and Spark's optimiser and code generation do the rest. ``pyspark`` is an optional extra
(``pip install 'icpkit[spark]'``); importing this module without it raises a clear ``EngineError``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from icpkit.errors import EngineError, IcpkitError, InputError
from icpkit.score.semantics import TIER_NAMES, scoring_date
from icpkit.score.sql import compile_sql
from icpkit.spec.model import ICPSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["contract_dataframe", "get_session", "score_arrow", "score_dataframe", "score_parquet"]

INSTALL_HINT = "pip install 'icpkit[spark]'"
_views = itertools.count()


def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as exc:
        raise EngineError(f"the spark engine needs pyspark: {INSTALL_HINT}") from exc
    return pyspark.sql


def get_session(master: str | None = None) -> SparkSession:
    """The active SparkSession, or a small local one (``local[*]``) when none runs, e.g. outside spark-submit."""
    sql = _pyspark()
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = sql.SparkSession.builder.appName("icpkit")
    if master or not _inside_spark_submit():
        builder = (
            builder.master(master or "local[*]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.session.timeZone", "UTC")
        )
    return builder.getOrCreate()


def _inside_spark_submit() -> bool:
    import os

    return "SPARK_ENV_LOADED" in os.environ or "PYSPARK_GATEWAY_PORT" in os.environ


@contextlib.contextmanager
def _spark_errors(what: str) -> Iterator[None]:
    """The one place Spark errors become icpkit errors."""
    try:
        yield
    except IcpkitError:
        raise
    except Exception as exc:
        name = type(exc).__name__
        if name in (
            "AnalysisException",
            "PySparkException",
            "Py4JJavaError",
            "SparkRuntimeException",
            "ArithmeticException",
            "NumberFormatException",
            "IllegalArgumentException",
        ):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else name
            if "PATH_NOT_FOUND" in str(exc) or "Path does not exist" in str(exc):
                raise InputError(f"cannot read: {first}", path=what) from exc
            raise EngineError(f"Spark failed scoring {what}: {first}") from exc
        raise


def contract_dataframe(spec: ICPSpec, df: DataFrame) -> tuple[DataFrame, list[str]]:
    """``df`` read as the spec's data contract says (headers renamed to their fields, a list field held as one
    ``;``-joined text split into an array, as ingest splits it), and what in it does not fit the spec."""
    from pyspark.sql import functions as F

    from icpkit.ingest.contract import LIST_SEPARATORS, check_columns, expected_kinds
    from icpkit.ingest.schema import ColumnKind

    contract = spec.data
    names = df.columns
    if contract is not None:
        for header, name in contract.columns.items():
            if header in names and name not in names:
                df = df.withColumnRenamed(header, name)
                names = df.columns
    wanted = expected_kinds(spec)
    for name in names:
        if wanted.get(name) is not ColumnKind.MULTI or df.schema[name].dataType.simpleString() != "string":
            continue
        how = contract.fields.get(name) if contract is not None else None
        sep = how.separator if how is not None and how.separator else None
        if sep is None:
            sample = df.select(name).limit(100_000)
            found = sample.agg(*[F.max(F.col(name).contains(x).cast("int")) for x in LIST_SEPARATORS]).first()
            sep = next((x for x, hit in zip(LIST_SEPARATORS, found or (), strict=False) if hit), ";")
        items = F.filter(F.transform(F.split(F.col(name), _regex_literal(sep)), F.trim), lambda x: x != "")
        df = df.withColumn(name, F.when(F.size(items) > 0, items))
    kinds = {f.name: _spark_kind(f.dataType.simpleString()) for f in df.schema.fields}
    return df, check_columns(spec, kinds, headers=names)


def _regex_literal(sep: str) -> str:
    import re

    return re.escape(sep)


def _spark_kind(typ: str) -> Any:
    from icpkit.ingest.schema import ColumnKind

    if typ.startswith("array"):
        return ColumnKind.MULTI
    if typ == "boolean":
        return ColumnKind.BOOLEAN
    if typ in ("date",) or typ.startswith("timestamp"):
        return ColumnKind.DATE
    if typ == "string":
        return ColumnKind.TEXT
    if typ in ("tinyint", "smallint", "int", "bigint", "float", "double") or typ.startswith("decimal"):
        return ColumnKind.NUMERIC
    return None


def score_dataframe(
    spec: ICPSpec,
    df: DataFrame,
    *,
    as_of: dt.date | None = None,
    explain: bool = True,
    select: str | Sequence[str] = "*",
    zones: Mapping[str, str] | None = None,
) -> DataFrame:
    """Every selected column plus score, tier, route, layer scores and (with ``explain``) the explanation arrays.

    ``as_of`` pins the scoring date; without it ``within_days`` reads Spark's ``CURRENT_DATE`` when the DataFrame
    is evaluated. ``zones`` names the zone whose days a zoned timestamp column counts in (see ``compile_sql``).
    ``df`` holds the spec's fields as they are scored (the engine's semantics, the same as every engine's); a
    DataFrame straight from an export is read through the data contract first with ``contract_dataframe``, as
    ``score_parquet`` does."""
    view = f"_icp_input_{next(_views)}"
    df.createOrReplaceTempView(view)
    columns = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    query = compile_sql(
        spec, dialect="spark", table=view, as_of=as_of, explain=explain, columns=columns, select=select, zones=zones
    )
    with _spark_errors("<dataframe>"):
        return df.sparkSession.sql(query)


def score_arrow(spec: ICPSpec, table: pa.Table, *, as_of: dt.date | None = None, explain: bool = True) -> pa.Table:
    """Score an Arrow table in the local session and bring the result back as Arrow (tests, small files)."""
    spark = get_session()
    with _spark_errors("<table>"):
        df = spark.createDataFrame(table)
        zones = {f.name: f.type.tz for f in table.schema if pa.types.is_timestamp(f.type) and f.type.tz}
        return score_dataframe(spec, df, as_of=scoring_date(as_of), explain=explain, zones=zones).toArrow()


def score_parquet(
    spec: ICPSpec,
    source: str,
    out: str,
    *,
    as_of: dt.date | None = None,
    explain: bool = True,
    select: str | Sequence[str] = "*",
    master: str | None = None,
    strict: bool = False,
    warn: list[str] | None = None,
) -> dict[str, int]:
    """Read Parquet, score, write Parquet (a folder of part files, as Spark writes); returns tier counts.

    What in the input does not fit the spec's data contract is appended to ``warn``; with ``strict`` it is a
    ``ContractError`` before anything is written."""
    from icpkit.ingest.contract import enforce

    spark = get_session(master)
    with _spark_errors(source):
        df, mismatches = contract_dataframe(spec, spark.read.parquet(source))
        found = enforce(mismatches, strict=strict, path=source)
        if warn is not None:
            warn.extend(found)
        scored = score_dataframe(spec, df, as_of=scoring_date(as_of), explain=explain, select=select)
        scored.write.mode("overwrite").parquet(out)
        counts = {r[0]: int(r[1]) for r in spark.read.parquet(out).groupBy("tier").count().collect()}
    return {name: counts.get(name, 0) for name in TIER_NAMES}
