"""The work of ``POST /v1/score`` and ``POST /v1/score/batch``: body bytes in, response bytes out.

Shared by the fast ASGI path and the FastAPI routes, so the two cannot answer differently. The explanation entries
(id, layer, points, plain words) were built once per version (``Served.words``, one set per segment): a response
only picks them. A multi-segment spec answers with the best segment's name, every segment's score and ids local
to the best segment; a spec with personas adds the persona and how strongly it matched. Those four keys are
always there, null when the spec has no segments or no personas, so a client reads one shape.

Records are read through the spec's data contract first (``icpkit.ingest.contract.RecordReader``): header and
property names, and values not already of their field's kind (``"1,200"``, ``"51-200"``, ``COMPUTER_SOFTWARE``),
are read as ingest reads a file; ``unreadable`` names the fields whose value could not be read (scored unknown).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson

from icpkit.api.limits import Limits, parse_batch, parse_score
from icpkit.api.served import Served
from icpkit.size.enrich import KEY_COLUMN, STATUS_COLUMN, Enricher

__all__ = ["Scoring"]


# universe values: dates are native, anything odder becomes text (a partial: no Python frame per response)
_dumps = partial(orjson.dumps, default=str)


class Scoring:
    """Scores request bodies against whatever version is in force when the request arrived."""

    def __init__(self, *, limits: Limits, enricher: Enricher | None = None) -> None:
        self.limits = limits
        self.enricher = enricher

    def _one(
        self, served: Served, record: dict[str, Any], enrich: bool, unreadable: list[str] | None = None
    ) -> dict[str, Any]:
        if unreadable is None:
            record, unreadable = served.reader(record)
        enrichment = None
        if enrich and self.enricher is not None:
            full = self.enricher.enrich(record)
            status, domain = full.pop(STATUS_COLUMN), full.pop(KEY_COLUMN)
            filled = {k: v for k, v in full.items() if v is not None and record.get(k) is None}
            enrichment = {"status": status, "domain": domain, "filled": filled}
            record = full
        r = served.scorer(record)
        segment = getattr(r, "segment", None) if served.segmented else None
        items, hits = served.words[segment]
        return {
            "score": r.score,
            "tier": r.tier,
            "route": r.route,
            "segment": segment,
            "persona": r.persona,
            "persona_match": r.persona_match,
            "layer_scores": r.layer_scores,
            "segment_scores": r.segment_scores if segment is not None else None,  # type: ignore[attr-defined]
            "explanation": {
                "matched": list(map(items.__getitem__, r.matched)),
                "unknown": list(map(items.__getitem__, r.unknown)),
                "exclusions_hit": list(map(hits.__getitem__, r.exclusions_hit)),
            },
            "enrichment": enrichment,
            "unreadable": unreadable,
        }

    def score(self, body: bytes, served: Served) -> bytes:
        """One record; raises ``RequestError`` for a body the API refuses."""
        record, enrich = parse_score(body, self.limits)
        out = self._one(served, record, enrich)
        out["spec"] = served.ref
        out["as_of"] = served.as_of
        return _dumps(out)

    def batch(self, body: bytes, served: Served) -> tuple[bytes, int]:
        """Many records, in order; also returns how many (for the access log)."""
        records, enrich = parse_batch(body, self.limits)
        one = self._one
        read = served.reader.many(records)  # values to read are read together, as a file's rows are
        results = [one(served, r, enrich, bad) for r, bad in zip(read.records, read.unreadable, strict=True)]
        return _dumps({"results": results, "spec": served.ref, "as_of": served.as_of}), len(results)
