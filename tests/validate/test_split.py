"""Where the time split cuts, what training may see, and the held-out outcome of every account."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from icpkit.ingest.schema import Dataset
from icpkit.validate.split import data_as_of, held_out_outcomes, stratified_folds, time_cutoff, train_dataset

D = dt.date


def tiny() -> Dataset:
    """Five accounts whose held-out fate can be read off by hand (cutoff 2024-06-30, data as of 2025-01-31)."""
    accounts = pa.table(
        {
            "account_id": ["a", "b", "c", "d", "e"],
            "churned": [False, True, False, False, False],
            "expansion_arr": [500.0, 0.0, 0.0, 0.0, 0.0],
        }
    )
    deals = pa.table(
        {
            "deal_id": ["1", "2", "3", "4", "5", "6"],
            "account_id": ["a", "b", "c", "d", "d", "e"],
            "created_date": [D(2024, 8, 1), D(2024, 9, 1), D(2024, 10, 1), D(2024, 1, 1), D(2024, 11, 1),
                             D(2025, 1, 1)],
            "closed_date": [D(2024, 8, 31), D(2024, 10, 11), D(2024, 12, 1), D(2024, 3, 1), D(2024, 12, 1), None],
            "outcome": ["won", "won", "lost", "won", "won", "open"],
            "amount": [1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0],
        }
    )  # fmt: skip
    return Dataset(accounts=accounts, deals=deals)


def test_outcomes_of_each_account_by_hand():
    ds = tiny()
    out = held_out_outcomes(ds, cutoff=D(2024, 6, 30), as_of=data_as_of(ds)).to_pydict()
    # a: new customer, won in 30 days, expanded; b: new customer, churned; c: lost; d: customer before the cutoff
    # (repeat business, not judged); e: only an open deal (nothing to judge yet)
    assert out["judged"] == [True, True, True, False, False]
    assert out["won"] == [True, True, False, False, False]
    assert out["closed"] == [True, True, True, False, False]
    assert out["repeat"] == [False, False, False, True, False]
    assert out["churned"] == [False, True, False, False, False]
    assert out["cycle_days"][:2] == [30.0, 40.0]
    assert out["deal_size"][:2] == [1000.0, 2000.0]
    assert out["start_arr"][:2] == [1000.0, 2000.0]
    assert out["end_arr"][:2] == [1500.0, 0.0]  # start + expansion; churned -> 0


def test_cutoff_holds_out_the_asked_share_and_training_sees_nothing_later(planted):
    split = time_cutoff(planted, 0.275)
    assert split.basis == "deals" and 0.25 <= split.held_share <= 0.30
    assert split.as_of == dt.date(2025, 6, 30)
    train = train_dataset(planted, split.cutoff)
    latest = pc.max(train.deals.column("created_date")).as_py()
    assert latest <= split.cutoff
    with pytest.raises(ValueError):
        time_cutoff(planted, 0.95)


def test_folds_are_balanced_within_every_cohort():
    codes = np.repeat(np.arange(5), [500, 120, 60, 7, 313])
    fold = stratified_folds(codes, 5, seed=3)
    for c in range(5):
        counts = np.bincount(fold[codes == c], minlength=5)
        assert counts.max() - counts.min() <= 1
    assert np.array_equal(fold, stratified_folds(codes, 5, seed=3))
