"""Ingest: CRM exports (HubSpot, Salesforce, Pipedrive, spreadsheets, warehouses) -> validated canonical tables.

``load_dataset`` reads accounts, deals, subscriptions and leads together (so deals link to accounts and
subscription outcomes roll up); ``load_table`` reads one leads or universe file on its own. Both return a report
of what was understood, the same one ``icpkit inspect`` prints.
"""

from icpkit.ingest.load import LoadResult, TableResult, load_dataset, load_table
from icpkit.ingest.mapping import ColumnRule, MappingConfig, load_mapping, resolve_columns
from icpkit.ingest.outcomes import parse_stage_map
from icpkit.ingest.presets import PRESETS, Preset, PresetChoice, detect_preset, get_preset
from icpkit.ingest.report import ColumnReport, IngestReport, PresetReport, ProblemReport, TableReport
from icpkit.ingest.schema import ColumnKind, Dataset, Outcome, TableKind

__all__ = [
    "PRESETS",
    "ColumnKind",
    "ColumnReport",
    "ColumnRule",
    "Dataset",
    "IngestReport",
    "LoadResult",
    "MappingConfig",
    "Outcome",
    "Preset",
    "PresetChoice",
    "PresetReport",
    "ProblemReport",
    "TableKind",
    "TableReport",
    "TableResult",
    "detect_preset",
    "get_preset",
    "load_dataset",
    "load_mapping",
    "load_table",
    "parse_stage_map",
    "resolve_columns",
]
