"""The target-account list: ICP-fit companies sorted by tier then score, each with its reasons in plain words.

Reasons come from :mod:`icpkit.words` (a criterion's ``label`` when the spec has one), so the list reads the same
as the one-page ICP. They are built from the engine's explanation lists with Arrow list kernels: one take per
column, no loop over rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.score.semantics import criterion_ids, exclusion_ids
from icpkit.spec.model import ICPSpec
from icpkit.words import clause_text, criterion_text

__all__ = ["LEAD_COLUMNS", "TARGET_COLUMNS", "target_table"]

# First columns of the list, in this order where present; every other universe column follows.
LEAD_COLUMNS = (
    "rank", "tier", "score", "segment", "crm_status", "name", "domain", "country", "region", "city", "industry",
    "employees", "annual_revenue", "account_id", "linkedin_url",
)  # fmt: skip
TARGET_COLUMNS = ("reasons", "not_known", "route")
_DROP = ("matched", "unknown", "exclusions_hit", "__row")
_TIER_ORDER = ("tier1", "tier2", "tier3", "none", "excluded")


def _words(lists: pa.ChunkedArray | pa.Array, ids: Sequence[str], texts: Sequence[str]) -> pa.Array:
    """A list of ids per row -> its texts joined with '; ' (empty text for an empty list)."""
    arr = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    if not ids:
        return pa.array([""] * len(arr), pa.string())
    flat = pc.list_flatten(arr)
    idx = pc.index_in(flat, value_set=pa.array(list(ids), pa.string()))
    values = pa.array(list(texts), pa.string()).take(idx)
    offsets = arr.offsets
    if arr.offset:
        offsets = pc.subtract(offsets, offsets[0])
    rebuilt = pa.ListArray.from_arrays(offsets, values)
    return pc.fill_null(pc.binary_join(rebuilt, "; "), "")


def _reasons(spec: ICPSpec, t: pa.Table) -> tuple[pa.Array, pa.Array]:
    """(reasons, not known) in plain words from the explanation lists, whose ids are local to the row's segment."""
    crit = criterion_ids(spec)
    excl = exclusion_ids(spec)
    reason_texts = [f"{criterion_text(c)} (+{c.points})" for _, _, c in crit]
    unknown_ids = [cid for cid, _, _ in crit] + [eid for eid, _ in excl]
    unknown_texts = [criterion_text(c) for _, _, c in crit] + [f"exclusion: {clause_text(e)}" for _, e in excl]
    return (
        _words(t.column("matched"), [c for c, _, _ in crit], reason_texts),
        _words(t.column("unknown"), unknown_ids, unknown_texts),
    )


def target_table(spec: ICPSpec, scored: pa.Table, status: np.ndarray, keep: np.ndarray) -> pa.Table:
    """Rows of ``scored`` where ``keep``, sorted tier 1 first then by score (then name), with plain-words reasons.

    With a multi-segment spec each row's reasons come from its best segment (the ``segment`` column).
    """
    t = scored.filter(pa.array(keep)).append_column("crm_status", pa.array(status[keep].astype(str), pa.string()))
    if spec.segments is None:
        reasons, not_known = _reasons(spec, t)
    else:  # one pass per segment over its own rows, then every row put back in place
        best = np.asarray(t.column("segment").to_numpy(zero_copy_only=False), dtype=object)
        parts, rows = [], []
        for name, seg in spec.segment_specs():
            idx = np.flatnonzero(best == name)
            parts.append(_reasons(seg, t.take(pa.array(idx, pa.int64()))))
            rows.append(idx)
        back = pa.array(np.argsort(np.concatenate(rows)) if rows else [], pa.int64())
        reasons = pa.concat_arrays([r for r, _ in parts]).take(back)
        not_known = pa.concat_arrays([u for _, u in parts]).take(back)
    t = t.append_column("reasons", reasons).append_column("not_known", not_known)
    tier_names = pa.array(list(_TIER_ORDER), pa.string())
    order_tier = pc.index_in(t.column("tier"), value_set=tier_names).to_numpy(zero_copy_only=False)
    score = np.asarray(t.column("score").to_numpy(zero_copy_only=False))
    names = (
        pc.fill_null(pc.utf8_lower(t.column("name")), "").to_numpy(zero_copy_only=False)
        if "name" in t.column_names
        else np.zeros(t.num_rows, dtype=object)
    )
    order = np.lexsort((names.astype(str), -score, order_tier)) if t.num_rows else np.array([], dtype=np.int64)
    t = t.take(pa.array(order, pa.int64()))
    t = t.append_column("rank", pa.array(np.arange(1, t.num_rows + 1), pa.int64()))
    t = t.drop_columns([c for c in _DROP if c in t.column_names])
    lead = [c for c in LEAD_COLUMNS if c in t.column_names]
    tail = [c for c in TARGET_COLUMNS if c in t.column_names]
    rest = [c for c in t.column_names if c not in lead and c not in tail]
    return t.select(lead + tail + rest)
