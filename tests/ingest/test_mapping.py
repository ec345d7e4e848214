"""Header mapping: user rules > preset > generic synonyms > typed extras; YAML and --map parsing."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from icpkit.errors import InputError
from icpkit.ingest import PRESETS, ColumnRule, TableKind, load_dataset, load_mapping, resolve_columns
from icpkit.ingest.mapping import closest_header, snake_case
from icpkit.ingest.presets import normalise_header


def test_normalise_header():
    assert normalise_header("\ufeff  Deal  Owner ") == "deal owner"
    assert normalise_header("property_dealstage") == "dealstage"


def test_snake_case_extras():
    assert snake_case("Deal - Pipeline", 0) == "deal_pipeline"
    assert snake_case("", 0) == "column_1"
    assert snake_case("2020 Revenue", 3) == "c_2020_revenue"


def test_priority_user_rule_then_preset_then_generic():
    headers = ["Company name", "sector", "Industry", "Seats", "Tier"]
    res = resolve_columns(headers, TableKind.ACCOUNTS, PRESETS["hubspot"], load_mapping(["Tier=plan_tier"]))
    by = {c.source: (c.target, c.origin) for c in res.columns}
    assert by["Company name"] == ("name", "hubspot")
    assert by["Industry"] == ("industry", "hubspot")
    assert by["sector"] == ("sector", "extra")  # industry already taken by the better spelling
    assert by["Tier"] == ("plan_tier", "map")
    assert by["Seats"] == ("seats", "extra")


def test_extras_never_shadow_canonical_names():
    res = resolve_columns(["industry", "Industry "], TableKind.ACCOUNTS, PRESETS["generic"])
    assert [c.target for c in res.columns] == ["industry", "industry_2"]


def test_map_strings_drop_and_yaml_options(tmp_path):
    cfg = load_mapping(["Internal Notes=", "Revenue (M)=annual_revenue"])
    assert cfg.columns["internal notes"].to is None
    yaml = tmp_path / "m.yaml"
    yaml.write_text(
        "preset: generic\n"
        "accounts:\n"
        "  columns:\n"
        "    revenue: {to: annual_revenue, scale: 1e6}\n"
        "    locality: {split: [city, region, country]}\n"
        "    tools: {to: tech_stack, separator: '|'}\n"
        "deals:\n"
        "  set: {stage: won}\n"
        "stage_map: {Signed: won}\n",
        encoding="utf-8",
    )
    cfg = load_mapping([str(yaml), "Tier=plan_tier"])
    rules = cfg.rules_for(TableKind.ACCOUNTS)
    assert rules["revenue"] == ColumnRule(to="annual_revenue", scale=1e6)
    assert rules["locality"].split == ("city", "region", "country") and rules["locality"].to is None
    assert rules["tier"].to == "plan_tier"
    assert cfg.constants[TableKind.DEALS] == {"stage": "won"}
    assert cfg.stage_map["signed"].value == "won" and cfg.preset == "generic"


@pytest.mark.parametrize(
    "doc, message",
    [
        ("acounts: {columns: {a: b}}\n", "unknown key"),
        ("accounts: {columns: {a: {too: b}}}\n", "unknown option"),
        ("stage_map: {Signed: maybe}\n", "won, lost, open"),
        ("- a\n- b\n", "YAML mapping"),
    ],
)
def test_bad_mapping_files(tmp_path, doc, message):
    path = tmp_path / "m.yaml"
    path.write_text(doc, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_mapping(str(path))


def test_bad_map_string():
    with pytest.raises(InputError, match="Source Header=canonical_name"):
        load_mapping(["no equals sign"])


def test_closest_header():
    assert closest_header("employees", ["Employes", "Name"], TableKind.ACCOUNTS) == "Employes"
    assert closest_header("account_id", ["foo", "bar"], TableKind.ACCOUNTS) is None


def test_in_memory_table_with_options():
    accounts = pa.table(
        {
            "Company": ["Acme", "Globex"],
            "Revenue (M)": ["1.5", "20"],
            "locality": ["austin, texas, united states", "berlin, germany"],
            "Tools": ["Salesforce|HubSpot", "Slack"],
        }
    )
    mapping = {
        "accounts": {
            "columns": {
                "Revenue (M)": {"to": "annual_revenue", "scale": 1_000_000},
                "locality": {"split": ["city", "region", "country"]},
                "Tools": {"to": "tech_stack", "separator": "|"},
            }
        }
    }
    result = load_dataset(accounts, mapping=mapping)
    a = result.dataset.accounts
    assert a["account_id"].to_pylist() == ["Acme", "Globex"]  # no id column: the name is the key
    assert a["annual_revenue"].to_pylist() == [1_500_000.0, 20_000_000.0]
    assert a["city"].to_pylist() == ["austin", "berlin"]
    assert a["region"].to_pylist() == ["texas", None]
    assert a["country"].to_pylist() == ["united states", "germany"]
    assert a["tech_stack"].to_pylist() == [["Salesforce", "HubSpot"], ["Slack"]]
    kinds = result.dataset.kinds["accounts"]
    assert kinds["tech_stack"].value == "multi" and kinds["annual_revenue"].value == "numeric"
    assert "locality" not in a.column_names
    sources = {c.name: c.source for c in result.report.tables["accounts"].columns}
    assert sources["city"] == sources["country"] == "locality"


def test_constant_stage_for_won_only_file():
    accounts = pa.table({"account_id": ["a", "b"]})
    deals = pa.table({"account_id": ["a"], "won_date": ["2024-01-02 10:00:00"]})
    result = load_dataset(accounts, deals, mapping={"deals": {"set": {"stage": "won"}}})
    assert result.dataset.deals["outcome"].to_pylist() == ["won"]
    assert str(result.dataset.deals["closed_date"][0]) == "2024-01-02"


def test_public_api_is_sorted_and_importable():
    import icpkit.ingest as ingest

    assert ingest.__all__ == sorted(ingest.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert all(hasattr(ingest, name) for name in ingest.__all__)
    assert {"load_dataset", "load_table", "LoadResult", "IngestReport", "detect_preset"} <= set(ingest.__all__)


def test_headers_match_aliases_written_with_other_separators():
    headers = [
        "Record ID",
        "Associated Company IDs",
        "Deal Stage",
        "Sales Motion",
        "Original Source Type",
        "Lead-Source",
    ]
    res = resolve_columns(headers, TableKind.DEALS, PRESETS["hubspot"])
    by = {c.source: (c.target, c.origin) for c in res.columns}
    assert by["Sales Motion"] == ("sales_motion", "generic")  # not an extra 'sales_motion_2' beside the canonical
    assert by["Original Source Type"] == ("source", "hubspot")  # HubSpot's source property
    assert by["Lead-Source"] == ("lead_source", "extra")  # source is taken by the preset's own spelling
    assert not any(c.target and c.target.endswith("_2") for c in res.columns)


def test_exact_alias_beats_the_same_alias_with_other_separators():
    res = resolve_columns(["Sales Motion", "sales_motion"], TableKind.DEALS, PRESETS["generic"])
    assert [(c.target, c.origin) for c in res.columns] == [("sales_motion_2", "extra"), ("sales_motion", "generic")]


def test_hubspot_sample_deals_map_motion_and_source(tmp_path):
    from icpkit.synth import generate, write_csv

    write_csv(generate(300, seed=7), tmp_path, style="hubspot")
    result = load_dataset(tmp_path / "companies.csv", tmp_path / "deals.csv")
    deals = result.report.tables["deals"]
    sources = {c.name: c.source for c in deals.columns}
    assert sources["sales_motion"] == "Sales Motion" and sources["source"] == "Original Source Type"
    assert deals.extra_attributes == []
    assert set(result.dataset.deals["sales_motion"].to_pylist()) <= {"self-serve", "sales-led", "enterprise", None}


# --- mappings shipped with the package, and dropping columns from the command line ------------------------------


def test_shipped_mappings_are_in_the_package_and_load_by_short_name():
    import icpkit
    from icpkit.ingest.mapping import SHIPPED_MAPPINGS, shipped_mappings

    shipped = shipped_mappings()
    assert set(shipped) >= {"maven_crm", "olist", "ravenstack", "pdl_universe"}
    assert all(p.parent == SHIPPED_MAPPINGS for p in shipped.values())
    assert SHIPPED_MAPPINGS.is_relative_to(Path(icpkit.__file__).parent)
    by_name, by_file, by_path = (
        load_mapping(["maven_crm"]),
        load_mapping(["maven_crm.yaml"]),
        load_mapping([str(shipped["maven_crm"])]),
    )
    revenue = ColumnRule(to="annual_revenue", scale=1_000_000.0)
    for cfg in (by_name, by_file, by_path):
        assert cfg.rules_for(TableKind.ACCOUNTS)["revenue"] == revenue
        assert cfg.stage_map["engaging"].value == "open"


def test_a_local_file_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "maven_crm.yaml").write_text("accounts: {columns: {revenue: annual_revenue}}\n", encoding="utf-8")
    assert load_mapping(["maven_crm.yaml"]).rules_for(TableKind.ACCOUNTS)["revenue"].scale is None


def test_an_unknown_mapping_name_lists_the_shipped_ones():
    with pytest.raises(InputError, match="maven_crm") as err:
        load_mapping(["hubspot_magic"])
    assert "Header=canonical_name" in str(err.value)
    with pytest.raises(InputError, match="maven_crm"):
        load_mapping(["missing-file.yaml"])


@pytest.mark.realdata
def test_the_shipped_maven_mapping_reads_revenue_in_millions(shared_data):
    maven = shared_data / "maven_crm"
    result = load_dataset(maven / "accounts.csv", maven / "sales_pipeline.csv", mapping=["maven_crm"])
    revenue = result.dataset.accounts["annual_revenue"].to_pylist()
    assert min(r for r in revenue if r is not None) >= 1_000_000


def test_map_header_equals_nothing_drops_the_column(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("company,industry,Internal Notes\nAcme,Software,call back\n", encoding="utf-8")
    result = load_dataset(path, mapping=["Internal Notes="])
    assert "internal_notes" not in result.dataset.accounts.column_names
    assert result.report.tables["accounts"].dropped_headers == ["Internal Notes"]


@pytest.mark.parametrize("target", ["null", "None", " NULL "])
def test_map_to_null_is_refused_with_the_way_to_drop(target):
    with pytest.raises(InputError, match="'Internal Notes=' with nothing after '='"):
        load_mapping([f"Internal Notes={target}"])
