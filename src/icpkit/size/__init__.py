"""Sizing: a company universe -> TAM -> SAM -> ICP tiers -> a target-account list, and enrichment by domain."""

from icpkit.size.domains import is_free_mail, normalise_name, registrable_domain
from icpkit.size.enrich import Enricher, EnrichReport, EnrichResult, enrich

__all__ = [
    "EnrichReport",
    "EnrichResult",
    "Enricher",
    "enrich",
    "is_free_mail",
    "normalise_name",
    "registrable_domain",
]
