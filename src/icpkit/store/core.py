"""``Store``: ICP versions and run summaries in one DuckDB file, written atomically, safe between processes.

Each write is one DuckDB transaction on a short-lived connection, taken under the writer lock of
:mod:`icpkit.store.lock`: a crash or Ctrl-C mid-write rolls the transaction back (DuckDB replays only committed
work from its write-ahead log), so the previous state stays readable, and two processes writing at once queue
instead of corrupting the file or colliding on version numbers.

A version is identified by its content hash (what can change a score; see :func:`icpkit.spec.content_hash`) and
numbered 1, 2, 3… in the order it was stored. Saving a spec whose hash is already stored returns the stored version
instead of a duplicate, so ``promote HASH`` always names exactly one version. The stored YAML carries the assigned
``version`` and ``parent``, which the hash ignores.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict

from icpkit.errors import IcpkitError, StoreError
from icpkit.spec.io import content_hash, dump_spec, load_spec
from icpkit.spec.model import ICPSpec
from icpkit.store.lock import POLL_SECONDS, store_lock

__all__ = ["DEFAULT_STORE", "SCHEMA_VERSION", "RunRecord", "Store", "VersionRecord"]

DEFAULT_STORE = Path(".icpkit") / "store.duckdb"
SCHEMA_VERSION = 1
_HEADERS = 3 * 4096  # DuckDB's file header and two database headers: a complete store file is never shorter
_MAGIC = b"DUCK"  # at offset 8 of a DuckDB file
_SHORT = 10  # characters of a hash shown to people

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE IF NOT EXISTS versions (
        version INTEGER PRIMARY KEY,
        hash VARCHAR NOT NULL UNIQUE,
        parent VARCHAR,
        name VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        spec_text VARCHAR NOT NULL,
        data_fingerprint VARCHAR,
        params VARCHAR NOT NULL,
        criteria INTEGER NOT NULL,
        exclusions INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS promotions (
        seq INTEGER PRIMARY KEY,
        version INTEGER NOT NULL,
        promoted_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY,
        kind VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        spec_hash VARCHAR,
        summary VARCHAR NOT NULL
    )""",
]
_VERSION_COLS = "version, hash, parent, name, kind, created_at, data_fingerprint, params, criteria, exclusions"


class VersionRecord(BaseModel):
    """One stored ICP version, without its spec text (``Store.get`` returns the spec)."""

    model_config = ConfigDict(frozen=True)

    version: int
    hash: str
    parent: str | None
    name: str
    kind: str
    created_at: dt.datetime
    data_fingerprint: str | None
    params: dict[str, Any]
    criteria: int
    exclusions: int
    promoted: bool = False

    @property
    def short_hash(self) -> str:
        return self.hash[:_SHORT]


class RunRecord(BaseModel):
    """The summary of one build, validate or drift run."""

    model_config = ConfigDict(frozen=True)

    id: int
    kind: str
    created_at: dt.datetime
    spec_hash: str | None
    summary: dict[str, Any]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


def _json(obj: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(obj or {}), sort_keys=True, default=str, ensure_ascii=False)


class Store:
    """The ICP version store at ``path`` (created on first write). Cheap to construct: nothing is opened here."""

    def __init__(self, path: str | Path = DEFAULT_STORE, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # ---------------------------------------------------------------------------------------- connections

    def exists(self) -> bool:
        """True once a write has started the file (what a creation cut short leaves is no store: see _abandoned)."""
        try:
            return self.path.is_file() and not self._abandoned()
        except OSError:
            return False

    def _abandoned(self) -> bool:
        """A file DuckDB began but never finished creating: killed, or the disk full, before its three headers
        (12 KiB) were written. Such a file is zero bytes, zeros, or DuckDB's magic in a short file; it holds no
        version. Any other short file is left alone (it is not ours to delete) and fails to open by name."""
        size = self.path.stat().st_size
        if size >= _HEADERS:
            return False
        with self.path.open("rb") as f:
            head = f.read(_HEADERS)
        return not head.strip(b"\0") or head[8:12] == _MAGIC

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                # another program (not icpkit, so outside our lock) holds DuckDB's own file lock: wait for it
                if "lock" in str(exc).lower() and time.monotonic() < deadline:
                    time.sleep(POLL_SECONDS * 5)
                    continue
                raise StoreError(f"cannot open the store {self.path}: {str(exc).splitlines()[0]}") from None
            except duckdb.Error as exc:
                raise StoreError(f"cannot open the store {self.path}: {str(exc).splitlines()[0]}") from None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A read-only connection, or None when there is no store yet (an empty store, not an error)."""
        if not self.exists():
            yield None
            return
        with store_lock(self.path, exclusive=False, timeout=self.timeout):
            con = self._connect(read_only=True)
            try:
                if not self._check_schema(con):
                    yield None  # created, then killed before its first commit: still empty
                    return
                with _mapped("read"):
                    yield con
            finally:
                con.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: committed when the block ends, rolled back if it raises."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the store {self.path}: {exc.strerror}") from None
        with store_lock(self.path, exclusive=True, timeout=self.timeout):
            if self.path.is_file() and self._abandoned():
                self.path.unlink()  # a creation cut short before DuckDB wrote its headers: start again
                wal = self.path.with_name(self.path.name + ".wal")
                if wal.is_file():
                    wal.unlink()
            con = self._connect(read_only=False)
            try:
                with _mapped("write"):
                    con.execute("BEGIN TRANSACTION")
                    try:
                        for stmt in _SCHEMA:
                            con.execute(stmt)
                        con.execute(
                            "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                            [str(SCHEMA_VERSION)],
                        )
                        self._check_schema(con)
                        yield con
                    except BaseException:
                        con.execute("ROLLBACK")
                        raise
                    con.execute("COMMIT")
            finally:
                con.close()

    def _check_schema(self, con: duckdb.DuckDBPyConnection) -> bool:
        """True for a store this icpkit reads; False for a DuckDB file with no tables yet (an empty store)."""
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.CatalogException:
            if con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0] == 0:
                return False
            raise StoreError(f"{self.path} is a DuckDB file but not an icpkit store") from None
        if row is not None and not str(row[0]).isdigit():
            raise StoreError(f"the store {self.path} has schema version {str(row[0])[:40]!r}, which is not a number")
        if row is None or int(row[0]) > SCHEMA_VERSION:
            found = "no schema version" if row is None else f"schema version {row[0]}"
            raise StoreError(
                f"the store {self.path} has {found}; this icpkit reads version {SCHEMA_VERSION} (upgrade icpkit)"
            )
        return True

    # ---------------------------------------------------------------------------------------------- versions

    def save_version(
        self,
        spec: ICPSpec,
        *,
        data_fingerprint: str | None = None,
        params: Mapping[str, Any] | None = None,
        kind: str = "build",
        parent: str | None = None,
    ) -> VersionRecord:
        """Store ``spec`` as the next version (or return the stored version with the same content hash).

        ``parent`` defaults to the spec's own ``parent``; a recalibration passes the hash of the version in force.
        """
        h = content_hash(spec)
        parent = parent if parent is not None else spec.parent
        with self._writing() as con:
            found = con.execute(f"SELECT {_VERSION_COLS} FROM versions WHERE hash = ?", [h]).fetchone()
            if found is not None:
                return self._record(con, found)
            if parent is not None and len(parent) < 64:  # a short hash: store the full one
                parent = self._resolve(con, parent).hash
            number = int(con.execute("SELECT coalesce(max(version), 0) + 1 FROM versions").fetchone()[0])
            stored = spec.model_copy(update={"version": number, "parent": parent})
            text = dump_spec(stored)
            con.execute(
                "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    number,
                    h,
                    parent,
                    spec.name,
                    kind,
                    _now(),
                    text,
                    data_fingerprint,
                    _json(params),
                    len(spec.criteria()),
                    len(spec.exclusions),
                ],
            )
            row = con.execute(f"SELECT {_VERSION_COLS} FROM versions WHERE version = ?", [number]).fetchone()
            return self._record(con, row)

    def versions(self) -> list[VersionRecord]:
        """Every stored version, oldest first."""
        with self._reading() as con:
            if con is None:
                return []
            rows = con.execute(f"SELECT {_VERSION_COLS} FROM versions ORDER BY version").fetchall()
            promoted = self._promoted_version(con)
            return [self._record(con, r, promoted) for r in rows]

    def get(self, ref: str | int) -> tuple[VersionRecord, ICPSpec]:
        """The version named by ``ref`` (see ``resolve``) and its spec."""
        with self._reading() as con:
            if con is None:
                raise StoreError(f"no store at {self.path} (nothing has been saved yet)")
            rec = self._resolve(con, ref)
            text = con.execute("SELECT spec_text FROM versions WHERE version = ?", [rec.version]).fetchone()[0]
        return rec, self._parse(text, rec)

    def resolve(self, ref: str | int) -> VersionRecord:
        """A version by number (``3``, ``v3``), hash or unique hash prefix (7+ characters), ``latest`` or
        ``promoted``."""
        with self._reading() as con:
            if con is None:
                raise StoreError(f"no store at {self.path} (nothing has been saved yet)")
            return self._resolve(con, ref)

    def promote(self, ref: str | int) -> VersionRecord:
        """Mark the version named by ``ref`` as the one in force (what the HTTP service serves)."""
        with self._writing() as con:
            rec = self._resolve(con, ref)
            seq = int(con.execute("SELECT coalesce(max(seq), 0) + 1 FROM promotions").fetchone()[0])
            con.execute("INSERT INTO promotions VALUES (?, ?, ?)", [seq, rec.version, _now()])
            return rec.model_copy(update={"promoted": True})

    def promoted(self) -> tuple[VersionRecord, ICPSpec] | None:
        """The version in force and its spec, or None when no version was ever promoted."""
        with self._reading() as con:
            if con is None:
                return None
            number = self._promoted_version(con)
            if number is None:
                return None
            row = con.execute(f"SELECT {_VERSION_COLS}, spec_text FROM versions WHERE version = ?", [number]).fetchone()
            rec = self._record(con, row[:-1], number)
        return rec, self._parse(row[-1], rec)

    def promoted_hash(self) -> str | None:
        """Content hash of the version in force: one indexed read, cheap enough to poll."""
        with self._reading() as con:
            if con is None:
                return None
            row = con.execute(
                "SELECT v.hash FROM promotions p JOIN versions v USING (version) ORDER BY p.seq DESC LIMIT 1"
            ).fetchone()
            return None if row is None else str(row[0])

    # -------------------------------------------------------------------------------------------------- runs

    def record_run(self, kind: str, *, spec_hash: str | None, summary: Mapping[str, Any]) -> RunRecord:
        """Keep the summary of a build, validate or drift run (JSON-serialisable values)."""
        with self._writing() as con:
            rid = int(con.execute("SELECT coalesce(max(id), 0) + 1 FROM runs").fetchone()[0])
            con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?)", [rid, kind, _now(), spec_hash, _json(summary)])
            row = con.execute("SELECT id, kind, created_at, spec_hash, summary FROM runs WHERE id = ?", [rid])
            return _run(row.fetchone())

    def runs(self, kind: str | None = None, *, limit: int | None = None) -> list[RunRecord]:
        """Run summaries, newest first, optionally of one kind."""
        with self._reading() as con:
            if con is None:
                return []
            sql = "SELECT id, kind, created_at, spec_hash, summary FROM runs"
            args: list[Any] = []
            if kind is not None:
                sql += " WHERE kind = ?"
                args.append(kind)
            sql += " ORDER BY id DESC"
            if limit is not None:
                sql += " LIMIT ?"
                args.append(int(limit))
            return [_run(r) for r in con.execute(sql, args).fetchall()]

    # --------------------------------------------------------------------------------------------- internals

    @staticmethod
    def _promoted_version(con: duckdb.DuckDBPyConnection) -> int | None:
        row = con.execute("SELECT version FROM promotions ORDER BY seq DESC LIMIT 1").fetchone()
        return None if row is None else int(row[0])

    def _record(self, con: duckdb.DuckDBPyConnection, row: tuple, promoted: int | None = -1) -> VersionRecord:
        if promoted == -1:
            promoted = self._promoted_version(con)
        v, h, parent, name, kind, created, fp, params, n_crit, n_excl = row
        return VersionRecord(
            version=v,
            hash=h,
            parent=parent,
            name=name,
            kind=kind,
            created_at=_utc(created),
            data_fingerprint=fp,
            params=json.loads(params),
            criteria=n_crit,
            exclusions=n_excl,
            promoted=v == promoted,
        )

    def _resolve(self, con: duckdb.DuckDBPyConnection, ref: str | int) -> VersionRecord:
        key = str(ref).strip().lower()
        where, args = "", []
        if key in ("latest", "head"):
            where = "version = (SELECT max(version) FROM versions)"
        elif key in ("promoted", "current"):
            where = "version = (SELECT version FROM promotions ORDER BY seq DESC LIMIT 1)"
        elif re.fullmatch(r"v?\d{1,6}", key):
            where, args = "version = ?", [int(key.lstrip("v"))]
        elif re.fullmatch(r"[0-9a-f]{7,64}", key):
            where, args = "starts_with(hash, ?)", [key]
        else:
            raise StoreError(
                f"'{ref}' names no version: use a version number (3), a hash or its first 7+ characters, "
                "'latest' or 'promoted'"
            )
        rows = con.execute(f"SELECT {_VERSION_COLS} FROM versions WHERE {where}", args).fetchall()
        if not rows:
            raise StoreError(f"no version '{ref}' in the store {self.path}")
        if len(rows) > 1:
            shown = ", ".join(f"v{r[0]} {r[1][:_SHORT]}" for r in rows[:5])
            raise StoreError(f"'{ref}' matches several versions ({shown}); give more characters of the hash")
        return self._record(con, rows[0])

    def _parse(self, text: str, rec: VersionRecord) -> ICPSpec:
        try:
            return load_spec(text, path=f"{self.path}#v{rec.version}")
        except IcpkitError as exc:
            raise StoreError(f"version {rec.version} in the store {self.path} does not read back: {exc}") from None


def _run(row: tuple) -> RunRecord:
    rid, kind, created, spec_hash, summary = row
    return RunRecord(id=rid, kind=kind, created_at=_utc(created), spec_hash=spec_hash, summary=json.loads(summary))


@contextlib.contextmanager
def _mapped(what: str) -> Iterator[None]:
    """DuckDB errors inside the store become one ``StoreError`` naming what failed."""
    try:
        yield
    except duckdb.Error as exc:
        raise StoreError(f"store {what} failed: {str(exc).splitlines()[0]}") from exc
