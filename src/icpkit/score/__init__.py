"""Scoring: one semantics (``semantics``), and engines proven equal to it.

The per-record Python engine (``python``) serves form fills; the Arrow engine (``vector``) scores tables in memory;
``duckdb_engine`` scores files out of core; ``sql`` compiles the spec for warehouses; ``spark`` runs that SQL on
a cluster (optional extra).
"""

from icpkit.score.duckdb_engine import ScoreSummary, score_file
from icpkit.score.engines import get_engine
from icpkit.score.python import Scorer, compile_scorer, score_records
from icpkit.score.semantics import ScoreResult, criterion_ids, exclusion_ids, score_record
from icpkit.score.sql import compile_sql
from icpkit.score.vector import score_table

__all__ = [
    "ScoreResult",
    "ScoreSummary",
    "Scorer",
    "compile_scorer",
    "compile_sql",
    "criterion_ids",
    "exclusion_ids",
    "get_engine",
    "score_file",
    "score_record",
    "score_records",
    "score_table",
]
