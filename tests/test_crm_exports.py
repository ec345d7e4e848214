"""The realistic CRM exports used by the end-to-end tests look like the real ones, and hold what they promise."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crm_exports import CRMS, EXPORT_DATE, crm_export

FIRST_HEADER = {"hubspot": '"Record ID"', "salesforce": '"Id"', "pipedrive": '"Organization - ID"'}
DEAL_HEADER = {"hubspot": '"Record ID"', "salesforce": '"Opportunity ID"', "pipedrive": '"Deal - ID"'}
# per CRM: (account id column, the deal's link to it, outcome expression over the deals, expected close column)
DEALS = {
    "hubspot": ("Record ID", "Associated Company IDs", "\"Is Closed Won\" = 'true'",
                "\"Deal Stage\" NOT LIKE 'Closed%'", "Close Date"),
    "salesforce": ("Id", "Account ID", "\"Won\" = '1'", "\"Closed\" = '0'", "Close Date"),
    "pipedrive": ("Organization - ID", "Deal - Organization ID", "\"Deal - Status\" = 'Won'",
                  "\"Deal - Status\" = 'Open'", "Deal - Expected close date"),
}  # fmt: skip
# a field the CRM fills at the win, and the values it holds for customers
CUSTOMER_MARK = {
    "hubspot": ("Lifecycle Stage", ("customer",)),
    "salesforce": ("Type", ("Customer - Direct", "Customer - Channel")),
    "pipedrive": ("Organization - Label", ("Customer",)),
}


@pytest.fixture(scope="module", params=CRMS)
def export(request, tmp_path_factory):
    return crm_export(request.param, tmp_path_factory.mktemp(request.param), n_accounts=400, n_leads=50, seed=3)


def test_headers_and_quoting_are_the_crm_s(export):
    first = export.csv["accounts"].read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(FIRST_HEADER[export.crm] + ",")
    assert all(h.startswith('"') and h.endswith('"') for h in first.split(","))  # every cell quoted
    deals = export.csv["deals"].read_text(encoding="utf-8").splitlines()[0]
    assert deals.startswith(DEAL_HEADER[export.crm] + ",")
    leads = export.csv["leads"].read_text(encoding="utf-8").splitlines()[0]
    assert leads.startswith(f'"{export.lead_id_header}",')


def test_parquet_holds_the_same_table_as_strings(export):
    for name in ("accounts", "deals", "leads"):
        table = pq.read_table(export.parquet[name])
        assert all(pa.types.is_string(t) for t in table.schema.types)
        as_csv = duckdb.sql(f"SELECT * FROM read_csv('{export.csv[name]}', all_varchar = true)").to_arrow_table()
        assert table.column_names == as_csv.column_names and table.num_rows == as_csv.num_rows


def test_open_deals_close_after_the_export_and_the_rest_before(export):
    _, _, _, is_open, close = DEALS[export.crm]
    rows = duckdb.sql(
        f"""SELECT {is_open} AS open, max(strptime(left("{close}", 10), '%Y-%m-%d')::DATE),
                   min(strptime(left("{close}", 10), '%Y-%m-%d')::DATE)
            FROM read_csv('{export.csv["deals"]}', all_varchar = true) GROUP BY 1"""
    ).fetchall()
    span = {bool(o): (hi, lo) for o, hi, lo in rows}
    assert span[True][1] > EXPORT_DATE and span[True][0] == export.latest_expected_close
    assert span[False][0] <= export.last_event < EXPORT_DATE


def test_the_customer_mark_follows_the_won_deals_exactly(export):
    acc_id, link, won, _, _ = DEALS[export.crm]
    mark, values = CUSTOMER_MARK[export.crm]
    listed = ", ".join(f"'{v}'" for v in values)
    disagree = duckdb.sql(
        f"""WITH won AS (SELECT DISTINCT "{link}" AS id FROM read_csv('{export.csv["deals"]}', all_varchar = true)
                         WHERE {won})
            SELECT count(*) FROM read_csv('{export.csv["accounts"]}', all_varchar = true) a
            WHERE coalesce(a."{mark}" IN ({listed}), false) <> (a."{acc_id}" IN (SELECT id FROM won))"""
    ).fetchall()[0][0]
    assert disagree == 0  # the field records the outcome: it separates won from lost perfectly


def test_numbers_arrive_as_text_and_lists_joined_with_semicolons(export):
    employees = {"hubspot": "Number of Employees", "salesforce": "NumberOfEmployees",
                 "pipedrive": "Organization - Number of employees"}[export.crm]  # fmt: skip
    values = pq.read_table(export.parquet["accounts"]).column(employees).drop_null().to_pylist()
    assert any("," in v and "-" not in v for v in values)  # 1,200
    assert any("-" in v or v.endswith("+") for v in values)  # 51-200, 10,001+
    table = pq.read_table(export.parquet["accounts"])
    lists = [c for c in table.column_names if "tech" in c.lower()]
    assert len(lists) == 1 and any(";" in v for v in table.column(lists[0]).drop_null().to_pylist())


def test_same_seed_same_bytes(tmp_path):
    a = crm_export("hubspot", tmp_path / "a", n_accounts=200, n_leads=20, seed=5)
    b = crm_export("hubspot", tmp_path / "b", n_accounts=200, n_leads=20, seed=5)
    assert all(a.csv[k].read_bytes() == b.csv[k].read_bytes() for k in a.csv)
    assert a.last_event == b.last_event == dt.date(2025, 6, 27)
