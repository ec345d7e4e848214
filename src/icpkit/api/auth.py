"""Bearer tokens: from ``ICPKIT_API_TOKENS`` and/or a tokens file that is re-read when it changes.

Rotation without a restart: write the new token into the file beside the old one, move callers over, remove the
old one. The file is looked at (one ``stat``) at most once a second, not on every request, and re-read only when
its modification time, size or inode changed, so an atomic rename is seen within that second.

Every token is compared, always, through ``hmac.compare_digest`` on SHA-256 digests (equal lengths), so neither
which token matched nor how much of it matched shows in the response time. A header that passed is remembered (a
few, until the tokens change), so a caller's next request costs one set lookup instead of a digest per token. That
lookup is by Python's keyed hash of the whole header, so its time says nothing about how much of a guess matches a
token; a wrong header is never remembered and always takes the full comparison.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from icpkit.errors import InputError

__all__ = ["ENV_VAR", "MIN_TOKEN_LENGTH", "Tokens", "is_loopback"]

ENV_VAR = "ICPKIT_API_TOKENS"
MIN_TOKEN_LENGTH = 16
_REMEMBERED = 64  # headers that passed, kept until the tokens change


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: a listener no other machine can reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _parse(lines: Iterable[str], where: str, *, strict: bool) -> list[str]:
    """Tokens from lines or comma-separated parts: blanks and ``#`` comments skipped, short tokens refused."""
    tokens = []
    for raw in lines:
        token = raw.strip()
        if not token or token.startswith("#"):
            continue
        if len(token) < MIN_TOKEN_LENGTH or any(c.isspace() for c in token):
            message = f"{where}: a token must be at least {MIN_TOKEN_LENGTH} characters without spaces"
            if strict:
                raise InputError(message)
            print(f"icpkit serve: ignoring a token in {message}", file=sys.stderr)  # never the token itself
            continue
        tokens.append(token)
    return tokens


class Tokens:
    """The accepted bearer tokens; ``check`` takes an ``Authorization`` header value (bytes, as ASGI gives it)."""

    def __init__(self, *, env: str | None = None, file: str | Path | None = None, recheck: float = 1.0) -> None:
        self.file = Path(file) if file is not None else None
        # how often the file is looked at (seconds): a rotation is seen within that, and the requests between
        # pay no system call (0: on every check)
        self.recheck = recheck
        self._next_look = 0.0
        self._env = _parse(env.split(","), ENV_VAR, strict=True) if env else []
        self._file_tokens: list[str] = []
        self._signature: tuple[int, int, int] | None = None
        self._digests: tuple[bytes, ...] = ()
        self._passed: set[bytes] = set()
        if self.file is not None:
            if not self.file.is_file():
                raise InputError("the tokens file does not exist", path=self.file)
            self._reload(strict=True)
        self._rebuild()

    @classmethod
    def from_environment(cls, file: str | Path | None = None) -> Tokens:
        return cls(env=os.environ.get(ENV_VAR), file=file)

    def __len__(self) -> int:
        self._maybe_reload()
        return len(self._digests)

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.file)  # type: ignore[arg-type]
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _reload(self, *, strict: bool = False) -> None:
        sig = self._stat()
        try:
            text = self.file.read_text(encoding="utf-8")  # type: ignore[union-attr]
        except (OSError, UnicodeDecodeError) as exc:
            if strict:
                raise InputError(f"cannot read the tokens file: {exc}", path=self.file) from None
            text = ""  # unreadable after a rotation: closed until it reads again, never open
        self._file_tokens = _parse(text.splitlines(), str(self.file), strict=strict)
        self._signature = sig

    def _rebuild(self) -> None:
        self._digests = tuple(_digest(t) for t in (*self._env, *self._file_tokens))
        self._passed = set()  # a removed token must not stay remembered

    def _maybe_reload(self) -> None:
        if self.file is None:
            return
        now = time.monotonic()
        if now < self._next_look:
            return
        self._next_look = now + self.recheck
        if self._stat() != self._signature:
            self._reload()
            self._rebuild()

    def check(self, authorization: bytes | None) -> bool:
        """Whether the header carries one of the tokens (``Bearer <token>``)."""
        if self.file is not None:
            self._maybe_reload()
        passed = self._passed
        if authorization in passed:
            return True
        if not authorization or authorization[:7].lower() != b"bearer ":
            return False
        given = hashlib.sha256(authorization[7:].strip()).digest()
        ok = False
        for d in self._digests:  # no early exit
            ok |= hmac.compare_digest(d, given)
        if ok and len(passed) < _REMEMBERED:
            passed.add(authorization)
        return ok
