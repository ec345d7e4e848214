"""Source header -> canonical column: the user's mapping first, then the preset, then generic synonyms.

A mapping comes from ``--map "Source Header=canonical"`` (repeatable) or a YAML file::

    preset: generic               # optional
    columns:                      # any table
      Customer Tier: plan_tier
    accounts:
      columns:
        account: name
        revenue: {to: annual_revenue, scale: 1000000}        # millions -> units
        locality: {split: [city, region, country]}           # "city, region, country"
        technologies: {to: tech_stack, separator: "|"}
        internal_notes: null                                 # drop the column
    deals:
      set: {stage: won}           # a constant column: every row of this file is a won deal
    stage_map:
      Signed: won
      Engaging: open

Nothing here reads data: it decides names and options from headers alone, so ``inspect`` can explain it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from icpkit.errors import InputError
from icpkit.ingest.outcomes import parse_stage_map
from icpkit.ingest.presets import DEAL_CONTROL_COLUMNS, PRESETS, Preset, normalise_header
from icpkit.ingest.schema import (
    ACCOUNT_COLUMNS,
    DEAL_COLUMNS,
    LEAD_PERSON_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    ColumnKind,
    Outcome,
    TableKind,
)

__all__ = [
    "REQUIRED",
    "SHIPPED_MAPPINGS",
    "ColumnRule",
    "MappingConfig",
    "Resolution",
    "ResolvedColumn",
    "canonical_columns",
    "closest_header",
    "load_mapping",
    "resolve_columns",
    "shipped_mappings",
    "snake_case",
]


@dataclass(frozen=True)
class ColumnRule:
    """What to do with one source column."""

    to: str | None  # target name; None drops the column (unless ``split`` fills others)
    scale: float | None = None  # multiply numbers, e.g. revenue in millions -> 1e6
    split: tuple[str, ...] = ()  # "city, region, country" -> these columns, by position
    separator: str | None = None  # multi-valued text -> list<string>
    kind: ColumnKind | None = None  # force a type instead of the canonical/inferred one

    @classmethod
    def parse(cls, value: Any, *, where: str) -> ColumnRule:
        if value is None or (isinstance(value, str) and value.strip() in ("", "-", "~")):
            return cls(to=None)
        if isinstance(value, str):
            return cls(to=value.strip())
        if not isinstance(value, Mapping):
            raise InputError(f"{where}: expected a column name or a mapping with 'to', got {value!r}")
        unknown = set(value) - {"to", "scale", "split", "separator", "kind"}
        if unknown:
            raise InputError(f"{where}: unknown option(s) {sorted(unknown)}; use to, scale, split, separator, kind")
        try:
            kind = ColumnKind(value["kind"]) if value.get("kind") else None
            scale = float(value["scale"]) if value.get("scale") is not None else None
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from None
        split = value.get("split") or ()
        if isinstance(split, str):
            split = [s.strip() for s in split.split(",")]
        return cls(
            to=(str(value["to"]).strip() if value.get("to") else None),
            scale=scale,
            split=tuple(str(s) for s in split),
            separator=value.get("separator"),
            kind=kind,
        )


@dataclass
class MappingConfig:
    """A user's mapping: column rules (for any table or one table), constant columns, a stage map."""

    columns: dict[str, ColumnRule] = field(default_factory=dict)  # normalised header -> rule
    tables: dict[TableKind, dict[str, ColumnRule]] = field(default_factory=dict)
    constants: dict[TableKind, dict[str, str]] = field(default_factory=dict)
    stage_map: dict[str, Outcome] = field(default_factory=dict)
    preset: str | None = None
    sources: list[str] = field(default_factory=list)  # where the mapping came from, for the report

    def rules_for(self, kind: TableKind) -> dict[str, ColumnRule]:
        return {**self.columns, **self.tables.get(kind, {})}

    def merge(self, other: MappingConfig) -> MappingConfig:
        tables = {k: dict(v) for k, v in self.tables.items()}
        for k, v in other.tables.items():
            tables.setdefault(k, {}).update(v)
        constants = {k: dict(v) for k, v in self.constants.items()}
        for k, v in other.constants.items():
            constants.setdefault(k, {}).update(v)
        return MappingConfig(
            columns={**self.columns, **other.columns},
            tables=tables,
            constants=constants,
            stage_map={**self.stage_map, **other.stage_map},
            preset=other.preset or self.preset,
            sources=self.sources + other.sources,
        )


def _from_document(doc: Any, where: str) -> MappingConfig:
    if doc is None:
        return MappingConfig(sources=[where])
    if not isinstance(doc, Mapping):
        raise InputError(f"{where}: a mapping file must be a YAML mapping (see `icpkit inspect --help`)")
    allowed = {"preset", "columns", "stage_map", *[k.value for k in TableKind]}
    unknown = set(doc) - allowed
    if unknown:
        raise InputError(f"{where}: unknown key(s) {sorted(map(str, unknown))}; expected {sorted(allowed)}")
    cfg = MappingConfig(preset=doc.get("preset"), sources=[where])
    cfg.columns = _rules(doc.get("columns"), f"{where} columns")
    for kind in TableKind:
        section = doc.get(kind.value)
        if section is None:
            continue
        if not isinstance(section, Mapping) or set(section) - {"columns", "set"}:
            raise InputError(f"{where} {kind.value}: expected 'columns:' and/or 'set:' under '{kind.value}:'")
        cfg.tables[kind] = _rules(section.get("columns"), f"{where} {kind.value}.columns")
        if section.get("set"):
            cfg.constants[kind] = {str(k): str(v) for k, v in dict(section["set"]).items()}
    cfg.stage_map = parse_stage_map({str(k): str(v) for k, v in dict(doc.get("stage_map") or {}).items()})
    return cfg


def _rules(section: Any, where: str) -> dict[str, ColumnRule]:
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise InputError(f"{where}: expected 'Source Header: canonical_name' entries")
    return {normalise_header(str(k)): ColumnRule.parse(v, where=f"{where}.{k}") for k, v in section.items()}


SHIPPED_MAPPINGS = Path(__file__).resolve().parent.parent / "data" / "mappings"


def shipped_mappings() -> dict[str, Path]:
    """The mapping files that ship with icpkit, by short name (``maven_crm`` -> its YAML file)."""
    if not SHIPPED_MAPPINGS.is_dir():
        return {}
    return {p.stem: p for p in sorted(SHIPPED_MAPPINGS.glob("*.yaml"))}


def _shipped(item: str) -> Path | None:
    """The shipped mapping ``item`` names (``maven_crm`` or ``maven_crm.yaml``), unless a local file does."""
    if Path(item).exists() or "/" in item or "\\" in item:
        return None
    stem = item[: -len(Path(item).suffix)] if item.lower().endswith((".yml", ".yaml")) else item
    return shipped_mappings().get(stem.strip())


def _map_entry(item: str) -> MappingConfig:
    header, sep, target = item.rpartition("=")
    if not sep or not header.strip():
        names = ", ".join(shipped_mappings()) or "none"
        raise InputError(
            f"--map '{item}' must be 'Source Header=canonical_name', a .yaml mapping file or the name of a "
            f"mapping shipped with icpkit ({names})"
        )
    if target.strip().lower() in ("null", "none"):
        raise InputError(
            f"--map '{item}': '{target.strip()}' would become a column of that name; to drop the column, "
            f"write '{header}=' with nothing after '='"
        )
    return MappingConfig(
        columns={normalise_header(header): ColumnRule.parse(target, where=f"--map '{item}'")},
        sources=[f"--map {item}"],
    )


def load_mapping(source: MappingConfig | Mapping | str | Path | Iterable[str] | None) -> MappingConfig:
    """Build a MappingConfig from a YAML path, a dict, ``"Header=canonical"`` strings, or a mix of these.

    Strings ending in .yml/.yaml are files; a name without ``=`` (``maven_crm``) is a mapping shipped with icpkit
    (``shipped_mappings``) unless a local file has that name; ``"Header="`` drops a column. Later entries override
    earlier ones.
    """
    if source is None:
        return MappingConfig()
    if isinstance(source, MappingConfig):
        return source
    if isinstance(source, Mapping):
        return _from_document(source, "mapping")
    if isinstance(source, Path | str):
        source = [str(source)]
    cfg = MappingConfig()
    for item in source:
        item = str(item)
        shipped = _shipped(item) if "=" not in item else None
        if shipped is not None:
            cfg = cfg.merge(_read_yaml(shipped))
        elif item.lower().endswith((".yml", ".yaml")) and "=" not in item:
            cfg = cfg.merge(_read_yaml(Path(item)))
        else:
            cfg = cfg.merge(_map_entry(item))
    return cfg


def _read_yaml(path: Path) -> MappingConfig:
    from ruamel.yaml import YAML, YAMLError

    if not path.is_file():
        from icpkit.errors import FileNotFoundInputError

        names = ", ".join(shipped_mappings()) or "none"
        raise FileNotFoundInputError(f"mapping file not found (mappings shipped with icpkit: {names})", path=path)
    try:
        doc = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}".splitlines()[0], path=path) from exc
    return _from_document(doc, str(path))


# --- resolution ------------------------------------------------------------------------------------------------


def canonical_columns(kind: TableKind) -> dict[str, ColumnKind]:
    """Canonical columns of a table kind, with their kinds."""
    if kind is TableKind.DEALS:
        return dict(DEAL_COLUMNS)
    if kind is TableKind.SUBSCRIPTIONS:
        return dict(SUBSCRIPTION_COLUMNS)
    if kind is TableKind.LEADS:
        return {**ACCOUNT_COLUMNS, **LEAD_PERSON_COLUMNS}
    return dict(ACCOUNT_COLUMNS)


# Each entry is a group of alternatives: at least one of them must be present.
REQUIRED: dict[TableKind, list[tuple[str, ...]]] = {
    TableKind.ACCOUNTS: [("account_id", "name")],
    TableKind.DEALS: [("account_id", "account_name"), ("stage", "status", "is_won", "is_closed", "outcome")],
    TableKind.SUBSCRIPTIONS: [("account_id",), ("start_date",), ("arr", "mrr")],
    TableKind.LEADS: [],
    TableKind.UNIVERSE: [],
}

_NON_WORD = re.compile(r"[^0-9a-z]+")


def _words(normalised: str) -> str:
    """A normalised header with each run of separators as one ``_``: ``sales motion`` -> ``sales_motion``."""
    return _NON_WORD.sub("_", normalised).strip("_")


def _bare(normalised: str, prefixes: tuple[str, ...]) -> str:
    """A normalised header without its entity prefix (``organization - ``), unless nothing would be left."""
    for prefix in prefixes:
        if normalised.startswith(prefix) and normalised[len(prefix) :].strip():
            return normalised[len(prefix) :].strip()
    return normalised


def snake_case(header: str, position: int) -> str:
    """A column name safe for SQL and specs: ``Deal - Pipeline`` -> ``deal_pipeline``; empty -> ``column_N``."""
    name = _words(normalise_header(header))
    if not name:
        return f"column_{position + 1}"
    return f"c_{name}" if name[0].isdigit() else name


@dataclass(frozen=True)
class ResolvedColumn:
    source: str  # the header as in the file
    target: str | None  # canonical / control / extra name; None = dropped
    origin: str  # "map" | "<preset name>" | "generic" | "extra" | "dropped"
    rule: ColumnRule


@dataclass
class Resolution:
    kind: TableKind
    columns: list[ResolvedColumn]

    @property
    def mapping(self) -> dict[str, str | None]:
        return {c.source: c.target for c in self.columns}

    @property
    def extras(self) -> list[ResolvedColumn]:
        return [c for c in self.columns if c.origin == "extra"]

    @property
    def dropped(self) -> list[str]:
        return [c.source for c in self.columns if c.target is None and not c.rule.split]

    def targets(self) -> set[str]:
        out = {c.target for c in self.columns if c.target}
        for c in self.columns:
            out.update(c.rule.split)
        return out


def resolve_columns(
    headers: list[str], kind: TableKind, preset: Preset, config: MappingConfig | None = None
) -> Resolution:
    """Name every header: user rule > preset alias > generic alias > kept as a typed extra attribute.

    Within the preset, a header that equals an alias earlier in the list wins (``industry`` beats ``sector`` for
    the industry column; the loser is kept as an extra). A header also matches an alias written with other word
    separators (``Sales Motion`` is the alias ``sales_motion``), after exact matches of the same alias. Each
    canonical name is given to one header at most.
    """
    config = config or MappingConfig()
    rules = config.rules_for(kind)
    norm = [normalise_header(h) for h in headers]
    bare = [_bare(h, preset.prefixes.get(kind, ())) for h in norm]  # "organization - industry" -> "industry"
    assigned: dict[int, ResolvedColumn] = {}
    taken: set[str] = set()

    for i, h in enumerate(norm):
        if h in rules:
            rule = rules[h]
            assigned[i] = ResolvedColumn(headers[i], rule.to, "map" if rule.to or rule.split else "dropped", rule)
            if rule.to:
                taken.add(rule.to)  # split targets are not taken: a dedicated column (PDL's country) wins

    layers = [preset] if preset.name == "generic" else [preset, PRESETS["generic"]]
    for layer in layers:
        names = norm if layer is preset else bare
        words = [_words(h) for h in names]
        candidates = []
        for order, (canonical, aliases) in enumerate(layer.aliases(kind).items()):
            for rank, alias in enumerate(aliases):
                candidates += [(rank, 0, order, canonical, i, alias) for i, h in enumerate(names) if h == alias]
                loose = _words(alias)
                candidates += [
                    (rank, 1, order, canonical, i, alias)
                    for i, w in enumerate(words)
                    if w == loose and names[i] != alias
                ]
        for _rank, _loose, _order, canonical, i, alias in sorted(candidates):
            if i in assigned or canonical in taken:
                continue
            rule = ColumnRule(to=canonical, scale=layer.scales.get(alias))
            assigned[i] = ResolvedColumn(headers[i], canonical, layer.name, rule)
            taken.add(canonical)

    reserved = set(canonical_columns(kind)) | (DEAL_CONTROL_COLUMNS if kind is TableKind.DEALS else set())
    used = set(taken)
    for i, h in enumerate(headers):
        if i in assigned:
            continue
        name = snake_case(bare[i], i)
        if name in used or name in reserved:  # "Person - Name" beside the company's name: person_name
            name = snake_case(h, i)
        base, n = name, 2
        while name in used or name in reserved:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        assigned[i] = ResolvedColumn(h, name, "extra", ColumnRule(to=name))
    return Resolution(kind=kind, columns=[assigned[i] for i in range(len(headers))])


def closest_header(canonical: str, headers: list[str], kind: TableKind) -> str | None:
    """The header most like ``canonical`` or any of its known spellings (difflib), for 'did you mean' hints."""
    spellings = {canonical, canonical.replace("_", " ")}
    for preset in PRESETS.values():
        spellings.update(preset.aliases(kind).get(canonical, ()))
    best, best_ratio = None, 0.0
    for h in headers:
        n = normalise_header(h)
        for s in spellings:
            ratio = difflib.SequenceMatcher(None, n, s).ratio()
            if ratio > best_ratio:
                best, best_ratio = h, ratio
    return best if best_ratio >= 0.6 else None
