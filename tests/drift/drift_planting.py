"""Synthetic histories for drift tests: a later draw of the generator, plus planted changes in its last period.

``synth.generate`` has no notion of drift, so each change is planted by post-processing the tables of the new
period only (accounts closing, churning or arriving in the last ``months`` before ``as_of``), leaving the
history before it as the generator made it. Accounts also get a ``created_date`` independent of every attribute,
as a CRM's company create date is, so "new inbound" is a fair sample of the population.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.ingest.schema import ColumnKind, Dataset
from icpkit.synth import SynthHistory, generate

BUILD_AS_OF = dt.date(2025, 6, 30)
NEW_AS_OF = dt.date(2025, 9, 30)
PERIOD_START = dt.date(2025, 6, 30)  # three months before NEW_AS_OF


@dataclass
class Draw:
    accounts: pa.Table
    deals: pa.Table
    leads: pa.Table | None
    kinds: dict[str, dict[str, ColumnKind]]

    def dataset(self) -> Dataset:
        return Dataset(accounts=self.accounts, deals=self.deals, leads=self.leads, kinds=self.kinds)


def _days(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.int32()).to_numpy(zero_copy_only=False), dtype=float)


def _day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, values)


def draw(n: int, seed: int, *, as_of: dt.date = NEW_AS_OF, leads: bool = False, segments: int = 1) -> Draw:
    """A history from the generator with an independent account ``created_date`` (and leads when asked)."""
    h: SynthHistory = generate(n, seed=seed, as_of=as_of, segments=segments)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed + 7919)
    created = np.datetime64(as_of, "D") - rng.integers(0, 4 * 365, n).astype("timedelta64[D]")
    accounts = h.accounts.append_column("created_date", pa.array(created, pa.date32()))
    kinds = {k: dict(v) for k, v in h.kinds.items()}
    kinds["accounts"]["created_date"] = ColumnKind.DATE
    out = Draw(accounts=accounts, deals=h.deals, leads=None, kinds=kinds)
    if leads:
        out.leads = make_leads(out, seed=seed, as_of=as_of)
    return out


def make_leads(
    d: Draw,
    *,
    seed: int,
    as_of: dt.date,
    n: int | None = None,
    rates: tuple[float, float, float, float] = (0.225, 0.15, 0.11, 0.075),
    depressed: dict[int, float] | None = None,
    depressed_since: dt.date | None = None,
) -> pa.Table:
    """Leads with the accounts' attributes, a creation date over two years and a date per funnel stage.

    Each step converts at ``rates`` (inside the default benchmarks); ``depressed`` {step index: rate} lowers a
    step for stage entries on or after ``depressed_since``.
    """
    rng = np.random.default_rng(seed + 104729)
    n = n or d.accounts.num_rows
    rows = rng.integers(0, d.accounts.num_rows, n)
    attrs = [c for c in d.accounts.column_names if c not in ("account_id", "arr", "customer_since", "churned")]
    attrs = [c for c in attrs if c not in ("churn_date", "expansion_arr", "created_date", "name", "domain")]
    table = d.accounts.select(attrs).take(pa.array(rows))
    end = _day(as_of)
    created = end - rng.integers(0, 730, n)
    since = _day(depressed_since) if depressed_since else end + 1
    cols = {"lead_id": pa.array([f"L{i:07d}" for i in range(n)]), "created_date": created}
    prev = created.astype(float)
    for step, name in enumerate(("mql_date", "sql_date", "opportunity_date", "won_date")):
        lag = rng.integers(1, 20, n)
        when = prev + lag
        rate = np.where(when >= since, (depressed or {}).get(step, rates[step]), rates[step])
        reached = ~np.isnan(prev) & (rng.random(n) < rate) & (when <= end)
        prev = np.where(reached, when, np.nan)
        cols[name] = prev
    out = table
    for name, v in cols.items():
        if name == "lead_id":
            out = out.append_column(name, v)
            continue
        v = np.asarray(v, dtype=float)
        arr = pa.array(np.where(np.isnan(v), 0, v).astype("int32"), mask=np.isnan(v)).cast(pa.date32())
        out = out.append_column(name, arr)
    return out


def _in_period(col: pa.ChunkedArray, start: dt.date, end: dt.date) -> np.ndarray:
    d = _days(col)
    return np.isfinite(d) & (d > _day(start)) & (d <= _day(end))


def plant_winning_segment(
    d: Draw, *, field: str = "industry", value: str = "Healthcare", share: float = 0.6, seed: int = 0
) -> Draw:
    """A segment outside the ICP starts winning: ``share`` of its accounts that lost in the period win instead."""
    rng = np.random.default_rng(seed)
    deals, accounts = d.deals, d.accounts
    seg_ids = pc.filter(accounts["account_id"], pc.fill_null(pc.equal(accounts[field], value), False))
    lost_now = (
        _in_period(deals["closed_date"], PERIOD_START, NEW_AS_OF)
        & np.asarray(pc.equal(deals["outcome"], "lost").to_numpy(zero_copy_only=False), dtype=bool)
        & np.asarray(pc.is_in(deals["account_id"], value_set=seg_ids).to_numpy(zero_copy_only=False), dtype=bool)
    )
    flip = lost_now & (rng.random(deals.num_rows) < share)
    outcome = np.where(flip, "won", np.asarray(deals["outcome"].to_pylist(), dtype=object))
    deals = _set(deals, "outcome", pa.array(outcome.tolist(), pa.string()))
    winners = pc.unique(pc.filter(deals["account_id"], pa.array(flip)))
    # the new customers: customer since the winning deal, retained, modest ARR
    is_new = np.asarray(pc.is_in(accounts["account_id"], value_set=winners).to_numpy(zero_copy_only=False), bool)
    was = np.asarray(accounts["customer_since"].is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    is_new &= ~was
    since = np.full(accounts.num_rows, _day(NEW_AS_OF) - 30)
    old_since = _days(accounts["customer_since"])
    cs = np.where(is_new, since, np.where(np.isnan(old_since), 0, old_since)).astype("int32")
    accounts = _set(accounts, "customer_since", pa.array(cs, mask=~(is_new | was)).cast(pa.date32()))
    arr = np.asarray(accounts["arr"].to_numpy(zero_copy_only=False), dtype=float)
    accounts = _set(accounts, "arr", pa.array(np.where(is_new, 12_000.0, arr)))
    return Draw(accounts=accounts, deals=deals, leads=d.leads, kinds=d.kinds)


def plant_churn_in_icp(
    d: Draw, *, field: str = "industry", value: str = "Fintech", share: float = 0.4, seed: int = 0
) -> Draw:
    """Customers of an ICP segment start churning: ``share`` of those retained at the period start churn in it."""
    rng = np.random.default_rng(seed)
    a = d.accounts
    seg = np.asarray(pc.fill_null(pc.equal(a[field], value), False).to_numpy(zero_copy_only=False), dtype=bool)
    since = _days(a["customer_since"])
    churned = np.asarray(a["churned"].to_numpy(zero_copy_only=False), dtype=bool)
    at_risk = np.isfinite(since) & (since <= _day(PERIOD_START)) & ~churned
    hit = seg & at_risk & (rng.random(a.num_rows) < share)
    when = _day(PERIOD_START) + rng.integers(1, (NEW_AS_OF - PERIOD_START).days + 1, a.num_rows)
    old = _days(a["churn_date"])
    cd = np.where(hit, when, np.where(np.isnan(old), 0, old)).astype("int32")
    a = _set(a, "churn_date", pa.array(cd, mask=~(hit | np.isfinite(old))).cast(pa.date32()))
    a = _set(a, "churned", pa.array(churned | hit))
    arr = np.asarray(a["arr"].to_numpy(zero_copy_only=False), dtype=float)
    a = _set(a, "arr", pa.array(np.where(hit, 0.0, arr)))
    return Draw(accounts=a, deals=d.deals, leads=d.leads, kinds=d.kinds)


def plant_criterion_stops(d: Draw, *, field: str = "tech_stack", seed: int = 0) -> Draw:
    """A criterion stops mattering: ``field`` is shuffled among the accounts whose deals closed in the period, so
    in the period it says nothing about who wins, churns or grows."""
    rng = np.random.default_rng(seed)
    closed = _in_period(d.deals["closed_date"], PERIOD_START, NEW_AS_OF)
    ids = pc.unique(pc.filter(d.deals["account_id"], pa.array(closed)))
    a = d.accounts
    rows = np.nonzero(np.asarray(pc.is_in(a["account_id"], value_set=ids).to_numpy(zero_copy_only=False), bool))[0]
    order = np.arange(a.num_rows)
    order[rows] = rng.permutation(rows)
    col = a[field].take(pa.array(order))
    return Draw(accounts=_set(a, field, col), deals=d.deals, leads=d.leads, kinds=d.kinds)


def plant_inbound_shift(d: Draw, *, seed: int = 0) -> Draw:
    """New inbound stops looking like the ICP: leads created in the period are all outside its industries and
    stacks (a campaign pulling in a different market)."""
    leads = d.leads
    new = _in_period(leads["created_date"], PERIOD_START, NEW_AS_OF)
    industry = np.where(new, "Retail", np.asarray(leads["industry"].to_pylist(), dtype=object))
    leads = _set(leads, "industry", pa.array(industry.tolist(), pa.string()))
    tech = leads["tech_stack"].combine_chunks()
    empty = pa.array([[] for _ in range(leads.num_rows)], tech.type)
    leads = _set(leads, "tech_stack", pc.if_else(pa.array(new), empty, tech))
    return Draw(accounts=d.accounts, deals=d.deals, leads=leads, kinds=d.kinds)


def plant_funnel_drop(d: Draw, *, step: int = 1, rate: float = 0.05, seed: int = 0) -> Draw:
    """One funnel step converts at ``rate`` for the last two quarters (from the start of the quarter before)."""
    leads = make_leads(d, seed=seed, as_of=NEW_AS_OF, depressed={step: rate}, depressed_since=dt.date(2025, 4, 1))
    return Draw(accounts=d.accounts, deals=d.deals, leads=leads, kinds=d.kinds)
