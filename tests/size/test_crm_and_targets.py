"""Customers and open pipeline are marked and kept out of the new-target list; duplicates merge; reasons read."""

from __future__ import annotations

import pyarrow as pa

from icpkit.size.funnel import size_universe
from icpkit.spec import load_spec

SPEC = load_spec("""\
name: t
layers:
  firmographic:
    - {field: industry, in: [Software], points: 60}
    - {field: employees, between: [50, 500], points: 40}
tiers: {tier1: 100, tier2: 60, tier3: 40}
exclusions:
  - {field: business_model, in: [B2C], reason: churns}
""")

UNIVERSE = pa.table(
    {
        "name": ["Acme Inc.", "Globex Corp.", "Initech", "Umbrella", "Hooli", "Mercury", "Mercury", "Soylent", "Acme"],
        "domain": [
            "acme.com",
            None,
            "initech.io",
            "umbrella.com",
            "hooli.com",
            "mercury.com",
            "mercury.io",
            "soylent.com",
            "https://www.acme.com/",
        ],
        "industry": ["Software"] * 9,
        "employees": [100.0, 200.0, 300.0, 20.0, 120.0, 80.0, 90.0, 100.0, None],
        "business_model": ["B2B", "B2B", "B2B", "B2B", "B2B", "B2B", "B2B", "B2C", "B2B"],
    }
)
ACCOUNTS = pa.table(
    {
        "account_id": ["a1", "a2", "a3", "a4", "a5"],
        "name": ["ACME", "Globex Corporation", "Initech", "Hooli", "Mercury"],
        "domain": ["www.acme.com", "globex.com", None, "hooli.com", "mercury-other.com"],
        "churned": [False, False, False, True, False],
    }
)
DEALS = pa.table(
    {
        "deal_id": ["d1", "d2", "d3", "d4"],
        "account_id": ["a1", "a2", "a3", "a5"],
        "outcome": ["won", "won", "open", "lost"],
    }
)


def _status(sizing):
    t = sizing.targets
    return dict(zip(t.column("name").to_pylist(), t.column("crm_status").to_pylist(), strict=True))


def test_customers_and_pipeline_are_not_relisted():
    sizing = size_universe(SPEC, UNIVERSE, accounts=ACCOUNTS, deals=DEALS)
    r = sizing.report
    # acme.com and https://www.acme.com/ are one company; the two Mercurys (different domains) are two
    assert r.duplicates_merged == 1 and r.step("tam").count == 8
    assert r.step("customer").count == 2  # Acme by domain, Globex by name (universe row has no domain)
    assert r.step("open_pipeline").count == 1  # Initech by name (CRM account has no domain)
    assert r.step("excluded").count == 1  # Soylent, B2C
    names = sizing.targets.column("name").to_pylist()
    assert "Acme Inc." not in names and "Globex Corp." not in names and "Initech" not in names
    # Hooli churned: a former customer, listed and marked; Mercury's CRM domain differs: no match
    assert _status(sizing) == {"Hooli": "former_customer", "Mercury": "new", "Umbrella": "new"}
    assert r.step("new").count == 4 and r.crm.accounts == {
        "customer": 2,
        "open_pipeline": 1,
        "former_customer": 1,
        "in_crm": 1,
    }
    assert r.crm.found_in_universe["customer"] == 2 and r.crm.found_in_universe["in_crm"] == 0
    assert r.crm.tiers_of_customers == {"tier1": 2}


def test_include_existing_keeps_them_marked():
    sizing = size_universe(SPEC, UNIVERSE, accounts=ACCOUNTS, deals=DEALS, include_existing=True)
    status = _status(sizing)
    assert status["Acme Inc."] == "customer" and status["Initech"] == "open_pipeline"


def test_an_accounts_file_without_outcomes_is_a_customer_list():
    sizing = size_universe(SPEC, UNIVERSE, accounts=ACCOUNTS.drop_columns(["churned"]))
    assert sizing.report.step("customer").count == 4  # Acme, Globex, Initech, Hooli (Mercury differs)


def test_target_list_order_and_reasons():
    t = size_universe(SPEC, UNIVERSE).targets
    rows = t.select(["rank", "tier", "score", "name", "reasons"]).to_pylist()
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert [(r["tier"], r["score"]) for r in rows] == sorted(
        [(r["tier"], r["score"]) for r in rows], key=lambda x: (x[0], -x[1])
    )
    assert rows[0]["reasons"] == "Software companies (+60); with 50 to 500 employees (+40)"
    umbrella = next(r for r in rows if r["name"] == "Umbrella")
    assert umbrella["tier"] == "tier2" and umbrella["reasons"] == "Software companies (+60)"
    assert t.column_names[:4] == ["rank", "tier", "score", "crm_status"]
    assert "matched" not in t.column_names  # ids replaced by words
