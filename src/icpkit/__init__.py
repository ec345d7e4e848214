"""icpkit: turn a B2B company's CRM history into an evidence-based Ideal Customer Profile, and apply it.

The Python API mirrors the CLI::

    from icpkit import ICPBuilder, load_dataset, compile_sql

    data = load_dataset("companies.csv", "deals.csv")           # HubSpot, Salesforce, Pipedrive or plain files
    result = ICPBuilder().fit(data.dataset)                     # cohorts, evidence, criteria, points, tiers
    result.spec.score({"industry": "Software", "employees": 120})
    print(compile_sql(result.spec, dialect="snowflake"))
"""

from icpkit.discover import BuildResult, ICPBuilder
from icpkit.errors import IcpkitError
from icpkit.ingest import load_dataset, load_table
from icpkit.score import compile_scorer, compile_sql, score_file, score_table
from icpkit.spec import ICPSpec, dump_spec, load_spec
from icpkit.store import Store

__all__ = [
    "BuildResult",
    "ICPBuilder",
    "ICPSpec",
    "IcpkitError",
    "Store",
    "__version__",
    "compile_scorer",
    "compile_sql",
    "dump_spec",
    "load_dataset",
    "load_spec",
    "load_table",
    "score_file",
    "score_table",
]
__version__ = "0.1.0"
