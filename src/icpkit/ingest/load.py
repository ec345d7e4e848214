"""Read CRM export files into a validated canonical ``Dataset`` and a report of what was understood.

The one entry point both ``icpkit inspect`` and ``icpkit build`` use, so what inspect shows is what build learns
from. Problems are collected across all files before anything is raised, so a user fixes a file once, not once per
problem; warnings (deals pointing at unknown accounts, deleted Pipedrive deals…) never stop the run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import (
    BadValueError,
    DuplicateIdError,
    InputError,
    MissingColumnError,
    Problem,
    UnmappedStageError,
    UnreadableFileError,
)
from icpkit.frames import as_arrow
from icpkit.ingest.canonical import (
    Assembled,
    assemble,
    check_required,
    dates_after,
    derive_from_subscriptions,
    duplicate_ids,
    history_end,
    link_deals,
)
from icpkit.ingest.mapping import MappingConfig, Resolution, load_mapping, resolve_columns
from icpkit.ingest.outcomes import parse_stage_map, resolve_outcomes
from icpkit.ingest.presets import DEAL_CONTROL_COLUMNS, PRESETS, Preset, PresetChoice, detect_preset, get_preset
from icpkit.ingest.readers import RawTable, read_raw
from icpkit.ingest.report import ColumnReport, IngestReport, PresetReport, ProblemReport, TableReport
from icpkit.ingest.schema import ColumnKind, Dataset, Outcome, TableKind

__all__ = ["LoadResult", "TableResult", "load_dataset", "load_table"]

Source = str | Path | pa.Table | Any  # a path, an Arrow table or a pandas DataFrame


@dataclass
class LoadResult:
    dataset: Dataset
    report: IngestReport


@dataclass
class TableResult:
    table: pa.Table
    kinds: dict[str, ColumnKind]
    report: IngestReport


@dataclass
class _Issues:
    """Problems with the error class each one should raise as."""

    items: list[tuple[Problem, type[InputError]]] = field(default_factory=list)

    def add(self, problems: Iterable[Problem], cls: type[InputError] = InputError) -> None:
        self.items += [(p, cls) for p in problems]

    def warn(self, message: str, *, path: str | None = None, column: str | None = None) -> None:
        self.items.append((Problem(message, path=path, column=column, severity="warning"), InputError))

    @property
    def errors(self) -> list[tuple[Problem, type[InputError]]]:
        return [(p, c) for p, c in self.items if p.severity == "error"]

    def raise_errors(self) -> None:
        errors = self.errors
        if not errors:
            return
        first, cls = errors[0]
        problems = [p for p, _ in errors]
        if len(problems) == 1:
            raise cls(first.message, path=first.path, row=first.row, column=first.column, problems=problems)
        files = sorted({Path(p.path).name for p in problems if p.path})
        raise cls(
            f"{len(problems)} problems in the input ({', '.join(files)}); nothing was loaded",
            problems=problems,
        )


def _read(source: Source, kind: TableKind, encoding: str | None) -> RawTable:
    if isinstance(source, str | Path):
        return read_raw(source, encoding=encoding)
    table = as_arrow(source, f"{kind.value} table")
    if table.num_rows == 0:
        raise UnreadableFileError("has no rows", path=f"<{kind.value} table>")
    return RawTable(f"<{kind.value} table>", "arrow", None, None, list(table.column_names), table, first_row=1)


def _choose_preset(
    raws: Mapping[TableKind, RawTable], preset: str | None, config: MappingConfig
) -> tuple[Preset, PresetChoice]:
    forced = preset or config.preset
    if forced:
        chosen = get_preset(forced)
        why = "forced with --preset" if preset else f"named in the mapping file ({config.sources[0]})"
        return chosen, PresetChoice(name=chosen.name, forced=True, reason=why)
    choice = detect_preset({k: r.columns for k, r in raws.items()})
    return PRESETS[choice.name], choice


def _for_kind(preset: Preset, kind: TableKind) -> Preset:
    """Leads and a universe hold company attributes: a CRM preset's account headers (HubSpot's
    ``Country/Region``) name their columns too, as they do for accounts, so every command reads them alike."""
    if kind not in (TableKind.LEADS, TableKind.UNIVERSE) or TableKind.ACCOUNTS not in preset.tables:
        return preset
    company = preset.aliases(TableKind.ACCOUNTS)
    if kind is TableKind.LEADS:  # on a lead, a bare "name" or "id" is the person's, as in the generic preset
        company = {k: tuple(a for a in v if a not in ("name", "id", "symbol")) for k, v in company.items()}
    merged = {**company, **preset.aliases(kind)}
    return dataclasses.replace(preset, tables={**preset.tables, kind: merged})


def _prepare(
    raws: Mapping[TableKind, RawTable], preset: Preset, config: MappingConfig, issues: _Issues
) -> tuple[dict[TableKind, Resolution], set[TableKind]]:
    """Each table's column resolution, and the tables that lack a required column (they cannot be assembled)."""
    resolutions = {}
    incomplete = set()
    for kind, raw in raws.items():
        res = resolve_columns(raw.columns, kind, _for_kind(preset, kind), config)
        constants = config.constants.get(kind, {})
        missing = check_required(res, raw.columns, raw.path, constants)
        issues.add(missing, MissingColumnError)
        if missing:
            incomplete.add(kind)
        resolutions[kind] = res
    return resolutions, incomplete


def _read_all(
    given: Mapping[TableKind, Source | None], encoding: str | None, issues: _Issues
) -> dict[TableKind, RawTable]:
    """Read every given file; one that cannot be read becomes a problem and the others are still read and checked,
    so a single run lists what is wrong in every file."""
    raws = {}
    for kind, source in given.items():
        if source is None:
            continue
        try:
            raws[kind] = _read(source, kind, encoding)
        except InputError as exc:
            problems = exc.problems or [Problem(exc.message, exc.path, exc.row, exc.column)]
            issues.add(problems, type(exc))
    if not raws:
        issues.raise_errors()
    return raws


def _report_columns(asm: Assembled, table: pa.Table) -> list[ColumnReport]:
    n = max(table.num_rows, 1)
    out = []
    for name in table.column_names:
        source, origin = asm.sources.get(name, (None, "derived"))
        kind = asm.kinds.get(name, ColumnKind.TEXT)
        coverage = 1.0 - table.column(name).null_count / n if table.num_rows else 0.0
        out.append(ColumnReport(name=name, source=source, origin=origin, kind=kind.value, coverage=coverage))
    return out


def _table_report(kind: TableKind, raw: RawTable, res: Resolution, asm: Assembled, table: pa.Table) -> TableReport:
    return TableReport(
        table=kind.value,
        source=raw.source or raw.path,
        format=raw.format,
        encoding=raw.encoding,
        sheet=raw.sheet,
        rows_read=raw.num_rows,
        rows=table.num_rows,
        columns=_report_columns(asm, table),
        dropped_headers=res.dropped,
        extra_attributes=[c.target for c in res.extras if c.target in table.column_names],
    )


def _accounts(asm: Assembled, path: str, issues: _Issues) -> pa.Table:
    table = asm.table
    if "account_id" not in table.column_names and "name" in table.column_names:
        # No id column (maven_crm, many spreadsheets): the trimmed company name is the id deals link to.
        table = table.append_column("account_id", pc.utf8_trim_whitespace(table.column("name")))
        asm.kinds["account_id"] = ColumnKind.ID
        asm.sources["account_id"] = (asm.sources["name"][0], "derived")
    ids = table.column("account_id")
    if ids.null_count:
        idx = np.flatnonzero(np.asarray(pc.is_null(ids).to_numpy(zero_copy_only=False), dtype=bool))
        rows = asm.rows[idx[:5]]
        issues.add(
            [
                Problem(
                    f"{ids.null_count} accounts have no account_id (rows {', '.join(map(str, rows))})",
                    path=path,
                    row=int(rows[0]),
                    column=asm.sources["account_id"][0] or "account_id",
                )
            ],
            BadValueError,
        )
    header = asm.sources["account_id"][0] or "account_id"
    issues.add(
        [
            Problem(p.message.replace("account_id values", f"account ids ('{header}')"), p.path, p.row, header)
            for p in duplicate_ids(table, "account_id", asm.rows, path)
        ],
        DuplicateIdError,
    )
    return table.select(["account_id", *[c for c in table.column_names if c != "account_id"]])


def _deals(
    asm: Assembled,
    accounts: pa.Table | None,
    path: str,
    preset: Preset,
    stage_map: Mapping[str, Outcome],
    issues: _Issues,
) -> tuple[pa.Table, dict[str, int]]:
    table, rows = asm.table, asm.rows
    result = resolve_outcomes(
        table,
        open_stages=preset.open_stages,
        stage_map=stage_map,
        status_only=preset.stage_from_status_only and "status" in table.column_names,
        rows=rows,
        path=path,
    )
    issues.add(result.problems, UnmappedStageError)
    table = table.append_column("outcome", result.outcome)
    asm.kinds["outcome"] = ColumnKind.CATEGORICAL
    asm.sources["outcome"] = (None, "derived")
    deleted = int(pc.sum(result.deleted).as_py() or 0)
    if deleted:
        keep = pc.invert(result.deleted)
        table, rows = table.filter(keep), rows[np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)]
        issues.warn(f"{deleted} deleted deals (status 'deleted') were left out", path=path, column="status")
    counts = {o.value: 0 for o in Outcome}
    vc = pc.value_counts(table.column("outcome"))
    for item in vc.to_pylist():
        if item["values"] is not None:
            counts[item["values"]] = item["counts"]

    names = table.column_names
    fill = [c for c in ("won_time", "lost_time") if c in names]
    if fill:
        closed = table.column("closed_date") if "closed_date" in names else pa.nulls(table.num_rows, pa.date32())
        for c in fill:
            closed = pc.coalesce(closed, table.column(c))
        if "closed_date" in names:
            table = table.set_column(names.index("closed_date"), "closed_date", closed)
        else:
            table = table.append_column("closed_date", closed)
            asm.kinds["closed_date"] = ColumnKind.DATE
            asm.sources["closed_date"] = (None, "derived")
    if "deal_id" not in table.column_names:
        table = table.append_column("deal_id", pc.cast(pa.array(rows), pa.string()))
        asm.kinds["deal_id"] = ColumnKind.ID
        asm.sources["deal_id"] = (None, "derived")
        issues.warn("no deal id column: each deal is identified by its row number", path=path, column="deal_id")
    else:  # a repeated deal would count its amount twice in every cohort and win rate
        header = asm.sources["deal_id"][0] or "deal_id"
        issues.add(
            [
                Problem(p.message.replace("deal_id values", f"deal ids ('{header}')"), p.path, p.row, header)
                for p in duplicate_ids(table, "deal_id", rows, path)
            ],
            DuplicateIdError,
        )

    if accounts is not None:
        table, rows, stats = link_deals(table, accounts, rows)
        if stats.multi_account_deals:
            issues.warn(
                f"{stats.multi_account_deals} deals are associated with several companies; "
                "each company is credited with the deal",
                path=path,
                column=asm.sources.get("account_id", ("account_id",))[0],
            )
        if stats.no_account:
            issues.warn(f"{stats.no_account} deals have no account", path=path)
        if stats.unknown_account:
            shown = ", ".join(f"'{e}'" for e in stats.unknown_examples)
            issues.warn(
                f"{stats.unknown_account} deals point at accounts not in the accounts file (e.g. {shown})",
                path=path,
            )
        asm.kinds["account_id"] = ColumnKind.ID
        asm.sources.setdefault("account_id", (asm.sources.get("account_name", (None,))[0], "derived"))
    drop = [c for c in table.column_names if c in DEAL_CONTROL_COLUMNS]
    table = table.drop_columns(drop)
    for c in drop:
        asm.kinds.pop(c, None)
    asm.rows = rows
    front = [c for c in ("deal_id", "account_id", "outcome") if c in table.column_names]
    return table.select(front + [c for c in table.column_names if c not in front]), counts


def _parse_as_of(as_of: dt.date | str | None) -> dt.date | None:
    if as_of is None or isinstance(as_of, dt.date):
        return as_of.date() if isinstance(as_of, dt.datetime) else as_of
    try:
        return dt.date.fromisoformat(str(as_of).strip()[:10])
    except ValueError:
        raise InputError(f"as_of '{as_of}' is not a date (use YYYY-MM-DD)") from None


def _flag_future_dates(
    tables: Mapping[str, pa.Table],
    kinds: Mapping[str, Mapping[str, ColumnKind]],
    as_of: dt.date,
    paths: Mapping[str, str],
    headers: Mapping[str, Mapping[str, str | None]],
    issues: _Issues,
) -> None:
    """Warn about dates the history cannot hold yet: open deals expected to close after ``as_of`` (they stay open
    and do not move it), and any date after today (a typo, or a date still to come), but the open deals' and the
    subscriptions' end dates, which are plans by nature."""
    for f in dates_after(tables, kinds, as_of, open_deals_only=True):
        issues.warn(
            f"{f.count:,} open deals have an expected close date after as_of {as_of} (the latest {f.latest}): "
            "they count as open, and as_of is the last event that happened",
            path=paths.get(f.table),
            column=headers.get(f.table, {}).get(f.column) or f.column,
        )
    today = dt.datetime.now(dt.UTC).date()
    happened = dict(tables)
    deals = tables.get("deals")
    if deals is not None and "outcome" in deals.column_names:  # an open deal's close date is a plan
        happened["deals"] = deals.filter(pc.invert(pc.fill_null(pc.equal(deals.column("outcome"), "open"), False)))
    event_kinds = {
        t: {c: k for c, k in ks.items() if (t, c) != ("subscriptions", "end_date")} for t, ks in kinds.items()
    }
    for f in dates_after(happened, event_kinds, today):
        issues.warn(
            f"{f.count:,} values of {f.column} are after today ({today}), the latest {f.latest}: a typo or a date "
            "still to come",
            path=paths.get(f.table),
            column=headers.get(f.table, {}).get(f.column) or f.column,
        )


def load_dataset(
    accounts: Source,
    deals: Source | None = None,
    subscriptions: Source | None = None,
    leads: Source | None = None,
    *,
    preset: str | None = None,
    mapping: MappingConfig | Mapping | str | Path | Iterable[str] | None = None,
    stage_map: Mapping[str, str] | Iterable[str] | None = None,
    encoding: str | None = None,
    as_of: dt.date | str | None = None,
) -> LoadResult:
    """Read, map, type, link and validate a CRM history into canonical tables.

    ``mapping`` is a YAML path, a dict in the same shape, ``"Header=canonical"`` strings, or a ``MappingConfig``;
    ``stage_map`` adds ``"Stage=won|lost|open"`` entries. Raises one ``InputError`` subclass listing every
    problem found when the input cannot be used; nothing is returned half-loaded.
    """
    config = load_mapping(mapping)
    extra_stages = parse_stage_map(stage_map)
    stages = {**config.stage_map, **extra_stages}
    given = {
        TableKind.ACCOUNTS: accounts,
        TableKind.DEALS: deals,
        TableKind.SUBSCRIPTIONS: subscriptions,
        TableKind.LEADS: leads,
    }
    issues = _Issues()
    raws = _read_all(given, encoding, issues)
    chosen, choice = _choose_preset(raws, preset, config)
    for raw in raws.values():
        issues.add(raw.problems)
    resolutions, incomplete = _prepare(raws, chosen, config, issues)

    # Tables with their required columns are assembled and checked even when another file failed, so one run
    # lists every problem; nothing is returned unless there is none.
    asm = {
        k: assemble(raws[k], resolutions[k], constants=config.constants.get(k), industry_enum=chosen.industry_enum)
        for k in raws
        if k not in incomplete
    }
    for a in asm.values():
        issues.add(a.problems, BadValueError)

    tables: dict[str, pa.Table] = {}
    if TableKind.ACCOUNTS in asm:
        tables["accounts"] = _accounts(asm[TableKind.ACCOUNTS], raws[TableKind.ACCOUNTS].path, issues)
    outcome_counts = None
    if TableKind.DEALS in asm:
        tables["deals"], outcome_counts = _deals(
            asm[TableKind.DEALS], tables.get("accounts"), raws[TableKind.DEALS].path, chosen, stages, issues
        )
    if TableKind.SUBSCRIPTIONS in asm and "accounts" in tables:
        subs = asm[TableKind.SUBSCRIPTIONS].table
        known = pc.is_in(pc.cast(subs.column("account_id"), pa.string()), value_set=tables["accounts"]["account_id"])
        unknown = int(pc.sum(pc.invert(pc.fill_null(known, False))).as_py() or 0)
        if unknown:
            issues.warn(
                f"{unknown} subscriptions belong to accounts not in the accounts file",
                path=raws[TableKind.SUBSCRIPTIONS].path,
                column="account_id",
            )
    if TableKind.SUBSCRIPTIONS in asm:
        tables["subscriptions"] = asm[TableKind.SUBSCRIPTIONS].table
    if TableKind.LEADS in asm:
        tables["leads"] = asm[TableKind.LEADS].table
    issues.raise_errors()

    kinds = {k.value: a.kinds for k, a in asm.items()}
    given_as_of = _parse_as_of(as_of)
    end = history_end(tables)
    when = given_as_of or (end.date if end is not None else None)
    if when is not None:
        paths = {k.value: raws[k].path for k in raws}
        headers = {k.value: {c: src for c, (src, _) in a.sources.items()} for k, a in asm.items()}
        _flag_future_dates(tables, kinds, when, paths, headers, issues)
    if "subscriptions" in tables and when is not None:
        acc_asm = asm[TableKind.ACCOUNTS]
        tables["accounts"], derived = derive_from_subscriptions(tables["accounts"], tables["subscriptions"], when)
        for c in derived:
            acc_asm.kinds[c] = (
                ColumnKind.DATE
                if c in ("customer_since", "churn_date")
                else (ColumnKind.BOOLEAN if c == "churned" else ColumnKind.NUMERIC)
            )
            acc_asm.sources[c] = (None, "derived")

    reports = {}
    for k, raw in raws.items():
        reports[k.value] = _table_report(k, raw, resolutions[k], asm[k], tables[k.value])
    if outcome_counts is not None:
        reports["deals"].outcomes = outcome_counts
    if "churned" in tables["accounts"].column_names:
        reports["accounts"].churned = int(pc.sum(tables["accounts"]["churned"]).as_py() or 0)
    problems = [ProblemReport.of(p) for p, _ in issues.items]
    for p in problems:
        for k, raw in raws.items():
            if p.path == raw.path:
                reports[k.value].problems.append(p)

    dataset = Dataset(
        accounts=tables["accounts"],
        deals=tables.get("deals"),
        subscriptions=tables.get("subscriptions"),
        leads=tables.get("leads"),
        kinds={name: {c: kinds[name][c] for c in t.column_names if c in kinds[name]} for name, t in tables.items()},
        sources={k.value: raw.source or raw.path for k, raw in raws.items()},
    )
    report = IngestReport(
        preset=PresetReport(
            name=choice.name,
            forced=choice.forced,
            reason=choice.reason,
            matched_headers=list(choice.matched),
            scores=dict(choice.scores),
        ),
        mapping_sources=config.sources,
        stage_map={k: v.value for k, v in stages.items()},
        as_of=when.isoformat() if when else None,
        as_of_reason=(
            "given"
            if given_as_of is not None
            else end.why() + (" — open deals' expected close dates never count" if "deals" in tables else "")
            if end is not None
            else None
        ),
        as_of_source=f"{end.table}.{end.column}" if end is not None and given_as_of is None else None,
        tables=reports,
        problems=problems,
    )
    return LoadResult(dataset=dataset, report=report)


def load_table(
    source: Source,
    kind: TableKind | str,
    *,
    preset: str | None = None,
    mapping: MappingConfig | Mapping | str | Path | Iterable[str] | None = None,
    encoding: str | None = None,
) -> TableResult:
    """Read one table on its own — leads to score, a company universe to size — mapped and typed like accounts."""
    kind = TableKind(kind)
    config = load_mapping(mapping)
    raw = _read(source, kind, encoding)
    chosen, choice = _choose_preset({kind: raw}, preset, config)
    issues = _Issues()
    issues.add(raw.problems)
    res = _prepare({kind: raw}, chosen, config, issues)[0][kind]
    issues.raise_errors()
    asm = assemble(raw, res, constants=config.constants.get(kind), industry_enum=chosen.industry_enum)
    issues.add(asm.problems, BadValueError)
    table = asm.table
    if kind is TableKind.ACCOUNTS:
        table = _accounts(asm, raw.path, issues)
    issues.raise_errors()
    table_report = _table_report(kind, raw, res, asm, table)
    table_report.problems = [ProblemReport.of(p) for p, _ in issues.items]
    report = IngestReport(
        preset=PresetReport(
            name=choice.name,
            forced=choice.forced,
            reason=choice.reason,
            matched_headers=list(choice.matched),
            scores=dict(choice.scores),
        ),
        mapping_sources=config.sources,
        tables={kind.value: table_report},
        problems=table_report.problems,
    )
    return TableResult(
        table=table, kinds={c: asm.kinds[c] for c in table.column_names if c in asm.kinds}, report=report
    )
