"""Scoring: one semantics (``semantics``), a per-record Python engine and a vectorised Arrow engine."""

from icpkit.score.python import Scorer, compile_scorer, score_records
from icpkit.score.semantics import ScoreResult, criterion_ids, exclusion_ids, score_record
from icpkit.score.vector import score_table

__all__ = [
    "ScoreResult",
    "Scorer",
    "compile_scorer",
    "criterion_ids",
    "exclusion_ids",
    "score_record",
    "score_records",
    "score_table",
]
