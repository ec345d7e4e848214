"""The data contract: ``build`` records how it read the exports, and later readers follow it (issue 15)."""

from __future__ import annotations

import gzip
import json
import shutil
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from icpkit.cli import main
from icpkit.spec import load_spec
from icpkit.spec.io import content_hash, dump_spec
from icpkit.spec.model import DataContract, FieldRead, ICPSpec, LeftOut

SAMPLE = resources.files("icpkit") / "data" / "sample"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The shipped HubSpot-style sample, unpacked, and the spec ``build`` writes from it."""
    folder = tmp_path_factory.mktemp("sample")
    files = {}
    for name in ("companies", "deals"):
        files[name] = folder / f"{name}.csv"
        with gzip.open(str(SAMPLE / f"{name}.csv.gz"), "rb") as src, files[name].open("wb") as dst:
            shutil.copyfileobj(src, dst)
    files["leads"] = folder / "leads.parquet"
    shutil.copyfile(str(SAMPLE / "leads.parquet"), files["leads"])
    files["spec"] = folder / "icp.yaml"
    args = ["build", "--accounts", str(files["companies"]), "--deals", str(files["deals"])]
    assert main([*args, "--out", str(files["spec"]), "--no-keep", "--json"]) == 0
    return files


def _scored(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    """``icpkit score`` on the spec's own date: the sample leads' recency was drawn against the history's end, and
    ``validate`` / ``drift`` score leads on that date too."""
    when = load_spec(Path(args[args.index("--spec") + 1])).as_of
    assert main(["score", *args, "--as-of", when.isoformat(), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# ------------------------------------------------------------------------------------------ the contract itself


def test_build_records_the_contract_and_it_round_trips(sample: dict[str, Path]) -> None:
    spec = load_spec(sample["spec"])
    data = spec.data
    assert data is not None and data.preset == "hubspot" and data.id_column == "account_id"
    assert data.columns["Country/Region"] == "country"
    assert data.columns["Number of Employees"] == "employees"
    assert data.columns["Record ID"] == "account_id"
    assert data.fields["tech_stack"] == FieldRead(kind="multi", separator=";")
    assert data.fields["employees"].kind == "numeric" and data.fields["last_funding_date"].kind == "date"
    left = {item.field: item.kind for item in data.left_out}
    assert left["account_id"] == "identifier" and left["arr"] == "outcome" and left["churned"] == "outcome"
    assert not any(f in left for f in spec.fields())  # nothing the spec scores on was left out
    text = dump_spec(spec)
    assert "data:\n  preset: hubspot\n" in text and "    Country/Region: country\n" in text
    again = load_spec(text)
    assert again == spec and dump_spec(again) == text and again.content_hash() == spec.content_hash()


def test_a_spec_without_data_loads_and_keeps_its_hash(sample: dict[str, Path]) -> None:
    spec = load_spec(sample["spec"])
    bare = spec.model_copy(update={"data": None})
    text = dump_spec(bare)
    assert "data:" not in text and load_spec(text) == bare
    # reading rules enter the hash (they change what a file or a record scores); the left-out list documents only
    assert content_hash(bare) != content_hash(spec)
    assert spec.data is not None
    documented = spec.data.model_copy(update={"left_out": [LeftOut(field="x", reason="constant")]})
    assert content_hash(spec.model_copy(update={"data": documented})) == content_hash(spec)
    renamed = spec.data.model_copy(update={"columns": {**spec.data.columns, "Country/Region": "region"}})
    assert content_hash(spec.model_copy(update={"data": renamed})) != content_hash(spec)


def test_a_hand_edited_contract_is_checked_with_its_line() -> None:
    text = "name: x\ndata:\n  preset: hubspot\n  fields:\n    employees: {kind: number}\n"
    with pytest.raises(Exception, match=r":5 data\.fields\.employees\.kind: unknown kind 'number'"):
        load_spec(text)
    bad_key = "name: x\ndata:\n  presets: hubspot\n"
    with pytest.raises(Exception, match=r"unknown key 'presets' \(did you mean 'preset'\?\)"):
        load_spec(bad_key)
    ok = ICPSpec(name="x", data=DataContract(fields={"annual_revenue": FieldRead(kind="numeric", scale=1e6)}))
    assert load_spec(dump_spec(ok)) == ok


# ------------------------------------------------------------------------------------------ score reads through it


def test_parquet_leads_with_joined_tech_stack_score_as_the_csv_does(
    sample: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = pq.read_table(sample["leads"])
    assert pa.types.is_string(leads.schema.field("tech_stack").type)  # ';'-joined text, as exports carry it
    csv = tmp_path / "leads.csv"
    pacsv.write_csv(leads, csv)
    spec = str(sample["spec"])
    from_csv = _scored(capsys, str(csv), "--spec", spec, "--out", str(tmp_path / "a.csv"))
    from_parquet = _scored(capsys, str(sample["leads"]), "--spec", spec, "--out", str(tmp_path / "b.csv"))
    python = _scored(
        capsys, str(sample["leads"]), "--spec", spec, "--out", str(tmp_path / "c.csv"), "--engine", "python"
    )
    assert from_parquet["tiers"] == from_csv["tiers"] == python["tiers"]
    assert from_parquet["tiers"]["tier1"] + from_parquet["tiers"]["tier2"] > 150
    assert from_parquet["warnings"] == []


def test_a_spec_field_missing_from_the_file_warns_and_strict_exits_2(
    sample: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = pq.read_table(sample["leads"])
    typo = leads.rename_columns(["industy" if c == "industry" else c for c in leads.column_names])
    source = tmp_path / "leads.csv"
    pacsv.write_csv(typo, source)
    out = tmp_path / "scored.csv"
    summary = _scored(capsys, str(source), "--spec", str(sample["spec"]), "--out", str(out))
    assert any(w.startswith(f"{source}: industry: not in the input") and "'industy'" in w for w in summary["warnings"])
    assert out.exists()
    strict_out = tmp_path / "strict.csv"
    code = main(["score", str(source), "--spec", str(sample["spec"]), "--out", str(strict_out), "--strict"])
    err = capsys.readouterr().err
    assert code == 2 and not strict_out.exists()
    assert "industry: not in the input" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_parquet_with_a_renamed_header_is_read_through_the_contract(
    sample: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leads = pq.read_table(sample["leads"])
    crm = leads.rename_columns(["Number of Employees" if c == "employees" else c for c in leads.column_names])
    source = tmp_path / "crm.parquet"
    pq.write_table(crm, source)
    spec = str(sample["spec"])
    plain = _scored(capsys, str(sample["leads"]), "--spec", spec, "--out", str(tmp_path / "a.parquet"))
    renamed = _scored(capsys, str(source), "--spec", spec, "--out", str(tmp_path / "b.parquet"))
    assert renamed["tiers"] == plain["tiers"] and renamed["warnings"] == []


# ------------------------------------------------------------------------------------------ every command alike


def _country_spec(sample: dict[str, Path], folder: Path) -> Path:
    """The sample spec with a criterion on country, so the ``Country/Region`` header decides scores."""
    from icpkit.spec.model import Criterion, Op

    spec = load_spec(sample["spec"])
    extra = Criterion(field="country", op=Op.IN, value=["United States", "Canada"], points=12)
    layers = {**spec.layers, "firmographic": [*spec.layers["firmographic"], extra]}
    path = folder / "icp-country.yaml"
    path.write_text(dump_spec(spec.model_copy(update={"layers": layers})), encoding="utf-8")
    return path


def _hubspot_leads(sample: dict[str, Path], folder: Path) -> Path:
    """The sample leads as a HubSpot UI export writes them: labels as headers, ';'-joined technologies."""
    leads = pq.read_table(sample["leads"])
    labels = {"country": "Country/Region", "employees": "Number of Employees", "industry": "Industry"}
    path = folder / "hubspot_leads.csv"
    pacsv.write_csv(leads.rename_columns([labels.get(c, c) for c in leads.column_names]), path)
    return path


def _fit_counts(capsys: pytest.CaptureFixture[str], sample: dict[str, Path], spec: Path, leads: Path, tmp: Path):
    """Leads in tiers 1-2 as score, validate and drift count them."""
    history = ["--accounts", str(sample["companies"]), "--deals", str(sample["deals"])]
    scored = _scored(capsys, str(leads), "--spec", str(spec), "--out", str(tmp / f"{leads.stem}.csv"))
    assert main(["validate", *history, "--spec", str(spec), "--leads", str(leads), "--json"]) == 0
    validated = json.loads(capsys.readouterr().out)["leads"]
    code = main(["drift", *history, "--spec", str(spec), "--leads", str(leads), "--no-record", "--json"])
    assert code == 0
    shift = json.loads(capsys.readouterr().out)["score_shift"]
    assert shift["population"] == "leads" and shift["n_new"] == validated["leads"] == scored["rows"]
    drifted = {k: round(v * shift["n_new"]) for k, v in shift["new_tiers"].items()}
    assert drifted == scored["tiers"]
    return scored["tiers"]["tier1"] + scored["tiers"]["tier2"], validated["fit"]


def test_every_command_reads_country_region_leads_alike(
    sample: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _country_spec(sample, tmp_path)
    scored, validated = _fit_counts(capsys, sample, spec, _hubspot_leads(sample, tmp_path), tmp_path)
    assert scored == validated
    plain = _scored(capsys, str(sample["leads"]), "--spec", str(spec), "--out", str(tmp_path / "plain.csv"))
    assert scored == plain["tiers"]["tier1"] + plain["tiers"]["tier2"]  # the header names the same field


def test_every_command_reads_parquet_leads_alike(
    sample: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scored, validated = _fit_counts(capsys, sample, sample["spec"], sample["leads"], tmp_path)
    assert scored == validated > 150


def test_spark_reads_parquet_leads_through_the_contract(
    sample: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], spark_session: object
) -> None:
    leads = pq.read_table(sample["leads"])
    crm = leads.rename_columns(["Number of Employees" if c == "employees" else c for c in leads.column_names])
    source = tmp_path / "crm.parquet"
    pq.write_table(crm, source)
    spec = str(sample["spec"])
    duck = _scored(capsys, str(sample["leads"]), "--spec", spec, "--out", str(tmp_path / "a.parquet"))
    spark = _scored(capsys, str(source), "--spec", spec, "--out", str(tmp_path / "b.parquet"), "--engine", "spark")
    assert spark["tiers"] == duck["tiers"] and spark["warnings"] == []


def test_sql_holds_declared_column_types_to_the_contract(
    sample: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["sql", "--spec", str(sample["spec"]), "--column", "employees=VARCHAR", "--column", "tech_stack=VARCHAR[]"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "employees: read as text, the spec compares it as numeric" in captured.err
    assert "tech_stack" not in captured.err and "SELECT" in captured.out
    assert main([*args, "--strict"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "does not fit the spec's data contract: employees" in captured.err
