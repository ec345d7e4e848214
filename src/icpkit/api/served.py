"""One ICP version ready to serve: the compiled scorer, its words, and the ``GET /v1/icp`` body, built once.

A ``Served`` is immutable. The service swaps the whole object when a new version is promoted, so a request that
started on one version finishes on it (it read the reference once), and no request ever sees half of each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from icpkit.score.python import Scorer, compile_scorer
from icpkit.score.semantics import criterion_ids, exclusion_ids, layer_totals
from icpkit.spec.io import content_hash
from icpkit.spec.model import Clause, ICPSpec, Op
from icpkit.words import clause_text, criterion_text, humanise_field, icp_sentence

__all__ = ["AsOf", "Served", "date_only_fields", "exclusion_text", "field_kinds", "serve_spec"]

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


def field_kinds(spec: ICPSpec) -> list[dict[str, Any]]:
    """Every field the spec reads with the kind of value to send (the first clause on it decides) and the values
    the spec names, in first-use order: what a form needs to ask for."""
    clauses = [cl for _, c in spec.criteria() for cl in c.clauses()] + list(spec.exclusions)
    out: dict[str, dict[str, Any]] = {}
    for cl in clauses:
        entry = out.setdefault(
            cl.field, {"name": cl.field, "label": humanise_field(cl.field), "kind": _clause_kind(cl), "suggestions": []}
        )
        if cl.op in (Op.EQUALS, Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE):
            for v in [cl.value] if cl.op == Op.EQUALS else cl.value:
                if v not in entry["suggestions"] and not isinstance(v, bool):
                    entry["suggestions"].append(v)
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
    items: dict[str, dict[str, Any]]  # criterion or exclusion id -> its explanation entry
    hits: dict[str, dict[str, Any]]  # exclusion id -> {"id", "text", "reason"}
    icp: dict[str, Any]  # the GET /v1/icp body
    icp_json: bytes
    date_fields: tuple[str, ...]  # fields read only as dates: ISO text is parsed once, before scoring


def date_only_fields(spec: ICPSpec) -> tuple[str, ...]:
    """Fields every clause reads as a date (``within_days``, or ``exists`` which a date satisfies as its text
    does). JSON carries dates as text, which the scorer would parse on its slow path; parsing them up front with
    the same rule gives the same outcome, a few microseconds sooner."""
    ops: dict[str, set[Op]] = {}
    for cl in [cl for _, c in spec.criteria() for cl in c.clauses()] + list(spec.exclusions):
        ops.setdefault(cl.field, set()).add(cl.op)
    return tuple(f for f, used in ops.items() if Op.WITHIN_DAYS in used and used <= {Op.WITHIN_DAYS, Op.EXISTS})


AsOf = dt.date | Literal["spec"] | None


def serve_spec(spec: ICPSpec, *, version: int | None = None, as_of: AsOf = None, enrichment: bool = False) -> Served:
    """Compile ``spec`` for serving. ``as_of`` None means today (UTC): a live lead's "funded in the last 180
    days" counts back from the day it arrives. ``"spec"`` takes each version's own ``as_of`` (today if it has
    none)."""
    fixed = spec.as_of if as_of == "spec" else as_of
    today = fixed is None
    when = dt.datetime.now(dt.UTC).date() if fixed is None else fixed
    h = content_hash(spec)
    ref = {"hash": h, "version": spec.version if version is None else version, "name": spec.name}
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
    icp = {
        "spec": ref,
        "as_of": when.isoformat(),
        "sentence": icp_sentence(spec),
        "layers": [{"name": n, "points": totals.get(n, 0), "criteria": cs} for n, cs in layers.items()],
        "exclusions": exclusions,
        "tiers": spec.tiers.model_dump(),
        "routing": spec.routing.model_dump(),
        "fields": field_kinds(spec),
        "enrichment": enrichment,
        "definition": spec.model_dump(mode="json", exclude_none=True),
    }
    return Served(
        spec=spec,
        hash=h,
        version=ref["version"],
        as_of=when,
        today=today,
        scorer=compile_scorer(spec, as_of=when),
        ref=ref,
        items=items,
        hits=hits,
        icp=icp,
        icp_json=orjson.dumps(icp),
        date_fields=date_only_fields(spec),
    )
