"""How each SQL dialect spells what the scoring query needs: one small, declarative row per dialect.

Everything that differs between warehouses lives here, so :mod:`icpkit.score.sql` has one compiler and the
differences are readable at a glance (the idea of SQLGlot's per-dialect flag tables).

=========== ============================ =================================== =================================
dialect     multi-valued field (input)   contains_any / all / none           explanation columns
=========== ============================ =================================== =================================
duckdb      ``VARCHAR[]``                OR / AND of ``list_contains`` of     ``VARCHAR[]``, decoded from a
                                         the raw list for the spellings the   integer bitmask (lists of CASEs
                                         data holds (else of the trimmed,     past 62 ids); with ``masks``, the
                                         lower-cased list)                    integer bitmask itself
postgres    ``text[]``                   ``EXISTS (SELECT … FROM UNNEST)``   ``text[]``
spark       ``array<string>``            ``exists(list, e -> …)``             ``array<string>``
databricks  ``array<string>``            ``exists(list, e -> …)``             ``array<string>``
bigquery    ``ARRAY<STRING>`` (a NULL    ``EXISTS (SELECT … FROM UNNEST)``   ``ARRAY<STRING>``
            array reads as empty)
snowflake   ``ARRAY`` of strings         ``ARRAY_SIZE(FILTER(list, e -> …))`` ``ARRAY`` (``ARRAY_CONSTRUCT_
                                                                             COMPACT``)
redshift    ``;``-joined ``VARCHAR``     ``STRPOS`` of ``;item;`` in the      ``;``-joined ``VARCHAR`` (empty
            (no arrays outside SUPER)    normalised ``;…;`` string           string: none)
other       arrays as SQLGlot            ``SIZE(FILTER(list, e -> …)) > 0``  arrays as SQLGlot translates
            translates them              (raises when it cannot translate)   them
=========== ============================ =================================== =================================

Why these renderings (measured with DuckDB on 10M rows, 2 cores): trimming and lower-casing a list once cost ~4.5 s,
nearly all of it ``TRIM`` with a character set, so an item is trimmed only when its first or last code point
(``ORD(item)``, ``ORD(item[-1])``) is at most 32 (~1.5 s for the whole transform); then ``list_contains`` costs ~0.6 s
per spec item, ``list_has_any`` of two items ~3 s, and a ``list_filter`` lambda per criterion ~11 s. Measured again on
2M rows, 3 ``contains_any`` criteria of 2-3 items: an OR of ``list_contains`` adds ~27 ns per row per criterion,
``list_has_any`` ~135 ns. Even guarded, the transform stayed the largest single cost of a bulk run (2M rows: ~0.4 s CPU
of ~1.5 s, nearly all of it ``LOWER``), so when DuckDB scores a table it first reads the column's distinct items (a few
per CRM column; pyarrow's Parquet dictionaries cost ~0.09 s) and tests the raw list for the spellings that normalise to
each spec value (``list_items`` of ``compile_expression``; ~1.3 s for the whole run). A ``;``-joined lower-cased string
searched with ``contains`` or one regular expression per criterion was measured too and is slower than the list. SQLGlot
also renders ``list_has_any`` as ``&&``, which Spark rejects. Explanations built as a list of 22 ``CASE`` items filtered
of NULLs tripled the run; one integer bitmask per explanation column (INTEGER up to 31 ids: ~7% less CPU than BIGINT),
decoded through constant tables of the id lists for each 6 bits, costs a fraction of that, and writing the bitmasks
themselves (``masks=True``, what ``score_file`` writes to Parquet by default) a fraction again: decoding and writing
three lists of ids per row cost about twice the scoring. Spark's ``array_contains`` returns NULL when the list holds a
NULL item and the value is absent, so Spark uses ``exists`` with a predicate that is never NULL.

PostgreSQL pulls simple subqueries up into the query above, copying a stage's expression into every place that reads
its column, so the staged query (each outcome computed once) became one expression per output that repeats every
clause; a multi-segment query, whose segments read the previous ones' scores, repeats them many times over. Each stage
is therefore fenced with ``OFFSET 0``. Measured on PostgreSQL 15 with JIT off, 2 cores: a random 3-segment spec of 24
criteria over 20k rows took over 120 s unfenced, 8.7 s with only the segment levels fenced, 1.6 s with every stage
fenced; one of its segments alone over 200k rows 45.6 s unfenced, 6.5 s fenced. With JIT on (the default), LLVM
compiling the unfenced 3-segment expression ran past 60 s and ~4 GB of memory even for a one-row table.
``bench/pg_stages.py`` compares both on a fixed spec.
"""

from __future__ import annotations

from dataclasses import dataclass

from icpkit.errors import UnsupportedOperatorError

__all__ = ["DIALECTS", "DialectRules", "rules_for"]


@dataclass(frozen=True)
class DialectRules:
    """The choices the compiler makes for one dialect."""

    name: str
    list_any: str  # "list_contains" | "exists_lambda" | "unnest" | "filter_size" | "delimited"
    ids: str  # how the explanation lists are built: "list_filter" | "array_remove" | "array_compact"
    #          | "construct_compact" | "unnest_filter" | "delimited" | "array_filter"
    nan: str = "nullif"  # "nullif": NULLIF(x, 'NaN') (NaN = NaN holds) | "is_nan": IF(IS_NAN(x), NULL, x)
    quote_all: bool = True  # False where unquoted names fold to upper case (Snowflake): quote only when needed
    multi_form: str = "native array"
    explain_form: str = "native array"
    null_list_is_empty: bool = False
    # LOWER with Unicode's full case mapping (Java's): 'İ' and a word-final 'Σ' are read as 'i' and 'σ' first
    full_case_lower: bool = False
    # the planner pulls subqueries up into one expression per output (PostgreSQL): each stage is fenced with OFFSET 0
    fence_subqueries: bool = False
    # a text literal holding a backslash is written E'…' with the backslash doubled, which reads the same under
    # either standard_conforming_strings: a legacy server (off) would take '\' as an escape and end the string
    escape_strings: bool = False

    @property
    def arrays(self) -> bool:
        return self.list_any != "delimited"


DIALECTS: dict[str, DialectRules] = {
    "duckdb": DialectRules("duckdb", "list_contains", "mask_lookup", multi_form="VARCHAR[]", explain_form="VARCHAR[]"),
    "postgres": DialectRules(
        "postgres",
        "unnest",
        "array_remove",
        multi_form="text[]",
        explain_form="text[]",
        fence_subqueries=True,
        escape_strings=True,
    ),
    "spark": DialectRules(
        "spark",
        "exists_lambda",
        "array_compact",
        multi_form="array<string>",
        explain_form="array<string>",
        full_case_lower=True,
    ),
    "databricks": DialectRules(
        "databricks",
        "exists_lambda",
        "array_compact",
        multi_form="array<string>",
        explain_form="array<string>",
        full_case_lower=True,
    ),
    "bigquery": DialectRules(
        "bigquery",
        "unnest",
        "unnest_filter",
        nan="is_nan",
        multi_form="ARRAY<STRING>",
        explain_form="ARRAY<STRING>",
        null_list_is_empty=True,
    ),
    "snowflake": DialectRules(
        "snowflake",
        "filter_size",
        "construct_compact",
        quote_all=False,
        multi_form="ARRAY",
        explain_form="ARRAY",
    ),
    "redshift": DialectRules(
        "redshift",
        "delimited",
        "delimited",
        multi_form="';'-joined VARCHAR",
        explain_form="';'-joined VARCHAR ('' = none)",
    ),
}


def rules_for(dialect: str) -> DialectRules:
    """The rules of a known dialect, or generic array rules for any other SQLGlot dialect."""
    key = dialect.lower()
    if key in DIALECTS:
        return DIALECTS[key]
    from sqlglot.dialects.dialect import Dialect

    try:
        Dialect.get_or_raise(key)
    except ValueError as exc:
        raise UnsupportedOperatorError(f"unknown SQL dialect '{dialect}'") from exc
    return DialectRules(key, "filter_size", "array_filter")
