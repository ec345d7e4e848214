"""Enrichment by domain: a lead that carries only an email or a website gets its company's firmographics.

The lead's key is the host of its ``domain`` column, else of its ``email``; it matches the universe company with
the longest equal host, walking up subdomains no further than the registrable domain (``jane@eu.acme.co.uk``
finds ``acme.co.uk``; ``forces.gc.ca`` stays itself). See :mod:`icpkit.size.domains`. Free mail never matches.
Bulk enrichment is one DuckDB join (``enrich``); the HTTP API enriches one record at a time with an
:class:`Enricher` built once from the universe (a dict lookup). Both read the same universe rows: per host,
the first company in the universe's order.

Each lead ends in one of four outcomes, reported with counts and shares:
``matched`` (found in the universe), ``free_mail`` (gmail.com & co: a person, not a company), ``no_match`` (a
company domain the universe lacks) and ``no_domain`` (neither a usable domain nor an email).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from icpkit.errors import EngineError, InputError
from icpkit.size.domains import (
    domain_candidates,
    is_free_mail,
    normalise_host,
    register_macros,
    registrable_domain,
)

__all__ = ["ENRICH_STATUSES", "EnrichReport", "EnrichResult", "Enricher", "enrich"]

ENRICH_STATUSES = ("matched", "free_mail", "no_match", "no_domain")
KEY_COLUMN = "enrich_domain"
STATUS_COLUMN = "enrich_status"
Prefer = Literal["lead", "universe"]


class EnrichReport(BaseModel):
    """How many leads were enriched, and why the others were not."""

    leads: int
    counts: dict[str, int]
    shares: dict[str, float]
    filled: dict[str, int]  # column -> leads whose value came from the universe
    universe_companies: int  # distinct company domains in the universe

    def summary(self) -> str:
        parts = [f"{self.counts[s]:,} {s.replace('_', ' ')} ({self.shares[s]:.0%})" for s in ENRICH_STATUSES]
        return f"{self.leads:,} leads: " + ", ".join(parts)


@dataclass
class EnrichResult:
    table: pa.Table
    report: EnrichReport


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    register_macros(con)
    return con


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_sql(columns: list[str]) -> str:
    """The lead's domain: its own domain unless that is free mail or unusable, else its email's."""
    cands = [f"icp_hostkey({_ident(c)})" for c in ("domain", "email") if c in columns]
    if not cands:
        return "CAST(NULL AS VARCHAR)"
    if len(cands) == 1:
        return cands[0]
    d, e = cands
    return (
        f"CASE WHEN icp_registrable({d}) IS NOT NULL AND NOT icp_free_mail(icp_registrable({d})) THEN {d} "
        f"ELSE coalesce({e}, {d}) END"
    )


def enrich(leads: pa.Table, universe: pa.Table, *, prefer: Prefer = "lead") -> EnrichResult:
    """Join ``leads`` to ``universe`` by registrable domain in one DuckDB query, in the leads' row order.

    Universe columns the leads lack are added; shared columns keep the lead's value and take the universe's where
    the lead's is missing (``prefer="universe"`` reverses that). Adds ``enrich_domain`` and ``enrich_status``.
    """
    if leads.num_rows == 0:
        raise InputError("no leads to enrich")
    lead_cols = [c for c in leads.column_names if c not in (KEY_COLUMN, STATUS_COLUMN, "__row")]
    uni_cols = [c for c in universe.column_names if c not in (KEY_COLUMN, STATUS_COLUMN, "__row")]
    if "domain" not in uni_cols:
        raise InputError("the universe has no domain column to enrich by", column="domain")
    con = _connect()
    try:
        con.register("leads", _numbered(leads.select(lead_cols)))
        con.register("universe", _numbered(universe.select(uni_cols)))
        lead_types = dict(zip(lead_cols, con.sql("SELECT * EXCLUDE (__row) FROM leads").types, strict=True))
        ucols = ", ".join(f"{_ident(c)} AS __u{i}" for i, c in enumerate(uni_cols))
        con.execute(
            f"CREATE TEMP TABLE u AS SELECT {ucols}, __k FROM (SELECT *, icp_hostkey(domain) AS __k, "
            "row_number() OVER (PARTITION BY icp_hostkey(domain) ORDER BY __row) AS __r FROM universe) "
            "WHERE __r = 1 AND __k IS NOT NULL AND NOT icp_free_mail(icp_registrable(__k))"
        )
        con.execute(
            f"CREATE TEMP TABLE j AS WITH k AS (SELECT *, {_key_sql(lead_cols)} AS __key FROM leads), "
            "c AS (SELECT __row, unnest(icp_candidates(__key)) AS __cand FROM k "
            "WHERE NOT icp_free_mail(icp_registrable(__key))), "
            "best AS (SELECT c.__row, arg_max(c.__cand, length(c.__cand)) AS __hit FROM c JOIN u ON u.__k = c.__cand "
            "GROUP BY c.__row) "
            "SELECT k.*, u.* FROM k LEFT JOIN best ON best.__row = k.__row LEFT JOIN u ON u.__k = best.__hit"
        )
        select, filled = [], []
        for c in lead_cols:
            if c in uni_cols:
                uval = f"TRY_CAST(__u{uni_cols.index(c)} AS {lead_types[c]})"
                lval = _ident(c)
                first, second = (lval, uval) if prefer == "lead" else (uval, lval)
                select.append(f"coalesce({first}, {second}) AS {_ident(c)}")
                cond = f"{lval} IS NULL AND {uval} IS NOT NULL" if prefer == "lead" else f"{uval} IS NOT NULL"
                filled.append(f"count(*) FILTER (WHERE {cond})")
            else:
                select.append(_ident(c))
        added = [c for c in uni_cols if c not in lead_cols]
        for c in added:
            select.append(f"__u{uni_cols.index(c)} AS {_ident(c)}")
            filled.append(f"count(__u{uni_cols.index(c)})")
        status = (
            "CASE WHEN icp_registrable(__key) IS NULL THEN 'no_domain' "
            "WHEN icp_free_mail(icp_registrable(__key)) THEN 'free_mail' "
            "WHEN __k IS NOT NULL THEN 'matched' ELSE 'no_match' END"
        )
        table = con.sql(
            f"SELECT {', '.join(select)}, coalesce(__k, icp_registrable(__key)) AS {KEY_COLUMN}, "
            f"{status} AS {STATUS_COLUMN} FROM j ORDER BY __row"
        ).to_arrow_table()
        filled_cols = [c for c in lead_cols if c in uni_cols] + added
        counts_row = con.execute(f"SELECT {', '.join(filled) or '0'} FROM j").fetchone() or ()
        companies = con.execute("SELECT count(*) FROM u").fetchone()
    except duckdb.Error as exc:
        raise EngineError(f"enrichment query failed: {exc}") from exc
    finally:
        con.close()
    return EnrichResult(table=table, report=_report(table, dict(zip(filled_cols, counts_row, strict=False)), companies))


def _numbered(table: pa.Table) -> pa.Table:
    return table.append_column("__row", pa.array(np.arange(table.num_rows, dtype=np.int64)))


def _report(table: pa.Table, filled: Mapping[str, int], companies: tuple[Any, ...] | None) -> EnrichReport:
    vc = pc.value_counts(table.column(STATUS_COLUMN)).to_pylist()
    counts = dict.fromkeys(ENRICH_STATUSES, 0) | {d["values"]: int(d["counts"]) for d in vc}
    n = table.num_rows
    return EnrichReport(
        leads=n,
        counts=counts,
        shares={k: v / n for k, v in counts.items()},
        filled={k: int(v) for k, v in filled.items() if v},
        universe_companies=int(companies[0]) if companies else 0,
    )


class Enricher:
    """Per-record enrichment for a service: built once from a universe, then a dict lookup per lead.

    Gives the same outcome and company row as :func:`enrich` for the same lead.
    """

    def __init__(self, universe: pa.Table) -> None:
        if "domain" not in universe.column_names:
            raise InputError("the universe has no domain column to enrich by", column="domain")
        self._columns = [c for c in universe.column_names if c != "__row"]
        con = _connect()
        try:
            con.register("universe", _numbered(universe.select(self._columns)))
            keys = con.sql(
                "SELECT d, min(__row) FROM (SELECT icp_hostkey(domain) AS d, __row FROM universe) "
                "WHERE d IS NOT NULL AND NOT icp_free_mail(icp_registrable(d)) GROUP BY d"
            ).fetchnumpy()
        except duckdb.Error as exc:
            raise EngineError(f"building the domain index failed: {exc}") from exc
        finally:
            con.close()
        self._table = universe.select(self._columns)
        self._index: dict[str, int] = dict(zip(keys["d"].tolist(), keys["min(__row)"].tolist(), strict=True))

    def __len__(self) -> int:
        return len(self._index)

    @staticmethod
    def key(record: Mapping[str, Any]) -> str | None:
        """The record's host, by the same rule as the bulk join (own domain first, unless free mail or unusable)."""
        d = normalise_host(_text(record.get("domain")))
        e = normalise_host(_text(record.get("email")))
        reg = registrable_domain(d)
        if reg is not None and not is_free_mail(reg):
            return d
        return e if e is not None else d

    def lookup(self, email_or_domain: str | None) -> tuple[str, str | None, dict[str, Any] | None]:
        """(status, matched domain, company record or None) for an email address or a domain/URL."""
        return self._find(normalise_host(email_or_domain))

    def _find(self, host: str | None) -> tuple[str, str | None, dict[str, Any] | None]:
        reg = registrable_domain(host)
        if reg is None:
            return "no_domain", None, None
        if is_free_mail(reg):
            return "free_mail", reg, None
        for cand in domain_candidates(host):
            row = self._index.get(cand)
            if row is not None:
                return "matched", cand, self._table.slice(row, 1).to_pylist()[0]
        return "no_match", reg, None

    def enrich(self, record: Mapping[str, Any], *, prefer: Prefer = "lead") -> dict[str, Any]:
        """The record with the universe's values filling its gaps, plus ``enrich_domain`` and ``enrich_status``."""
        status, key, company = self._find(self.key(record))
        out = dict(record)
        for c, v in (company or {}).items():
            if (prefer == "universe" and v is not None) or out.get(c) is None:
                out[c] = v
        out[KEY_COLUMN] = key
        out[STATUS_COLUMN] = status
        return out


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) else None
