"""The ICP spec as pydantic models: ICP-as-code that a person can read, review and edit by hand.

Every model is frozen and forbids unknown keys, so a misspelt YAML key is an error instead of silently dropped.
A clause is always a field, an operator and a value that a CRM, a warehouse or a data provider can apply.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "LAYERS",
    "Clause",
    "Criterion",
    "DataContract",
    "Evidence",
    "Exclusion",
    "FieldRead",
    "ICPSpec",
    "LeftOut",
    "Op",
    "Persona",
    "PersonaFields",
    "Routing",
    "RoutingRule",
    "Segment",
    "Tiers",
]

LAYERS: tuple[str, ...] = ("firmographic", "technographic", "behavioral", "trigger", "economic")
_TABLES = ("Table", "DataFrame")  # what ICPSpec.score scores as a table (Arrow, pandas), by type name: no import


class Op(StrEnum):
    EQUALS = "equals"
    IN = "in"
    NOT_IN = "not_in"
    BETWEEN = "between"
    GTE = "gte"
    LTE = "lte"
    CONTAINS_ANY = "contains_any"
    CONTAINS_ALL = "contains_all"
    CONTAINS_NONE = "contains_none"
    IS_TRUE = "is_true"
    IS_FALSE = "is_false"
    EXISTS = "exists"
    WITHIN_DAYS = "within_days"


LIST_OPS = frozenset({Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE})
FLAG_OPS = frozenset({Op.IS_TRUE, Op.IS_FALSE, Op.EXISTS})
NUMERIC_OPS = frozenset({Op.GTE, Op.LTE, Op.WITHIN_DAYS})

Scalar = str | int | float | bool


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Frozen):
    """Why a clause is in the spec: the figures discovery measured. Ignored by the content hash."""

    support: int = Field(ge=0, description="signal (high-value retained) accounts matching")
    n: int | None = Field(default=None, ge=0, description="accounts matching, all cohorts")
    signal_rate: float | None = Field(default=None, description="share of matching accounts that are signal")
    base_rate: float | None = Field(default=None, description="share of all learning accounts that are signal")
    lift: float | None = None
    lift_low: float | None = None
    lift_high: float | None = None
    churn_rate: float | None = Field(default=None, description="share of matching customers that churned")
    loss_rate: float | None = None
    base_churn_rate: float | None = Field(
        default=None, description="churn among all customers, the over-fit test's baseline"
    )
    churn_p: float | None = Field(default=None, description="p of the churn excess over baseline (over-fit test)")
    churn_q: float | None = Field(default=None, description="its q, over the candidates facing the over-fit test")
    folded: list[str] | None = Field(
        default=None, description="other columns of the same attribute (a date's month, year…) folded into this one"
    )
    p: float | None = None
    q: float | None = None


def _blank(x: Any) -> bool:
    """Text that scoring reads as missing (only spaces, tabs and line breaks): no record can ever equal it."""
    return isinstance(x, str) and not x.strip(" \t\n\r")


_EXACT = 2**53  # the largest integer a double (DuckDB, Spark, PostgreSQL float8, JSON) holds exactly


def _double(x: Any) -> Any:
    """An integer beyond ±2^53 as the double every engine compares it as (DuckDB, Spark, PostgreSQL float8,
    JSON); left an int, it overflows the served JSON past 64 bits and a float past ±1.8e308."""
    if type(x) is int and abs(x) > _EXACT:
        try:
            return float(x)
        except OverflowError:
            raise ValueError("numbers must be finite (an integer beyond ±1.8e308)") from None
    return x


def _whole_number(v: Any) -> Any:
    """``true`` and ``"10"`` are not numbers, though pydantic's lax mode would read them as 1 and 10."""
    if isinstance(v, bool | str):
        raise ValueError(f"must be a valid integer (a whole number), got {v!r}")
    return v


class Clause(_Frozen):
    """One test: ``field`` ``op`` ``value``. ``value`` is ``True`` for the flag operators."""

    field: str = Field(min_length=1)
    op: Op
    value: Any = True

    @model_validator(mode="after")
    def _check_value(self) -> Clause:
        op, v = self.op, self.value
        if op in LIST_OPS:
            if not isinstance(v, list | tuple) or len(v) == 0:
                raise ValueError(f"'{op}' needs a non-empty list of values")
            if any(isinstance(x, list | dict) or x is None for x in v):
                raise ValueError(f"'{op}' values must be plain text or numbers")
            if any(_blank(x) for x in v):
                raise ValueError(f"'{op}' values must not be blank (a blank cell is a missing value: use 'exists')")
        elif op == Op.BETWEEN:
            if not isinstance(v, list | tuple) or len(v) != 2:
                raise ValueError("'between' needs [low, high] (null for an open end)")
            lo, hi = v
            for b in (lo, hi):
                if b is not None and (isinstance(b, bool) or not isinstance(b, int | float)):
                    raise ValueError(f"'between' bounds must be numbers or null, got {b!r}")
            if lo is None and hi is None:
                raise ValueError("'between' needs at least one bound")
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"lower bound {lo} > upper {hi}")
        elif op in (Op.GTE, Op.LTE):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"'{op}' needs a number, got {v!r}")
        elif op == Op.WITHIN_DAYS:
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"'within_days' needs a whole number of days >= 0, got {v!r}")
        elif op in FLAG_OPS:
            if v is not True:
                raise ValueError(f"'{op}' takes the value true")
        elif op == Op.EQUALS and (v is None or isinstance(v, list | dict) or _blank(v)):
            raise ValueError(f"'equals' needs one plain, non-blank value, got {v!r}")
        return self

    @field_validator("value", mode="before")
    @classmethod
    def _tuples_to_lists(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            return [_double(x) for x in v]
        return _double(v)


class Criterion(Clause):
    """A positive criterion: points when it matches. ``also`` makes it a conjunction (all must match)."""

    points: int = Field(default=0, ge=0, le=100)
    also: list[Clause] = Field(default_factory=list)
    label: str | None = Field(default=None, description="plain-words override for reports")
    evidence: Evidence | None = None

    _points_number = field_validator("points", mode="before")(_whole_number)

    def clauses(self) -> list[Clause]:
        return [Clause(field=self.field, op=self.op, value=self.value), *self.also]


class Exclusion(Clause):
    """A disqualifier: any match puts the record in tier ``excluded``. Always carries a reason."""

    reason: str = Field(min_length=1)
    evidence: Evidence | None = None


class Tiers(_Frozen):
    """Minimum score for each tier; tier1 >= tier2 >= tier3."""

    tier1: int = Field(default=70, ge=0, le=100)
    tier2: int = Field(default=50, ge=0, le=100)
    tier3: int = Field(default=30, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Tiers:
        if not (self.tier1 >= self.tier2 >= self.tier3):
            raise ValueError(f"tiers must satisfy tier1 >= tier2 >= tier3, got {self.tier1}/{self.tier2}/{self.tier3}")
        return self


class Routing(_Frozen):
    tier1: str = "sales"
    tier2: str = "sales"
    tier3: str = "nurture"
    none: str = "disqualify"
    excluded: str = "disqualify"


FIELD_KINDS = ("id", "text", "categorical", "numeric", "boolean", "date", "multi")


class FieldRead(_Frozen):
    """How one canonical field is read: its kind, and for the source column mapped into it a unit scale
    (revenue in millions: ``scale: 1000000``) and a list separator."""

    kind: str = Field(description="id, text, categorical, numeric, boolean, date or multi")
    scale: float | None = Field(default=None, description="a source column's numbers are multiplied by this")
    separator: str | None = Field(default=None, min_length=1, description="items of a multi-valued text cell")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in FIELD_KINDS:
            raise ValueError(f"unknown kind '{v}'; kinds are {', '.join(FIELD_KINDS)}")
        return v

    @field_validator("scale")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and not (v > 0 and v != float("inf")):
            raise ValueError(f"scale must be a positive number, got {v}")
        return v


class LeftOut(_Frozen):
    """A field the build read but never learned from, and why (identifier, outcome, leakage, constant, ...)."""

    field: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    kind: str | None = None


class DataContract(_Frozen):
    """How the build read its data, so every later reader (files, tables, API records) reads the same way.

    ``columns`` maps a source header to its canonical field; ``fields`` gives each field's kind, unit scale and
    list separator; ``left_out`` documents the fields discovery never used. A spec without ``data:`` still loads;
    readers then detect the preset and kinds from each file as before.
    """

    preset: str | None = Field(default=None, description="hubspot, salesforce, pipedrive or generic")
    id_column: str | None = Field(default=None, description="the canonical id column records are matched by")
    columns: dict[str, str] = Field(default_factory=dict, description="source header -> canonical field")
    stage_map: dict[str, str] = Field(default_factory=dict, description="deal stage label -> won, lost or open")
    fields: dict[str, FieldRead] = Field(default_factory=dict)
    left_out: list[LeftOut] = Field(default_factory=list)

    @field_validator("stage_map")
    @classmethod
    def _outcomes(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k, o in v.items() if o not in ("won", "lost", "open")]
        if bad:
            raise ValueError(f"stage '{bad[0]}' maps to '{v[bad[0]]}'; use won, lost or open")
        return v

    @field_validator("columns")
    @classmethod
    def _targets(cls, v: dict[str, str]) -> dict[str, str]:
        blank = [k for k, t in v.items() if not k.strip() or not str(t).strip()]
        if blank:
            raise ValueError(f"column '{blank[0]}' needs a header and a canonical field name")
        return v


SEGMENT_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"

# A persona pattern: words of letters and digits (anything else separates words), an optional trailing ``*``.
_PATTERN_WORDS = re.compile(r"[^A-Za-z0-9]+")
NO_PERSONA = "none"  # in a routing rule: the record matched no persona


def pattern_words(pattern: str) -> tuple[str, bool]:
    """A persona pattern as (its normalised words, whether it ends in the ``*`` prefix wildcard)."""
    text = pattern.strip()
    prefix = text.endswith("*")
    if prefix:
        text = text[:-1]
    return _PATTERN_WORDS.sub(" ", text).strip().lower(), prefix


def _check_patterns(patterns: list[str]) -> list[str]:
    for p in patterns:
        words, _ = pattern_words(p)
        if "*" in p.strip().removesuffix("*"):
            raise ValueError(f"'{p}': '*' is allowed only at the end of a pattern (a word prefix)")
        if not words:
            raise ValueError(f"'{p}' has no letters or digits to match")
    return patterns


class Persona(_Frozen):
    """A buyer persona: who the lead is, matched on title, seniority and department; never part of the fit score.

    Each list holds word patterns (``vp``, ``head of``, ``chief*``) matched on word boundaries; see
    :mod:`icpkit.score.semantics` for the exact rule.
    """

    name: str = Field(pattern=SEGMENT_NAME, description="letters, digits and _, starting with a letter; 40 at most")
    description: str | None = None
    titles: list[str] = Field(default_factory=list)
    exclude_titles: list[str] = Field(default_factory=list)
    seniority: list[str] = Field(default_factory=list)
    department: list[str] = Field(default_factory=list)
    evidence: Evidence | None = None

    @field_validator("titles", "exclude_titles", "seniority", "department")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        return _check_patterns(v)

    @model_validator(mode="after")
    def _something_to_match(self) -> Persona:
        if self.name.lower() == NO_PERSONA:
            raise ValueError(f"'{NO_PERSONA}' is reserved (routing rules use it for leads matching no persona)")
        if not (self.titles or self.seniority or self.department):
            raise ValueError("a persona needs titles, seniority or department to match")
        return self


class PersonaFields(_Frozen):
    """The lead columns personas read (after any column mapping at ingest)."""

    title: str = Field(default="title", min_length=1)
    seniority: str = Field(default="seniority", min_length=1)
    department: str = Field(default="department", min_length=1)


class RoutingRule(_Frozen):
    """``when tier in [...] and persona in [...] -> route``; an absent condition matches anything."""

    tier: list[str] | None = None
    persona: list[str] | None = None
    route: str = Field(min_length=1)

    @model_validator(mode="after")
    def _conditions(self) -> RoutingRule:
        tiers = ("tier1", "tier2", "tier3", "none", "excluded")
        if self.tier is None and self.persona is None:
            raise ValueError("a routing rule needs tier:, persona: or both")
        for name, values in (("tier", self.tier), ("persona", self.persona)):
            if values is not None and not values:
                raise ValueError(f"'{name}' needs at least one value (or leave it out to match any)")
        bad = [t for t in self.tier or [] if t not in tiers]
        if bad:
            raise ValueError(f"unknown tier '{bad[0]}'; tiers are {', '.join(tiers)}")
        return self


def unknown_persona(name: str, known: set[str]) -> str:
    """The message for a routing rule naming a persona the spec does not define."""
    choices = ", ".join(sorted(known)) or "none defined"
    return f"unknown persona '{name}' (personas: {choices}; '{NO_PERSONA}' = no persona matched)"


def _check_layers(layers: dict[str, list[Criterion]]) -> dict[str, list[Criterion]]:
    for name in layers:
        if name not in LAYERS:
            raise ValueError(f"unknown layer '{name}'; layers are {', '.join(LAYERS)}")
    return {name: layers[name] for name in LAYERS if name in layers}


class Segment(_Frozen):
    """One named ICP inside a multi-segment spec: its own layers, exclusions, tiers and routing.

    The name becomes part of output column names (``score_<name>``), so it is a short identifier.
    """

    name: str = Field(pattern=SEGMENT_NAME, description="letters, digits and _, starting with a letter; 40 at most")
    description: str | None = None
    layers: dict[str, list[Criterion]] = Field(default_factory=dict)
    exclusions: list[Exclusion] = Field(default_factory=list)
    tiers: Tiers = Field(default_factory=Tiers)
    routing: Routing = Field(default_factory=Routing)

    @field_validator("layers")
    @classmethod
    def _known_layers(cls, layers: dict[str, list[Criterion]]) -> dict[str, list[Criterion]]:
        return _check_layers(layers)

    def as_spec(self, parent: ICPSpec) -> ICPSpec:
        """This segment as a single-segment spec (``<parent>.<segment>``), scored by any engine as usual."""
        return ICPSpec(
            name=f"{parent.name}.{self.name}",
            version=parent.version,
            as_of=parent.as_of,
            description=self.description,
            layers=self.layers,
            exclusions=self.exclusions,
            tiers=self.tiers,
            routing=self.routing,
        )


class ICPSpec(_Frozen):
    """One ICP: layers of criteria, exclusions with reasons, tiers and routing; optionally buyer personas (who
    to talk to, matched on the lead's title, seniority and department, never part of the score) and routing rules
    that combine the tier with the persona."""

    name: str = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    parent: str | None = None
    as_of: dt.date | None = None
    description: str | None = None
    layers: dict[str, list[Criterion]] = Field(default_factory=dict)
    exclusions: list[Exclusion] = Field(default_factory=list)
    tiers: Tiers = Field(default_factory=Tiers)
    routing: Routing = Field(default_factory=Routing)
    sam: list[Clause] | None = Field(
        default=None, description="serviceable-market filters for sizing (all must hold); never part of the score"
    )
    segments: list[Segment] | None = Field(
        default=None,
        description="several named ICPs in one spec; each record is scored against all and gets the best one",
    )
    persona_fields: PersonaFields = Field(default_factory=PersonaFields)
    personas: list[Persona] = Field(
        default_factory=list, description="buyer personas, tried in order; the first that matches a lead is its persona"
    )
    routing_rules: list[RoutingRule] = Field(
        default_factory=list, description="ordered; the first rule whose tier and persona match sets the route"
    )
    data: DataContract | None = Field(
        default=None, description="how the build read its data; later readers (files, API records) follow it"
    )

    _version_number = field_validator("version", mode="before")(_whole_number)

    @field_validator("layers")
    @classmethod
    def _known_layers(cls, layers: dict[str, list[Criterion]]) -> dict[str, list[Criterion]]:
        return _check_layers(layers)

    @model_validator(mode="after")
    def _persona_names(self) -> ICPSpec:
        names = [p.name.lower() for p in self.personas]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"persona names must be unique (case-insensitive), repeated: {', '.join(dup)}")
        known = {p.name for p in self.personas}
        for i, rule in enumerate(self.routing_rules):
            for name in rule.persona or []:
                if name != NO_PERSONA and name not in known:
                    raise ValueError(f"routing_rules[{i}]: {unknown_persona(name, known)}")
        return self

    @model_validator(mode="after")
    def _segments_alone(self) -> ICPSpec:
        if self.segments is None:
            return self
        if not self.segments:
            raise ValueError("segments needs at least one segment (or leave it out)")
        names = [s.name.lower() for s in self.segments]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"segment names must be unique (case-insensitive), repeated: {', '.join(dup)}")
        shared = [k for k in ("layers", "exclusions", "tiers", "routing") if k in self.model_fields_set]
        if any(getattr(self, k) != type(self).model_fields[k].get_default(call_default_factory=True) for k in shared):
            raise ValueError(
                "with segments, layers, exclusions, tiers and routing go inside each segment, not at the top level"
            )
        return self

    def segment_specs(self) -> list[tuple[str, ICPSpec]]:
        """(segment name, single-segment spec) for each segment; ``[]`` for a single-ICP spec."""
        return [(s.name, s.as_spec(self)) for s in self.segments or []]

    def criteria(self) -> list[tuple[str, Criterion]]:
        """Every criterion with its layer, in spec order."""
        return [(layer, c) for layer, cs in self.layers.items() for c in cs]

    def fields(self) -> list[str]:
        """Every field the spec reads, in first-use order (what an engine must select)."""
        seen: dict[str, None] = {}
        for _, c in self.criteria():
            for cl in c.clauses():
                seen.setdefault(cl.field, None)
        for e in self.exclusions:
            seen.setdefault(e.field, None)
        for _, seg in self.segment_specs():
            for f in seg.fields():
                seen.setdefault(f, None)
        return list(seen)

    # Convenience wrappers; imported lazily so the model stays free of YAML, Arrow and engine imports.

    def to_yaml(self) -> str:
        """The spec as reviewable YAML (see :func:`icpkit.spec.io.dump_spec`)."""
        from icpkit.spec.io import dump_spec

        return dump_spec(self)

    @classmethod
    def from_yaml(cls, source: str | Path, *, path: str | None = None) -> ICPSpec:
        """Read YAML text or a .yaml/.yml file; errors name the file, line and field."""
        from icpkit.spec.io import load_spec

        return load_spec(source, path=path)

    def content_hash(self) -> str:
        """sha256 of the filter (see :func:`icpkit.spec.io.content_hash` for what it covers)."""
        from icpkit.spec.io import content_hash

        return content_hash(self)

    def score(self, records: Any, *, as_of: dt.date | None = None) -> Any:
        """Score one record (a mapping -> ``ScoreResult``), many (an iterable -> list) or a table (a ``pyarrow.Table``
        or a pandas ``DataFrame`` -> an Arrow table).

        A spec with ``segments`` scores against every segment (see :mod:`icpkit.score.segments`).
        """
        if self.segments is not None:
            from icpkit.score.segments import compile_segment_scorer

            if isinstance(records, Mapping):
                return compile_segment_scorer(self, as_of=as_of)(records)
            if type(records).__name__ in _TABLES:
                from icpkit.score.vector import score_table

                return score_table(self, records, as_of=as_of)
            return compile_segment_scorer(self, as_of=as_of).many(records)
        from icpkit.score.python import compile_scorer

        if isinstance(records, Mapping):
            return compile_scorer(self, as_of=as_of)(records)
        if type(records).__name__ in _TABLES:
            from icpkit.score.vector import score_table

            return score_table(self, records, as_of=as_of)
        return compile_scorer(self, as_of=as_of).many(records)
