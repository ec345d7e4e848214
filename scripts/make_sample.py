"""Regenerate the sample CRM export shipped in the package (``icpkit demo`` runs on it).

A synthetic history with a planted ICP, written the way a HubSpot UI export looks, plus inbound leads and a
company universe without outcomes. Deterministic: the same seeds give the same files.

    python scripts/make_sample.py
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from icpkit.csvsafe import flatten_lists
from icpkit.synth import generate, write_csv

SAMPLE = Path(__file__).resolve().parent.parent / "src" / "icpkit" / "data" / "sample"
OUTCOMES = ["arr", "customer_since", "churned", "churn_date", "expansion_arr"]


def _gzip(src: Path, dst: Path) -> None:
    with src.open("rb") as fin, gzip.GzipFile(dst, "wb", mtime=0) as fout:
        shutil.copyfileobj(fin, fout)


def _without_outcomes(table: pa.Table) -> pa.Table:
    return table.drop_columns([c for c in OUTCOMES if c in table.column_names])


def main() -> None:
    SAMPLE.mkdir(parents=True, exist_ok=True)
    history = generate(3000, seed=11)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_csv(history, tmp, style="hubspot")
        for name in ("companies", "deals"):
            _gzip(files[name], SAMPLE / f"{name}.csv.gz")

    leads = _without_outcomes(generate(1500, seed=12).accounts)
    n = leads.num_rows
    domains = leads.column("domain")
    emails = pc.binary_join_element_wise(pa.array(["jordan.lee"] * n), domains, "@")
    titles = pa.array(["VP Sales", "Head of Revenue Operations", "Marketing Manager", "CFO", "SDR"] * (n // 5 + 1))
    leads = leads.append_column("email", emails).append_column("title", titles[:n])
    leads = leads.rename_columns(["lead_id" if c == "account_id" else c for c in leads.column_names])
    pq.write_table(flatten_lists(leads), SAMPLE / "leads.parquet", compression="zstd")

    universe = _without_outcomes(generate(30000, seed=13).accounts)
    universe = universe.drop_columns([c for c in universe.column_names if c.startswith("noise_")])
    pq.write_table(universe, SAMPLE / "universe.parquet", compression="zstd")
    for f in sorted(SAMPLE.iterdir()):
        print(f"{f.name}: {f.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
