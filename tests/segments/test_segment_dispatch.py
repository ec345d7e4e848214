"""The ordinary entry points score a multi-segment spec against every segment, never as an empty top level."""

from __future__ import annotations

import pyarrow.parquet as pq

from icpkit.score import compile_scorer, score_file, score_table
from icpkit.score.segments import score_segments_table
from icpkit.synth import generate


def test_every_entry_point_names_the_best_segment(tmp_path) -> None:
    history = generate(1500, seed=1, segments=2)
    spec, accounts = history.truth, history.accounts
    reference = score_segments_table(spec, accounts)
    assert set(reference.column("segment").to_pylist()) >= {"midmarket", "enterprise"}

    table = score_table(spec, accounts)
    assert table.column("segment").to_pylist() == reference.column("segment").to_pylist()
    assert table.column("score").to_pylist() == reference.column("score").to_pylist()

    scorer = compile_scorer(spec)
    rows = accounts.slice(0, 200).to_pylist()
    assert [scorer(r).segment for r in rows] == reference.column("segment").to_pylist()[:200]

    pq.write_table(accounts, tmp_path / "accounts.parquet")
    score_file(spec, tmp_path / "accounts.parquet", tmp_path / "out.parquet", progress=False, keep_order=True)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column("tier").to_pylist() == reference.column("tier").to_pylist()
    assert out.column("score_enterprise").to_pylist() == reference.column("score_enterprise").to_pylist()
