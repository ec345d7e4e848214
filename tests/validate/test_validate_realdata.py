"""Validation on the public datasets of ../shared/data: what each one can and cannot support, said honestly."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyarrow as pa
import pytest

from icpkit.discover import ICPBuilder
from icpkit.ingest import load_dataset
from icpkit.ingest.schema import Dataset
from icpkit.report import render_report
from icpkit.validate import validate

pytestmark = pytest.mark.realdata
REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "tests" / "ingest" / "mappings"


def _olist_tables(folder: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("olist_activation", REPO / "examples" / "olist_activation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.activation_tables(folder)


def test_olist_activation_holds_out_of_sample(shared_data):
    accounts, deals = _olist_tables(shared_data / "olist_marketing_funnel")
    assert accounts.num_rows == 842 and sum(not c for c in accounts["churned"].to_pylist()) == 380
    won = pa.array(["won"] * deals.num_rows)  # every closed deal of this file was won (ingest maps "Won" the same)
    ds = Dataset(accounts=accounts, deals=deals.drop_columns(["stage"]).append_column("outcome", won))
    params = {"top_share": 1.0}
    r = validate(ds, method="kfold", folds=5, builder=params)
    assert r.verdict("signal").status == "pass"
    assert r.verdict("churn_rate").status == "pass"  # fit sellers activate more often, out of sample
    churn = r.rebuilt.comparison("churn_rate")
    assert churn.contrast.high < 1 and churn.fit.n + churn.non_fit.n == 842
    win = r.verdict("win_rate")
    assert win.status == "unknown" and "no lost deals" in win.message
    assert r.verdict("nrr").status == "unknown"


def test_maven_has_no_signal_and_says_why(shared_data):
    d = shared_data / "maven_crm"
    ds = load_dataset(d / "accounts.csv", d / "sales_pipeline.csv", mapping=str(MAPPINGS / "maven_crm.yaml")).dataset
    r = validate(ds)
    assert not r.passed and r.verdict("signal").status == "fail"
    assert "Not enough signal" in r.verdict("signal").message
    assert r.held_out["repeat_business"] == 85 and any("repeat" in n for n in r.notes)
    html = render_report(None, r, insufficient=r.build_error)
    assert "No reliable ICP signal" in html and "already customers" in html


def test_ravenstack_splits_on_customer_starts_and_finds_nothing_reliable(shared_data):
    d = shared_data / "ravenstack_saas_synthetic"
    ds = load_dataset(
        d / "ravenstack_accounts.csv",
        subscriptions=d / "ravenstack_subscriptions.csv",
        mapping=str(MAPPINGS / "ravenstack.yaml"),
    ).dataset
    r = validate(ds, full_build=ICPBuilder().fit(ds))
    assert r.split_basis == "customers" and r.held_out["customer"] > 50
    assert r.verdict("win_rate").status == "unknown"  # no deals: win rate is not measurable
    assert r.no_signal and r.verdict("churn_rate").message.startswith("not supported")
