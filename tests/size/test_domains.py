"""Domain and name keys: the DuckDB macros and the Python functions give the same answers."""

from __future__ import annotations

import duckdb
import pytest

from icpkit.size.domains import (
    domain_candidates,
    is_free_mail,
    normalise_host,
    normalise_name,
    register_macros,
    registrable_domain,
)

DOMAINS = [
    ("https://www.EU.Acme.co.uk:8080/x?y=1", "eu.acme.co.uk", "acme.co.uk"),
    ("jane@eu.acme.co.uk", "eu.acme.co.uk", "acme.co.uk"),
    ("WWW.IBM.COM", "ibm.com", "ibm.com"),
    ("ibm.com.", "ibm.com", "ibm.com"),
    ("http://www2.foo.com.br/path", "foo.com.br", "foo.com.br"),
    ("https://a.com/@user", "a.com", "a.com"),
    ("forces.gc.ca", "forces.gc.ca", "forces.gc.ca"),
    ("co.uk", "co.uk", None),
    ("localhost", None, None),
    ("", None, None),
    ("Jane <jane@acme.com>", None, None),
    (None, None, None),
]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    register_macros(c)
    yield c
    c.close()


@pytest.mark.parametrize(("raw", "host", "registrable"), DOMAINS)
def test_domain_keys_python_and_sql_agree(con, raw, host, registrable):
    assert normalise_host(raw) == host
    assert registrable_domain(raw) == registrable
    assert con.execute("SELECT icp_hostkey(?), icp_domain(?)", [raw, raw]).fetchone() == (host, registrable)


@pytest.mark.parametrize(
    ("host", "candidates"),
    [
        ("a.b.acme.co.uk", ["a.b.acme.co.uk", "b.acme.co.uk", "acme.co.uk"]),
        ("acme.com", ["acme.com"]),
        ("co.uk", []),
        (None, []),
    ],
)
def test_subdomains_walk_up_to_the_registrable_domain(con, host, candidates):
    assert domain_candidates(host) == candidates
    assert con.execute("SELECT icp_candidates(?)", [host]).fetchone()[0] == candidates


@pytest.mark.parametrize(
    ("domain", "free"),
    [("gmail.com", True), ("yahoo.co.uk", True), ("gmx.at", True), ("proton.me", True), ("acme.com", False)],
)
def test_free_mail(con, domain, free):
    assert is_free_mail(domain) is free
    assert con.execute("SELECT icp_free_mail(?)", [domain]).fetchone()[0] is free


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("The Acme Company, Inc.", "acme"),
        ("ACME", "acme"),
        ("Aalberts N.V.", "aalberts"),
        ("AALBERTS NV", "aalberts"),
        ("Société Générale S.A.", "societe generale"),
        ("Procter & Gamble Co.", "procter and gamble"),
        ("L'Oréal", "loreal"),
        ("", None),
    ],
)
def test_name_keys_python_and_sql_agree(con, raw, key):
    assert normalise_name(raw) == key
    assert con.execute("SELECT icp_name(?)", [raw]).fetchone()[0] == key
