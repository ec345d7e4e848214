"""Enrichment of hand-made leads against the real PDL universe (every domain below is in the raw file)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from icpkit.size.enrich import Enricher, enrich

pytestmark = pytest.mark.realdata

LEADS = [
    # (email, domain, expected status, expected company name, expected enrich_domain)
    (None, "https://www.IBM.com/products", "matched", "ibm", "ibm.com"),
    (None, "MICROSOFT.COM", "matched", "microsoft", "microsoft.com"),
    ("Jane.Doe@BBC.co.uk", None, "matched", "bbc", "bbc.co.uk"),
    ("ops@mail.google.com", None, "matched", "google", "google.com"),  # subdomain -> registrable
    ("x@forces.gc.ca", None, "matched", "department of national defence", "forces.gc.ca"),  # never collapsed to gc.ca
    ("bob@gmail.com", None, "free_mail", None, "gmail.com"),
    ("amy@yahoo.co.uk", None, "free_mail", None, "yahoo.co.uk"),
    ("lee@no-such-company-xyz.com", None, "no_match", None, "no-such-company-xyz.com"),
    (None, None, "no_domain", None, None),
    ("not an email", "n/a", "no_domain", None, None),
]


@pytest.fixture(scope="module")
def leads():
    return pa.table(
        {
            "lead_id": [str(i) for i in range(len(LEADS))],
            "email": [e for e, *_ in LEADS],
            "domain": [d for _, d, *_ in LEADS],
            "employees": [None, 7.0, *([None] * (len(LEADS) - 2))],
        }
    )


def test_the_domains_are_in_the_raw_file(pdl_path):
    found = duckdb.sql(
        "SELECT list_sort(list(domain)) FROM read_csv(?) WHERE domain IN "
        "('ibm.com', 'microsoft.com', 'bbc.co.uk', 'google.com', 'forces.gc.ca', 'yahoo.com')",
        params=[str(pdl_path)],
    ).fetchall()[0][0]
    assert found == ["bbc.co.uk", "forces.gc.ca", "google.com", "ibm.com", "microsoft.com", "yahoo.com"]


def test_enrich_outcomes_and_shares(pdl_universe, leads):
    result = enrich(leads, pdl_universe)
    t = result.table
    assert t.column("lead_id").to_pylist() == leads.column("lead_id").to_pylist()  # order kept
    assert t.column("enrich_status").to_pylist() == [s for *_, s, _, _ in LEADS]
    assert t.column("name").to_pylist() == [n for *_, n, _ in LEADS]
    assert t.column("enrich_domain").to_pylist() == [d for *_, d in LEADS]
    # the lead's own value wins; the universe fills the gaps
    assert t.column("employees").to_pylist()[:2] == [274047.0, 7.0]
    r = result.report
    assert r.counts == {"matched": 5, "free_mail": 2, "no_match": 1, "no_domain": 2}
    assert r.shares == {"matched": 0.5, "free_mail": 0.2, "no_match": 0.1, "no_domain": 0.2}
    assert r.filled["employees"] == 4 and r.filled["industry"] == 5
    assert "5 matched (50%)" in r.summary()


def test_yahoo_the_company_is_never_matched_by_free_mail(pdl_universe):
    # yahoo.com is a company in the universe, but a yahoo.com address is a consumer mailbox
    t = enrich(pa.table({"email": ["ceo@yahoo.com"]}), pdl_universe).table
    assert t.column("enrich_status").to_pylist() == ["free_mail"]


def test_enricher_agrees_with_the_bulk_join(pdl_universe, leads):
    enricher = Enricher(pdl_universe)
    bulk = enrich(leads, pdl_universe).table.to_pylist()
    for record, expected in zip(leads.to_pylist(), bulk, strict=True):
        got = enricher.enrich(record)
        assert got["enrich_status"] == expected["enrich_status"]
        assert got["enrich_domain"] == expected["enrich_domain"]
        assert got.get("name") == expected["name"] and got.get("employees") == expected["employees"]
    assert enricher.lookup("jane@eu.ibm.com")[:2] == ("matched", "ibm.com")
