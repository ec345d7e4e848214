"""Deal stage / status / flags -> the normalised outcome won | lost | open.

Stage labels are renamed, localised and duplicated across pipelines, so an explicit flag or status column always
wins over the stage; the stage is only read for deals the flags leave undecided. Every distinct stage value is
looked up once (a handful of values), then the answer is broadcast to all rows with Arrow kernels.

A stage no vocabulary knows (``Engaging``, ``Prospecting``, ``Demo booked``) on a deal with no close date is a deal
still in the pipeline: it is read as open, with a warning naming the stages so a wrong guess can be mapped. On a
deal with a close date it was won or lost, and only the user can say which: that stays an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import Problem
from icpkit.ingest.schema import Outcome

__all__ = [
    "DEFAULT_LOST",
    "DEFAULT_WON",
    "OutcomeResult",
    "normalise_stage",
    "parse_stage_map",
    "resolve_outcomes",
]

DEFAULT_WON = frozenset({"closedwon", "closed won", "won", "closed-won", "closed_won"})
DEFAULT_LOST = frozenset({"closedlost", "closed lost", "lost", "closed-lost", "closed_lost"})
_STATUS_DELETED = "deleted"
CLOSE_DATE_COLUMNS = ("closed_date", "won_time", "lost_time")  # any of them set: the deal was closed


def normalise_stage(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Stage values as compared: text, lower case, trimmed (numbers such as HubSpot custom ids become text)."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    return pc.utf8_trim_whitespace(pc.utf8_lower(values))


def parse_stage_map(items: Iterable[str] | Mapping[str, str] | None) -> dict[str, Outcome]:
    """``["Signed=won", …]`` or ``{"Signed": "won"}`` -> normalised stage -> Outcome; bad entries are usage errors."""
    from icpkit.errors import InputError

    out: dict[str, Outcome] = {}
    if not items:
        return out
    pairs = items.items() if isinstance(items, Mapping) else (_split_pair(s) for s in items)
    for stage, target in pairs:
        try:
            out[str(stage).strip().lower()] = Outcome(str(target).strip().lower())
        except ValueError:
            raise InputError(
                f"stage map entry '{stage}={target}': the outcome must be one of won, lost, open"
            ) from None
    return out


def _split_pair(item: str) -> tuple[str, str]:
    from icpkit.errors import InputError

    stage, sep, target = item.rpartition("=")
    if not sep or not stage.strip():
        raise InputError(f"stage map entry '{item}' must look like 'Stage name=won|lost|open'")
    return stage, target


@dataclass
class OutcomeResult:
    outcome: pa.Array  # string: won / lost / open, null where undecided
    deleted: pa.Array  # bool: Pipedrive status 'deleted' (dropped by the caller, counted as a warning)
    problems: list[Problem]


def _lookup(keys: pa.Array | pa.ChunkedArray, table: Mapping[str, str]) -> pa.Array:
    """Vectorised dictionary lookup: each key's value in ``table``, null when absent."""
    names = pa.array(list(table.keys()), pa.string())
    values = pa.array(list(table.values()), pa.string())
    idx = pc.index_in(keys, value_set=names)
    return pc.take(values, idx)


def _as_bool(col: pa.ChunkedArray | pa.Array | None) -> pa.ChunkedArray | pa.Array | None:
    if col is None:
        return None
    if pa.types.is_boolean(col.type):
        return col
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(col, pa.string())))
    truthy = pc.is_in(text, value_set=pa.array(["true", "yes", "y", "1", "t", "x", "ano"]))
    falsy = pc.is_in(text, value_set=pa.array(["false", "no", "n", "0", "f", "ne"]))
    return pc.if_else(truthy, True, pc.if_else(falsy, False, pa.scalar(None, pa.bool_())))


def _from_flags(is_won, is_lost, is_closed, n: int) -> pa.Array:
    """Outcome implied by explicit booleans, null where they do not decide it."""
    null = pa.scalar(None, pa.string())
    out = pa.nulls(n, pa.string())
    if is_closed is not None:
        # closed=false is open whatever else says; closed=true & won=false is lost
        out = pc.if_else(pc.equal(is_closed, False), "open", out)
        if is_won is not None:
            decided = pc.if_else(pc.equal(is_won, True), "won", "lost")
            out = pc.if_else(pc.equal(is_closed, True), pc.if_else(pc.is_null(is_won), null, decided), out)
    if is_lost is not None:
        out = pc.if_else(pc.equal(is_lost, True), "lost", out)
    if is_won is not None:
        out = pc.if_else(pc.equal(is_won, True), "won", out)
        if is_lost is not None:  # HubSpot: neither closed won nor closed lost -> still open
            out = pc.if_else(pc.and_(pc.equal(is_won, False), pc.equal(is_lost, False)), "open", out)
    return out


def resolve_outcomes(
    deals: pa.Table,
    *,
    open_stages: Iterable[str],
    stage_map: Mapping[str, Outcome] | None = None,
    status_only: bool = False,
    rows: np.ndarray | None = None,
    path: str | None = None,
    stage_column: str = "stage",
) -> OutcomeResult:
    """Decide each deal's outcome: flags (is_won/is_lost/is_closed) > status > stage (stage map > defaults).

    ``rows`` are the spreadsheet rows of the deals (for error messages). Stages that map to nothing produce one
    error listing each unmapped value with its count and first row, and the ``--stage-map`` fix.
    """
    n = deals.num_rows
    names = set(deals.column_names)
    col = lambda c: deals.column(c) if c in names else None  # noqa: E731
    outcome = _from_flags(_as_bool(col("is_won")), _as_bool(col("is_lost")), _as_bool(col("is_closed")), n)

    vocabulary: dict[str, str] = {s: Outcome.OPEN.value for s in open_stages}
    vocabulary |= {s: Outcome.WON.value for s in DEFAULT_WON} | {s: Outcome.LOST.value for s in DEFAULT_LOST}
    vocabulary |= {k: v.value for k, v in (stage_map or {}).items()}

    deleted = pa.array(np.zeros(n, dtype=bool))
    if "status" in names:
        status = normalise_stage(deals.column("status"))
        deleted = pc.fill_null(pc.equal(status, _STATUS_DELETED), False)
        by_status = _lookup(status, {**vocabulary, "open": "open", "won": "won", "lost": "lost"})
        outcome = pc.coalesce(outcome, by_status)

    problems: list[Problem] = []
    stage = deals.column(stage_column) if stage_column in names else None
    if stage is not None and not status_only:
        stage_key = normalise_stage(stage)
        outcome = pc.coalesce(outcome, _lookup(stage_key, vocabulary))
    elif stage is not None and status_only and stage_map:
        # Pipedrive without a status column: only an explicit stage map may decide
        stage_key = normalise_stage(stage)
        outcome = pc.coalesce(outcome, _lookup(stage_key, {k: v.value for k, v in stage_map.items()}))

    undecided = pc.and_(pc.is_null(outcome), pc.invert(deleted))
    if pc.any(undecided).as_py():
        # a status has a fixed vocabulary (open / won / lost / deleted): an unknown one is broken, not in progress
        by_stage = not (status_only and "status" in names)
        closed = _has_close_date(deals) if by_stage else pa.array(np.ones(n, dtype=bool))
        still_open = pc.and_(undecided, pc.invert(closed))
        if pc.any(still_open).as_py():
            outcome = pc.if_else(still_open, "open", outcome)
            problems.append(_unmapped_problem(deals, still_open, stage_column, rows, path, status_only, as_open=True))
        undecided = pc.and_(undecided, closed)
        if pc.any(undecided).as_py():
            problems.append(_unmapped_problem(deals, undecided, stage_column, rows, path, status_only, closed=by_stage))
    outcome_arr = outcome.combine_chunks() if isinstance(outcome, pa.ChunkedArray) else outcome
    deleted_arr = deleted.combine_chunks() if isinstance(deleted, pa.ChunkedArray) else deleted
    return OutcomeResult(outcome=outcome_arr, deleted=deleted_arr, problems=problems)


def _has_close_date(deals: pa.Table) -> pa.Array | pa.ChunkedArray:
    """True for each deal with a close date (``closed_date``, or Pipedrive's won / lost time): a closed deal."""
    closed = pa.array(np.zeros(deals.num_rows, dtype=bool))
    for name in CLOSE_DATE_COLUMNS:
        if name in deals.column_names:
            closed = pc.or_(closed, pc.is_valid(deals.column(name)))
    return closed


def _unmapped_problem(
    deals: pa.Table,
    undecided: pa.Array | pa.ChunkedArray,
    stage_column: str,
    rows: np.ndarray | None,
    path: str | None,
    status_only: bool,
    *,
    as_open: bool = False,
    closed: bool = False,
) -> Problem:
    mask = np.asarray(undecided.to_numpy(zero_copy_only=False), dtype=bool)
    idx = np.flatnonzero(mask)
    row_numbers = (rows if rows is not None else np.arange(deals.num_rows) + 2)[idx]
    source = "status" if status_only and "status" in deals.column_names else stage_column
    if source in deals.column_names:
        values = pc.take(deals.column(source), pa.array(idx))
        values = pc.fill_null(pc.cast(values, pa.string()), "(empty)")
    else:
        values = pa.array(["(no stage or status column)"] * len(idx))
    summary = (
        pa.table({"value": values, "row": pa.array(row_numbers, pa.int64())})
        .group_by("value")
        .aggregate([("row", "count"), ("row", "min")])
        .sort_by([("row_count", "descending"), ("value", "ascending")])
    )
    listed = [
        f"'{v}' ({c} deals, first at row {r})"
        for v, c, r in zip(
            summary.column("value").to_pylist(),
            summary.column("row_count").to_pylist(),
            summary.column("row_min").to_pylist(),
            strict=True,
        )
    ]
    shown = "; ".join(listed[:10]) + (f"; … {len(listed) - 10} more values" if len(listed) > 10 else "")
    example = next((v for v in summary.column("value").to_pylist() if v != "(empty)"), "Stage name")
    if as_open:
        return Problem(
            f"{len(idx)} deals with no close date have a {source} that maps to no outcome, read as open (still "
            f'in the pipeline): {shown}. If one is won or lost, map it with --stage-map "{example}=won|lost"',
            path=path,
            row=int(row_numbers.min()),
            column=source,
            severity="warning",
        )
    return Problem(
        f"{len(idx)} {'closed deals (with a close date)' if closed else 'deals'} have a {source} that maps to no "
        f"outcome: {shown}. "
        f'Map each with --stage-map "{example}=won|lost|open" (or a stage_map: section in the mapping file)',
        path=path,
        row=int(row_numbers.min()),
        column=source,
    )
