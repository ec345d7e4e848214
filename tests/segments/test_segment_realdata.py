"""Segment discovery on the public datasets: a split is kept only where each segment holds on held-out data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyarrow as pa
import pytest

from icpkit.discover import ICPBuilder
from icpkit.ingest import load_dataset
from icpkit.ingest.schema import Dataset
from icpkit.segments import SegmentFinder

pytestmark = pytest.mark.realdata
REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "tests" / "ingest" / "mappings"


def test_olist_activation_splits_by_lead_type_and_each_segment_holds(shared_data):
    spec = importlib.util.spec_from_file_location("olist_activation", REPO / "examples" / "olist_activation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    accounts, deals = module.activation_tables(shared_data / "olist_marketing_funnel")
    won = pa.array(["won"] * deals.num_rows)
    ds = Dataset(accounts=accounts, deals=deals.drop_columns(["stage"]).append_column("outcome", won))
    found = SegmentFinder(ICPBuilder(top_share=1.0)).fit(ds)
    assert found.segmented and found.chosen_k == 2
    assert sum(found.sizes.values()) == 380  # every activated seller in one segment
    assert all(low > 1 for _, low, _ in found.heldout_lift.values())
    fields = {cl.field for _, s in found.spec.segment_specs() for _, c in s.criteria() for cl in c.clauses()}
    assert "lead_type" in fields


def test_ravenstack_without_signal_is_not_split(shared_data):
    d = shared_data / "ravenstack_saas_synthetic"
    ds = load_dataset(
        d / "ravenstack_accounts.csv",
        subscriptions=d / "ravenstack_subscriptions.csv",
        mapping=str(MAPPINGS / "ravenstack.yaml"),
    ).dataset
    found = SegmentFinder(ICPBuilder()).fit(ds)
    assert not found.segmented and found.base.no_signal
