"""Sizing: a company universe -> TAM -> SAM -> ICP tiers -> a target-account list, enrichment by domain, and the
list rendered for ad, ABM and prospecting tools."""

from icpkit.size.checklist import Checklist, ChecklistItem, ProviderChecklist, build_checklist, round_bands
from icpkit.size.destinations import ABM_COLUMNS, LINKEDIN_COLUMNS, destination_notes, render
from icpkit.size.domains import is_free_mail, normalise_host, normalise_name, registrable_domain
from icpkit.size.enrich import Enricher, EnrichReport, EnrichResult, enrich
from icpkit.size.funnel import HEALTHY_BAND, FunnelStep, Health, Sizing, SizingReport, size_universe
from icpkit.size.sam import evaluate_sam, load_sam_file, parse_sam

__all__ = [
    "ABM_COLUMNS",
    "HEALTHY_BAND",
    "LINKEDIN_COLUMNS",
    "Checklist",
    "ChecklistItem",
    "EnrichReport",
    "EnrichResult",
    "Enricher",
    "FunnelStep",
    "Health",
    "ProviderChecklist",
    "Sizing",
    "SizingReport",
    "build_checklist",
    "destination_notes",
    "enrich",
    "evaluate_sam",
    "is_free_mail",
    "load_sam_file",
    "normalise_host",
    "normalise_name",
    "parse_sam",
    "registrable_domain",
    "render",
    "round_bands",
    "size_universe",
]
