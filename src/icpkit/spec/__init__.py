"""The ICP spec: models, YAML round-trip and content hash."""

from icpkit.spec.model import LAYERS, Clause, Criterion, Evidence, Exclusion, ICPSpec, Op, Routing, Tiers

__all__ = ["LAYERS", "Clause", "Criterion", "Evidence", "Exclusion", "ICPSpec", "Op", "Routing", "Tiers"]
