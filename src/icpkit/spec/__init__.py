"""The ICP spec: models, YAML round-trip and content hash."""

from icpkit.spec.io import canonical_form, content_hash, dump_spec, load_spec
from icpkit.spec.model import LAYERS, Clause, Criterion, Evidence, Exclusion, ICPSpec, Op, Routing, Segment, Tiers

__all__ = [
    "LAYERS",
    "Clause",
    "Criterion",
    "Evidence",
    "Exclusion",
    "ICPSpec",
    "Op",
    "Routing",
    "Segment",
    "Tiers",
    "canonical_form",
    "content_hash",
    "dump_spec",
    "load_spec",
]
