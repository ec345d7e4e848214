"""Guess the kind of a column no preset or mapping knows, so extra CRM fields still become usable attributes.

The guess looks at a spread sample of the non-missing values and reuses the coercion parsers (one DuckDB pass), so
"what counts as a number or a date" has a single definition. Identifiers and free text are recognised first, as
discovery must never turn them into criteria.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.ingest.coerce import FALSE_TOKENS, NULL_TOKENS, TRUE_TOKENS, coerce_columns
from icpkit.ingest.schema import ColumnKind

__all__ = ["SAMPLE_SIZE", "infer_kind"]

SAMPLE_SIZE = 5000
PARSED_SHARE = 0.9  # a column is numeric / a date when this share of its sampled values parse as such
_ID_NAME = re.compile(r"(^|[\s_\-.])(id|key|uuid|guid|number|no)$|^id[\s_\-.]|^(record|object)\s*id", re.IGNORECASE)
# Contact details reach a person or a desk, not a kind of company: "+1 555 0100" parses as a number, and a band of
# phone numbers would be a criterion about nothing. Postal codes are places, not quantities.
_CONTACT_NAME = re.compile(r"phone|\bfax\b|^fax|telephone|whatsapp|^mobile$|mobile[\s_\-]*(number|no)$", re.IGNORECASE)
_POSTAL_NAME = re.compile(r"(zip|postal|post)[\s_\-]*code|^zip$|postcode", re.IGNORECASE)


def _sample(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Up to SAMPLE_SIZE non-null values spread evenly over the column (not just its head, which is often sorted)."""
    values = column.drop_null()
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if len(values) <= SAMPLE_SIZE:
        return values
    return values.take(pa.array(np.linspace(0, len(values) - 1, SAMPLE_SIZE).astype(np.int64)))


def infer_kind(column: pa.Array | pa.ChunkedArray, name: str) -> ColumnKind:
    """The ``ColumnKind`` a column most likely holds, judged from its type, its name and a sample of values."""
    typ = column.type
    id_name = bool(_ID_NAME.search(name.strip()))
    if pa.types.is_boolean(typ):
        return ColumnKind.BOOLEAN
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return ColumnKind.MULTI
    if pa.types.is_temporal(typ):
        return ColumnKind.DATE
    sample = _sample(column)
    n = len(sample)
    if n == 0:
        return ColumnKind.CATEGORICAL
    distinct = pc.count_distinct(sample).as_py()
    unique = distinct / n
    postal, contact = bool(_POSTAL_NAME.search(name)), bool(_CONTACT_NAME.search(name))
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        if postal:
            return ColumnKind.CATEGORICAL
        if contact:
            return ColumnKind.TEXT
        if id_name and unique >= 0.95:
            return ColumnKind.ID
        if pc.all(pc.is_in(sample, pa.array([0, 1], type=typ))).as_py() and distinct == 2:
            return ColumnKind.BOOLEAN
        return ColumnKind.NUMERIC
    text = pc.utf8_trim_whitespace(sample.cast(pa.string()))
    lowered = pc.utf8_lower(text)
    present = pc.filter(lowered, pc.invert(pc.is_in(lowered, pa.array(NULL_TOKENS))))
    if len(present) == 0:
        return ColumnKind.CATEGORICAL
    tokens = pc.unique(present)
    if len(tokens) <= 3 and pc.all(pc.is_in(tokens, pa.array(TRUE_TOKENS + FALSE_TOKENS))).as_py():
        return ColumnKind.BOOLEAN
    if contact:
        return ColumnKind.TEXT
    if id_name and unique >= 0.95:
        return ColumnKind.ID
    parsed = coerce_columns(
        pa.table({"d": present, "n": present}), {"d": ColumnKind.DATE, "n": ColumnKind.NUMERIC}
    ).table
    m = len(present)
    if (m - parsed["d"].null_count) / m >= PARSED_SHARE:
        return ColumnKind.DATE
    if (m - parsed["n"].null_count) / m >= PARSED_SHARE and not postal:
        return ColumnKind.NUMERIC
    lengths = pc.utf8_length(present)
    mean_len = pc.mean(lengths).as_py() or 0.0
    if mean_len > 60:
        return ColumnKind.TEXT  # prose (notes, descriptions), even when it contains ';'
    listed = pc.sum(pc.match_substring_regex(present, r"[;|]")).as_py() or 0
    if listed / m >= 0.1:
        return ColumnKind.MULTI
    if unique >= 0.95 and n >= 20:
        no_space = not pc.any(pc.match_substring(present, " ")).as_py()
        bounds = pc.min_max(lengths)
        if no_space and bounds["min"] == bounds["max"]:
            return ColumnKind.ID  # fixed-width unique tokens: hashes, CRM record ids
        return ColumnKind.TEXT  # names, domains, emails: identify a record, never a candidate
    return ColumnKind.CATEGORICAL
