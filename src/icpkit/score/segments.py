"""Scoring a multi-segment spec: every record against every segment, the best-fitting segment wins.

A spec with ``segments`` holds several named ICPs. Each segment is scored as an ordinary single-ICP spec (its own
layers, exclusions, tiers and routing) by the rules of :mod:`icpkit.score.semantics`; this module only adds how the
per-segment results combine. The rules (every engine implements them):

* **Best segment.** Segments are ranked by tier (``tier1`` > ``tier2`` > ``tier3`` > ``none`` > ``excluded``),
  then by higher score, then by spec order (the first segment wins a full tie). The record's ``segment`` is the best
  one's name.
* **Overall result = the best segment's.** ``score``, ``tier``, ``route``, layer scores, ``matched``, ``unknown``
  and ``exclusions_hit`` are exactly the best segment's, with ids local to that segment (``firmographic.0`` of the
  named segment).
* **Excluded only when excluded everywhere.** Because ``excluded`` ranks last, a record gets tier ``excluded``
  only when every segment excludes it; then the best is the excluded segment with the highest score (then order).
* **Per-segment scores.** ``score_<segment>`` is each segment's fit score (0–100) whatever its exclusions.
* **Layer scores.** Table engines write ``layer_<name>`` for every layer that carries points in some segment;
  it is null where the best segment has no such layer (the Python result simply lacks the key).

SQL is composed from the single-ICP compiler (:func:`icpkit.score.sql.compile_expression`): each segment's
query wraps the previous one, its outputs renamed ``_icp_g<k>_<column>``, and a final ``SELECT`` picks the best
segment with ``LEAST`` over one integer rank per segment and ``CASE`` over the segment index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from icpkit.errors import SpecError
from icpkit.score.persona import apply_personas_table
from icpkit.score.python import Scorer, compile_scorer
from icpkit.score.semantics import TIER_NAMES, ScoreResult, layer_totals, scoring_date, with_persona
from icpkit.score.sql import EXPLAIN_COLUMNS, compile_expression, render
from icpkit.score.vector import score_table
from icpkit.spec.model import LAYERS, ICPSpec

__all__ = [
    "TIER_RANK",
    "SegmentScoreResult",
    "SegmentScorer",
    "best_segment",
    "compile_segment_scorer",
    "compile_segments_expression",
    "compile_segments_sql",
    "score_segments_duckdb",
    "score_segments_spark",
    "score_segments_table",
    "segment_output_columns",
]

# lower is better: tier1 first, excluded last (so a record is excluded only when every segment excludes it)
TIER_RANK: dict[str, int] = {name: i for i, name in enumerate(TIER_NAMES)}


def _segments(spec: ICPSpec) -> list[tuple[str, ICPSpec]]:
    if spec.segments is None:
        raise SpecError("this spec has no segments; score it with the single-ICP engines")
    return spec.segment_specs()


def best_segment(results: Sequence[ScoreResult]) -> int:
    """Index of the best result: highest tier rank, then highest score, then first in spec order."""
    return min(range(len(results)), key=lambda k: (TIER_RANK[results[k].tier], -results[k].score, k))


@dataclass(slots=True, eq=False)
class SegmentScoreResult(ScoreResult):
    """The best segment's result, named, with every segment's score."""

    segment: str = ""
    segment_scores: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            **ScoreResult.as_dict(self),
            "segment_scores": dict(self.segment_scores),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SegmentScoreResult):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    __hash__ = None  # type: ignore[assignment]


class SegmentScorer:
    """A multi-segment spec compiled for scoring one record at a time: one compiled scorer per segment."""

    __slots__ = ("names", "scorers", "spec")

    def __init__(self, spec: ICPSpec, *, as_of: dt.date | None = None, key: Callable[[str], str] | None = None) -> None:
        self.spec = spec
        segs = _segments(spec)
        self.names = [name for name, _ in segs]
        self.scorers: list[Scorer] = [compile_scorer(s, as_of=as_of, key=key) for _, s in segs]

    def __call__(self, record: Mapping[str, Any]) -> SegmentScoreResult:
        results = [score(record) for score in self.scorers]
        k = best_segment(results)
        r = results[k]
        best = SegmentScoreResult(
            score=r.score,
            tier=r.tier,
            route=r.route,
            layer_scores=dict(r.layer_scores),
            matched=list(r.matched),
            unknown=list(r.unknown),
            exclusions_hit=list(r.exclusions_hit),
            segment=self.names[k],
            segment_scores={name: res.score for name, res in zip(self.names, results, strict=True)},
        )
        return with_persona(self.spec, best, record)  # personas are shared by every segment (top level)

    def many(self, records: Iterable[Mapping[str, Any]]) -> list[SegmentScoreResult]:
        return [self(r) for r in records]


def compile_segment_scorer(
    spec: ICPSpec, *, as_of: dt.date | None = None, key: Callable[[str], str] | None = None
) -> SegmentScorer:
    return SegmentScorer(spec, as_of=as_of, key=key)


def segment_output_columns(spec: ICPSpec, *, explain: bool = True) -> list[str]:
    """Columns a table engine adds: segment, score, tier, route, layer_<name>…, explanation, score_<segment>…."""
    segs = _segments(spec)
    layers = [layer for layer in LAYERS if any(layer in layer_totals(s) for _, s in segs)]
    cols = ["segment", "score", "tier", "route", *(f"layer_{layer}" for layer in layers)]
    if explain:
        cols += list(EXPLAIN_COLUMNS)
    return cols + [f"score_{name}" for name, _ in segs]


# ---------------------------------------------------------------------------------------------- Arrow


def score_segments_table(
    spec: ICPSpec, table: pa.Table, *, as_of: dt.date | None = None, explain: bool = True
) -> pa.Table:
    """Every input column plus the columns of :func:`segment_output_columns`, vectorised per segment, then the
    shared personas and routing rules."""
    as_of = scoring_date(as_of)  # one scoring date for every segment
    segs = _segments(spec)
    n = table.num_rows
    out_cols = segment_output_columns(spec, explain=explain)
    replaced = {*out_cols, *(f"layer_{layer}" for layer in LAYERS)}
    base = table.drop_columns([c for c in table.column_names if c in replaced or c.startswith("score_")])
    scored = [score_table(s, base, as_of=as_of, explain=explain) for _, s in segs]
    scores = np.stack([np.asarray(t.column("score").to_numpy(), dtype=np.int64) for t in scored], axis=1)
    tier_names = pa.array(list(TIER_RANK), pa.string())  # in rank order: a tier's index is its rank
    ranks = np.stack(
        [pc.index_in(t.column("tier"), value_set=tier_names).to_numpy(zero_copy_only=False) for t in scored], axis=1
    ).astype(np.int64)
    k = np.arange(len(segs), dtype=np.int64)
    key = (ranks * 101 + (100 - scores)) * len(segs) + k  # unique per segment: ties broken by spec order
    best = np.argmin(key, axis=1) if n else np.zeros(0, dtype=np.int64)
    take = pa.array(best, pa.int64())

    def pick(column: str, typ: pa.DataType) -> pa.Array:
        arrays = [t.column(column).combine_chunks() if column in t.column_names else pa.nulls(n, typ) for t in scored]
        if n == 0:
            return pa.array([], typ)
        # gather row i from the best segment's array: stack then take by flat index
        stacked = pa.concat_arrays([a.cast(typ) for a in arrays])
        return stacked.take(pa.array(best * n + np.arange(n), pa.int64()))

    out = base.append_column("segment", pa.array([name for name, _ in segs], pa.string()).take(take))
    out = out.append_column("score", pick("score", pa.int64()))
    out = out.append_column("tier", pick("tier", pa.string()))
    out = out.append_column("route", pick("route", pa.string()))
    for col in out_cols:
        if col.startswith("layer_"):
            out = out.append_column(col, pick(col, pa.float64()))
    if explain:
        for col in EXPLAIN_COLUMNS:
            out = out.append_column(col, pick(col, pa.list_(pa.string())))
    for j, (name, _) in enumerate(segs):
        out = out.append_column(f"score_{name}", pa.array(scores[:, j], pa.int64()))
    return apply_personas_table(spec, out)  # personas are shared by every segment (top level)


# ---------------------------------------------------------------------------------------------- SQL


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def compile_segments_expression(
    spec: ICPSpec,
    *,
    dialect: str = "duckdb",
    table: str | exp.Expression = "accounts",
    as_of: dt.date | None = None,
    explain: bool = True,
    columns: Mapping[str, str] | None = None,
    zones: Mapping[str, str] | None = None,
) -> exp.Select:
    """The multi-segment scoring query as a SQLGlot expression, composed of each segment's single-ICP query.

    ``columns`` (input column name -> type, e.g. from ``DESCRIBE``) is required: each level of the composition lists
    the input columns it passes on, and every clause is compiled for its column's real type.
    """
    segs = _segments(spec)
    if columns is None:
        raise SpecError("scoring segments in SQL needs the input columns and their types (columns=...)")
    out_cols = segment_output_columns(spec, explain=explain)
    layer_cols = [c for c in out_cols if c.startswith("layer_")]
    replaced = {*out_cols, *(f"layer_{layer}" for layer in LAYERS)}
    keep = [c for c in columns if c not in replaced and not c.startswith("score_")]
    source: str | exp.Expression = table
    carried: list[str] = []  # renamed outputs of the segments scored so far
    for g, (_, seg) in enumerate(segs):
        own = ["score", "tier", "route", *(f"layer_{layer}" for layer in layer_totals(seg))]
        own += list(EXPLAIN_COLUMNS) if explain else []
        inner = compile_expression(
            seg,
            dialect=dialect,
            table=source,
            as_of=as_of,
            zones=zones,
            explain=explain,
            columns={**columns, **dict.fromkeys(carried, "other")},
            select=[*keep, *carried],
        )
        passed = [_col(c) for c in [*keep, *carried]]
        renamed = [exp.alias_(_col(c), f"_icp_g{g}_{c}", quoted=True) for c in own]
        carried += [f"_icp_g{g}_{c}" for c in own]
        source = exp.select(*passed, *renamed).from_(inner.subquery(f"_icp_g{g}")).subquery(f"_icp_l{g}")

    def rank(g: int) -> exp.Expression:
        tier = exp.Case(this=_col(f"_icp_g{g}_tier"))
        for name, r in TIER_RANK.items():
            tier = tier.when(exp.Literal.string(name), exp.convert(r))
        # (tier rank * 101 + 100 - score) * segments + g: smaller is better, unique per segment
        key = exp.Add(
            this=exp.Mul(this=exp.paren(tier), expression=exp.convert(101)),
            expression=exp.Sub(this=exp.convert(100), expression=_col(f"_icp_g{g}_score")),
        )
        return exp.Add(this=exp.Mul(this=exp.paren(key), expression=exp.convert(len(segs))), expression=exp.convert(g))

    keys = [rank(g) for g in range(len(segs))]
    best_key = keys[0] if len(keys) == 1 else exp.func("LEAST", *keys)
    staged = exp.select(exp.Star(), exp.alias_(best_key, "_icp_best", quoted=True)).from_(source)

    def by_best(column: str, null_type: str) -> exp.Expression:
        case = exp.Case()
        for g, (_, seg) in enumerate(segs):
            has = column in ("score", "tier", "route", *EXPLAIN_COLUMNS) or column[6:] in layer_totals(seg)
            value = _col(f"_icp_g{g}_{column}") if has else exp.cast(exp.null(), null_type)
            case = case.when(exp.EQ(this=_col("_icp_best"), expression=keys[g].copy()), value)
        return case

    names = exp.Case()
    for g, (name, _) in enumerate(segs):
        names = names.when(exp.EQ(this=_col("_icp_best"), expression=keys[g].copy()), exp.Literal.string(name))
    outputs: list[exp.Expression] = [exp.alias_(names, "segment", quoted=True)]
    outputs += [exp.alias_(by_best(c, "DOUBLE"), c, quoted=True) for c in ("score", "tier", "route")]
    outputs += [exp.alias_(by_best(c, "DOUBLE"), c, quoted=True) for c in layer_cols]
    if explain:
        outputs += [exp.alias_(by_best(c, "DOUBLE"), c, quoted=True) for c in EXPLAIN_COLUMNS]
    outputs += [exp.alias_(_col(f"_icp_g{g}_score"), f"score_{name}", quoted=True) for g, (name, _) in enumerate(segs)]
    return exp.select(*(_col(c) for c in keep), *outputs).from_(staged.subquery("_icp_gb"))


def compile_segments_sql(
    spec: ICPSpec,
    *,
    dialect: str = "duckdb",
    table: str | exp.Expression = "accounts",
    as_of: dt.date | None = None,
    explain: bool = True,
    columns: Mapping[str, str] | None = None,
    pretty: bool = False,
    zones: Mapping[str, str] | None = None,
) -> str:
    """The multi-segment scoring query for ``dialect`` (see :func:`compile_segments_expression`), with the shared
    personas and routing rules applied on top as for any spec."""
    _segments(spec)
    expression = compile_expression(
        spec, dialect=dialect, table=table, as_of=as_of, explain=explain, columns=columns, zones=zones
    )
    return render(expression, dialect, pretty=pretty)


def score_segments_duckdb(
    spec: ICPSpec, table: pa.Table, *, as_of: dt.date | None = None, explain: bool = True
) -> pa.Table:
    """Score an Arrow table with DuckDB through the composed SQL: the columns of :func:`score_segments_table`."""
    from icpkit.score.duckdb_engine import arrow_zones, connect, describe

    con = connect()
    try:
        con.register("_icp_input", table)
        columns = describe(con, "SELECT * FROM _icp_input")
        query = compile_segments_sql(
            spec,
            dialect="duckdb",
            table="_icp_input",
            as_of=scoring_date(as_of),
            explain=explain,
            columns=columns,
            zones=arrow_zones(table.schema),
        )
        return con.sql(query).to_arrow_table()
    finally:
        con.close()


def score_segments_spark(
    spec: ICPSpec, table: pa.Table, *, as_of: dt.date | None = None, explain: bool = True
) -> pa.Table:
    """Score an Arrow table in the local Spark session through the composed SQL."""
    from icpkit.score.spark import get_session

    spark = get_session()
    df = spark.createDataFrame(table)
    view = "_icp_segments_input"
    df.createOrReplaceTempView(view)
    columns = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    query = compile_segments_sql(
        spec, dialect="spark", table=view, as_of=scoring_date(as_of), explain=explain, columns=columns
    )
    return spark.sql(query).toArrow()
