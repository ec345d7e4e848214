"""End to end on realistic CRM exports (HubSpot, Salesforce, Pipedrive): what a RevOps user gets from ``icpkit``.

Each export (``tests/crm_exports.py``) has a planted ICP, fields the CRM fills because an account became a customer,
open deals whose expected close date lies after the export, text-typed numbers and ``;``-lists. A correct run:

- puts no outcome-recording field (lifecycle, status, type, deal counts, label, MRR, customer dates) in the spec;
- reports as ``as_of`` the last past event, not an open deal's expected close date;
- writes CRM import files that carry the CRM's record ids;
- scores the same leads the same through the API, ``icpkit score`` and ``icpkit sql`` on DuckDB, recency included,
  on a pinned date and on "today";
- finds the planted criteria.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from crm_exports import CRMS, CrmExport, crm_export
from icpkit.cli import main
from icpkit.ingest import load_dataset, load_table
from icpkit.score import score_table
from icpkit.spec import ICPSpec, load_spec
from icpkit.spec.model import Criterion, Exclusion, Op

N_ACCOUNTS = 2000
N_LEADS = 300
TOKEN = "realistic-exports-token-0123456789"


@dataclass
class Built:
    export: CrmExport
    summary: dict[str, Any]
    spec: ICPSpec


@cache
def _root() -> Path:
    """One folder for the three exports and their builds, shared by the tests and removed at exit."""
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="icpkit-realistic-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@cache
def built(crm: str) -> Built:
    """The export of ``crm`` and ``icpkit build`` on it with every default (once per test session)."""
    export = crm_export(crm, _root() / crm, n_accounts=N_ACCOUNTS, n_leads=N_LEADS, seed=11)
    out = export.folder / "icp.yaml"
    summary_path = export.folder / "build.json"
    code, stdout = _run(["build", *export.args(), "--out", str(out), "--no-keep", "--json"])
    assert code == 0, stdout
    summary_path.write_text(stdout)
    return Built(export=export, summary=json.loads(stdout), spec=load_spec(out))


def _run(args: list[str]) -> tuple[int, str]:
    """``icpkit ARGS`` in this process; (exit code, stdout)."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(args)
    return code, buf.getvalue()


def _norm(name: str) -> str:
    return name.lower().replace("__c", "_c")


def _is(field: str, canonical: str) -> bool:
    """A spec field names ``canonical``: itself or with the CRM's prefix (Pipedrive's ``organization_…``)."""
    return field == canonical or field.endswith("_" + canonical)


def _fields(spec: ICPSpec) -> set[str]:
    out = set()
    for _, c in spec.criteria():
        out.add(c.field)
        out |= {a.field for a in getattr(c, "also", None) or []}
    return out | {e.field for e in spec.exclusions}


# ------------------------------------------------------------------------------------------------- leakage


@pytest.mark.parametrize("crm", CRMS)
def test_no_outcome_recording_field_in_the_spec(crm):
    b = built(crm)
    leaks = {f for f in _fields(b.spec) for leak in b.export.leak_fields if _is(_norm(f), _norm(leak))}
    assert not leaks, f"{crm}: {sorted(leaks)}"


# ---------------------------------------------------------------------------------------------------- clock


@pytest.mark.parametrize("crm", CRMS)
def test_as_of_is_the_last_past_event(crm):
    b = built(crm)
    assert b.export.latest_expected_close > b.export.export_date  # the trap is there
    assert b.spec.as_of == b.export.last_event
    assert b.summary["as_of"] == b.export.last_event.isoformat()


# -------------------------------------------------------------------------------------------- import files


@pytest.mark.parametrize(
    ("crm", "fmt", "id_column"),
    [
        pytest.param("hubspot", "hubspot", "Record ID"),
        pytest.param("salesforce", "salesforce", "Id"),
        pytest.param("pipedrive", "csv", "account_id"),
    ],
)
def test_import_file_carries_the_crm_record_ids(crm, fmt, id_column, tmp_path):
    b = built(crm)
    out = tmp_path / "import.csv"
    spec = b.export.folder / "icp.yaml"
    code, stdout = _run(["score", str(b.export.csv["leads"]), "--spec", str(spec), "--format", fmt, "--out", str(out),
                         "--json", *b.export.map_args()])  # fmt: skip
    assert code == 0, stdout
    table = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(column_types={id_column: pa.string()}))
    assert table.column_names[0] == id_column
    assert table.column(id_column).to_pylist() == b.export.lead_ids


# ------------------------------------------------------------------------------------------ planted criteria


def _planted_points(spec: ICPSpec, export: CrmExport) -> tuple[dict[str, bool], float]:
    """For each planted field, whether a criterion on it selects the planted value(s); and the share of all the
    criteria's points that such criteria carry (the planted ICP should drive the score, not a stray field)."""
    found = {}
    crits = [c for _, c in spec.criteria()]
    planted_points = 0
    for name, planted in export.planted.items():
        hits = [c for c in crits if _is(c.field, name)]
        if name == "employees":
            lo, hi = planted
            ok = [c for c in hits if c.op is Op.BETWEEN and c.value[0] <= hi and (c.value[1] or 1e12) >= lo]
        elif name == "last_funding_date":  # a window no wider than the planted one
            ok = [c for c in hits if c.op is Op.WITHIN_DAYS and c.value <= planted]
        else:
            want = {str(v).lower() for v in planted}
            values = [{str(v).lower() for v in (c.value if isinstance(c.value, list) else [c.value])} for c in hits]
            ok = [
                c for c, v in zip(hits, values, strict=True) if c.op in (Op.IN, Op.EQUALS, Op.CONTAINS_ANY) and want & v
            ]
        found[name] = bool(ok)
        planted_points += sum(c.points for c in ok)
    total = sum(c.points for c in crits) or 1
    return found, planted_points / total


@pytest.mark.parametrize("crm", CRMS)
def test_the_planted_criteria_are_found(crm):
    b = built(crm)
    found, share = _planted_points(b.spec, b.export)
    assert all(found.values()), f"{crm}: {found}"
    assert share >= 0.5, f"{crm}: the planted criteria carry {share:.0%} of the points"
    if b.export.churn:  # the churning segment shows only where the export records churn
        assert any(_is(e.field, "business_model") and e.value == ["B2C"] for e in b.spec.exclusions)


# ------------------------------------------------------------------------------ one score, whatever the door


def _lead_spec(export: CrmExport, leads: pa.Table, window: int) -> ICPSpec:
    """The planted ICP in this export's field names and words, as of its last event, with a funding window of
    ``window`` days: the recency criterion that must count from the scoring date in every engine."""
    names = leads.column_names
    field = {
        c: next(n for n in names if _is(n, c))
        for c in ("industry", "employees", "tech_stack", "last_funding_date", "business_model")
    }
    p = export.planted
    return ICPSpec(
        name=f"{export.crm}-planted",
        as_of=export.last_event,
        layers={
            "firmographic": [
                Criterion(field=field["industry"], op=Op.IN, value=list(p["industry"]), points=25),
                Criterion(field=field["employees"], op=Op.BETWEEN, value=list(p["employees"]), points=25),
            ],
            "technographic": [
                Criterion(field=field["tech_stack"], op=Op.CONTAINS_ANY, value=list(p["tech_stack"]), points=25)
            ],
            "trigger": [Criterion(field=field["last_funding_date"], op=Op.WITHIN_DAYS, value=window, points=25)],
        },
        exclusions=[Exclusion(field=field["business_model"], op=Op.IN, value=["B2C"], reason="planted")],
    )


def _json_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


@cache
def _leads(crm: str, window: int) -> tuple[pa.Table, ICPSpec, Path]:
    """The leads as ``score`` types them, the planted spec over their fields, and that spec's file."""
    export = built(crm).export
    leads = load_table(export.csv["leads"], "accounts", mapping=export.mapping or None).table
    spec = _lead_spec(export, leads, window)
    path = export.folder / f"planted-{window}.yaml"
    path.write_text(spec.to_yaml())
    return leads, spec, path


def _by_cli(crm: str, spec_path: Path, as_of: dt.date | None, tmp_path: Path) -> list[int]:
    out = tmp_path / "scored.csv"
    pinned = ["--as-of", as_of.isoformat()] if as_of else []
    code, stdout = _run(["score", str(built(crm).export.csv["leads"]), "--spec", str(spec_path), "--out", str(out),
                         "--keep-order", "--json", *pinned, *built(crm).export.map_args()])  # fmt: skip
    assert code == 0, stdout
    return pacsv.read_csv(out).column("score").to_pylist()


def _by_sql(leads: pa.Table, spec_path: Path, as_of: dt.date | None) -> list[int]:
    pinned = ["--as-of", as_of.isoformat()] if as_of else []
    code, query = _run(["sql", "--spec", str(spec_path), "--dialect", "duckdb", "--table", "leads", *pinned])
    assert code == 0, query
    con = duckdb.connect()
    con.register("leads_arrow", leads.append_column("__row", pa.array(range(leads.num_rows))))
    con.execute("CREATE TABLE leads AS SELECT * FROM leads_arrow")
    scored = con.execute(f"SELECT __row, score FROM ({query.rstrip().rstrip(';')}) ORDER BY __row").fetchall()
    return [s for _, s in scored]


def _by_api(leads: pa.Table, spec_path: Path, as_of: dt.date | None) -> list[int]:
    from icpkit.api import JsonLog, Tokens, create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    import io

    app = create_app(spec_path, tokens=Tokens(env=TOKEN), as_of=as_of, poll_seconds=0, log=JsonLog(io.StringIO()))
    records = [{k: _json_value(v) for k, v in row.items() if v is not None} for row in leads.to_pylist()]
    scores = []
    with TestClient(app) as client:
        for i in range(0, len(records), 100):
            r = client.post("/v1/score/batch", json={"records": records[i : i + 100]},
                            headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
            assert r.status_code == 200, r.text
            scores += [x["score"] for x in r.json()["results"]]
        one = client.post("/v1/score", json={"record": records[0]}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert one.json()["score"] == scores[0]
    return scores


def _agree(crm: str, as_of: dt.date | None, expected_on: dt.date, window: int, tmp_path: Path) -> None:
    """API, ``score`` and ``sql`` (``as_of`` pinned, or None for their default) score every lead as the reference
    engine does on ``expected_on``; the funding window matches some leads on that day and misses others."""
    leads, spec, path = _leads(crm, window)
    reference = score_table(spec, leads, as_of=expected_on)
    in_window = sum("trigger.0" in m for m in reference.column("matched").to_pylist())
    assert 0 < in_window < leads.num_rows  # recency decides part of the scores
    got = {
        "api": _by_api(leads, path, as_of),
        "score": _by_cli(crm, path, as_of, tmp_path),
        "sql": _by_sql(leads, path, as_of),
    }
    want = reference.column("score").to_pylist()
    wrong = {door: sum(a != b for a, b in zip(s, want, strict=True)) for door, s in got.items()}
    assert wrong == {"api": 0, "score": 0, "sql": 0}, f"leads scored otherwise than on {expected_on}: {wrong}"


@pytest.mark.parametrize("crm", CRMS)
def test_api_score_and_sql_agree_on_a_pinned_date(crm, tmp_path):
    pinned = built(crm).export.last_event - dt.timedelta(days=30)
    _agree(crm, pinned, pinned, 365, tmp_path)


@pytest.mark.parametrize("crm", CRMS)
def test_api_score_and_sql_agree_on_today(crm, tmp_path):
    """Unpinned, every door scores on today's date. The window reaches from today to half a year before the
    export, whatever day the test runs, so recency matters on today's date too."""
    today = dt.date.today()
    window = (today - built(crm).export.last_event).days + 180
    _agree(crm, None, today, window, tmp_path)


# ------------------------------------------------------------------------------------------- CSV and Parquet


@pytest.mark.parametrize("crm", CRMS)
def test_parquet_export_reads_as_the_csv(crm):
    export = built(crm).export
    from_csv = load_dataset(export.csv["accounts"], export.csv["deals"], mapping=export.mapping or None).dataset
    from_pq = load_dataset(export.parquet["accounts"], export.parquet["deals"], mapping=export.mapping or None).dataset
    for name in ("accounts", "deals"):
        a, b = getattr(from_csv, name), getattr(from_pq, name)
        assert a.column_names == b.column_names
        for col in a.column_names:
            assert a.column(col).to_pylist() == b.column(col).to_pylist(), f"{name}.{col}"
