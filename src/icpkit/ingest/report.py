"""What ingest understood of the input files: the model ``icpkit inspect`` prints and ``--json`` dumps.

Plain data (pydantic) so the CLI, the REST API and a script all read the same report.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from icpkit.errors import Problem

__all__ = ["ColumnReport", "IngestReport", "PresetReport", "ProblemReport", "TableReport"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemReport(_Model):
    message: str
    severity: str = "error"
    path: str | None = None
    row: int | None = None
    column: str | None = None

    @classmethod
    def of(cls, p: Problem) -> ProblemReport:
        return cls(message=p.message, severity=p.severity, path=p.path, row=p.row, column=p.column)

    def __str__(self) -> str:
        return str(Problem(self.message, self.path, self.row, self.column, self.severity))


class PresetReport(_Model):
    name: str
    forced: bool = False
    reason: str = ""
    matched_headers: list[str] = Field(default_factory=list)
    scores: dict[str, int] = Field(default_factory=dict)


class ColumnReport(_Model):
    """One column of a canonical table: where it came from, its type and how full it is."""

    name: str
    source: str | None  # header in the file; None for derived columns (outcome, churned from subscriptions…)
    origin: str  # "map", a preset name, "generic", "extra", "derived", "constant"
    kind: str
    coverage: float  # share of rows with a value


class TableReport(_Model):
    table: str
    source: str
    format: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    rows_read: int = 0
    rows: int = 0  # after dropping (e.g. Pipedrive deleted deals)
    columns: list[ColumnReport] = Field(default_factory=list)
    dropped_headers: list[str] = Field(default_factory=list)
    extra_attributes: list[str] = Field(default_factory=list)
    outcomes: dict[str, int] | None = None  # deals: won / lost / open
    churned: int | None = None  # accounts: churned count when known
    problems: list[ProblemReport] = Field(default_factory=list)

    @property
    def mapping(self) -> dict[str, str]:
        return {c.source: c.name for c in self.columns if c.source is not None}


class IngestReport(_Model):
    preset: PresetReport
    mapping_sources: list[str] = Field(default_factory=list)
    stage_map: dict[str, str] = Field(default_factory=dict)
    as_of: str | None = None
    as_of_reason: str | None = None  # why: "given", or the latest event that has happened and where it is
    as_of_source: str | None = None  # table.column of that event (None when given)
    tables: dict[str, TableReport] = Field(default_factory=dict)
    problems: list[ProblemReport] = Field(default_factory=list)  # every problem of every table, errors first

    @property
    def errors(self) -> list[ProblemReport]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[ProblemReport]:
        return [p for p in self.problems if p.severity != "error"]
