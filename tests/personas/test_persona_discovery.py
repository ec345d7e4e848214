"""Personas proposed from contacts on won vs lost deals: planted titles are found, noise and won-only data are not."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from icpkit.discover.personas import propose_personas
from icpkit.errors import InputError
from icpkit.score import score_record
from icpkit.spec import ICPSpec
from icpkit.synth import generate, generate_contacts


@pytest.fixture(scope="module")
def history():
    return generate(3000, seed=11)


def test_planted_decision_makers_are_found_with_their_evidence(history) -> None:
    found = propose_personas(generate_contacts(history.deals, seed=11), history.deals)
    by_name = {p.name: p for p in found.personas}
    assert {"vp", "director"} <= set(by_name)
    assert {"vp", "vice president"} & set(by_name["vp"].titles)
    assert by_name["director"].titles == ["head"]
    for p in found.personas:
        ev = p.evidence
        assert ev is not None and ev.support >= 5 and ev.q is not None and ev.q <= 0.05
        assert ev.lift is not None and ev.lift >= 1.5 and ev.lift_low is not None and ev.lift_low > 1
        assert "assistant" in p.exclude_titles or not p.titles
    lifts = [p.evidence.lift for p in found.personas]
    assert lifts == sorted(lifts, reverse=True)  # priority by lift
    # noise titles (engineers, analysts, coordinators) never become personas
    words = {w for p in found.personas for t in p.titles for w in t.split()}
    assert not words & {"engineer", "software", "analyst", "data", "coordinator", "operations"}
    spec = ICPSpec(name="p", personas=found.personas)
    assert score_record(spec, {"title": "VP of Sales"}).persona == "vp"
    assert score_record(spec, {"title": "Executive Assistant"}).persona is None


def test_titles_independent_of_the_outcome_give_no_persona(history) -> None:
    found = propose_personas(generate_contacts(history.deals, seed=12, effect=0.0), history.deals)
    assert found.personas == []
    assert "no title, seniority or department separated won from lost deals" in found.notes[0]
    assert found.candidates.num_rows > 10  # they were tested, not skipped


def test_contacts_linked_by_account_are_compared_per_account(history) -> None:
    """An account is won when any of its deals is: the contrast is weaker than per deal, so the bar is lowered."""
    contacts = generate_contacts(history.deals, seed=11).drop_columns(["deal_id"])
    assert propose_personas(contacts, history.deals).personas == []  # below the default lift of 1.5
    found = propose_personas(contacts, history.deals, min_lift=1.2)
    assert {"vp", "director"} <= {p.name for p in found.personas}
    assert "won from lost accounts" not in " ".join(found.notes)


def test_too_few_deals_with_contacts_say_so(history) -> None:
    contacts = generate_contacts(history.deals, seed=11).slice(0, 20)
    found = propose_personas(contacts, history.deals)
    assert found.personas == [] and "at least 30" in found.notes[0]


def test_contacts_need_a_link_and_a_title(history) -> None:
    contacts = generate_contacts(history.deals, seed=11)
    with pytest.raises(InputError, match="deal_id"):
        propose_personas(contacts.drop_columns(["deal_id", "account_id"]), history.deals)
    with pytest.raises(InputError, match="title"):
        propose_personas(contacts.drop_columns(["title"]), history.deals)


def _olist(shared_data):
    folder = shared_data / "olist_marketing_funnel"
    mql = pacsv.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    won = pacsv.read_csv(folder / "olist_closed_deals_dataset.csv")
    outcome = pc.if_else(pc.is_in(mql["mql_id"], value_set=won["mql_id"]), "won", "lost")
    return mql, won, pa.table({"deal_id": mql["mql_id"], "outcome": outcome})


def test_real_funnel_channels_as_departments(shared_data) -> None:
    """Olist's 8,000 real leads: the acquisition channel stands in for a department (won vs lost is real)."""
    mql, _, deals = _olist(shared_data)
    contacts = pa.table(
        {"deal_id": mql["mql_id"], "title": pa.nulls(mql.num_rows, pa.string()), "department": mql["origin"]}
    )
    found = propose_personas(contacts, deals)
    status = dict(zip(found.candidates["candidate"].to_pylist(), found.candidates["status"].to_pylist(), strict=True))
    assert status["department:email"] == "against" and status["department:social"] == "against"
    assert status["department:paid search"] == "kept" and status["department:organic search"] == "kept"
    for p in found.personas:  # only channels whose win rate is at least 1.5x the 10.5% base
        assert p.department and p.evidence.lift >= 1.5 and p.evidence.base_rate == pytest.approx(842 / 8000)


def test_real_titles_seen_only_on_won_deals_give_no_persona(shared_data) -> None:
    """Olist records business types only for won leads: no contrast with lost ones, so nothing is proposed."""
    _, won, deals = _olist(shared_data)
    contacts = pa.table({"deal_id": won["mql_id"], "title": won["business_type"]})
    found = propose_personas(contacts, deals)
    assert found.personas == [] and found.notes
