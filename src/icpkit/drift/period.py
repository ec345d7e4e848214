"""The new period: which accounts reached an outcome in it, how the spec in force scores them, who is fit.

Every drift check reads the same prepared tables, so they agree on what "in the period" means:

- the period is the ``period_months`` before ``as_of`` (default: the last event that happened in the data, never
  the wall clock); ``period_start`` is its first day;
- cohorts come from ``assign_cohorts`` with the same definitions as the build (its parameters), twice: as of
  ``as_of`` with the period as the outcome window, and as of ``period_start`` to know who was a customer before;
- an account *learns* in the period (criterion decay) when its outcome happened in it: it became a customer (high-
  or low-value retained now, no customer before), churned, or lost deals and never won;
- customers *at risk* (churn checks) were customers not yet churned at ``period_start``;
- accounts *closed* in the period (win rates) had a deal won or lost in it; an account counts as won when any of
  its deals closing in the period was won. Accounts, not deals, are the unit, so the tests' binomial assumption
  holds (several deals of one account are not independent trials);
- the spec scores accounts as of ``as_of``, with the deal-derived behavioural attributes the build used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.cohorts import COHORTS, CohortResult, assign_cohorts
from icpkit.discover.behavior import deal_attributes
from icpkit.errors import DataError, MissingColumnError
from icpkit.ingest.schema import ColumnKind, Dataset
from icpkit.score.semantics import criterion_ids
from icpkit.score.vector import score_table
from icpkit.spec.model import ICPSpec

__all__ = [
    "COHORT_PARAMS",
    "PeriodData",
    "closed_in_window",
    "months_before",
    "prepare_period",
    "rescore_period",
    "with_behavior",
]

SIGNAL, LOW, CHURNED, NEVER, OPEN = range(len(COHORTS))
COHORT_PARAMS = ("top_share", "expansion_is_high_value", "value")


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (clamped to the month's last day)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = m + 1
    last = (dt.date(y + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, month, min(day.day, last))


def with_behavior(accounts: pa.Table, deals: pa.Table | None, as_of: dt.date) -> pa.Table:
    """``accounts`` plus the deal-derived behavioural attributes discovery uses (columns it lacks only)."""
    if deals is None or deals.num_rows == 0 or "account_id" not in accounts.column_names:
        return accounts
    beh = deal_attributes(accounts.column("account_id"), deals, as_of)
    for name in beh.column_names:
        if name not in accounts.column_names:
            accounts = accounts.append_column(name, beh.column(name))
    return accounts


def _bool(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(a.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _explanation_matrix(lists: pa.ChunkedArray, ids: list[str], n: int) -> np.ndarray:
    """Boolean (rows x ids) from a list<string> column of ids, without a Python loop over rows."""
    arr = lists.combine_chunks()
    flat = pc.list_flatten(arr)
    rows = np.asarray(pc.list_parent_indices(arr).to_numpy(zero_copy_only=False), dtype=np.int64)
    cols = np.asarray(pc.index_in(flat, value_set=pa.array(ids, pa.string())).fill_null(-1).to_numpy(), np.int64)
    out = np.zeros((n, len(ids)), dtype=bool)
    keep = cols >= 0
    out[rows[keep], cols[keep]] = True
    return out


@dataclass
class PeriodData:
    """The new period's accounts as every drift check reads them (arrays in account order)."""

    as_of: dt.date
    period_start: dt.date
    accounts: pa.Table  # with behavioural attributes
    kinds: dict[str, ColumnKind]
    scored: pa.Table  # score, tier, route, matched, unknown, exclusions_hit
    criterion_ids: list[str]
    yes: np.ndarray  # (accounts x criteria) criterion matched
    unknown: np.ndarray  # (accounts x criteria) criterion unknown (a value missing)
    tier: np.ndarray  # tier name per account
    fit: np.ndarray  # tier in the fit tiers
    excluded: np.ndarray
    cohorts: CohortResult  # as of as_of, outcome window = the period
    prior: CohortResult  # as of period_start
    learning: np.ndarray  # cohort codes, OPEN unless the outcome happened in the period
    at_risk: np.ndarray  # customers not churned at period_start
    churned: np.ndarray  # churned in the period (among at_risk)
    won: np.ndarray  # won a deal closing in the period
    lost: np.ndarray  # lost deals closing in the period, won none
    behavior_columns: list[str] = field(default_factory=list)  # deal-derived, appended to ``accounts``
    notes: list[str] = field(default_factory=list)

    @property
    def closed(self) -> np.ndarray:
        return self.won | self.lost


def closed_in_window(
    accounts: pa.Table, deals: pa.Table | None, start: dt.date, as_of: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """Per account: won a deal closing in (start, as_of]; lost deals closing there and won none."""
    n = accounts.num_rows
    if deals is None or deals.num_rows == 0 or not {"outcome", "account_id"} <= set(deals.column_names):
        return np.zeros(n, bool), np.zeros(n, bool)
    date_col = "closed_date" if "closed_date" in deals.column_names else "created_date"
    if date_col not in deals.column_names:
        raise MissingColumnError("the deals table needs closed_date (or created_date) to place outcomes in time")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("deals_in", deals.select(["account_id", "outcome", date_col]))
        con.register("ids", pa.table({"account_id": accounts.column("account_id"), "__row": np.arange(n)}))
        got = con.sql(
            f"""
            WITH d AS (
                SELECT account_id,
                       bool_or(lower(trim(outcome)) = 'won') AS won,
                       bool_or(lower(trim(outcome)) = 'lost') AS lost
                FROM deals_in WHERE "{date_col}" > ? AND "{date_col}" <= ?
                GROUP BY account_id
            )
            SELECT coalesce(d.won, false) AS won, coalesce(d.lost AND NOT d.won, false) AS lost
            FROM ids LEFT JOIN d USING (account_id) ORDER BY ids.__row
            """,
            params=[start, as_of],
        ).to_arrow_table()
    finally:
        con.close()
    return _bool(got.column("won")), _bool(got.column("lost"))


def prepare_period(
    spec: ICPSpec,
    data: Dataset | pa.Table,
    *,
    deals: pa.Table | None = None,
    subscriptions: pa.Table | None = None,
    as_of: dt.date | None = None,
    period_months: int = 3,
    fit_tiers: tuple[str, ...] = ("tier1", "tier2"),
    cohort_params: dict[str, Any] | None = None,
    kinds: dict[str, ColumnKind] | None = None,
) -> PeriodData:
    """Cohorts, outcomes in the period and the spec's scores for every account of ``data``."""
    if isinstance(data, Dataset):
        accounts = data.accounts
        deals = data.deals if deals is None else deals
        subscriptions = data.subscriptions if subscriptions is None else subscriptions
        kinds = kinds or data.kinds.get("accounts")
    else:
        accounts = data
    if period_months < 1:
        raise ValueError(f"period_months must be at least 1, got {period_months}")
    params = {k: v for k, v in (cohort_params or {}).items() if k in COHORT_PARAMS}
    now = assign_cohorts(
        accounts,
        deals=deals,
        subscriptions=subscriptions,
        as_of=as_of,
        window_months=period_months,
        min_signal=0,
        **params,
    )
    as_of = now.as_of
    start = now.window_start
    if spec.as_of is not None and spec.as_of > as_of:
        raise DataError(f"the data ends {as_of} but the spec was built as of {spec.as_of}: give newer data")
    prior = assign_cohorts(
        accounts,
        deals=deals,
        subscriptions=subscriptions,
        as_of=start,
        window_months=period_months,
        min_signal=0,
        **params,
    )
    codes = now.codes.astype(np.int64)
    was_customer = prior.customer
    new_customer = np.isin(codes, (SIGNAL, LOW)) & ~was_customer
    learning = np.where(new_customer | np.isin(codes, (CHURNED, NEVER)), codes, OPEN)
    at_risk = was_customer & ~prior.churned
    churned = at_risk & (codes == CHURNED)
    won, lost = closed_in_window(accounts, deals, start, as_of)

    table = with_behavior(accounts, deals, as_of)
    notes = [f"period {start} to {as_of} ({period_months} months); cohorts now: {now.summary()}", *now.notes]
    return PeriodData(
        as_of=as_of,
        period_start=start,
        accounts=table,
        kinds=dict(kinds or {}),
        **_scores(spec, table, as_of, fit_tiers),
        cohorts=now,
        prior=prior,
        learning=learning,
        at_risk=at_risk,
        churned=churned,
        won=won,
        lost=lost,
        behavior_columns=[c for c in table.column_names if c not in accounts.column_names],
        notes=notes,
    )


def _scores(spec: ICPSpec, table: pa.Table, as_of: dt.date, fit_tiers: tuple[str, ...]) -> dict[str, Any]:
    """The fields of :class:`PeriodData` that depend on the spec."""
    scored = score_table(spec, table, as_of=as_of, explain=True)
    ids = [cid for cid, _, _ in criterion_ids(spec)]
    n = table.num_rows
    tier = np.asarray(scored.column("tier").to_numpy(zero_copy_only=False), dtype=object)
    return {
        "scored": scored,
        "criterion_ids": ids,
        "yes": _explanation_matrix(scored.column("matched"), ids, n),
        "unknown": _explanation_matrix(scored.column("unknown"), ids, n),
        "tier": tier,
        "fit": np.isin(tier, list(fit_tiers)),
        "excluded": tier == "excluded",
    }


def rescore_period(period: PeriodData, spec: ICPSpec, fit_tiers: tuple[str, ...] = ("tier1", "tier2")) -> PeriodData:
    """The same period (cohorts, outcomes) scored by another spec: one segment of a multi-segment spec, alone."""
    return dataclasses.replace(period, **_scores(spec, period.accounts, period.as_of, fit_tiers), notes=[])
