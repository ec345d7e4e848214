"""Validation: backtest an ICP on held-out data, check its narrowness, and say in plain words what holds."""

from icpkit.validate.backtest import FIT_TIERS, availability, validate
from icpkit.validate.model import (
    Comparison,
    Figure,
    HoldoutFigures,
    LeadsCheck,
    SegmentValidation,
    TargetsCheck,
    TierRow,
    ValidationReport,
    Verdict,
)
from icpkit.validate.narrowness import LEADS_BAND, lead_share_check, leads_check, targets_check
from icpkit.validate.split import TimeSplit, held_out_outcomes, stratified_folds, time_cutoff, train_dataset
from icpkit.validate.verdicts import EXPECTATIONS, GATING, verdicts

__all__ = [
    "EXPECTATIONS",
    "FIT_TIERS",
    "GATING",
    "LEADS_BAND",
    "Comparison",
    "Figure",
    "HoldoutFigures",
    "LeadsCheck",
    "SegmentValidation",
    "TargetsCheck",
    "TierRow",
    "TimeSplit",
    "ValidationReport",
    "Verdict",
    "availability",
    "held_out_outcomes",
    "lead_share_check",
    "leads_check",
    "stratified_folds",
    "targets_check",
    "time_cutoff",
    "train_dataset",
    "validate",
    "verdicts",
]
