"""Accounts already in the CRM: which universe companies are customers or open pipeline, so they are marked and
not listed again as new targets.

Status of a CRM account, in priority order: ``customer`` (a won deal, ARR > 0 or a ``customer_since`` date, not
churned), ``open_pipeline`` (an open deal), ``former_customer`` (churned), ``in_crm`` (known, e.g. closed-lost).
An accounts file with no outcome columns and no deals is read as a customer list. A universe company matches a CRM
account by web host (``www.acme.com`` = ``acme.com``); by normalised name only when one of the two has no domain
(two different domains are two companies, whatever their names).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["CRM_STATUSES", "CrmMatch", "match_crm"]

CRM_STATUSES = ("customer", "open_pipeline", "former_customer", "in_crm")
NEW = "new"


@dataclass
class CrmMatch:
    status: np.ndarray  # per universe row: one of CRM_STATUSES or "new"
    accounts: dict[str, int]  # CRM accounts per status
    found: dict[str, int]  # CRM accounts per status that matched a universe company


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _status_sql(accounts: pa.Table, deals: pa.Table | None) -> str:
    cols = set(accounts.column_names)
    signs = []
    if deals is not None:
        signs.append("coalesce(d.won, false)")
    if "arr" in cols:
        signs.append("coalesce(TRY_CAST(a.arr AS DOUBLE), 0) > 0")
    if "customer_since" in cols:
        signs.append("a.customer_since IS NOT NULL")
    churned = "coalesce(TRY_CAST(a.churned AS BOOLEAN), false)" if "churned" in cols else "false"
    paid = " OR ".join(signs) if signs else ("true" if "churned" not in cols else "NOT " + churned)
    open_deal = "coalesce(d.open, false)" if deals is not None else "false"
    return f"CASE WHEN NOT {churned} AND ({paid}) THEN 1 WHEN {open_deal} THEN 2 WHEN {churned} THEN 3 ELSE 4 END"


def match_crm(
    con: duckdb.DuckDBPyConnection, universe_keys: str, accounts: pa.Table, deals: pa.Table | None = None
) -> CrmMatch:
    """Status of each universe row; ``universe_keys`` names a relation (``__row``, ``__dkey``, ``__nkey``).

    ``con`` must have the key macros (:func:`icpkit.size.domains.register_macros`).
    """
    con.register("__crm_accounts", accounts)
    deal_cte = ""
    join = ""
    if deals is not None and {"account_id", "outcome"} <= set(deals.column_names):
        con.register("__crm_deals", deals)
        deal_cte = (
            "d AS (SELECT CAST(account_id AS VARCHAR) AS account_id, bool_or(outcome = 'won') AS won, "
            "bool_or(outcome = 'open') AS open FROM __crm_deals GROUP BY 1), "
        )
        join = "LEFT JOIN d ON d.account_id = CAST(a.account_id AS VARCHAR)"
    else:
        deals = None
    dkey = "icp_hostkey(a.domain)" if "domain" in accounts.column_names else "CAST(NULL AS VARCHAR)"
    nkey = "icp_name(a.name)" if "name" in accounts.column_names else "CAST(NULL AS VARCHAR)"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __crm AS WITH {deal_cte}x AS (SELECT row_number() OVER () AS __crow, "
        f"{dkey} AS dkey, {nkey} AS nkey, {_status_sql(accounts, deals)} AS prio FROM __crm_accounts a {join}) "
        "SELECT * FROM x WHERE dkey IS NOT NULL OR nkey IS NOT NULL"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __crm_hits AS "
        f"SELECT u.__row, c.__crow, c.prio FROM {universe_keys} u JOIN __crm c ON u.__dkey = c.dkey "
        "UNION ALL "
        f"SELECT u.__row, c.__crow, c.prio FROM {universe_keys} u JOIN __crm c ON u.__nkey = c.nkey "
        "WHERE u.__dkey IS NULL OR c.dkey IS NULL"
    )
    n = con.execute(f"SELECT count(*) FROM {universe_keys}").fetchone()[0]
    best = con.execute("SELECT __row, min(prio) AS prio FROM __crm_hits GROUP BY __row").fetchnumpy()
    prio = np.full(int(n), 0, dtype=np.int64)
    prio[np.asarray(best["__row"], dtype=np.int64)] = np.asarray(best["prio"], dtype=np.int64)
    labels = np.array([NEW, *CRM_STATUSES], dtype=object)
    acc = dict(con.execute("SELECT prio, count(*) FROM __crm GROUP BY 1").fetchall())
    found = dict(con.execute("SELECT prio, count(DISTINCT __crow) FROM __crm_hits GROUP BY 1").fetchall())
    return CrmMatch(
        status=labels[prio],
        accounts={s: int(acc.get(i + 1, 0)) for i, s in enumerate(CRM_STATUSES)},
        found={s: int(found.get(i + 1, 0)) for i, s in enumerate(CRM_STATUSES)},
    )
