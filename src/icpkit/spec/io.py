"""The ICP spec as YAML a person reviews in a pull request, and its content hash.

``dump_spec`` writes one readable flow mapping per criterion with the operator as the key
(``- {field: employees, between: [50, 500], points: 15}``), in a fixed key order, so the same spec always gives
the same bytes and a diff shows exactly the criteria that changed. ``load_spec`` reads it back safely (no tags, no
aliases, no duplicate keys) and reports every problem as ``file:line field.path: message``.

``content_hash`` identifies the *filter*: everything that can change a score, tier, route or explanation id for some
record - criteria (field, operator, value, points, conjunctions, order, which fixes their ids), exclusions (clause and
order), tiers, routing and ``as_of`` (the default scoring date of ``within_days``), and the persona fields,
personas (name, patterns, order) and routing rules, which can change ``persona`` and ``route``. It ignores what
only documents the spec: name, version, parent, description, labels, evidence and exclusion reasons. Values are
canonicalised the way scoring reads them (text trimmed and lower-cased, set operators' lists sorted and
deduplicated, 50.0 == 50; persona patterns as their words), so an edit that cannot change any output does not change
the hash.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import io
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, DocumentStartEvent, ScalarEvent
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from icpkit.errors import SpecError
from icpkit.spec.model import (
    LAYERS,
    NO_PERSONA,
    Clause,
    Criterion,
    DataContract,
    Evidence,
    Exclusion,
    ICPSpec,
    LeftOut,
    Op,
    Persona,
    PersonaFields,
    Routing,
    RoutingRule,
    Segment,
    Tiers,
    pattern_words,
    unknown_persona,
)

__all__ = ["MAX_SPEC_BYTES", "canonical_form", "content_hash", "dump_spec", "load_spec"]

MAX_SPEC_BYTES = 2_000_000  # a spec is a page of YAML; anything far larger is a mistake or an attack
_OPS = [op.value for op in Op]
_SET_OPS = {Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE}
_TOP_ORDER = ("name", "version", "parent", "as_of", "description")
_CRITERION_KEYS = ("field", "points", "also", "label", "evidence")
_CLAUSE_KEYS = ("field",)
_EXCLUSION_KEYS = ("field", "reason", "evidence")
_EVIDENCE_DIGITS = 4

Loc = tuple[str | int, ...]
Where = tuple[int | None, str]  # (0-based YAML line, field path as a user reads it)


# ---------------------------------------------------------------------------------------------- dumping


def _yaml(flow: bool) -> YAML:
    y = YAML(typ="rt")
    y.default_flow_style = flow
    y.width = 1_000_000  # never wrap: one criterion per line (plus its evidence) keeps diffs exact
    return y


_BREAKS = ("\x85", "\u2028", "\u2029")  # YAML line breaks the emitter would leave raw inside quotes


@functools.lru_cache(maxsize=4096)
def _needs_double_quotes(s: str) -> bool:
    """True when the emitter's own choice of style would not read back as ``s`` (e.g. ``?x`` in a flow list)."""
    if any(b in s for b in _BREAKS):
        return True
    buf = io.StringIO()
    y = _yaml(flow=True)
    y.dump([s], buf)
    try:
        return y.load(buf.getvalue()) != [s]
    except YAMLError:
        return True


def _safe_strings(obj: Any) -> Any:
    """Double-quote the rare strings the emitter would otherwise write in a form that reads back differently."""
    if isinstance(obj, str):
        return DoubleQuotedScalarString(obj) if _needs_double_quotes(obj) else obj
    if isinstance(obj, dict):
        return {k: _safe_strings(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_safe_strings(v) for v in obj]
    return obj


def _flow(obj: Any) -> str:
    buf = io.StringIO()
    _yaml(flow=True).dump(_safe_strings(obj), buf)
    return buf.getvalue().strip()


def _number(x: Any) -> Any:
    """Integral floats as ints (50.0 -> 50), so discovery's float bounds read like a person wrote them."""
    if isinstance(x, float) and math.isfinite(x) and x.is_integer() and abs(x) <= 2**53:  # beyond: stays a double
        return int(x)
    return x


def _value(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return [_number(x) for x in v]
    return _number(v)


def _round(x: float) -> float:
    return float(f"{x:.{_EVIDENCE_DIGITS}g}") if math.isfinite(x) else x


def _evidence(ev: Evidence) -> dict[str, Any]:
    out = {}
    for k, v in ev.model_dump(exclude_none=True).items():
        out[k] = _round(v) if isinstance(v, float) else v
    return out


def _clause_map(cl: Clause) -> dict[str, Any]:
    return {"field": cl.field, cl.op.value: _value(cl.value)}


def _criterion_line(c: Criterion | Exclusion, indent: int) -> str:
    m = _clause_map(c)
    if isinstance(c, Criterion):
        m["points"] = c.points
        if c.also:
            m["also"] = [_clause_map(a) for a in c.also]
        if c.label is not None:
            m["label"] = c.label
    else:
        m["reason"] = c.reason
    text = _flow(m)
    if c.evidence is not None:
        text = f"{text[:-1]},\n{' ' * (indent + 3)}evidence: {_flow(_evidence(c.evidence))}}}"
    return f"{' ' * indent}- {text}"


def _body_lines(
    layers: dict[str, list[Criterion]], exclusions: list[Exclusion], tiers: Tiers, routing: Routing, indent: int
) -> list[str]:
    """The layers, exclusions, tiers and routing of one ICP, indented by ``indent``."""
    pad = " " * indent
    lines = []
    if layers:
        lines.append(f"{pad}layers:")
        for layer, criteria in layers.items():
            if not criteria:
                lines.append(f"{pad}  {layer}: []")
                continue
            lines.append(f"{pad}  {layer}:")
            lines.extend(_criterion_line(c, indent + 4) for c in criteria)
    else:
        lines.append(f"{pad}layers: {{}}")
    if exclusions:
        lines.append(f"{pad}exclusions:")
        lines.extend(_criterion_line(e, indent + 2) for e in exclusions)
    else:
        lines.append(f"{pad}exclusions: []")
    lines.append(f"{pad}tiers: {_flow(tiers.model_dump())}")
    lines.append(f"{pad}routing: {_flow(routing.model_dump())}")
    return lines


def _segment_lines(seg: Segment) -> list[str]:
    head = {"name": seg.name, **({"description": seg.description} if seg.description is not None else {})}
    buf = io.StringIO()
    _yaml(flow=False).dump(_safe_strings(head), buf)
    first, *rest = buf.getvalue().rstrip("\n").split("\n")
    lines = [f"  - {first}", *(f"    {line}" for line in rest)]
    return lines + _body_lines(seg.layers, seg.exclusions, seg.tiers, seg.routing, 4)


def _persona_lines(spec: ICPSpec) -> list[str]:
    """persona_fields (when not the defaults), personas (one block each) and routing_rules (one line each)."""
    lines = []
    if spec.persona_fields != PersonaFields():
        lines.append(f"persona_fields: {_flow(spec.persona_fields.model_dump())}")
    if spec.personas:
        lines.append("personas:")
        for p in spec.personas:
            lines.append(f"  - name: {_flow([p.name])[1:-1]}")
            if p.description is not None:
                lines.append(f"    description: {_flow([p.description])[1:-1]}")
            for key in ("titles", "exclude_titles", "seniority", "department"):
                if getattr(p, key):
                    lines.append(f"    {key}: {_flow(list(getattr(p, key)))}")
            if p.evidence is not None:
                lines.append(f"    evidence: {_flow(_evidence(p.evidence))}")
    if spec.routing_rules:
        lines.append("routing_rules:")
        lines.extend(f"  - {_flow(rule.model_dump(exclude_none=True))}" for rule in spec.routing_rules)
    return lines


def _scalar(x: Any) -> str:
    """One plain value in flow style, quoted when YAML would read it back differently."""
    return _flow([_number(x)])[1:-1]


def _data_lines(data: DataContract) -> list[str]:
    """The data contract: one header, field or left-out field per line, so a review sees each change alone."""
    lines = ["data:"]
    for key in ("preset", "id_column"):
        if getattr(data, key) is not None:
            lines.append(f"  {key}: {_scalar(getattr(data, key))}")
    for key in ("columns", "stage_map"):
        entries = getattr(data, key)
        lines.append(f"  {key}:" if entries else f"  {key}: {{}}")
        lines.extend(f"    {_scalar(k)}: {_scalar(v)}" for k, v in entries.items())
    lines.append("  fields:" if data.fields else "  fields: {}")
    for name, how in data.fields.items():
        lines.append(
            f"    {_scalar(name)}: {_flow({k: _number(v) for k, v in how.model_dump(exclude_none=True).items()})}"
        )
    lines.append("  left_out:" if data.left_out else "  left_out: []")
    lines.extend(f"    - {_flow(item.model_dump(exclude_none=True))}" for item in data.left_out)
    return lines


def dump_spec(spec: ICPSpec) -> str:
    """The spec as YAML in a fixed shape and key order; the same spec always gives the same bytes.

    A multi-segment spec writes its segments (each with its layers, exclusions, tiers and routing) instead of the
    top-level ones; a spec without segments is written exactly as before segments existed.
    """
    head = {k: getattr(spec, k) for k in _TOP_ORDER if getattr(spec, k) is not None}
    buf = io.StringIO()
    _yaml(flow=False).dump(_safe_strings(head), buf)
    lines = [buf.getvalue().rstrip("\n")]
    if spec.segments is None:
        lines += _body_lines(spec.layers, spec.exclusions, spec.tiers, spec.routing, 0)
    lines += _persona_lines(spec)
    if spec.sam is not None:
        lines.append("sam:" if spec.sam else "sam: []")
        lines.extend(f"  - {_flow(_clause_map(cl))}" for cl in spec.sam)
    if spec.segments is not None:
        lines.append("segments:")
        for seg in spec.segments:
            lines.extend(_segment_lines(seg))
    if spec.data is not None:
        lines += _data_lines(spec.data)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- content hash


def _canon_scalar(x: Any) -> Any:
    if isinstance(x, str):
        return x.strip(" \t\n\r").lower()  # as scoring compares text (icpkit.score.semantics.norm_text)
    return _number(x)


def _canon_clause(cl: Clause) -> dict[str, Any]:
    v = cl.value
    if cl.op in _SET_OPS:
        items = {json.dumps(_canon_scalar(x), sort_keys=True): _canon_scalar(x) for x in v}
        value: Any = [items[k] for k in sorted(items)]
    elif isinstance(v, list):
        value = [_canon_scalar(x) for x in v]
    else:
        value = _canon_scalar(v)
    return {"field": cl.field, "op": cl.op.value, "value": value}


def canonical_form(spec: ICPSpec) -> dict[str, Any]:
    """What the hash covers: the filter, with values canonicalised as scoring reads them."""

    def criterion(c: Criterion) -> dict[str, Any]:
        also = sorted((_canon_clause(a) for a in c.also), key=lambda d: json.dumps(d, sort_keys=True))
        return {**_canon_clause(c), "points": c.points, "also": also}

    def body(s: ICPSpec | Segment) -> dict[str, Any]:
        return {
            "layers": {layer: [criterion(c) for c in cs] for layer, cs in s.layers.items() if cs},
            "exclusions": [_canon_clause(e) for e in s.exclusions],
            "tiers": s.tiers.model_dump(),
            "routing": s.routing.model_dump(),
        }

    out = {"as_of": spec.as_of.isoformat() if spec.as_of else None, **body(spec)}
    if spec.segments is not None:  # absent from a single-ICP spec, whose hash is what it always was
        out["segments"] = [{"name": seg.name, **body(seg)} for seg in spec.segments]
    if spec.data is not None:  # how inputs are read changes what a file or an API record scores
        out["data"] = canonical_contract(spec.data)
    if spec.personas or spec.routing_rules:  # likewise absent without personas and rules
        out["persona_fields"] = spec.persona_fields.model_dump() if spec.personas else None
        out["personas"] = [_canon_persona(p) for p in spec.personas]
        out["routing_rules"] = [
            {
                "tier": None if r.tier is None else sorted(set(r.tier)),
                "persona": None if r.persona is None else sorted(set(r.persona)),
                "route": r.route,
            }
            for r in spec.routing_rules
        ]
    return out


def canonical_contract(data: DataContract) -> dict[str, Any]:
    """The parts of the data contract that change how a value is read (never ``left_out``, which documents)."""
    return {
        "preset": data.preset,
        "columns": {" ".join(k.lower().split()): v for k, v in sorted(data.columns.items())},
        "fields": {k: v.model_dump() for k, v in sorted(data.fields.items())},
        "stage_map": {k.strip().lower(): v for k, v in sorted(data.stage_map.items())},
    }


def _canon_patterns(patterns: list[str]) -> list[str]:
    """Patterns as matching reads them: normalised words, ``*`` kept, sorted and deduplicated."""
    return sorted({words + ("*" if prefix else "") for words, prefix in map(pattern_words, patterns)})


def _canon_persona(p: Persona) -> dict[str, Any]:
    keys = ("titles", "exclude_titles", "seniority", "department")
    return {"name": p.name, **{k: _canon_patterns(getattr(p, k)) for k in keys}}


def content_hash(spec: ICPSpec) -> str:
    """sha256 (hex) of the canonical form: equal for specs that score every record identically by construction."""
    text = json.dumps(canonical_form(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------- loading


class _Reader:
    """Turns the YAML tree into the model's plain shape, remembering where each value came from."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.where: dict[Loc, Where] = {}  # model location -> YAML line and user path
        self.model_level: dict[Loc, Where] = {}  # where a clause's own validator errors point: its operator

    def fail(self, message: str, line: int | None, field: str | None) -> SpecError:
        return SpecError(message, path=self.path, line=None if line is None else line + 1, field=field or None)

    # plain values -------------------------------------------------------------------------------------------
    def plain(self, node: Any, loc: Loc, upath: str, line: int | None) -> Any:
        self.where.setdefault(loc, (line, upath))
        if isinstance(node, CommentedMap):
            out = {}
            for k, v in node.items():
                kl = node.lc.key(k)[0]
                out[self._key(k, kl, upath)] = self.plain(v, (*loc, k), f"{upath}.{k}" if upath else str(k), kl)
            return out
        if isinstance(node, CommentedSeq):
            return [self.plain(v, (*loc, i), f"{upath}[{i}]", node.lc.item(i)[0]) for i, v in enumerate(node)]
        if isinstance(node, bool) or type(node).__name__ == "ScalarBoolean":
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        if isinstance(node, str):
            return str(node)
        return node  # dates and None

    def _key(self, k: Any, line: int, upath: str) -> str:
        if not isinstance(k, str):
            raise self.fail(f"keys must be text, got {k!r}", line, upath)
        return k

    # the spec's shape -----------------------------------------------------------------------------------
    def spec(self, doc: Any) -> dict[str, Any]:
        if not isinstance(doc, CommentedMap):
            raise self.fail("a spec is a YAML mapping (name:, layers:, ...)", 0, None)
        self.where[()] = (0, "")
        out: dict[str, Any] = {}
        for k, v in doc.items():
            line = doc.lc.key(k)[0]
            key = self._key(k, line, "")
            if key == "layers":
                out[key] = self.layers(v, line)
            elif key == "segments":
                out[key] = self.segments(v, line)
            elif key == "exclusions":
                out[key] = self.items(v, ("exclusions",), "exclusions", line, _EXCLUSION_KEYS)
            elif key == "sam":
                out[key] = self.items(v, ("sam",), "sam", line, _CLAUSE_KEYS)
            else:
                out[key] = self.plain(v, (key,), key, line)
        return out

    def layers(self, node: Any, line: int, loc: Loc = ("layers",), upath: str = "layers") -> Any:
        self.where[loc] = (line, upath)
        if node is None:
            return {}
        if not isinstance(node, CommentedMap):
            raise self.fail("layers is a mapping of layer name to a list of criteria", line, upath)
        out = {}
        for key, criteria in node.items():
            kl = node.lc.key(key)[0]
            name = self._key(key, kl, upath)  # a null or numeric key is no layer name
            if name not in LAYERS:
                raise self.fail(
                    f"unknown layer '{name}'{_suggest(name, LAYERS)}; layers are {', '.join(LAYERS)}",
                    kl,
                    f"{upath}.{name}",
                )
            out[name] = self.items(criteria, (*loc, name), f"{upath}.{name}", kl, _CRITERION_KEYS)
        return out

    def segments(self, node: Any, line: int) -> Any:
        self.where[("segments",)] = (line, "segments")
        if node is None:
            return []
        if not isinstance(node, CommentedSeq):
            raise self.fail("segments is a list of named ICPs (- name: ..., layers: ...)", line, "segments")
        out = []
        for i, seg in enumerate(node):
            sl, upath, loc = node.lc.item(i)[0], f"segments[{i}]", ("segments", i)
            self.where[loc] = (sl, upath)
            if not isinstance(seg, CommentedMap):
                raise self.fail("a segment is a mapping (name:, layers:, exclusions:, tiers:, routing:)", sl, upath)
            item: dict[str, Any] = {}
            for k, v in seg.items():
                kl = seg.lc.key(k)[0]
                key = self._key(k, kl, upath)
                if key == "layers":
                    item[key] = self.layers(v, kl, (*loc, "layers"), f"{upath}.layers")
                elif key == "exclusions":
                    item[key] = self.items(v, (*loc, "exclusions"), f"{upath}.exclusions", kl, _EXCLUSION_KEYS)
                else:
                    item[key] = self.plain(v, (*loc, key), f"{upath}.{key}", kl)
            out.append(item)
        return out

    def items(self, node: Any, loc: Loc, upath: str, line: int, keys: tuple[str, ...]) -> Any:
        self.where[loc] = (line, upath)
        if node is None:
            return []
        if not isinstance(node, CommentedSeq):
            raise self.fail("expected a list of clauses (- {field: ..., in: [...]})", line, upath)
        return [self.clause(v, (*loc, i), f"{upath}[{i}]", node.lc.item(i)[0], keys) for i, v in enumerate(node)]

    def clause(self, node: Any, loc: Loc, upath: str, line: int, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(node, CommentedMap):
            raise self.fail("a clause is a mapping like {field: industry, in: [Software]}", line, upath)
        self.where[loc] = (line, upath)
        ops = [k for k in node if k in _OPS]
        for k in node:
            if k not in _OPS and k not in keys:
                kl = node.lc.key(k)[0]
                raise self.fail(f"unknown key '{k}'{_suggest(str(k), [*keys, *_OPS])}", kl, f"{upath}.{k}")
        if not ops:
            raise self.fail(f"no operator; use one of {', '.join(_OPS)}", line, upath)
        if len(ops) > 1:
            kl = node.lc.key(ops[1])[0]
            raise self.fail(
                f"one operator per clause, found {', '.join(ops)}; combine clauses with also: [...]", kl, upath
            )
        op = ops[0]
        ol = node.lc.key(op)[0]
        where = (ol, f"{upath}.{op}")
        self.model_level[loc] = where
        self.where[(*loc, "op")] = where
        out: dict[str, Any] = {"op": op, "value": self.plain(node[op], (*loc, "value"), f"{upath}.{op}", ol)}
        values = out["value"] if isinstance(out["value"], list) else [out["value"]]
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise self.fail("numbers must be finite (no .nan or .inf; null is an open end)", ol, f"{upath}.{op}")
        if any(isinstance(v, str) and "\x00" in v for v in values):  # only a quoted "\0" gets here; SQL refuses it
            raise self.fail("text holds a NUL character (\\0)", ol, f"{upath}.{op}")
        field = node.get("field")
        if isinstance(field, str) and "\x00" in field:
            raise self.fail("the field name holds a NUL character (\\0)", node.lc.key("field")[0], f"{upath}.field")
        for k in node:
            if k == op:
                continue
            kl = node.lc.key(k)[0]
            if k == "also":
                out[k] = self.items(node[k], (*loc, "also"), f"{upath}.also", kl, _CLAUSE_KEYS)
            else:
                out[k] = self.plain(node[k], (*loc, k), f"{upath}.{k}", kl)
        return out

    # pydantic errors -> file:line field -------------------------------------------------------------------
    def locate(self, loc: Loc, kind: str) -> Where:
        if kind != "missing" and loc in self.model_level:
            return self.model_level[loc]
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.where:
                line, upath = self.where[loc[:n]]
                for part in loc[n:]:
                    upath = f"{upath}[{part}]" if isinstance(part, int) else f"{upath}.{part}" if upath else part
                return line, upath
        return None, ".".join(map(str, loc))


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


_MODEL_KEYS: dict[str, list[str]] = {
    "tiers": ["tier1", "tier2", "tier3"],
    "routing": ["tier1", "tier2", "tier3", "none", "excluded"],
    "evidence": list(Evidence.model_fields),
    "segments": list(Segment.model_fields),
    "personas": list(Persona.model_fields),
    "persona_fields": list(PersonaFields.model_fields),
    "routing_rules": list(RoutingRule.model_fields),
    "data": list(DataContract.model_fields),
    "left_out": list(LeftOut.model_fields),
}


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    loc = err["loc"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parents = [p for p in loc[:-1] if not isinstance(p, int)]
        parent = str(parents[-1]) if parents else ""
        choices = _MODEL_KEYS.get(parent, list(ICPSpec.model_fields) if len(loc) == 1 else [])
        return f"unknown key '{key}'{_suggest(key, choices)}"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _read_text(source: str | Path, path: str | None) -> tuple[str, str | None]:
    is_path = isinstance(source, Path) or ("\n" not in source and source.strip().lower().endswith((".yaml", ".yml")))
    if not is_path:
        return str(source), path
    p = Path(source)
    name = path or str(source)
    try:
        if p.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(f"file is larger than {MAX_SPEC_BYTES:,} bytes; is this an ICP spec?", path=name)
        return p.read_text(encoding="utf-8-sig"), name
    except FileNotFoundError:
        raise SpecError("file not found", path=name) from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=name) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", path=name) from None


MAX_DEPTH = 32  # the deepest real spec (segments > layers > criterion > also > list) nests 9 levels


def _check_events(y: YAML, text: str, reader: _Reader) -> None:
    """Safe subset of YAML: one document, no aliases (no alias bombs), no tags (no objects), no merge keys,
    bounded nesting.

    The depth limit keeps a ``[[[[…`` document from exhausting the composer's recursion: events are read by a
    loop, so the check itself cannot recurse.
    """
    docs = depth = 0
    for ev in y.parse(text):
        line = ev.start_mark.line if ev.start_mark else None
        if isinstance(ev, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise reader.fail(f"nested more than {MAX_DEPTH} levels deep; is this an ICP spec?", line, None)
        elif isinstance(ev, CollectionEndEvent):
            depth -= 1
        if isinstance(ev, DocumentStartEvent):
            docs += 1
            if docs > 1:
                raise reader.fail("one spec per file; found a second YAML document", line, None)
        elif isinstance(ev, AliasEvent):
            raise reader.fail(f"YAML aliases (*{ev.anchor}) are not allowed in a spec; write the value out", line, None)
        elif isinstance(ev, ScalarEvent | CollectionStartEvent) and ev.tag is not None:
            raise reader.fail(f"YAML tags ({ev.tag}) are not allowed in a spec", line, None)
        elif isinstance(ev, ScalarEvent) and ev.style is None and ev.value == "<<":  # merges keys out of sight
            raise reader.fail("YAML merge keys (<<) are not allowed in a spec; quote '<<' if it is text", line, None)


_DATE_LIKE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")


def _bad_scalar(y: YAML, text: str, reader: _Reader, exc: Exception) -> SpecError:
    """Find the plain scalar the loader choked on (e.g. ``2026-13-30``, or ``+_``, which ruamel takes for a
    number it then cannot read), to name its line."""
    plain = [ev for ev in y.parse(text) if isinstance(ev, ScalarEvent) and ev.style is None]
    for ev in plain:
        if _DATE_LIKE.match(ev.value):
            try:
                dt.date.fromisoformat(ev.value[:10])
            except ValueError:
                return reader.fail(f"'{ev.value}' is not a valid date ({exc})", ev.start_mark.line, None)
    for ev in plain:
        try:
            YAML(typ="rt").load(ev.value)
        except Exception:  # any failure of the loader on this scalar alone names it
            return reader.fail(f"'{ev.value}' cannot be read as a YAML value; quote it", ev.start_mark.line, None)
    return reader.fail(f"invalid value: {exc}", None, None)


def _check_rule_personas(data: Mapping[str, Any], reader: _Reader) -> None:
    """A routing rule naming an undefined persona, reported at its own line (the model only knows the spec)."""
    personas, rules = data.get("personas"), data.get("routing_rules")
    if not isinstance(rules, list):
        return
    known = {p["name"] for p in personas or [] if isinstance(p, dict) and isinstance(p.get("name"), str)}
    for i, rule in enumerate(rules):
        names = rule.get("persona") if isinstance(rule, dict) else None
        for j, name in enumerate(names if isinstance(names, list) else []):
            if isinstance(name, str) and name != NO_PERSONA and name not in known:
                line, upath = reader.locate(("routing_rules", i, "persona", j), "value_error")
                raise reader.fail(unknown_persona(name, known), line, upath)


def load_spec(source: str | Path, *, path: str | None = None) -> ICPSpec:
    """Read a spec from YAML text or a ``.yaml``/``.yml`` file; ``path`` names the source in error messages."""
    text, name = _read_text(source, path)
    reader = _Reader(name)
    if len(text.encode("utf-8")) > MAX_SPEC_BYTES:
        raise reader.fail(f"spec is larger than {MAX_SPEC_BYTES:,} bytes", None, None)
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    try:
        _check_events(y, text, reader)
        doc = y.load(text)
    except SpecError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or "invalid YAML").split("\n")[0]
        if type(exc).__name__ == "DuplicateKeyError":
            problem = problem.replace("found duplicate key", "duplicate key").split(" with value")[0]
        raise reader.fail(problem, mark.line if mark else None, None) from None
    except YAMLError as exc:
        position = getattr(exc, "position", None)  # a ReaderError (control character) has an offset, not a mark
        line = text.count("\n", 0, position) if isinstance(position, int) else None
        problem = str(exc).split("\n")[0] if line is not None else f"invalid YAML: {exc}"
        raise reader.fail(problem, line, None) from None
    except (ValueError, TypeError, OverflowError, IndexError) as exc:  # a date or number the loader cannot read
        raise _bad_scalar(y, text, reader, exc) from None
    if doc is None:
        raise reader.fail("the spec is empty", None, None)
    data = reader.spec(doc)
    _check_rule_personas(data, reader)
    try:
        return ICPSpec.model_validate(data)
    except ValidationError as exc:
        errors = [(reader.locate(tuple(e["loc"]), e["type"]), _message(e)) for e in exc.errors(include_url=False)]
        first, *rest = sorted(errors, key=lambda e: -1 if e[0][0] is None else e[0][0])
        (line, field), message = first
        if rest:
            more = [f"  {name or 'spec'}:{'' if ln is None else ln + 1} {fp}: {m}" for (ln, fp), m in rest[:10]]
            message = "\n".join([message, f"and {len(rest)} more:", *more])
        raise reader.fail(message, line, field) from None
