"""The API's bodies as pydantic models: they write the OpenAPI schema, and tests hold the server to them.

The request models carry the configured limits (``request_models(limits)``), so the schema a client or a fuzzer
reads says exactly what the server accepts. The hot path does not run them (see ``icpkit.api.limits``); a test
checks that both give the same verdict on generated bodies. (No ``from __future__ import annotations`` here:
the request models are built inside a function from its local types.)
"""

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, StringConstraints

from icpkit.api.limits import Limits

__all__ = [
    "BatchResponse",
    "BatchResult",
    "Enrichment",
    "ErrorBody",
    "ExclusionHit",
    "ExplainedItem",
    "Explanation",
    "Health",
    "IcpCriterion",
    "IcpExclusion",
    "IcpField",
    "IcpLayer",
    "IcpPersona",
    "IcpResponse",
    "IcpRoutingRule",
    "IcpSegment",
    "ScoreResponse",
    "SpecRef",
    "request_models",
]

_UNREADABLE = (
    "fields whose value could not be read as the spec's data contract reads it (e.g. 'lots' for employees): "
    "scored as unknown, never as a no"
)
TierName = Literal["tier1", "tier2", "tier3", "none", "excluded"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def request_models(limits: Limits) -> tuple[type[BaseModel], type[BaseModel]]:
    """(ScoreRequest, BatchRequest) with ``limits`` written into their constraints."""
    text = Annotated[StrictStr, StringConstraints(max_length=limits.max_string)]
    number = StrictInt | Annotated[StrictFloat, Field(allow_inf_nan=False)]
    scalar = text | number | StrictBool | None
    value = scalar | Annotated[list[scalar], Field(max_length=limits.max_list)]
    key = Annotated[str, StringConstraints(min_length=1, max_length=limits.max_key)]
    record_type = Annotated[
        dict[key, value],  # type: ignore[valid-type]
        Field(
            max_length=limits.max_fields,
            description="One lead or account: field -> value, with the spec's field names (see GET /v1/icp "
            "`fields`). Dates as YYYY-MM-DD text, a multi-valued field (tech_stack) as a list. Values and names "
            "are also read as the spec's data contract reads a file (`1,200`, `$250M`, `51-200`, `yes`, "
            "`08/01/2026`, `;`-joined lists, HubSpot enum codes and property names); a value that cannot be read "
            "is unknown and named in `unreadable`. Fields the spec does not read are ignored; `email` / `domain` "
            "are used for enrichment when a universe is loaded.",
            examples=[{"industry": "Software", "employees": 120, "country": "US", "email": "jane@acme.com"}],
        ),
    ]
    enrich_flag = Field(default=True, description="Fill missing firmographics from the universe by domain, if loaded.")

    class ScoreRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        record: record_type  # type: ignore[valid-type]
        enrich: StrictBool = enrich_flag

    class BatchRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        records: Annotated[list[record_type], Field(max_length=limits.max_batch)]  # type: ignore[valid-type]
        enrich: StrictBool = enrich_flag

    return ScoreRequest, BatchRequest


class SpecRef(_Out):
    """Which ICP scored the record: its content hash, its version and name."""

    hash: str
    version: int
    name: str


class ExplainedItem(_Out):
    """A criterion (or an exclusion whose value was missing) in plain words, with its points."""

    id: str = Field(description="<layer>.<index> or exclusion.<index>, as in the spec")
    layer: str
    points: int
    text: str


class ExclusionHit(_Out):
    id: str
    text: str
    reason: str


class Explanation(_Out):
    matched: list[ExplainedItem] = Field(description="criteria that matched; their points make the score")
    unknown: list[ExplainedItem] = Field(description="criteria (and exclusions) whose field was missing")
    exclusions_hit: list[ExclusionHit] = Field(description="disqualifiers that matched, with the reason")


class Enrichment(_Out):
    status: Literal["matched", "free_mail", "no_match", "no_domain"]
    domain: str | None = Field(description="the company domain the lead was matched (or not) by")
    filled: dict[str, Any] = Field(description="fields the universe filled because the record lacked them")


class ScoreResponse(_Out):
    score: int = Field(ge=0, le=100)
    tier: TierName
    route: str
    segment: str | None = Field(description="the best-fitting segment of a multi-segment spec (null without segments)")
    persona: str | None = Field(description="the first buyer persona the lead matches (null: none, or no personas)")
    persona_match: int | None = Field(
        ge=0, le=100, description="how strongly the persona matched, 0-100 (0: no persona; null: no personas)"
    )
    layer_scores: dict[str, float]
    segment_scores: dict[str, int] | None = Field(
        description="every segment's fit score 0-100, whatever its exclusions (null without segments)"
    )
    explanation: Explanation = Field(description="with segments, the best segment's, ids local to it")
    enrichment: Enrichment | None = Field(description="null when no universe is loaded or enrich was false")
    unreadable: list[str] = Field(description=_UNREADABLE)
    spec: SpecRef
    as_of: dt.date = Field(description="the date within_days criteria were counted back from")


class BatchResult(_Out):
    score: int = Field(ge=0, le=100)
    tier: TierName
    route: str
    segment: str | None = Field(description="the best-fitting segment of a multi-segment spec (null without segments)")
    persona: str | None = Field(description="the first buyer persona the lead matches (null: none, or no personas)")
    persona_match: int | None = Field(
        ge=0, le=100, description="how strongly the persona matched, 0-100 (0: no persona; null: no personas)"
    )
    layer_scores: dict[str, float]
    segment_scores: dict[str, int] | None = Field(
        description="every segment's fit score 0-100, whatever its exclusions (null without segments)"
    )
    explanation: Explanation = Field(description="with segments, the best segment's, ids local to it")
    enrichment: Enrichment | None
    unreadable: list[str] = Field(description=_UNREADABLE)


class BatchResponse(_Out):
    results: list[BatchResult] = Field(description="one per record, in request order")
    spec: SpecRef
    as_of: dt.date


class IcpCriterion(_Out):
    id: str
    text: str
    points: int
    fields: list[str]


class IcpLayer(_Out):
    name: str
    points: int = Field(description="the layer's total points")
    criteria: list[IcpCriterion]


class IcpExclusion(_Out):
    id: str
    text: str
    reason: str
    field: str


class IcpField(_Out):
    """A field a form or router should send, with the kind of value the spec compares it as."""

    name: str
    label: str
    kind: Literal["text", "number", "boolean", "date", "list"]
    suggestions: list[Any] = Field(description="values the spec names (a form can offer them)")


class IcpSegment(_Out):
    """One ICP of a multi-segment spec."""

    name: str
    description: str | None
    sentence: str = Field(description="this segment's ICP in one sentence")
    layers: list[IcpLayer]
    exclusions: list[IcpExclusion]
    tiers: dict[str, int] = Field(description="minimum score of each tier")
    routing: dict[str, str]


class IcpPersona(_Out):
    """A buyer persona: word patterns matched on the lead's title, seniority and department."""

    name: str
    description: str | None
    titles: list[str]
    seniority: list[str]
    department: list[str]
    exclude_titles: list[str]


class IcpRoutingRule(_Out):
    """Tier and persona -> route; the first rule that matches sets the route."""

    tier: list[str] | None = None
    persona: list[str] | None = None
    route: str


class IcpResponse(_Out):
    spec: SpecRef
    as_of: dt.date
    sentence: str = Field(description="the ICP in one sentence (one per segment, joined, with segments)")
    layers: list[IcpLayer] = Field(description="empty for a multi-segment spec: see segments")
    exclusions: list[IcpExclusion] = Field(description="empty for a multi-segment spec: see segments")
    tiers: dict[str, int] = Field(description="minimum score of each tier")
    routing: dict[str, str]
    segments: list[IcpSegment] | None = Field(description="the ICPs of a multi-segment spec, in spec order")
    personas: list[IcpPersona] = Field(description="buyer personas, in priority order")
    routing_rules: list[IcpRoutingRule]
    fields: list[IcpField]
    enrichment: bool = Field(description="whether a universe is loaded (send email or domain to enrich)")
    definition: dict[str, Any] = Field(description="the spec itself, as JSON (the YAML's content)")


class Health(_Out):
    status: Literal["ok"]
    spec: SpecRef


class ErrorBody(_Out):
    detail: str
    field: str | None = None
    request_id: str | None = None
