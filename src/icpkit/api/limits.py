"""Request limits and the hand-rolled reading of a score request, the hot path's validation.

pydantic would validate the same bodies (``icpkit.api.models`` declares them, with these limits, for the OpenAPI
schema; a test holds the two to the same verdicts), but walking a small dict by hand costs a few microseconds where
a model costs tens, and a form fill is scored while the visitor waits. Every rejection names the field it is about
and never echoes a value, since record values are personal data (an email, a name).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import orjson

try:
    from icpkit._native import record_ok as _record_ok
except ImportError:  # pragma: no cover - built without a C compiler: the Python walk decides alone
    _record_ok = None

__all__ = ["Limits", "RequestError", "parse_batch", "parse_score", "read_record", "require_json"]


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may hold. Generous for a CRM record, small enough that no request can hog the process."""

    max_body_bytes: int = 1_000_000
    max_batch: int = 1_000
    max_fields: int = 200
    max_key: int = 100
    max_string: int = 2_000
    max_list: int = 200

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch", "max_fields", "max_key", "max_string", "max_list"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


class RequestError(Exception):
    """A request the API refuses: the HTTP status, a message for the caller and the field it is about."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def _name(key: str) -> str:
    """A field name fit for an error message: bounded, printable."""
    shown = key if len(key) <= 60 else key[:57] + "..."
    return shown.encode("utf-8", "backslashreplace").decode("utf-8") if not shown.isprintable() else shown


def _list_problem(v: list[Any], limits: Limits) -> str | None:
    """What is wrong with a list value (suffix of the message), or None."""
    if len(v) > limits.max_list:
        return f": a list of more than {limits.max_list:,} items"
    for i, item in enumerate(v):
        t = type(item)
        if t is str:
            if len(item) > limits.max_string:
                return f"[{i}]: text longer than {limits.max_string:,} characters"
        elif t is float:
            if not math.isfinite(item):
                return f"[{i}]: numbers must be finite"
        elif not (item is None or t is int or t is bool):
            return f"[{i}]: list items must be text, numbers, booleans or null"
    return None


def read_record(obj: Any, where: str, limits: Limits, *, short: bool = False, finite: bool = False) -> dict[str, Any]:
    """``obj`` as a record (field -> value), or a 422 naming the field that breaks the rules.

    One pass, type by type, with the common cases first; field names are only formatted for an error. ``short``:
    the body was no longer than ``max_string`` bytes, so no text in it can be longer (a character takes at least a
    byte); ``finite``: it was parsed by orjson, which refuses infinite numbers. Where the C extension is built, it
    accepts the usual record in one C pass first; anything it does not accept comes here for the verdict and message.
    """
    if _record_ok is not None and _record_ok(
        obj, limits.max_fields, limits.max_key, limits.max_string, limits.max_list, short, finite
    ):
        return obj
    if type(obj) is not dict:
        raise RequestError(422, f"{where}: must be an object of field -> value", where)
    if len(obj) > limits.max_fields:
        raise RequestError(422, f"{where}: more than {limits.max_fields:,} fields", where)
    max_key, max_string = limits.max_key, limits.max_string
    for k, v in obj.items():
        if not 0 < len(k) <= max_key:
            raise RequestError(422, f"{where}: field names must be 1 to {max_key} characters, got '{_name(k)}'", where)
        t = type(v)
        if t is str:
            if short or len(v) <= max_string:
                continue
            problem: str | None = f": text longer than {max_string:,} characters"
        elif t is float:
            if finite or math.isfinite(v):
                continue
            problem = ": numbers must be finite"
        elif v is None or t is int or t is bool:
            continue
        elif t is list:
            problem = _list_problem(v, limits)
            if problem is None:
                continue
        else:
            problem = ": values must be text, numbers, booleans, null or a list of those"
        field = f"{where}.{_name(k)}"
        raise RequestError(422, field + problem, field)
    return obj


def require_json(content_type: bytes | None) -> None:
    """Scoring bodies are JSON; a form's own encodings (and a cross-site "simple" POST) are refused with a 415."""
    if content_type == b"application/json":  # what nearly every caller sends
        return
    main = (content_type or b"").split(b";", 1)[0].strip().lower()
    if main != b"application/json" and not (main.startswith(b"application/") and main.endswith(b"+json")):
        raise RequestError(415, "send the body as JSON (Content-Type: application/json)", "content-type")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _big_int(text: str) -> int | float:
    """An integer orjson could not read (beyond 64 bits) as the number it is: a float, or a 422 past a double's
    range; left an int, it overflows wherever a scorer compares it with a float or a date."""
    value = float(text)
    if not math.isfinite(value):
        raise RequestError(422, "numbers must be finite (an integer beyond ±1.8e308)", "body")
    return value


def _parse(body: bytes) -> tuple[Any, bool]:
    """(the body as JSON, whether orjson read it: then every number in it is finite). orjson first; the standard
    library for what orjson refuses but JSON allows (integers beyond 64 bits), so a valid body is never refused for
    the parser's sake. Bodies are UTF-8 without a byte-order mark (RFC 8259), whichever parser reads them."""
    try:
        return orjson.loads(body), True
    except orjson.JSONDecodeError:
        pass
    try:
        text = body.decode("utf-8")  # json.loads(bytes) would also guess UTF-16 and UTF-32, and skip a BOM
        if text.startswith("\ufeff"):
            raise RequestError(422, "the body must be UTF-8 JSON without a byte-order mark", "body")
        return json.loads(text, parse_constant=_reject_constant, parse_int=_int), False
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RequestError(422, "the body is not valid JSON", "body") from None


def _int(text: str) -> int | float:
    value = int(text)
    return value if -(1 << 63) <= value < 1 << 64 else _big_int(text)


def _object(body: bytes, keys: frozenset[str]) -> tuple[dict[str, Any], bool]:
    doc, finite = _parse(body)
    if type(doc) is not dict:
        raise RequestError(422, "the body must be a JSON object", "body")
    for k in doc:
        if k not in keys:
            raise RequestError(422, f"unknown field '{_name(k)}' (expected {', '.join(sorted(keys))})", _name(k))
    return doc, finite


def _flag(doc: dict[str, Any], key: str) -> bool:
    v = doc.get(key, True)
    if type(v) is not bool:
        raise RequestError(422, f"{key}: must be true or false", key)
    return v


_SCORE_KEYS = frozenset({"record", "enrich"})
_BATCH_KEYS = frozenset({"records", "enrich"})


def parse_score(body: bytes, limits: Limits) -> tuple[dict[str, Any], bool]:
    """(record, enrich) of a ``POST /v1/score`` body."""
    doc, finite = _object(body, _SCORE_KEYS)
    if "record" not in doc:
        raise RequestError(422, "record: required (an object of field -> value)", "record")
    short = len(body) <= limits.max_string
    return read_record(doc["record"], "record", limits, short=short, finite=finite), _flag(doc, "enrich")


def parse_batch(body: bytes, limits: Limits) -> tuple[list[dict[str, Any]], bool]:
    """(records, enrich) of a ``POST /v1/score/batch`` body. More records than the limit is a 422 like any other
    break of the schema (which states ``maxItems``); 413 is kept for a body over the byte limit."""
    doc, finite = _object(body, _BATCH_KEYS)
    records = doc.get("records")
    if type(records) is not list:
        raise RequestError(422, "records: required (a list of objects of field -> value)", "records")
    if len(records) > limits.max_batch:
        raise RequestError(422, f"records: {len(records):,} records; at most {limits.max_batch:,} per batch", "records")
    short = len(body) <= limits.max_string
    valid = [read_record(r, f"records[{i}]", limits, short=short, finite=finite) for i, r in enumerate(records)]
    return valid, _flag(doc, "enrich")
