"""Olist's marketing funnel as a post-sale ICP question: which won sellers go on to activate (actually sell)?

The public Olist funnel has 8,000 marketing-qualified leads and 842 won sellers; attributes (segment, lead type,
business type, behaviour profile…) exist only for the won ones. The real post-sale outcome is activation: a won
seller that appears in ``olist_sellers_dataset.csv`` had orders on Olist; the others never transacted. So:

- accounts = the 842 won sellers, with their attributes and acquisition channel, ``customer_since`` = won date,
  ``churned`` = never activated;
- deals = one won deal each, created at first contact and closed at the win (the sales cycle).

Every activated seller is signal (``top_share=1``: there is no revenue to rank them by). Win rate cannot be
judged (every deal here was won); activation ("churn") and the sales cycle can. The backtest is a stratified
5-fold: a time split leaves too few sellers before the cutoff to learn from (see examples/README.md).

    python examples/olist_activation.py <olist_marketing_funnel folder> <output folder>

writes ``accounts.csv``, ``deals.csv``, ``icp.yaml`` and ``report.html`` into the output folder; the same report
comes from ``icpkit report -a accounts.csv -d deals.csv --top-share 1 --folds 5 --spec icp.yaml``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pyarrow as pa

from icpkit.discover import ICPBuilder

__all__ = ["activation_tables", "main"]


def activation_tables(folder: Path) -> tuple[pa.Table, pa.Table]:
    """(accounts, deals) canonical tables built from the three Olist CSV files in ``folder``."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    names = ("olist_marketing_qualified_leads_dataset", "olist_closed_deals_dataset", "olist_sellers_dataset")
    q = {name: str(folder / f"{name}.csv") for name in names}
    accounts = con.sql(
        f"""
        SELECT d.mql_id AS account_id,
               nullif(trim(m.origin), '') AS source_channel,
               nullif(trim(d.business_segment), '') AS business_segment,
               nullif(trim(d.lead_type), '') AS lead_type,
               nullif(trim(d.business_type), '') AS business_type,
               replace(nullif(trim(d.lead_behaviour_profile), ''), ', ', ';') AS lead_behaviour_profile,
               d.has_company, d.has_gtin,
               nullif(trim(d.average_stock), '') AS average_stock,
               d.declared_product_catalog_size,
               nullif(d.declared_monthly_revenue, 0) AS declared_monthly_revenue,
               CAST(d.won_date AS DATE) AS customer_since,
               s.seller_id IS NULL AS churned
        FROM read_csv('{q["olist_closed_deals_dataset"]}', all_varchar = false) d
        JOIN read_csv('{q["olist_marketing_qualified_leads_dataset"]}') m USING (mql_id)
        LEFT JOIN (SELECT DISTINCT seller_id FROM read_csv('{q["olist_sellers_dataset"]}')) s USING (seller_id)
        ORDER BY account_id
        """
    ).to_arrow_table()
    deals = con.sql(
        f"""
        SELECT d.mql_id AS deal_id, d.mql_id AS account_id, CAST(m.first_contact_date AS DATE) AS created_date,
               CAST(d.won_date AS DATE) AS closed_date, 'Won' AS stage
        FROM read_csv('{q["olist_closed_deals_dataset"]}') d
        JOIN read_csv('{q["olist_marketing_qualified_leads_dataset"]}') m USING (mql_id)
        ORDER BY deal_id
        """
    ).to_arrow_table()
    con.close()
    return accounts, deals


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    import pyarrow.csv as pacsv

    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    from icpkit.csvsafe import write_text
    from icpkit.ingest import load_dataset
    from icpkit.report import render_report
    from icpkit.validate import validate

    accounts, deals = activation_tables(Path(argv[0]))
    pacsv.write_csv(accounts, out / "accounts.csv")
    pacsv.write_csv(deals, out / "deals.csv")
    print(f"{accounts.num_rows} won sellers, {sum(not c for c in accounts['churned'].to_pylist())} activated → {out}")
    data = load_dataset(out / "accounts.csv", out / "deals.csv").dataset  # as the CLI reads them
    params = {"name": "olist-activation", "top_share": 1.0}
    build = ICPBuilder(**params).fit(data)
    write_text(build.spec.to_yaml(), out / "icp.yaml")
    validation = validate(data, full_build=build, method="kfold", folds=5, builder=params)
    html = render_report(build, validation, accounts=data.accounts, title="Olist: the sellers who activate")
    write_text(html, out / "report.html")
    for v in validation.verdicts:
        print(f"{v.check}: {v.status}: {v.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
