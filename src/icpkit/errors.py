"""The one error hierarchy of icpkit.

Every error a user can cause is an ``IcpkitError``; the CLI turns it into one readable message and exit code 2
(1 for ``InsufficientSignalError``: a failed check, not bad input),
so a RevOps user never sees a stack trace for a bad file. Errors about input carry where the problem is: the file,
the row as a spreadsheet shows it (header = row 1) and the column.

    IcpkitError
    ├── InputError(ValueError)          .path .row .column, and .problems for several at once
    │   ├── FileNotFoundInputError
    │   ├── UnreadableFileError         unknown format, wrong encoding, truncated, empty
    │   ├── MissingColumnError          lists the columns found and the closest match
    │   ├── DuplicateIdError
    │   ├── BadValueError               unparseable numbers / dates, shows the first offending rows
    │   └── UnmappedStageError          a deal stage that maps to no outcome
    ├── SpecError(ValueError)           .path .line .field: a hand-edited spec that does not validate
    ├── DataError                       the data is readable but cannot support the request
    │   └── InsufficientSignalError     e.g. too few high-value retained accounts to learn from
    ├── EngineError
    │   └── UnsupportedOperatorError    an operator a SQL dialect or engine cannot express
    ├── StoreError                      the ICP version store cannot be read or written
    └── OutputError                     .path: an output cannot be written (read-only folder, full disk)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BadValueError",
    "DataError",
    "DuplicateIdError",
    "EngineError",
    "FileNotFoundInputError",
    "IcpkitError",
    "InputError",
    "InsufficientSignalError",
    "MissingColumnError",
    "OutputError",
    "Problem",
    "SpecError",
    "StoreError",
    "UnmappedStageError",
    "UnreadableFileError",
    "UnsupportedOperatorError",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    message: str
    path: str | None = None
    row: int | None = None
    column: str | None = None
    severity: str = "error"  # "error" stops the run; "warning" is reported and the run goes on

    def location(self) -> str:
        parts = []
        if self.path:
            parts.append(Path(self.path).name if len(self.path) > 60 else self.path)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class IcpkitError(Exception):
    """Base of every error icpkit raises on purpose."""

    exit_code = 2


class InputError(IcpkitError, ValueError):
    """Something is wrong with an input file; names the file, row and column where it can."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.row = row
        self.column = column
        self.problems = list(problems)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        head = str(Problem(self.message, self.path, self.row, self.column))
        others = [p for p in self.problems if str(p) != head]
        if not others:
            return head
        lines = [head] + [f"  - {p}" for p in others[:50]]
        if len(others) > 50:
            lines.append(f"  … and {len(others) - 50} more")
        return "\n".join(lines)


class FileNotFoundInputError(InputError):
    """The named input file does not exist."""


class UnreadableFileError(InputError):
    """The file exists but cannot be read as a table (format, encoding, truncation, empty)."""


class MissingColumnError(InputError):
    """A required column is absent."""


class DuplicateIdError(InputError):
    """An id column that must be unique is not."""


class BadValueError(InputError):
    """Values in a column cannot be parsed as the type the column needs."""


class UnmappedStageError(InputError):
    """A deal stage value maps to no outcome (won / lost / open)."""


class SpecError(IcpkitError, ValueError):
    """An ICP spec does not validate; names the file, the YAML line and the field path."""

    def __init__(
        self, message: str, *, path: str | Path | None = None, line: int | None = None, field: str | None = None
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.path or "spec"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" {self.field}"
        return f"{where}: {self.message}"


class DataError(IcpkitError):
    """The data is readable but cannot support what was asked of it."""


class InsufficientSignalError(DataError):
    """Too little signal to learn an ICP from; the message says what data would help.

    Exit code 1, not 2: the input is fine, the check "is there an ICP signal" failed (as ``build`` on noise).
    """

    exit_code = 1


class EngineError(IcpkitError):
    """A scoring engine failed on a valid spec and valid data."""


class UnsupportedOperatorError(EngineError):
    """An operator that the chosen engine or SQL dialect cannot express faithfully."""


class StoreError(IcpkitError):
    """The ICP version store cannot be opened, read or written."""


class OutputError(IcpkitError):
    """An output file cannot be written (read-only folder, full disk, file too large); names the path.

    Nothing is left half-written: outputs go to a temporary file that is removed when the write fails.
    """

    def __init__(self, message: str, *, path: str | Path) -> None:
        self.message = message
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")
