"""The public datasets of ../shared/data through the preset or committed mapping that fits each.

Expected figures were counted independently (DuckDB SQL over the raw CSVs) and against each dataset's SOURCE.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pytest

from icpkit.ingest import ColumnKind, load_dataset, load_table

pytestmark = pytest.mark.realdata
MAPPINGS = Path(__file__).parent / "mappings"


@pytest.fixture(scope="module")
def maven(shared_data):
    d = shared_data / "maven_crm"
    return load_dataset(d / "accounts.csv", d / "sales_pipeline.csv", mapping=str(MAPPINGS / "maven_crm.yaml"))


def test_maven_counts_and_outcomes(maven):
    ds, report = maven.dataset, maven.report
    assert ds.accounts.num_rows == 85 and ds.deals.num_rows == 8800
    assert report.tables["deals"].outcomes == {"won": 4238, "lost": 2473, "open": 2089}
    assert report.as_of == "2017-12-31"
    # deals link to accounts by name; the 1,425 open deals without an account are counted, not fatal
    assert ds.deals["account_id"].null_count == 1425
    assert [p.message for p in report.problems] == ["1425 deals have no account"]
    assert report.problems[0].severity == "warning"


def test_maven_types_and_scale(maven):
    acc = maven.dataset.accounts.to_pylist()
    acme = next(a for a in acc if a["name"] == "Acme Corporation")
    assert acme["annual_revenue"] == pytest.approx(1100.04e6)  # revenue in millions -> units
    assert acme["employees"] == 2822 and acme["founded_year"] == 1996 and acme["industry"] == "technolgy"
    kinds = maven.dataset.kinds
    assert kinds["accounts"]["annual_revenue"] is ColumnKind.NUMERIC
    assert kinds["accounts"]["subsidiary_of"] is ColumnKind.CATEGORICAL  # kept as an extra attribute
    assert kinds["deals"]["closed_date"] is ColumnKind.DATE and kinds["deals"]["product"] is ColumnKind.CATEGORICAL
    assert maven.report.tables["deals"].mapping["deal_stage"] == "stage"


def test_olist_mqls_as_accounts_with_won_deals(shared_data):
    d = shared_data / "olist_marketing_funnel"
    result = load_dataset(
        d / "olist_marketing_qualified_leads_dataset.csv",
        d / "olist_closed_deals_dataset.csv",
        mapping=str(MAPPINGS / "olist.yaml"),
    )
    ds = result.dataset
    assert ds.accounts.num_rows == 8000 and ds.deals.num_rows == 842
    assert result.report.tables["deals"].outcomes == {"won": 842, "lost": 0, "open": 0}
    assert pc.all(pc.is_in(ds.deals["account_id"], value_set=ds.accounts["account_id"])).as_py()
    assert ds.accounts["source_channel"].null_count == 60
    assert ds.kinds["accounts"]["first_contact_date"] is ColumnKind.DATE
    assert ds.kinds["deals"]["lead_behaviour_profile"] is ColumnKind.MULTI
    profiles = [p for p in ds.deals["lead_behaviour_profile"].to_pylist() if p and len(p) > 1]
    assert ["cat", "wolf"] in profiles
    assert ds.deals["closed_date"].null_count == 0


def test_ravenstack_subscriptions_roll_up(shared_data):
    d = shared_data / "ravenstack_saas_synthetic"
    result = load_dataset(
        d / "ravenstack_accounts.csv",
        subscriptions=d / "ravenstack_subscriptions.csv",
        mapping=str(MAPPINGS / "ravenstack.yaml"),
    )
    acc = result.dataset.accounts
    assert acc.num_rows == 500 and result.dataset.subscriptions.num_rows == 5000
    assert result.report.as_of == "2024-12-31"
    assert result.report.tables["accounts"].churned == 110  # churn_flag
    assert pc.sum(acc["arr"]).as_py() == 121_915_296  # active at as_of, arr_amount (else mrr × 12)
    assert acc["churn_date"].null_count == 500 - 72  # flagged churned accounts with an ended subscription
    assert pc.min(acc["customer_since"]).as_py() == dt.date(2023, 1, 9)
    assert pc.min(acc["expansion_arr"]).as_py() >= 0
    kinds = result.dataset.kinds["accounts"]
    assert kinds["arr"] is ColumnKind.NUMERIC and kinds["is_trial"] is ColumnKind.BOOLEAN
    assert kinds["seats"] is ColumnKind.NUMERIC and kinds["plan_tier"] is ColumnKind.CATEGORICAL
    assert "churn_flag" not in result.dataset.subscriptions.column_names


def test_ravenstack_churn_from_subscriptions_only(shared_data):
    d = shared_data / "ravenstack_saas_synthetic"
    result = load_dataset(
        d / "ravenstack_accounts.csv",
        subscriptions=d / "ravenstack_subscriptions.csv",
        mapping=[str(MAPPINGS / "ravenstack.yaml"), "churn_flag="],
    )
    # every account still holds an open subscription at 2024-12-31 (checked in SQL): none churned
    assert result.report.tables["accounts"].churned == 0


def test_pdl_universe(shared_data):
    path = shared_data / "company_universe_pdl_enterprise" / "companies_sorted_top21000.csv"
    result = load_table(path, "universe", mapping=str(MAPPINGS / "pdl_universe.yaml"))
    t = result.table
    assert t.num_rows == 21000
    assert Counter(t["size_range_band"].to_pylist()) == {"1001 - 5000": 15861, "5001 - 10000": 3044, "10001+": 2095}
    first = t.slice(0, 1).to_pylist()[0]
    assert first["name"] == "ibm" and first["employees"] == 274047 and first["size_range"] == 10001
    assert (first["city"], first["region"], first["country"]) == ("new york", "new york", "united states")
    assert result.kinds["founded_year"] is ColumnKind.NUMERIC and result.kinds["industry"] is ColumnKind.CATEGORICAL
    # the saved pandas index (no header name) goes through the normal reader, kept as an attribute with a warning
    report = result.report.tables["universe"]
    assert (report.encoding, report.format) == ("utf-8", "csv")
    assert first["column_1"] == 5872184
    (warning,) = result.report.problems
    assert warning.severity == "warning" and warning.column == "column_1" and "no header name" in warning.message


@pytest.mark.slow
def test_financedatabase_universe(shared_data):
    path = shared_data / "company_universe_financedatabase" / "equities_80_exchanges.csv.gz"
    result = load_table(path, "universe")
    t = result.table
    assert t.num_rows == 69152 and result.report.preset.name == "generic"
    mapping = result.report.tables["universe"].mapping
    assert mapping["symbol"] == "account_id" and mapping["website"] == "domain" and mapping["state"] == "region"
    assert mapping["industry"] == "industry" and mapping["sector"] == "sector"
    assert pc.sum(t["delisted"]).as_py() == 4688
    assert t.slice(1, 1)["domain"][0].as_py() == "aalberts.com"
