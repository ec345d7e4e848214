"""Cohort labels on tiny hand-made histories whose answer is obvious, plus the fallbacks and the signal check."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from icpkit.cohorts import COHORTS, assign_cohorts
from icpkit.errors import InsufficientSignalError, MissingColumnError
from icpkit.synth import generate

D = dt.date


def _history():
    accounts = pa.table(
        {
            "account_id": ["big", "small", "gone", "old_gone", "lost", "fresh", "nothing", "grew"],
            "arr": [100_000.0, 5_000.0, 0.0, 0.0, None, None, None, 6_000.0],
            "churned": [False, False, True, True, None, None, None, False],
            "churn_date": [None, None, D(2025, 1, 1), D(2020, 1, 1), None, None, None, None],
            "expansion_arr": [0.0, 0.0, 0.0, 0.0, None, None, None, 1_000.0],
        }
    )
    deals = pa.table(
        {
            "account_id": ["big", "small", "gone", "old_gone", "lost", "fresh", "grew"],
            "outcome": ["won", "won", "won", "won", "lost", "open", "won"],
            "created_date": [D(2023, 1, 1)] * 7,
            "closed_date": [D(2023, 2, 1)] * 4 + [D(2025, 3, 1), None, D(2023, 2, 1)],
            "amount": [1.0] * 7,
        }
    )
    return accounts, deals


def test_labels_by_definition() -> None:
    accounts, deals = _history()
    r = assign_cohorts(accounts, deals=deals, top_share=0.34, min_signal=1)
    labels = dict(zip(r.labels["account_id"].to_pylist(), r.labels["cohort"].to_pylist(), strict=True))
    assert r.as_of == D(2025, 3, 1)  # the latest date in the data, not the wall clock
    assert labels == {
        "big": "high_value_retained",  # top third of 3 retained customers by ARR
        "small": "low_value_retained",
        "gone": "churned",
        "old_gone": "open",  # churned before the 24-month window
        "lost": "never_closed",
        "fresh": "open",  # only an open deal
        "nothing": "open",
        "grew": "high_value_retained",  # expansion counts as high value
    }
    assert sum(r.sizes.values()) == accounts.num_rows
    assert [COHORTS[c] for c in r.codes] == r.labels["cohort"].to_pylist()


def test_no_arr_and_no_churn_are_worked_around_and_said() -> None:
    accounts, deals = _history()
    r = assign_cohorts(accounts.select(["account_id"]), deals=deals, min_signal=1)
    assert any("no ARR" in n for n in r.notes) and any("nobody counts as churned" in n for n in r.notes)
    assert r.sizes["churned"] == 0


def test_insufficient_signal_names_what_would_help() -> None:
    accounts, deals = _history()
    with pytest.raises(InsufficientSignalError, match="longer history"):
        assign_cohorts(accounts.select(["account_id"]), deals=deals)


def test_deals_need_an_outcome() -> None:
    accounts, deals = _history()
    with pytest.raises(MissingColumnError):
        assign_cohorts(accounts, deals=deals.drop_columns(["outcome"]))


def test_subscriptions_give_the_same_story_as_account_columns() -> None:
    a = generate(3000, seed=5)
    b = generate(3000, seed=5, with_subscriptions=True)
    ra, rb = assign_cohorts(a.dataset()), assign_cohorts(b.dataset())
    assert ra.sizes["churned"] == rb.sizes["churned"]
    assert (
        abs(ra.sizes["high_value_retained"] - rb.sizes["high_value_retained"]) < 0.1 * ra.sizes["high_value_retained"]
    )


# ---------------------------------------------------------------------------------------------------- value cut


def _customers(values: list[float], *, lost: int = 0, churned: int = 0, order: list[int] | None = None):
    """Retained customers with the given ARR, plus churned and lost accounts; rows optionally reordered."""
    n = len(values)
    ids = [f"c{i}" for i in range(n)] + [f"x{i}" for i in range(churned)] + [f"l{i}" for i in range(lost)]
    arr = [*values, *([0.0] * churned), *([None] * lost)]
    churn = [False] * n + [True] * churned + [None] * lost
    cdate = [None] * n + [D(2025, 1, 1)] * churned + [None] * lost
    deals_out = ["won"] * (n + churned) + ["lost"] * lost
    accounts = pa.table({"account_id": ids, "arr": arr, "churned": churn, "churn_date": cdate})
    deals = pa.table(
        {
            "account_id": ids,
            "outcome": deals_out,
            "created_date": [D(2024, 1, 1)] * len(ids),
            "closed_date": [D(2024, 6, 1)] * len(ids),
            "amount": [1000.0] * len(ids),
        }
    )
    if order is not None:
        accounts = accounts.take(pa.array(order))
    return accounts, deals


def _assign(accounts: pa.Table, deals: pa.Table):
    return assign_cohorts(accounts, deals=deals, min_signal=1)


def _high(r) -> set[str]:
    return {a for a, c in zip(r.labels["account_id"].to_pylist(), r.labels["cohort"].to_pylist(), strict=True)
            if c == "high_value_retained"}  # fmt: skip


def test_the_default_top_share_is_one_constant_and_sets_the_cut() -> None:
    import importlib
    import inspect

    from icpkit.cohorts import TOP_SHARE
    from icpkit.discover import ICPBuilder

    values = [float(1000 + i) for i in range(50)]  # distinct values: the cut is a plain rank cut
    accounts, deals = _customers(values, lost=10)
    r = assign_cohorts(accounts, deals=deals, min_signal=1)
    assert TOP_SHARE == 0.20 and r.sizes["high_value_retained"] == 10  # ceil(50 * 0.20)
    assert _high(r) == {f"c{i}" for i in range(40, 50)}
    defaults = [inspect.signature(assign_cohorts).parameters["top_share"].default]
    defaults.append(inspect.signature(ICPBuilder).parameters["top_share"].default)
    for module, command in (("build", "build"), ("report", "report"), ("validate", "validate_command")):
        cmd = getattr(importlib.import_module(f"icpkit.cli.{module}"), command)
        defaults.append(inspect.signature(cmd).parameters["top_share"].default.default)  # the typer.Option
    assert all(d is TOP_SHARE for d in defaults), defaults


@pytest.mark.parametrize(("share", "high"), [(0.1, 5), (0.2, 10), (0.5, 25), (1.0, 50)])
def test_changing_top_share_changes_the_cohort(share: float, high: int) -> None:
    accounts, deals = _customers([float(1000 + i) for i in range(50)], lost=10)
    r = assign_cohorts(accounts, deals=deals, top_share=share, min_signal=1)
    assert r.sizes["high_value_retained"] == high and r.sizes["low_value_retained"] == 50 - high
    assert r.params["top_share"] == share


def test_equal_values_go_in_together_and_the_signal_is_retention() -> None:
    # every won deal the same amount, no ARR: value cannot rank the customers
    accounts, deals = _customers([0.0] * 40, lost=30, churned=20)
    accounts = accounts.drop_columns(["arr"])
    r = assign_cohorts(accounts, deals=deals, min_signal=1)
    assert r.sizes["high_value_retained"] == 40 and r.sizes["low_value_retained"] == 0
    assert r.cut is not None and r.cut.no_spread
    assert any("no spread" in n and "retained against churned" in n for n in r.notes), r.notes


def test_ties_at_the_cut_go_out_together_when_that_is_nearer_the_share() -> None:
    values = [100_000.0] * 10 + [50_000.0] * 30 + [10_000.0] * 60  # the 20% cut falls inside the 50k group
    r = _assign(*_customers(values, lost=10))
    assert _high(r) == {f"c{i}" for i in range(10)}  # 10% (out) is nearer 20% than 40% (in)
    note = next(n for n in r.notes if "tie at the top-20% cut" in n)
    assert "30 retained customers" in note and "went out together" in note and "10 of 100" in note
    assert "(10.0%)" in note


def test_ties_at_the_cut_go_in_together_whatever_the_row_order() -> None:
    values = [100_000.0] * 12 + [50_000.0] * 10 + [10_000.0] * 78  # in: 22, out: 12, asked: 20
    first = _assign(*_customers(values, lost=10))
    order = list(np.random.default_rng(3).permutation(110))
    second = _assign(*_customers(values, lost=10, order=order))
    assert _high(first) == _high(second) == {f"c{i}" for i in range(22)}
    assert any("went in together" in n and "22 of 100 retained customers (22.0%)" in n for n in first.notes)


def test_no_note_when_nothing_ties_at_the_cut() -> None:
    values = [100_000.0] * 20 + [float(i) for i in range(80)]  # the tie sits wholly above the cut
    r = _assign(*_customers(values, lost=10))
    assert r.sizes["high_value_retained"] == 20
    assert not any("tie" in n or "spread" in n for n in r.notes), r.notes
