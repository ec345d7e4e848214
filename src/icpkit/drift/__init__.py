"""Drift: is the ICP in force still right? Criterion decay, win-rate divergence, churn shift, funnel conversion
and score distribution shift on the newest period, with one verdict. Pure: tables in, a report out."""

from icpkit.drift.churn import ChurnGroup, ChurnShift, churn_shift
from icpkit.drift.decay import CriterionDecay, LiftMeasure, criterion_decay
from icpkit.drift.divergence import Divergence, Segment, win_rate_divergence
from icpkit.drift.funnel import DEFAULT_BENCHMARKS, FunnelCheck, FunnelStep, QuarterRate, funnel_conversion
from icpkit.drift.period import PeriodData, prepare_period, rescore_period, with_behavior
from icpkit.drift.psi import ScoreShift, SegmentMix, SegmentShare, first_seen, score_shift, segment_mix
from icpkit.drift.stats import log_ratio_change, psi, reference_bins
from icpkit.drift.verdict import DriftReport, DriftThresholds, Finding, SegmentDrift, check_drift

__all__ = [
    "DEFAULT_BENCHMARKS",
    "ChurnGroup",
    "ChurnShift",
    "CriterionDecay",
    "Divergence",
    "DriftReport",
    "DriftThresholds",
    "Finding",
    "FunnelCheck",
    "FunnelStep",
    "LiftMeasure",
    "PeriodData",
    "QuarterRate",
    "ScoreShift",
    "Segment",
    "SegmentDrift",
    "SegmentMix",
    "SegmentShare",
    "check_drift",
    "churn_shift",
    "criterion_decay",
    "first_seen",
    "funnel_conversion",
    "log_ratio_change",
    "prepare_period",
    "psi",
    "reference_bins",
    "rescore_period",
    "score_shift",
    "segment_mix",
    "win_rate_divergence",
    "with_behavior",
]
