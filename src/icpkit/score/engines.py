"""The scoring engines by name: ``get_engine("python" | "duckdb" | "spark")``.

Every engine scores an Arrow table to the same columns (``score``, ``tier``, ``route``, ``layer_<name>``,
``matched``, ``unknown``, ``exclusions_hit``), tested row for row against the Python reference. Engines load lazily:
asking for Spark without pyspark installed says exactly what to install.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from icpkit.errors import EngineError
from icpkit.spec.model import ICPSpec

__all__ = ["ENGINES", "Engine", "get_engine"]


class _ScoreArrow(Protocol):
    def __call__(
        self, spec: ICPSpec, table: pa.Table, *, as_of: dt.date | None = ..., explain: bool = ...
    ) -> pa.Table: ...


@dataclass(frozen=True)
class Engine:
    name: str
    module: str
    function: str
    extra: str | None = None  # the optional dependency group that provides it
    description: str = ""

    def score_table(
        self, spec: ICPSpec, table: pa.Table, *, as_of: dt.date | None = None, explain: bool = True
    ) -> pa.Table:
        return self._load()(spec, table, as_of=as_of, explain=explain)

    def _load(self) -> _ScoreArrow:
        try:
            mod = importlib.import_module(self.module)
        except ImportError as exc:
            hint = f": pip install 'icpkit[{self.extra}]'" if self.extra else ""
            raise EngineError(f"the {self.name} engine is not installed{hint}") from exc
        return getattr(mod, self.function)

    def check(self) -> None:
        """Raise ``EngineError`` with the install command when the engine's extra is missing."""
        if self.extra == "spark":
            try:
                importlib.import_module("pyspark")
            except ImportError as exc:
                raise EngineError(f"the spark engine needs pyspark: pip install 'icpkit[{self.extra}]'") from exc


ENGINES: dict[str, Engine] = {
    "python": Engine("python", "icpkit.score.vector", "score_table", description="reference; records and small files"),
    "duckdb": Engine("duckdb", "icpkit.score.duckdb_engine", "score_arrow", description="files, out of core"),
    "spark": Engine("spark", "icpkit.score.spark", "score_arrow", extra="spark", description="clusters"),
}


def get_engine(name: str) -> Engine:
    """The engine called ``name``; an unknown name or a missing extra is an ``EngineError`` that says what to do."""
    try:
        engine = ENGINES[name.lower()]
    except KeyError:
        raise EngineError(f"unknown engine '{name}': use {', '.join(ENGINES)}") from None
    engine.check()
    return engine
