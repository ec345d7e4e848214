"""Cohort labels on tiny hand-made histories whose answer is obvious, plus the fallbacks and the signal check."""

from __future__ import annotations

import datetime as dt

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
