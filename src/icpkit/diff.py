"""What changed between two ICP versions: criteria, exclusions, tiers, routing, personas, and who moves between tiers.

``diff_specs`` compares the filters the way the content hash does (values canonicalised as scoring reads them;
evidence, labels, names and reasons are documentation and never make a change), so a spec diffed with itself, or
with a copy whose evidence was refreshed, is empty. Criteria pair up by what they test: the same clause (a points
or layer change), else the same field (an operator, value, band-edge or points change); what is left over was
added or removed. Multi-segment specs are compared segment by segment: segments pair up by name, then by the
criteria they share (a rebuild may name the same profile differently); each pair gets its own diff, and the
segments left over were added or removed (a single-ICP side counts as one segment). ``tier_migration`` scores
accounts with both specs and counts moves from each tier to each other. Both are pure: specs and tables in,
pydantic models out.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from icpkit.score.semantics import TIER_NAMES, criterion_ids, exclusion_ids
from icpkit.score.vector import score_table
from icpkit.spec.io import canonical_form, content_hash
from icpkit.spec.model import Clause, Criterion, Exclusion, ICPSpec, Op, Persona
from icpkit.words import clause_text, criterion_text, persona_text, routing_rule_text

__all__ = [
    "ClauseChange",
    "ClauseEntry",
    "FieldChange",
    "Mover",
    "SegmentDiff",
    "SpecDiff",
    "TierMigration",
    "diff_specs",
    "tier_migration",
]


class ClauseEntry(BaseModel):
    """A criterion or exclusion present on one side only."""

    id: str
    layer: str | None = None
    field: str
    op: str
    value: Any
    points: int | None = None
    text: str


class ClauseChange(BaseModel):
    """A criterion or exclusion on both sides that tests something different, or scores differently."""

    old_id: str
    new_id: str
    field: str
    old_text: str
    new_text: str
    changes: list[str] = Field(description="one plain line per change, e.g. 'points 20 -> 25'")
    old_points: int | None = None
    new_points: int | None = None


class FieldChange(BaseModel):
    name: str
    old: Any
    new: Any


class SpecDiff(BaseModel):
    """The difference between two specs; ``empty`` when they score every record the same way."""

    old_hash: str
    new_hash: str
    old_name: str
    new_name: str
    old_version: int
    new_version: int
    added: list[ClauseEntry] = Field(default_factory=list)
    removed: list[ClauseEntry] = Field(default_factory=list)
    changed: list[ClauseChange] = Field(default_factory=list)
    unchanged: int = 0
    exclusions_added: list[ClauseEntry] = Field(default_factory=list)
    exclusions_removed: list[ClauseEntry] = Field(default_factory=list)
    exclusions_changed: list[ClauseChange] = Field(default_factory=list)
    tiers: list[FieldChange] = Field(default_factory=list)
    routing: list[FieldChange] = Field(default_factory=list)
    as_of: FieldChange | None = None
    criteria_reordered: bool = False
    segments_added: list[str] = Field(default_factory=list, description="segments of the new spec only")
    segments_removed: list[str] = Field(default_factory=list, description="segments of the old spec only")
    segments: list[SegmentDiff] = Field(default_factory=list, description="segments on both sides, paired")
    personas_added: list[str] = Field(default_factory=list, description="personas of the new spec only, in words")
    personas_removed: list[str] = Field(default_factory=list, description="personas of the old spec only, in words")
    personas_changed: list[FieldChange] = Field(default_factory=list, description="same name, other patterns")
    personas_reordered: bool = Field(default=False, description="the same personas in another priority order")
    persona_fields: list[FieldChange] = Field(default_factory=list)
    routing_rules: FieldChange | None = Field(default=None, description="the ordered rules, in words, when changed")

    @property
    def empty(self) -> bool:
        return self.old_hash == self.new_hash

    def summary(self) -> str:
        """One line: how much changed."""
        if self.empty:
            return "no change: both specs score every record the same way"
        return ", ".join([self._filters_summary(), *self._persona_summary()])

    def _persona_summary(self) -> list[str]:
        n = len(self.personas_added) + len(self.personas_removed) + len(self.personas_changed)
        return [
            *([f"{n} persona changes"] if n else []),
            *(["personas reordered"] if self.personas_reordered else []),
            *(["persona fields changed"] if self.persona_fields else []),
            *(["routing rules changed"] if self.routing_rules else []),
        ]

    def _filters_summary(self) -> str:
        if self.segments or self.segments_added or self.segments_removed:
            parts = [f"{len(self.segments_added)} segments added", f"{len(self.segments_removed)} removed"]
            changed = [s for s in self.segments if not s.diff.empty_filters]
            parts.append(f"{len(changed)} changed, {len(self.segments) - len(changed)} unchanged")
            renamed = sum(s.old != s.new for s in self.segments)
            if renamed:
                parts.append(f"{renamed} renamed")
            if self.as_of:
                parts.append("as_of changed")
            return ", ".join(parts)
        parts = [
            f"{len(self.added)} criteria added",
            f"{len(self.removed)} removed",
            f"{len(self.changed)} changed",
            f"{self.unchanged} unchanged",
        ]
        n_ex = len(self.exclusions_added) + len(self.exclusions_removed) + len(self.exclusions_changed)
        if n_ex:
            parts.append(f"{n_ex} exclusion changes")
        if self.tiers:
            parts.append("tiers changed")
        if self.routing:
            parts.append("routing changed")
        if self.as_of:
            parts.append("as_of changed")
        return ", ".join(parts)

    @property
    def empty_filters(self) -> bool:
        """No criterion, exclusion, tier or routing change (``as_of`` aside)."""
        return not (
            self.added or self.removed or self.changed or self.exclusions_added or self.exclusions_removed
            or self.exclusions_changed or self.tiers or self.routing or self.criteria_reordered
            or self.segments_added or self.segments_removed or any(not s.diff.empty_filters for s in self.segments)
            or self.personas_added or self.personas_removed or self.personas_changed or self.persona_fields
            or self.routing_rules or self.personas_reordered
        )  # fmt: skip


class SegmentDiff(BaseModel):
    """One segment on both sides (renamed when ``old`` and ``new`` differ) and what changed inside it."""

    old: str
    new: str
    diff: SpecDiff


SpecDiff.model_rebuild()


# ------------------------------------------------------------------------------------------------ matching


def _key(canon: dict[str, Any]) -> str:
    return json.dumps(canon, sort_keys=True)


def _clause_key(canon: dict[str, Any]) -> str:
    """The test alone (no points)."""
    return _key({k: v for k, v in canon.items() if k != "points"})


def _shape_key(field: str, also: list[Clause]) -> str:
    return json.dumps([field, sorted(a.field for a in also)])


def _value_changes(old: Clause, new: Clause, old_canon: dict, new_canon: dict) -> list[str]:
    out: list[str] = []
    if old.op != new.op:
        out.append(f"operator {old.op.value} -> {new.op.value}")
    if old_canon["value"] != new_canon["value"]:
        if old.op == new.op == Op.BETWEEN:
            lo0, hi0 = old.value
            lo1, hi1 = new.value
            if lo0 != lo1:
                out.append(f"lower edge {_edge(lo0)} -> {_edge(lo1)}")
            if hi0 != hi1:
                out.append(f"upper edge {_edge(hi0)} -> {_edge(hi1)}")
        elif isinstance(old.value, list) and isinstance(new.value, list) and old.op == new.op:
            o = {str(x).strip().lower(): x for x in old.value}
            n = {str(x).strip().lower(): x for x in new.value}
            plus = [n[k] for k in n if k not in o]
            minus = [o[k] for k in o if k not in n]
            if plus:
                out.append("values added: " + ", ".join(map(str, plus)))
            if minus:
                out.append("values removed: " + ", ".join(map(str, minus)))
        else:
            out.append(f"value {old.value!r} -> {new.value!r}")
    return out


def _edge(x: Any) -> str:
    return "open" if x is None else f"{x:g}" if isinstance(x, float) else str(x)


def _criteria(spec: ICPSpec) -> list[tuple[str, str, Criterion, dict[str, Any]]]:
    canon = canonical_form(spec)["layers"]
    ids = criterion_ids(spec)
    flat = [c for layer in spec.layers for c in canon.get(layer, [])]
    return [(cid, layer, c, cn) for (cid, layer, c), cn in zip(ids, flat, strict=True)]


def _exclusions(spec: ICPSpec) -> list[tuple[str, Exclusion, dict[str, Any]]]:
    canon = canonical_form(spec)["exclusions"]
    return [(eid, e, cn) for (eid, e), cn in zip(exclusion_ids(spec), canon, strict=True)]


def _entry(cid: str, layer: str | None, c: Criterion | Exclusion) -> ClauseEntry:
    text = criterion_text(c) if isinstance(c, Criterion) else clause_text(c)
    return ClauseEntry(
        id=cid,
        layer=layer,
        field=c.field,
        op=c.op.value,
        value=c.value,
        points=c.points if isinstance(c, Criterion) else None,
        text=text,
    )


def _pair_up(old: list[tuple], new: list[tuple], keys: list) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Greedy matching in passes, each pass on a coarser key; returns (pairs, unmatched old, unmatched new)."""
    left, right = list(range(len(old))), list(range(len(new)))
    pairs: list[tuple[int, int]] = []
    for key in keys:
        for i in list(left):
            k = key(old[i])
            for j in right:
                if key(new[j]) == k:
                    pairs.append((i, j))
                    left.remove(i)
                    right.remove(j)
                    break
    return pairs, left, right


def _clause_keys(spec: ICPSpec) -> set[str]:
    return {_clause_key(cn) for _, _, _, cn in _criteria(spec)}


def _diff_segments(old: ICPSpec, new: ICPSpec, out: SpecDiff) -> SpecDiff:
    """Pair the segments (by name, then by shared criteria) and diff each pair; the rest was added or removed."""
    olds = old.segment_specs() or [(old.name, old)]
    news = new.segment_specs() or [(new.name, new)]
    keys_old = [_clause_keys(s) for _, s in olds]
    keys_new = [_clause_keys(s) for _, s in news]
    pairs, left, right = _pair_up(olds, news, [lambda t: t[0].lower()])
    # leftovers: the pair sharing the most criteria first, while any pair shares one
    while left and right:
        i, j = max(((i, j) for i in left for j in right), key=lambda p: len(keys_old[p[0]] & keys_new[p[1]]))
        if not keys_old[i] & keys_new[j]:
            break
        pairs.append((i, j))
        left.remove(i)
        right.remove(j)
    for i, j in sorted(pairs, key=lambda p: p[1]):
        d = diff_specs(olds[i][1], news[j][1])
        out.segments.append(SegmentDiff(old=olds[i][0], new=news[j][0], diff=d.model_copy(update={"as_of": None})))
    out.segments_removed = [olds[i][0] for i in left]
    out.segments_added = [news[j][0] for j in right]
    if old.as_of != new.as_of:
        out.as_of = FieldChange(name="as_of", old=_iso(old.as_of), new=_iso(new.as_of))
    return out


def diff_specs(old: ICPSpec, new: ICPSpec) -> SpecDiff:
    """Criteria added / removed / changed (operator, values, band edges, points, layer), exclusions, tiers,
    routing and ``as_of`` between ``old`` and ``new``; segment by segment when either has segments."""
    out = SpecDiff(
        old_hash=content_hash(old),
        new_hash=content_hash(new),
        old_name=old.name,
        new_name=new.name,
        old_version=old.version,
        new_version=new.version,
    )
    _diff_personas(old, new, out)
    if old.segments is not None or new.segments is not None:
        return _diff_segments(old, new, out)
    oc, nc = _criteria(old), _criteria(new)
    pairs, gone, came = _pair_up(
        oc,
        nc,
        [
            lambda t: (t[1], _key(t[3])),  # identical, same layer
            lambda t: _clause_key(t[3]),  # same test: points or layer changed
            lambda t: _shape_key(t[2].field, t[2].also),  # same field(s): the test changed
        ],
    )
    for i, j in sorted(pairs, key=lambda p: p[1]):
        (oid, olayer, o, ocn), (nid, nlayer, n, ncn) = oc[i], nc[j]
        changes = _value_changes(o, n, ocn, ncn)
        if ocn["also"] != ncn["also"]:
            changes.append("conjunction changed")
        if o.points != n.points:
            changes.append(f"points {o.points} -> {n.points}")
        if olayer != nlayer:
            changes.append(f"layer {olayer} -> {nlayer}")
        if not changes:
            out.unchanged += 1
            continue
        out.changed.append(
            ClauseChange(
                old_id=oid,
                new_id=nid,
                field=n.field,
                old_text=criterion_text(o),
                new_text=criterion_text(n),
                changes=changes,
                old_points=o.points,
                new_points=n.points,
            )
        )
    out.removed = [_entry(oc[i][0], oc[i][1], oc[i][2]) for i in gone]
    out.added = [_entry(nc[j][0], nc[j][1], nc[j][2]) for j in came]
    # criterion ids (layer.index) name explanation entries: the same criteria in another order change them
    if not (out.added or out.removed or out.changed):
        out.criteria_reordered = any(oc[i][0] != nc[j][0] for i, j in pairs)

    oe, ne = _exclusions(old), _exclusions(new)
    pairs, gone, came = _pair_up(oe, ne, [lambda t: _key(t[2]), lambda t: t[1].field])
    for i, j in sorted(pairs, key=lambda p: p[1]):
        (oid, o, ocn), (nid, n, ncn) = oe[i], ne[j]
        changes = _value_changes(o, n, ocn, ncn)
        if changes:
            out.exclusions_changed.append(
                ClauseChange(
                    old_id=oid,
                    new_id=nid,
                    field=n.field,
                    old_text=clause_text(o),
                    new_text=clause_text(n),
                    changes=changes,
                )
            )
    out.exclusions_removed = [_entry(oe[i][0], None, oe[i][1]) for i in gone]
    out.exclusions_added = [_entry(ne[j][0], None, ne[j][1]) for j in came]

    for name in ("tier1", "tier2", "tier3"):
        a, b = getattr(old.tiers, name), getattr(new.tiers, name)
        if a != b:
            out.tiers.append(FieldChange(name=name, old=a, new=b))
    for name in TIER_NAMES:
        a, b = getattr(old.routing, name), getattr(new.routing, name)
        if a != b:
            out.routing.append(FieldChange(name=name, old=a, new=b))
    if old.as_of != new.as_of:
        out.as_of = FieldChange(name="as_of", old=_iso(old.as_of), new=_iso(new.as_of))
    return out


def _persona_key(p: Persona) -> str:
    return json.dumps(p.model_dump(exclude={"description", "evidence"}), sort_keys=True)


def _diff_personas(old: ICPSpec, new: ICPSpec, out: SpecDiff) -> None:
    """Personas pair up by name; their evidence and description are documentation, never a change.
    Personas and routing rules are shared by every segment, so they are compared once, at the top."""
    before, after = {p.name: p for p in old.personas}, {p.name: p for p in new.personas}
    out.personas_added = [f"{n}: {persona_text(p)}" for n, p in after.items() if n not in before]
    out.personas_removed = [f"{n}: {persona_text(p)}" for n, p in before.items() if n not in after]
    out.personas_changed = [
        FieldChange(name=n, old=persona_text(before[n]), new=persona_text(p))
        for n, p in after.items()
        if n in before and _persona_key(before[n]) != _persona_key(p)
    ]
    shared = [n for n in after if n in before]
    out.personas_reordered = shared != [n for n in before if n in after]  # order is priority: the first match wins
    for name in ("title", "seniority", "department"):
        a, b = getattr(old.persona_fields, name), getattr(new.persona_fields, name)
        if a != b:
            out.persona_fields.append(FieldChange(name=name, old=a, new=b))
    if old.routing_rules != new.routing_rules:
        out.routing_rules = FieldChange(
            name="routing_rules",
            old=[routing_rule_text(r) for r in old.routing_rules],
            new=[routing_rule_text(r) for r in new.routing_rules],
        )


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


# ------------------------------------------------------------------------------------------ tier migration


class Mover(BaseModel):
    """One account whose score changed most between the two specs."""

    id: str
    name: str | None = None
    old_score: int
    new_score: int
    old_tier: str
    new_tier: str


class TierMigration(BaseModel):
    """How many accounts move from each tier (rows: old spec) to each tier (columns: new spec)."""

    tiers: list[str]
    matrix: list[list[int]]
    accounts: int
    moved: int
    up: int
    down: int
    movers: list[Mover]

    def count(self, old_tier: str, new_tier: str) -> int:
        return self.matrix[self.tiers.index(old_tier)][self.tiers.index(new_tier)]


_RANK = {t: i for i, t in enumerate(TIER_NAMES)}  # tier1 best ... excluded last


def tier_migration(
    old: ICPSpec,
    new: ICPSpec,
    accounts: pa.Table,
    *,
    as_of: dt.date | None = None,
    top: int = 10,
    id_column: str = "account_id",
) -> TierMigration:
    """Score ``accounts`` with both specs; the tier-to-tier counts and the ``top`` biggest movers (most tiers
    crossed, then largest score change).

    ``as_of`` (default: each spec's own) is the scoring date of ``within_days``. Moves up/down follow the tier
    order tier1 > tier2 > tier3 > none > excluded.
    """
    a = score_table(old, accounts, as_of=as_of, explain=False)
    b = score_table(new, accounts, as_of=as_of, explain=False)
    codes = {t: i for i, t in enumerate(TIER_NAMES)}
    ta = np.array([codes[t] for t in a.column("tier").to_pylist()], dtype=np.int64)
    tb = np.array([codes[t] for t in b.column("tier").to_pylist()], dtype=np.int64)
    k = len(TIER_NAMES)
    matrix = np.bincount(ta * k + tb, minlength=k * k).reshape(k, k)
    sa = a.column("score").to_numpy()
    sb = b.column("score").to_numpy()
    delta = np.abs(tb - ta) * 1000 + np.abs(sb - sa)  # by tiers crossed, then by score change
    order = np.argsort(-delta, kind="stable")
    order = order[delta[order] > 0][:top]
    ids = accounts.column(id_column).to_pylist() if id_column in accounts.column_names else None
    names = accounts.column("name").to_pylist() if "name" in accounts.column_names else None
    movers = [
        Mover(
            id=str(ids[i]) if ids is not None else str(i),
            name=None if names is None or names[i] is None else str(names[i]),
            old_score=int(sa[i]),
            new_score=int(sb[i]),
            old_tier=TIER_NAMES[ta[i]],
            new_tier=TIER_NAMES[tb[i]],
        )
        for i in order
    ]
    return TierMigration(
        tiers=list(TIER_NAMES),
        matrix=matrix.tolist(),
        accounts=int(ta.size),
        moved=int((ta != tb).sum()),
        up=int((tb < ta).sum()),
        down=int((tb > ta).sum()),
        movers=movers,
    )
