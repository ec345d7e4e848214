"""The ICP version store: versions (spec, hash, parent, data fingerprint, build parameters) and run summaries."""

from icpkit.store.core import DEFAULT_STORE, SCHEMA_VERSION, RunRecord, Store, VersionRecord
from icpkit.store.fingerprint import data_fingerprint, table_digest

__all__ = [
    "DEFAULT_STORE",
    "SCHEMA_VERSION",
    "RunRecord",
    "Store",
    "VersionRecord",
    "data_fingerprint",
    "table_digest",
]
