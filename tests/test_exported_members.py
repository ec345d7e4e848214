"""The public API of ``icpkit`` is exactly what ``__all__`` says, sorted, and every name resolves."""

from __future__ import annotations

import icpkit


def test_public_api_is_sorted_and_resolves() -> None:
    names = [n for n in icpkit.__all__ if n != "__version__"]
    assert names == sorted(names)
    for name in icpkit.__all__:
        assert getattr(icpkit, name) is not None


def test_python_api_mirrors_the_cli(tmp_path) -> None:
    from icpkit.synth import generate

    history = generate(2500, seed=4)
    result = icpkit.ICPBuilder().fit(history.dataset())
    spec = icpkit.load_spec(icpkit.dump_spec(result.spec))
    assert spec.content_hash() == result.spec.content_hash()
    one = spec.score({"industry": "Software", "employees": 120, "business_model": "B2B"})
    assert one.tier in {"tier1", "tier2", "tier3", "none"}
    assert "CASE" in icpkit.compile_sql(spec, dialect="snowflake").upper()
