"""One ICP version ready to serve: the compiled scorer, its words, and the ``GET /v1/icp`` body, built once.

A ``Served`` is immutable. The service swaps the whole object when a new version is promoted, so a request that
started on one version finishes on it (it read the reference once), and no request ever sees half of each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from icpkit.ingest.contract import RecordReader
from icpkit.score.python import Scorer, compile_scorer
from icpkit.score.semantics import criterion_ids, exclusion_ids, layer_totals
from icpkit.spec.io import content_hash
from icpkit.spec.model import Clause, ICPSpec, Op, Persona
from icpkit.words import clause_text, criterion_text, humanise_field, icp_sentence

__all__ = ["AsOf", "Served", "exclusion_text", "field_kinds", "serve_spec"]

_KIND_OF_OP = {
    Op.BETWEEN: "number",
    Op.GTE: "number",
    Op.LTE: "number",
    Op.WITHIN_DAYS: "date",
    Op.IS_TRUE: "boolean",
    Op.IS_FALSE: "boolean",
    Op.CONTAINS_ANY: "list",
    Op.CONTAINS_ALL: "list",
    Op.CONTAINS_NONE: "list",
    Op.EXISTS: "text",
}


def _clause_kind(cl: Clause) -> str:
    kind = _KIND_OF_OP.get(cl.op)
    if kind is not None:
        return kind
    values = [cl.value] if cl.op == Op.EQUALS else list(cl.value)
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "number"
    return "text"


def _clauses(spec: ICPSpec) -> list[Clause]:
    """Every clause the spec scores with: its own, or each segment's in spec order."""
    specs = [seg for _, seg in spec.segment_specs()] or [spec]
    return [cl for sp in specs for cl in [*(cl for _, c in sp.criteria() for cl in c.clauses()), *sp.exclusions]]


def field_kinds(spec: ICPSpec) -> list[dict[str, Any]]:
    """Every field the spec reads with the kind of value to send (the first clause on it decides) and the values
    the spec names, in first-use order: what a form needs to ask for. Personas add the fields they read (title,
    seniority, department), as text."""
    out: dict[str, dict[str, Any]] = {}
    for cl in _clauses(spec):
        entry = out.setdefault(
            cl.field, {"name": cl.field, "label": humanise_field(cl.field), "kind": _clause_kind(cl), "suggestions": []}
        )
        if cl.op in (Op.EQUALS, Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE):
            for v in [cl.value] if cl.op == Op.EQUALS else cl.value:
                if v not in entry["suggestions"] and not isinstance(v, bool):
                    entry["suggestions"].append(v)
    if spec.personas:
        pf = spec.persona_fields
        for name in (pf.title, pf.seniority, pf.department):
            out.setdefault(name, {"name": name, "label": humanise_field(name), "kind": "text", "suggestions": []})
    return list(out.values())


def exclusion_text(e: Clause) -> str:
    """An exclusion as a noun phrase, "Companies with business model B2C", as the report writes it."""
    text = clause_text(e)
    return text[0].upper() + text[1:] if text.endswith(" companies") else f"Companies {text}"


@dataclass(frozen=True, slots=True, eq=False)
class Served:
    spec: ICPSpec
    hash: str
    version: int
    as_of: dt.date
    today: bool  # as_of follows the calendar: recompiled when the day changes
    scorer: Scorer
    ref: dict[str, Any]  # {"hash", "version", "name"} as responses carry it
    segmented: bool  # the spec has segments: results name the best one, explanation ids are local to it
    # segment name (None without segments) -> (criterion or exclusion id -> its explanation entry,
    #                                          exclusion id -> {"id", "text", "reason"}),
    # each entry already JSON (a response copies its bytes instead of writing four fields again)
    words: dict[str | None, tuple[dict[str, orjson.Fragment], dict[str, orjson.Fragment]]]
    icp: dict[str, Any]  # the GET /v1/icp body
    icp_json: bytes
    reader: RecordReader  # reads a record's names and values as the spec's data contract reads a file


AsOf = dt.date | Literal["spec"] | None


def _describe(spec: ICPSpec) -> tuple[tuple[dict[str, Any], dict[str, Any]], dict[str, Any]]:
    """One single-ICP spec's explanation entries, and its part of the ``GET /v1/icp`` body."""
    items: dict[str, dict[str, Any]] = {}
    layers: dict[str, list[dict[str, Any]]] = {}
    for cid, layer, c in criterion_ids(spec):
        text = criterion_text(c)
        items[cid] = {"id": cid, "layer": layer, "points": c.points, "text": text}
        fields = list(dict.fromkeys(cl.field for cl in c.clauses()))
        layers.setdefault(layer, []).append({"id": cid, "text": text, "points": c.points, "fields": fields})
    hits, exclusions = {}, []
    for eid, e in exclusion_ids(spec):
        text, reason = exclusion_text(e), e.reason.strip()
        items[eid] = {"id": eid, "layer": "exclusion", "points": 0, "text": text}
        hits[eid] = {"id": eid, "text": text, "reason": reason}
        exclusions.append({"id": eid, "text": text, "reason": reason, "field": e.field})
    totals = layer_totals(spec)
    part = {
        "sentence": icp_sentence(spec),
        "layers": [{"name": n, "points": totals.get(n, 0), "criteria": cs} for n, cs in layers.items()],
        "exclusions": exclusions,
    }
    return (items, hits), part


def _json_key(name: str) -> str:
    """``name`` as the object orjson hands out for that key (it keeps one per recent key): the scorer's lookups in
    a parsed body then match by identity."""
    return next(iter(orjson.loads(orjson.dumps({name: None}))))


def _fragments(entries: dict[str, dict[str, Any]]) -> dict[str, orjson.Fragment]:
    return {k: orjson.Fragment(orjson.dumps(v)) for k, v in entries.items()}


def _persona(p: Persona) -> dict[str, Any]:
    return {
        "name": p.name,
        "description": p.description,
        "titles": list(p.titles),
        "seniority": list(p.seniority),
        "department": list(p.department),
        "exclude_titles": list(p.exclude_titles),
    }


def serve_spec(spec: ICPSpec, *, version: int | None = None, as_of: AsOf = None, enrichment: bool = False) -> Served:
    """Compile ``spec`` for serving. ``as_of`` None means today (UTC): a live lead's "funded in the last 180
    days" counts back from the day it arrives. ``"spec"`` takes each version's own ``as_of`` (today if it has
    none)."""
    fixed = spec.as_of if as_of == "spec" else as_of
    today = fixed is None
    when = dt.datetime.now(dt.UTC).date() if fixed is None else fixed
    h = content_hash(spec)
    ref = {"hash": h, "version": spec.version if version is None else version, "name": spec.name}
    segments = spec.segment_specs()
    words: dict[str | None, tuple[dict[str, orjson.Fragment], dict[str, orjson.Fragment]]] = {}
    parts: dict[str | None, dict[str, Any]] = {}
    for name, part in segments or [(None, spec)]:
        (items, hits), parts[name] = _describe(part)
        words[name] = (_fragments(items), _fragments(hits))
    icp: dict[str, Any] = {
        "spec": ref,
        "as_of": when.isoformat(),
        # a segmented spec's ICPs are under "segments"; its own layers and exclusions are empty
        **(parts[None] if not segments else {"sentence": " · ".join(p["sentence"] for p in parts.values())}),
        **({} if not segments else {"layers": [], "exclusions": []}),
        "tiers": spec.tiers.model_dump(),
        "routing": spec.routing.model_dump(),
        "segments": None,
        "personas": [_persona(p) for p in spec.personas],
        "routing_rules": [r.model_dump(exclude_none=True) for r in spec.routing_rules],
        "fields": field_kinds(spec),
        "enrichment": enrichment,
        "definition": spec.model_dump(mode="json", exclude_none=True),
    }
    if segments:
        described = {s.name: s for s in spec.segments or []}
        icp["segments"] = [
            {
                "name": name,
                "description": described[name].description,
                **parts[name],
                "tiers": part.tiers.model_dump(),
                "routing": part.routing.model_dump(),
            }
            for name, part in segments
        ]
    return Served(
        spec=spec,
        hash=h,
        version=ref["version"],
        as_of=when,
        today=today,
        scorer=compile_scorer(spec, as_of=when, key=_json_key),
        ref=ref,
        segmented=bool(segments),
        words=words,
        icp=icp,
        icp_json=orjson.dumps(icp),
        reader=RecordReader(spec),
    )
