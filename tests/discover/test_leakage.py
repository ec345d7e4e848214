"""Outcome leakage: fields a CRM fills because of the outcome never become criteria; real ICP signals stay.

The exports are realistic HubSpot, Salesforce and Pipedrive files of a planted history (``leakage_exports``), each with
the fields that CRM fills at the win. Every test names the fields it expects left out.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from leakage_exports import EXPORTS, HUBSPOT_LEAKS, history

from icpkit.discover import ICPBuilder
from icpkit.discover.leakage import LeftOutField, account_outcomes, leakage_by_evidence, leakage_by_rule
from icpkit.errors import InputError
from icpkit.ingest import load_dataset
from icpkit.synth import NOISE_FIELDS, PROXY_FIELDS, TRUTH_FIELDS, generate

PLANTED = set(TRUTH_FIELDS)
ALLOWED = PLANTED | set(PROXY_FIELDS) | set(NOISE_FIELDS) | {"business_model", "sales_motion", "source"}


@pytest.fixture(scope="module")
def planted():
    return history()


@pytest.fixture(scope="module")
def built(planted, tmp_path_factory):
    """Each CRM's export of the planted history, loaded and built: (load result, build result)."""
    out = {}
    for crm, (write, _) in EXPORTS.items():
        files = write(planted, tmp_path_factory.mktemp(crm))
        loaded = load_dataset(files["accounts"], files["deals"])
        out[crm] = (loaded, ICPBuilder().fit(loaded.dataset))
    return out


def _criteria_fields(result) -> set[str]:
    fields = set()
    for _, c in result.spec.criteria():
        fields.add(c.field)
        fields.update(a.field for a in c.also)
    return fields


@pytest.mark.parametrize("crm", list(EXPORTS))
def test_no_leaked_criterion_and_the_planted_icp_is_found(built, crm):
    loaded, result = built[crm]
    assert loaded.report.preset.name == crm
    leaks = EXPORTS[crm][1]
    fields = _criteria_fields(result)
    assert not fields & set(leaks), f"leaked criteria: {fields & set(leaks)}"
    assert fields <= ALLOWED, f"criteria on fields outside the planted history: {fields - ALLOWED}"
    assert fields >= PLANTED, f"planted criteria missing: {PLANTED - fields}"
    # every leaked field is left out by rule, by name
    by_kind = {f.field: f.kind for f in result.left_out}
    assert {f: by_kind.get(f) for f in leaks} == dict.fromkeys(leaks, "leakage_rule")
    assert not any(f.field in PLANTED for f in result.left_out)
    # and a lead can reach tier 1: the tiers are not held by a customers-only criterion
    assert result.tier_shares(lead=True)["tier1"] > 0


def test_pipedrive_organization_fields_are_read_as_firmographics_and_mrr_as_arr(built, planted):
    loaded, _ = built["pipedrive"]
    a = loaded.dataset.accounts
    assert {"industry", "employees", "annual_revenue", "tech_stack", "business_model"} <= set(a.column_names)
    arr = np.asarray(a["arr"].to_numpy(zero_copy_only=False), dtype=float)
    truth = np.asarray(planted.accounts["arr"].to_numpy(zero_copy_only=False), dtype=float)
    known = ~np.isnan(arr)
    assert known.sum() == (truth > 0).sum()
    np.testing.assert_allclose(arr[known], truth[known], rtol=1e-9)  # MRR x 12


@pytest.mark.parametrize(
    ("crm", "first_id"),
    [("hubspot", "200000000001"), ("salesforce", "001Dn0000000000AAA"), ("pipedrive", "1")],
)
def test_the_crm_record_id_is_the_account_id(built, crm, first_id):
    loaded, _ = built[crm]
    assert loaded.dataset.accounts["account_id"][0].as_py() == first_id


def test_left_out_is_one_list_naming_every_field_and_why(built):
    _, result = built["hubspot"]
    left = {f.field: f for f in result.left_out}
    assert all(isinstance(f, LeftOutField) for f in result.left_out)
    assert {f: left[f].kind for f in ("account_id", "name", "domain")} == dict.fromkeys(
        ("account_id", "name", "domain"), "identifier"
    )
    assert {f: left[f].kind for f in ("arr", "churn_date")} == {"arr": "outcome", "churn_date": "outcome"}
    assert "customer" in left["lifecycle_stage"].reason
    assert sorted(result.leaked()) == sorted(HUBSPOT_LEAKS)
    with pytest.raises(ValueError):  # frozen
        left["type"].kind = "constant"  # type: ignore[misc]
    assert any("left out as leakage" in n and "lifecycle_stage" in n for n in result.notes)


def test_outcome_columns_are_left_out_by_name():
    """customer_since and churn_date record the outcome; they are pinned here by name, not by the code's own list."""
    result = ICPBuilder().fit(generate(3000, seed=1).dataset())
    kinds = {f.field: f.kind for f in result.left_out}
    expected = {"customer_since", "churn_date", "churned", "arr", "expansion_arr"}
    assert {f: kinds.get(f) for f in expected} == dict.fromkeys(expected, "outcome")
    assert {f: kinds.get(f) for f in ("account_id", "name", "domain")} == dict.fromkeys(
        ("account_id", "name", "domain"), "identifier"
    )
    assert not _criteria_fields(result) & expected
    tested = set(result.candidates.column("field").to_pylist())
    assert not tested & expected


# --- by rule ---------------------------------------------------------------------------------------------------

# the names the three CRMs give these fields, as ingest names them (UI labels and API names, snake-cased)
LEAKED_NAMES = [
    # HubSpot labels and internal names
    "lifecycle_stage",
    "lifecyclestage",
    "lead_status",
    "hs_lead_status",
    "type",
    "became_a_customer_date",
    "hs_lifecyclestage_customer_date",
    "became_an_opportunity_date",
    "close_date",
    "closedate",
    "days_to_close",
    "first_deal_created_date",
    "number_of_associated_deals",
    "num_associated_deals",
    "total_revenue",
    "recent_deal_amount",
    "recent_deal_close_date",
    "company_owner",
    "hubspot_owner",
    "last_activity_date",
    "notes_last_updated",
    # Salesforce labels and API names (``Active__c`` is ingested as ``active_c``)
    "account_type",
    "account_status",
    "active_c",
    "customerpriority_c",
    "customer_priority",
    "sla_c",
    "slaexpirationdate_c",
    "sla_expiration_date",
    "upsellopportunity_c",
    "account_owner",
    # Pipedrive, with and without the entity prefix, and the API counts
    "organization_won_deals",
    "won_deals",
    "lost_deals",
    "closed_deals",
    "open_deals",
    "won_deals_count",
    "open_deals_count",
    "organization_label",
    "label",
    "owner",
    # any CRM
    "customer_success_manager",
    "csm",
    "renewal_date",
    "contract_end_date",
    "health_score",
    "nps",
    "lost_reason",
]

REAL_SIGNALS = [
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "region",
    "city",
    "founded_year",
    "funding_stage",
    "last_funding_date",
    "business_model",
    "tech_stack",
    "ownership",
    "account_source",
    "sic",
    "number_of_locations",
    "year_founded",
    "technologies",
]


def test_rules_catch_every_crm_spelling_and_spare_firmographics():
    found = leakage_by_rule(LEAKED_NAMES + REAL_SIGNALS)
    assert sorted(found) == sorted(LEAKED_NAMES)
    assert all(found[name] for name in LEAKED_NAMES)


def test_rules_leave_canonical_outcome_and_id_columns_to_discovery():
    assert leakage_by_rule(["arr", "customer_since", "churn_date", "account_id", "closed_date"]) == {}


# --- by evidence -----------------------------------------------------------------------------------------------


def _outcome(result) -> pa.Array:
    c = result.cohorts
    return account_outcomes(c.customer, c.churned, c.codes == 3)


def test_evidence_spares_every_planted_signal_including_industry_with_lift_two(planted):
    result = ICPBuilder().fit(planted.dataset())
    industry = [c for _, c in result.spec.criteria() if c.field == "industry"]
    assert industry and industry[0].evidence.lift >= 1.5  # a real, strong signal...
    found = leakage_by_evidence(planted.accounts, _outcome(result), kinds=planted.kinds["accounts"])
    assert found == {}  # ...that the evidence test leaves alone, as every other planted and noise field


def test_evidence_spares_a_value_with_a_win_rate_lift_of_two(planted):
    """A vertical whose accounts win twice as often as the rest is an ICP signal, never leakage."""
    result = ICPBuilder().fit(planted.dataset())
    outcome = np.array(_outcome(result).to_pylist(), dtype=object)
    won, lost = np.isin(outcome, ["retained", "churned"]), outcome == "lost"
    rng = np.random.default_rng(9)
    r = rng.random(len(outcome))
    vertical = np.where((won & (r < 0.40)) | (lost & (r < 0.10)), "Vertical SaaS", "Other")
    closed = won | lost
    in_v = vertical == "Vertical SaaS"
    lift = won[closed & in_v].mean() / won[closed].mean()
    assert lift >= 1.9
    table = planted.accounts.append_column("vertical", pa.array(vertical))
    assert leakage_by_evidence(table, _outcome(result), kinds=planted.kinds["accounts"]) == {}


def test_evidence_catches_outcome_fields_whatever_they_are_called(planted):
    result = ICPBuilder().fit(planted.dataset())
    won = result.cohorts.customer
    rng = np.random.default_rng(5)
    n = planted.accounts.num_rows
    kunden = np.where(won, "Kunde", np.array(["Interessent", "Partner"])[rng.integers(0, 2, n)])
    onboarding = [dt.date(2025, 1, 1) if w and rng.random() < 0.6 else None for w in won]
    checkin = np.where(won & (rng.random(n) < 0.8), rng.integers(1, 5, n).astype(float), np.nan)
    table = planted.accounts.append_column("kundenstatus", pa.array(kunden))
    table = table.append_column("onboarding_call", pa.array(onboarding, pa.date32()))
    table = table.append_column("quarterly_checkins", pa.array(checkin, from_pandas=True))
    found = leakage_by_evidence(table, _outcome(result), kinds=planted.kinds["accounts"])
    assert sorted(found) == ["kundenstatus", "onboarding_call", "quarterly_checkins"]
    assert "'kunde' on" in found["kundenstatus"] and "customers" in found["kundenstatus"]
    assert "filled in on" in found["onboarding_call"]
    # and the build leaves them out by evidence, with the same reason
    ds = planted.dataset()
    ds.accounts = table
    built = ICPBuilder().fit(ds)
    kinds = {f.field: f.kind for f in built.left_out}
    assert {f: kinds.get(f) for f in found} == dict.fromkeys(found, "leakage_evidence")
    assert not _criteria_fields(built) & set(found)


def test_evidence_needs_support_on_both_outcomes():
    # a perfectly separating value, but only 20 lost accounts: no conclusion either way
    outcome = pa.array(["retained"] * 40 + ["lost"] * 20)
    table = pa.table({"flag": pa.array(["x"] * 40 + ["y"] * 20)})
    assert leakage_by_evidence(table, outcome) == {}
    bigger = pa.table({"flag": pa.array(["x"] * 40 + ["y"] * 80)})
    assert "flag" in leakage_by_evidence(bigger, pa.array(["retained"] * 40 + ["lost"] * 80))


def test_evidence_upper_bound_tolerates_a_few_exceptions_but_not_many():
    outcome = pa.array(["retained"] * 200 + ["lost"] * 400)
    few = pa.table({"f": pa.array(["a"] * 200 + ["a"] * 4 + ["b"] * 396)})  # 1% of lost accounts
    # one in ten of each outcome on the other's value: a strong signal, not a recorded outcome
    many = pa.table({"f": pa.array(["a"] * 180 + ["b"] * 20 + ["a"] * 40 + ["b"] * 360)})
    assert "f" in leakage_by_evidence(few, outcome)
    assert leakage_by_evidence(many, outcome) == {}


# --- allow -----------------------------------------------------------------------------------------------------


def test_allow_brings_one_field_back(built):
    loaded, _ = built["hubspot"]
    result = ICPBuilder(allow=("Lifecycle Stage",)).fit(loaded.dataset)
    kinds = {f.field: f.kind for f in result.left_out}
    assert "lifecycle_stage" not in kinds
    assert {f: kinds[f] for f in HUBSPOT_LEAKS if f != "lifecycle_stage"} == dict.fromkeys(
        [f for f in HUBSPOT_LEAKS if f != "lifecycle_stage"], "leakage_rule"
    )
    assert "lifecycle_stage" in _criteria_fields(result)  # back, and (being the outcome) found again
    assert any("lifecycle_stage was allowed back" in n for n in result.notes)


def test_allow_of_an_unknown_or_outcome_field_is_an_input_error(built):
    loaded, _ = built["hubspot"]
    with pytest.raises(InputError, match="no such field"):
        ICPBuilder(allow=("lifecycle",)).fit(loaded.dataset)
    with pytest.raises(InputError, match="outcome itself"):
        ICPBuilder(allow=("churn_date",)).fit(loaded.dataset)
