"""The ICP in words: templates for every operator, human numbers, one repeatable sentence."""

from __future__ import annotations

import pytest

from icpkit.spec import Clause, Criterion, Exclusion, ICPSpec, Op
from icpkit.words import clause_text, describe_spec, format_number, humanise_field, icp_sentence


@pytest.mark.parametrize(
    ("field", "op", "value", "text"),
    [
        ("industry", "in", ["Software", "Fintech"], "Software or Fintech companies"),
        ("industry", "equals", " Software ", "Software companies"),
        ("industry", "not_in", ["Retail"], "outside Retail"),
        ("country", "in", ["US", "Canada", "UK"], "in US, Canada or UK"),
        ("country", "not_in", ["FR"], "outside FR"),
        ("funding_stage", "in", ["Series A", "Series B"], "with funding stage Series A or Series B"),
        ("business_model", "not_in", ["B2C"], "with business model other than B2C"),
        ("employees", "between", [50, 500], "with 50 to 500 employees"),
        ("employees", "between", [1200, None], "with at least 1,200 employees"),
        ("employees", "lte", 10000, "with at most 10,000 employees"),
        ("annual_revenue", "between", [5_000_000, 50_000_000], "with $5M to $50M annual revenue"),
        ("annual_revenue", "gte", 1_500_000, "with at least $1.5M annual revenue"),
        ("gross_margin", "gte", 0.6, "with gross margin of at least 0.6"),
        ("founded_year", "between", [None, 2015], "with founded year of at most 2,015"),
        ("tech_stack", "contains_any", ["Salesforce", "HubSpot"], "running Salesforce or HubSpot"),
        ("tech_stack", "contains_all", ["Slack", "Snowflake"], "running Slack and Snowflake"),
        ("tech_stack", "contains_none", ["Marketo"], "not running Marketo"),
        ("channels", "contains_any", ["email"], "with channels including email"),
        ("channels", "contains_none", ["print", "tv"], "without print or tv in channels"),
        ("is_hiring", "is_true", True, "that are hiring"),
        ("is_hiring", "is_false", True, "that are not hiring"),
        ("has_sso", "is_true", True, "that have sso"),
        ("has_sso", "is_false", True, "that do not have sso"),
        ("venture_backed", "is_true", True, "that are venture backed"),
        ("website", "exists", True, "with a known website"),
        ("last_funding_date", "within_days", 180, "with funding in the last 180 days"),
        ("churn_date", "within_days", 1, "with churn in the last 1 day"),
        ("demo_at", "within_days", 0, "with demo today"),
        ("trial", "equals", True, "with trial yes"),
    ],
)
def test_clause_text(field: str, op: str, value: object, text: str) -> None:
    assert clause_text(Clause(field=field, op=op, value=value)) == text


def test_every_operator_has_a_template() -> None:
    samples = {
        Op.EQUALS: "x",
        Op.IN: ["x", "y"],
        Op.NOT_IN: ["x", "y"],
        Op.BETWEEN: [1, 2],
        Op.GTE: 1,
        Op.LTE: 1,
        Op.CONTAINS_ANY: ["x", "y"],
        Op.CONTAINS_ALL: ["x", "y"],
        Op.CONTAINS_NONE: ["x", "y"],
        Op.IS_TRUE: True,
        Op.IS_FALSE: True,
        Op.EXISTS: True,
        Op.WITHIN_DAYS: 30,
    }
    assert set(samples) == set(Op)
    texts = {op: clause_text(Clause(field="some_field", op=op, value=v)) for op, v in samples.items()}
    assert len(set(texts.values())) == len(Op)  # each operator reads differently
    assert not any(op.value in t for op, t in texts.items() if "_" in op.value)  # no operator jargon


@pytest.mark.parametrize(
    ("x", "money", "text"),
    [
        (1200, False, "1,200"),
        (1200.0, False, "1,200"),
        (0.25, False, "0.25"),
        (5_000_000, True, "$5M"),
        (1_500, True, "$1.5K"),
        (2_500_000_000, True, "$2.5B"),
        (750, True, "$750"),
        (12_345_678, True, "$12.3M"),
    ],
)
def test_format_number(x: float, money: bool, text: str) -> None:
    assert format_number(x, money=money) == text


def test_humanise_field() -> None:
    assert humanise_field("annual_revenue") == "annual revenue"


ACME = ICPSpec(
    name="acme",
    layers={
        "firmographic": [
            Criterion(field="employees", op="between", value=[50, 500], points=15),
            Criterion(field="industry", op="in", value=["Software", "Fintech"], points=20),
            Criterion(field="region", op="equals", value="EMEA", points=1),
        ],
        "technographic": [Criterion(field="tech_stack", op="contains_any", value=["Salesforce", "HubSpot"], points=15)],
        "trigger": [
            Criterion(
                field="open_roles",
                op="contains_any",
                value=["SDR"],
                points=10,
                label="hiring SDRs",
                also=[Clause(field="sdr_openings", op="gte", value=2)],
            )
        ],
    },
    exclusions=[Exclusion(field="business_model", op="in", value=["B2C"], reason="churned 62% vs 18%")],
)


def test_icp_sentence_reads_like_the_pitch() -> None:
    assert icp_sentence(ACME) == (
        "Software or Fintech companies with 50 to 500 employees, in EMEA, running Salesforce or HubSpot, "
        "hiring SDRs; not B2C"
    )
    assert icp_sentence(ACME) == icp_sentence(ACME.model_copy())  # deterministic


def test_sentence_keeps_the_strongest_criteria_and_works_without_industry() -> None:
    assert icp_sentence(ACME, max_phrases=2) == "Software or Fintech companies with 50 to 500 employees; not B2C"
    bare = ICPSpec(
        name="x",
        layers={"firmographic": [Criterion(field="is_active", op="is_true", points=5)]},
        exclusions=[Exclusion(field="employees", op="lte", value=5, reason="too small")],
    )
    assert icp_sentence(bare) == "Companies that are active; not with at most 5 employees"
    assert icp_sentence(ICPSpec(name="empty")) == "Companies"


def test_describe_spec_lists_layers_texts_and_points() -> None:
    assert describe_spec(ACME) == [
        ("firmographic", "with 50 to 500 employees", 15),
        ("firmographic", "Software or Fintech companies", 20),
        ("firmographic", "in EMEA", 1),
        ("technographic", "running Salesforce or HubSpot", 15),
        ("trigger", "hiring SDRs", 10),
        ("exclusion", "not B2C (churned 62% vs 18%)", 0),
    ]
    unlabeled = ACME.layers["trigger"][0].model_copy(update={"label": None})
    spec = ACME.model_copy(update={"layers": {"trigger": [unlabeled]}})
    assert describe_spec(spec)[0][1] == "with open roles including SDR and with sdr openings of at least 2"


def test_sentence_says_who_they_are_and_leaves_how_they_bought_to_the_list() -> None:
    bought = Criterion(field="source", op="in", value=["partner"], points=40)
    spec = ACME.model_copy(update={"layers": {**ACME.layers, "behavioral": [bought]}})
    assert icp_sentence(spec) == icp_sentence(ACME)
    assert ("behavioral", "with source partner", 40) in describe_spec(spec)
    only_bought = ICPSpec(name="x", layers={"behavioral": [bought]})
    assert icp_sentence(only_bought) == "Companies"
