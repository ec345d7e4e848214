"""Tables written for spreadsheets and upload forms: formula-safe cells, never a half-written file.

A cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return, which some spreadsheets skip
before reading a formula) is run as a formula when a CSV is opened in Excel or Sheets — a company name such as
``=HYPERLINK(...)`` from a scraped universe would become a live link. Such text cells get a leading ``'``, which
spreadsheets show as text. Numbers are left alone. The step is idempotent: ``'=x`` starts with ``'`` and stays.

Writes go to a temporary file in the target's folder, then ``os.replace``: a reader sees the old file or the new
one, never a torn one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from icpkit.errors import OutputError

__all__ = [
    "FORMULA_PREFIXES",
    "atomic_path",
    "check_writable",
    "flatten_lists",
    "neutralise",
    "output_error",
    "write_csv",
    "write_parquet",
    "write_text",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = "^[=+\\-@\t\r]"


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def flatten_lists(table: pa.Table, sep: str = ";") -> pa.Table:
    """List columns as ``sep``-joined text (how icpkit reads multi-valued cells back from CSV)."""
    for i, f in enumerate(table.schema):
        if pa.types.is_list(f.type) or pa.types.is_large_list(f.type):
            col = pc.binary_join(pc.cast(table.column(i), pa.list_(pa.string())), sep)
            table = table.set_column(i, f.name, col)
    return table


def _is_binary(t: pa.DataType) -> bool:
    return pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)


def neutralise(table: pa.Table) -> pa.Table:
    """Every text cell that a spreadsheet would run as a formula, prefixed with ``'``; headers too."""
    arrays = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if _is_binary(col.type):  # Parquet BINARY without the UTF8 annotation: text in all but name
            with contextlib.suppress(pa.ArrowInvalid):
                col = pc.cast(col, pa.string())
        if _is_text(col.type) or _is_binary(col.type):
            risky = pc.fill_null(pc.match_substring_regex(col, _FORMULA_RE), False)
            quote, empty = (b"'", b"") if _is_binary(col.type) else ("'", "")
            col = pc.if_else(risky, pc.binary_join_element_wise(quote, col, empty), col)
        arrays.append(col)
    names = ["'" + n if n.startswith(FORMULA_PREFIXES) else n for n in table.column_names]
    return pa.Table.from_arrays(arrays, names=names)


def _read_umask() -> int:
    mask = os.umask(0o022)  # read once at import: umask can only be read by setting it, which is process-wide
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"cannot write, the disk is full or the file is too large ({exc.strerror})"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write, the folder is read-only or not yours ({exc.strerror})"
    return f"cannot write ({exc.strerror or exc})"


def output_error(exc: OSError, target: str | Path) -> OutputError:
    """An ``OSError`` met while writing ``target`` as the one-line error the CLI shows."""
    return OutputError(_reason(exc), path=target)


def check_writable(path: str | Path) -> None:
    """Fail before the work, not after it: a temporary file can be created (and removed) beside ``path``."""
    target = Path(path)
    if _special(target):
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_temp_beside(target))


def _temp_beside(target: Path) -> str:
    """A new empty file named ``.<name>.<random>.tmp`` in ``target``'s folder (made if missing); an ``OSError``
    becomes the ``OutputError`` naming ``target``."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise output_error(exc, target) from None
    try:
        os.close(fd)
    except BaseException as exc:  # Ctrl-C or a failed close: the file goes with it
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise output_error(exc, target) from None
        raise
    return tmp


def _special(target: Path) -> bool:
    """An existing device, pipe or socket (``/dev/stdout``): written in place, never replaced by a file."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto it when the block succeeds, removed when it fails.

    The temporary name starts with a dot and ends with ``.tmp``, so a process killed outright (SIGKILL) leaves a
    file that is clearly not an output. An ``OSError`` (read-only folder, full disk) becomes an ``OutputError``
    naming ``path``. The file gets the usual permissions (umask), not the private ones of a temporary file. An
    existing device or pipe (``/dev/stdout``) is written in place: renaming a file onto it would replace it.
    """
    target = Path(path)
    if _special(target):
        try:
            yield target
        except OSError as exc:
            raise output_error(exc, target) from None
        return
    tmp = None
    try:  # one block from the temporary file's creation on, so Ctrl-C at any point removes it
        tmp = _temp_beside(target)
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            raise output_error(exc, target) from None
        raise


def _write(path: str | Path, writer: Callable[[Path], None]) -> Path:
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_csv(table: pa.Table, path: str | Path) -> Path:
    """A formula-safe UTF-8 CSV with a header row, lists joined with ``;``, written atomically."""
    safe = neutralise(flatten_lists(table))
    options = pacsv.WriteOptions(quoting_style="needed")
    return _write(path, lambda tmp: pacsv.write_csv(safe, tmp, write_options=options))


def write_parquet(table: pa.Table, path: str | Path) -> Path:
    """Parquet keeps types and lists; no formula risk, but still written atomically."""
    return _write(path, lambda tmp: pq.write_table(table, tmp))


def write_text(text: str, path: str | Path) -> Path:
    """Markdown / JSON / any text, written atomically as UTF-8."""
    return _write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
