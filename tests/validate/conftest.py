"""Synthetic histories shared by the validation tests (built once per session: discovery runs several times)."""

from __future__ import annotations

import pytest

from icpkit.ingest.schema import Dataset
from icpkit.synth import generate


def as_dataset(history) -> Dataset:  # type: ignore[no-untyped-def]
    return Dataset(accounts=history.accounts, deals=history.deals, subscriptions=history.subscriptions,
                   kinds=history.kinds)  # fmt: skip


@pytest.fixture(scope="session")
def planted() -> Dataset:
    return as_dataset(generate(6000, seed=11))


@pytest.fixture(scope="session")
def noise() -> Dataset:
    return as_dataset(generate(6000, seed=12, effect=0.0))
