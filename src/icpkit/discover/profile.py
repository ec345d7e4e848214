"""Profile every attribute column, decide which may become candidates, and encode them for counting.

A field is never a candidate when it identifies a record (ids, names, domains), holds free text with mostly
unique values, is the outcome itself (``OUTCOME_COLUMNS``: ARR, churn and close dates, stages, amounts…), is
constant, or is almost always missing. Fields a CRM fills because of the outcome (lifecycle stage, deal counts…)
are taken out before profiling by ``leakage`` (``ICPBuilder``), and every field left out is reported with its
reason in ``BuildResult.left_out``. Every other column is encoded once into NumPy arrays (category codes, floats, day
counts, item lists) from which every count of discovery is a ``bincount``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.ingest.schema import IDENTIFIER_COLUMNS, OUTCOME_COLUMNS, ColumnKind, kind_of_arrow_type

__all__ = ["EncodedField", "FieldProfile", "encode_field", "infer_kind", "layer_for", "profile_fields"]

MISSING = "(missing)"
OTHER = "(other)"
_ECONOMIC = re.compile(r"revenue|funding|budget|spend|price|pricing|plan|valuation|margin", re.IGNORECASE)
_TECH = re.compile(r"tech|stack|tool|integration|software_used", re.IGNORECASE)
_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid|guid)", re.IGNORECASE)


@dataclass(frozen=True)
class FieldProfile:
    """What one column holds and whether discovery may use it (``role == "candidate"``) — and if not, why."""

    name: str
    source: str  # "accounts" or "deals" (behavioural, derived per account)
    kind: ColumnKind
    role: str  # candidate | identifier | outcome | free_text | constant | sparse | unsupported
    coverage: float  # share of accounts with a value
    n_distinct: int
    layer: str
    log_scale: bool = False


@dataclass
class EncodedField:
    """A field in the arrays that counting needs; exactly one of the payloads is set, by ``kind``."""

    profile: FieldProfile
    codes: np.ndarray | None = None  # categorical / boolean: int32 per account, -1 missing
    labels: list[str] = field(default_factory=list)  # display label per code
    values: np.ndarray | None = None  # numeric: float64, NaN missing; date: days before as_of
    item_rows: np.ndarray | None = None  # multi: account row of each (row, item) pair, deduplicated
    item_codes: np.ndarray | None = None
    present: np.ndarray | None = None  # bool per account: has a value
    cache: dict = field(default_factory=dict, repr=False)  # derived arrays reused across passes (edges, cells)

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def kind(self) -> ColumnKind:
        return self.profile.kind


def infer_kind(name: str, typ: pa.DataType, distinct_ratio: float, n_distinct: int) -> ColumnKind:
    """Kind of a column from its Arrow type, for tables that come without ``kinds``."""
    if name in IDENTIFIER_COLUMNS or _ID_NAME.search(name):
        return ColumnKind.ID
    kind = kind_of_arrow_type(typ)
    if kind is ColumnKind.TEXT:
        return ColumnKind.TEXT if (distinct_ratio > 0.5 and n_distinct > 50) else ColumnKind.CATEGORICAL
    return kind or ColumnKind.TEXT


def layer_for(name: str, kind: ColumnKind, source: str) -> str:
    """Default layer: deal-derived -> behavioral, dates -> trigger, multi-valued -> technographic,
    ability to pay (revenue, funding, budget, pricing) -> economic, the rest -> firmographic."""
    if source == "deals":
        return "behavioral"
    if kind == ColumnKind.DATE:
        return "trigger"
    if kind == ColumnKind.MULTI or _TECH.search(name):
        return "technographic"
    if _ECONOMIC.search(name):
        return "economic"
    return "firmographic"


def _normalised_codes(col: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Codes over trimmed, case-folded text (the spec compares text that way); label = most common spelling."""
    col = pc.cast(col, pa.string()) if not pa.types.is_string(col.type) else col
    enc = pc.dictionary_encode(col)
    raw = enc.dictionary.to_pylist()
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    keys = [str(v).strip().casefold() for v in raw]
    uniq, inverse = np.unique(np.array(keys, dtype=object), return_inverse=True) if raw else ([], np.array([]))
    inverse = np.asarray(inverse, dtype=np.int64)
    empty = np.array([k == "" for k in uniq], dtype=bool) if len(uniq) else np.zeros(0, bool)
    remap = np.where(empty[inverse], -1, inverse) if len(uniq) else np.zeros(0, np.int64)
    codes = np.where(idx >= 0, remap[np.maximum(idx, 0)] if len(remap) else -1, -1)
    # display label: the most frequent raw spelling of each key
    raw_counts = np.bincount(idx[idx >= 0], minlength=len(raw)) if raw else np.zeros(0)
    labels = [""] * len(uniq)
    best = np.full(len(uniq), -1.0)
    for r, k in enumerate(inverse):
        if raw_counts[r] > best[k]:
            best[k], labels[k] = raw_counts[r], str(raw[r]).strip()
    return codes.astype(np.int32), labels


def _days_before(col: pa.Array, as_of: dt.date) -> np.ndarray:
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.date32()) if col.type.tz is None else pc.cast(pc.local_timestamp(col), pa.date32())
    d = pc.cast(col, pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False)
    d = np.asarray(d, dtype=float)  # nulls became NaN
    return (as_of - dt.date(1970, 1, 1)).days - d


def encode_field(col: pa.ChunkedArray | pa.Array, prof: FieldProfile, as_of: dt.date) -> EncodedField:
    """Encode one candidate column into the arrays counting needs."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    kind = prof.kind
    if kind == ColumnKind.CATEGORICAL:
        codes, labels = _normalised_codes(arr)
        return EncodedField(prof, codes=codes, labels=labels, present=codes >= 0)
    if kind == ColumnKind.BOOLEAN:
        b = pc.cast(arr, pa.bool_())
        codes = np.where(b.is_null().to_numpy(zero_copy_only=False), -1, b.fill_null(False).to_numpy(False))
        codes = codes.astype(np.int32)
        return EncodedField(prof, codes=codes, labels=["false", "true"], present=codes >= 0)
    if kind == ColumnKind.NUMERIC:
        v = np.asarray(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
        return EncodedField(prof, values=v, present=~np.isnan(v))
    if kind == ColumnKind.DATE:
        v = _days_before(arr, as_of)
        return EncodedField(prof, values=v, present=~np.isnan(v))
    if kind == ColumnKind.MULTI:
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            arr = pc.split_pattern(arr, ";")
        n = len(arr)
        valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        valid_rows = np.nonzero(valid)[0]
        arr = arr.filter(pa.array(valid))  # a null list may still own values in its offsets: drop it first
        rows = valid_rows[pc.list_parent_indices(arr).to_numpy(zero_copy_only=False).astype(np.int64)]
        items = pc.list_flatten(arr)
        codes, labels = _normalised_codes(items)
        keep = codes >= 0
        rows, codes = rows[keep], codes[keep].astype(np.int64)
        if rows.size:  # one (row, item) pair per account and item: sort, then drop repeats
            pair = np.sort(rows * (len(labels) + 1) + codes)
            pair = pair[np.concatenate([[True], pair[1:] != pair[:-1]])]
            rows, codes = pair // (len(labels) + 1), pair % (len(labels) + 1)
        present = np.zeros(n, dtype=bool)
        present[rows] = True
        return EncodedField(prof, item_rows=rows, item_codes=codes.astype(np.int32), labels=labels, present=present)
    raise ValueError(f"cannot encode field {prof.name!r} of kind {kind}")


def _skewed(v: np.ndarray) -> bool:
    v = v[~np.isnan(v)]
    if v.size < 20 or v.min() < 0:
        return False
    q50, q99 = np.quantile(v, [0.5, 0.99])
    return bool(q50 > 0 and q99 / q50 > 20)


def profile_fields(
    table: pa.Table,
    kinds: dict[str, ColumnKind] | None,
    *,
    source: str = "accounts",
    as_of: dt.date,
    min_coverage: float = 0.02,
    exclude: frozenset[str] = frozenset(),
) -> tuple[list[FieldProfile], list[EncodedField]]:
    """Profile every column of ``table``; encode those that may be candidates."""
    kinds = kinds or {}
    profiles: list[FieldProfile] = []
    encoded: list[EncodedField] = []
    n = max(table.num_rows, 1)
    for name in table.column_names:
        col = table.column(name)
        coverage = 1.0 - col.null_count / n
        n_distinct = 0
        skip = name in IDENTIFIER_COLUMNS or name in OUTCOME_COLUMNS or name in exclude or _ID_NAME.search(name)
        skip = skip or kinds.get(name) in (ColumnKind.ID, ColumnKind.TEXT)  # never candidates: do not count
        if not skip and not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)):
            n_distinct = int(pc.count_distinct(col).as_py())
        kind = kinds.get(name) or infer_kind(name, col.type, n_distinct / max(n - col.null_count, 1), n_distinct)
        if kind == ColumnKind.TEXT and not skip and n_distinct and n_distinct <= 50:
            kind = ColumnKind.CATEGORICAL  # declared text but few values: a category after all
        layer = layer_for(name, kind, source)
        if name in IDENTIFIER_COLUMNS or kind == ColumnKind.ID:
            role = "identifier"
        elif name in OUTCOME_COLUMNS or name in exclude:
            role = "outcome"
        elif kind == ColumnKind.TEXT:
            role = "free_text"
        elif coverage < min_coverage:
            role = "sparse"
        elif kind != ColumnKind.MULTI and n_distinct <= 1:
            role = "constant"
        else:
            role = "candidate"
        prof = FieldProfile(name, source, kind, role, float(coverage), n_distinct, layer)
        if role == "candidate":
            enc = encode_field(col, prof, as_of)
            if kind == ColumnKind.NUMERIC and enc.values is not None and _skewed(enc.values):
                prof = FieldProfile(name, source, kind, role, float(coverage), n_distinct, layer, log_scale=True)
                enc.profile = prof
            if kind == ColumnKind.MULTI:
                prof = FieldProfile(name, source, kind, role, float(coverage), len(enc.labels), layer)
                enc.profile = prof
            encoded.append(enc)
        profiles.append(prof)
    return profiles, encoded
