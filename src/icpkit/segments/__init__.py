"""Several ICPs in one spec: distinct profiles inside the high-value cohort, each with its own evidence."""

from icpkit.segments.discovery import SegmentBuild, SegmentFinder, bernoulli_mixture, heldout_loglik

__all__ = ["SegmentBuild", "SegmentFinder", "bernoulli_mixture", "heldout_loglik"]
