"""Spec diff and tier migration: a spec against itself is empty, every kind of change is named, and the migration
matrix accounts for every account."""

from __future__ import annotations

import pyarrow as pa
import pytest

from icpkit.diff import diff_specs, tier_migration
from icpkit.spec import Criterion, Evidence, Exclusion, ICPSpec, Op, Tiers
from icpkit.synth import generate


@pytest.fixture(scope="module")
def truth() -> ICPSpec:
    return generate(50, seed=0).truth


def _replace(spec: ICPSpec, layer: str, i: int, **changes: object) -> ICPSpec:
    layers = {k: list(v) for k, v in spec.layers.items()}
    layers[layer][i] = layers[layer][i].model_copy(update=changes)
    return spec.model_copy(update={"layers": layers})


def test_self_diff_is_empty(truth: ICPSpec) -> None:
    d = diff_specs(truth, truth)
    assert d.empty and not (d.added or d.removed or d.changed or d.tiers or d.routing or d.as_of)
    assert d.unchanged == 4 and d.summary().startswith("no change")


def test_documentation_only_edits_are_no_change(truth: ICPSpec) -> None:
    ev = Evidence(support=40, lift=2.0, lift_low=1.5, lift_high=2.6)
    edited = _replace(truth, "firmographic", 0, evidence=ev, label="target verticals", value=[" fintech", "SOFTWARE"])
    edited = edited.model_copy(update={"name": "renamed", "version": 7, "description": "words"})
    assert diff_specs(truth, edited).empty


def test_points_band_edges_and_values(truth: ICPSpec) -> None:
    new = _replace(truth, "firmographic", 0, value=["Software", "Healthcare"], points=30)
    new = _replace(new, "firmographic", 1, value=[100, None])
    d = diff_specs(truth, new)
    assert not d.empty and not d.added and not d.removed and d.unchanged == 2
    by_field = {c.field: c.changes for c in d.changed}
    assert by_field["industry"] == ["values added: Healthcare", "values removed: Fintech", "points 25 -> 30"]
    assert by_field["employees"] == ["lower edge 50 -> 100", "upper edge 500 -> open"]


def test_added_removed_operator_and_layer(truth: ICPSpec) -> None:
    layers = {k: list(v) for k, v in truth.layers.items()}
    layers["trigger"] = []
    layers["technographic"] = [layers["technographic"][0].model_copy(update={"op": Op.CONTAINS_ALL})]
    layers["economic"] = [Criterion(field="annual_revenue", op=Op.GTE, value=1_000_000, points=10)]
    new = truth.model_copy(update={"layers": layers})
    d = diff_specs(truth, new)
    assert [a.field for a in d.added] == ["annual_revenue"] and d.added[0].layer == "economic"
    assert [r.field for r in d.removed] == ["last_funding_date"]
    assert [c.changes for c in d.changed] == [["operator contains_any -> contains_all"]]
    moved = {k: list(v) for k, v in truth.layers.items()}
    moved["economic"] = [moved["firmographic"].pop(1)]
    d = diff_specs(truth, truth.model_copy(update={"layers": moved}))
    assert [c.changes for c in d.changed] == [["layer firmographic -> economic"]]


def test_exclusions_tiers_routing_as_of(truth: ICPSpec) -> None:
    new = truth.model_copy(
        update={
            "exclusions": [
                Exclusion(field="business_model", op=Op.IN, value=["B2C", "B2B2C"], reason="churn"),
                Exclusion(field="country", op=Op.IN, value=["Japan"], reason="no sales team"),
            ],
            "tiers": Tiers(tier1=80, tier2=50, tier3=30),
            "routing": truth.routing.model_copy(update={"tier3": "sales"}),
            "as_of": None,
        }
    )
    d = diff_specs(truth, new)
    assert [c.changes for c in d.exclusions_changed] == [["values added: B2B2C"]]
    assert [e.field for e in d.exclusions_added] == ["country"]
    assert [(t.name, t.old, t.new) for t in d.tiers] == [("tier1", 70, 80)]
    assert [(t.name, t.old, t.new) for t in d.routing] == [("tier3", "nurture", "sales")]
    assert d.as_of is not None and d.as_of.new is None
    reverse = diff_specs(new, truth)
    assert [e.field for e in reverse.exclusions_removed] == ["country"]


def test_tier_migration(truth: ICPSpec) -> None:
    accounts = generate(3000, seed=2).accounts
    same = tier_migration(truth, truth, accounts)
    assert same.moved == 0 and same.movers == [] and same.accounts == 3000
    assert sum(sum(r) for r in same.matrix) == 3000
    assert all(same.matrix[i][j] == 0 for i in range(5) for j in range(5) if i != j)

    stricter = truth.model_copy(update={"tiers": Tiers(tier1=100, tier2=75, tier3=50)})
    m = tier_migration(truth, stricter, accounts, top=5)
    assert sum(sum(r) for r in m.matrix) == 3000 and m.up == 0 and m.down == m.moved > 0
    # score 75 accounts were tier1 (>= 70) and are now tier2 (75 <= s < 100)
    assert m.count("tier1", "tier2") > 0 and m.count("tier2", "tier1") == 0
    assert m.count("excluded", "excluded") == same.count("excluded", "excluded")
    assert len(m.movers) == 5 and all(x.old_tier != x.new_tier for x in m.movers)
    ids = set(accounts.column("account_id").to_pylist())
    assert all(x.id in ids for x in m.movers)


def test_tier_migration_needs_no_id_column(truth: ICPSpec) -> None:
    table = pa.table({"industry": ["Software", "Retail"], "employees": [100.0, 5.0]})
    m = tier_migration(truth, truth.model_copy(update={"tiers": Tiers(tier1=20, tier2=20, tier3=20)}), table)
    assert m.movers[0].id == "0" and m.count("tier2", "tier1") == 1  # 50 points: tier2, then tier1


def test_personas_persona_fields_and_routing_rules() -> None:
    from icpkit.spec.model import Persona, PersonaFields, RoutingRule

    dm = Persona(name="dm", titles=["vp", "chief*"], exclude_titles=["assistant"])
    ops = Persona(name="ops", titles=["revops"], department=["operations"])
    rule = RoutingRule(tier=["tier1"], persona=["dm"], route="sales_now")
    old = ICPSpec(name="p", personas=[dm, ops], routing_rules=[rule])
    assert diff_specs(old, old).empty
    evidence_only = old.model_copy(update={"personas": [dm.model_copy(update={"description": "x"}), ops]})
    assert diff_specs(old, evidence_only).empty

    fin = Persona(name="fin", titles=["cfo"])
    new = ICPSpec(
        name="p",
        personas=[dm.model_copy(update={"titles": ["vp"]}), fin],
        persona_fields=PersonaFields(title="job_title"),
        routing_rules=[rule.model_copy(update={"route": "ae_now"})],
    )
    d = diff_specs(old, new)
    assert d.personas_added == ['fin: title has "cfo"']
    assert d.personas_removed == ['ops: title has "revops"; department has "operations"']
    changed = [(c.name, c.new) for c in d.personas_changed]
    assert changed == [("dm", 'title has "vp" (not when the title has "assistant")')]
    assert [(f.name, f.old, f.new) for f in d.persona_fields] == [("title", "title", "job_title")]
    assert d.routing_rules.old == ["tier tier1, persona dm → sales_now"]
    assert d.routing_rules.new == ["tier tier1, persona dm → ae_now"]
    assert not d.empty_filters and "3 persona changes" in d.summary() and "routing rules changed" in d.summary()

    swapped = diff_specs(old, old.model_copy(update={"personas": [ops, dm]}))
    assert swapped.personas_reordered and not swapped.personas_changed and "personas reordered" in swapped.summary()
