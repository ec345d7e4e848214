"""The ``engine`` fixture: every engine test runs on python (the reference), duckdb, postgres and spark.

PostgreSQL is a real server started by ``scripts/postgres.sh`` (or given by ``ICPKIT_PG_DSN``); tests skip with the
reason only when it truly cannot start. Spark is one local session for the whole test session. Known gaps are
marked with ``@pytest.mark.known_gap(engines=[...], reason=...)``, a strict xfail that fails once the gap is fixed.
"""

from __future__ import annotations

import pytest
from engine_support import EngineRunner, _duckdb, _postgres_runner, _python, _spark

ENGINE_NAMES = ["python", "duckdb", "postgres", "spark"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "known_gap(engines, reason): an engine known to differ (strict xfail)")


@pytest.fixture(params=ENGINE_NAMES)
def engine(request: pytest.FixtureRequest) -> EngineRunner:
    name = request.param
    gap = request.node.get_closest_marker("known_gap")
    if gap and name in gap.kwargs.get("engines", ()):
        request.applymarker(pytest.mark.xfail(reason=gap.kwargs.get("reason", "known gap"), strict=True))
    if name == "python":
        return EngineRunner(name, _python)
    if name == "duckdb":
        return EngineRunner(name, _duckdb)
    if name == "postgres":
        return EngineRunner(name, _postgres_runner(request.getfixturevalue("pg_conn")))
    request.getfixturevalue("spark_session")
    return EngineRunner(name, _spark)
