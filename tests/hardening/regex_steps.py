"""Count the steps a backtracking regex engine takes, to check that a pattern's work grows linearly with its input.

Python's ``re`` and Java's ``java.util.regex`` (Spark's RLIKE) both try alternatives depth first and back up on
failure, so a pattern that can split one run of characters several ways costs quadratic (or worse) time on a long
run that finally fails. Timing that is flaky on a shared machine; counting is not. This module parses a pattern
with Python's own parser and walks it the way such an engine does, counting every attempt to match one node at
one position. The dialect is the common subset the project uses: literals, classes, ``.``, ``^``, ``$``, groups,
alternation and greedy or lazy repeats (no look-around, no back-references).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from re import _constants as C
from re import _parser as P
from typing import Any

__all__ = ["growth", "steps"]

Cont = Callable[[int], bool]


class _Budget(Exception):
    """Raised when a walk exceeds its step budget (the pattern is far from linear)."""


class _Walk:
    def __init__(self, text: str, flags: int, budget: int) -> None:
        self.text = text
        self.n = len(text)
        self.ignore_case = bool(flags & re.IGNORECASE)
        self.dotall = bool(flags & re.DOTALL)
        self.steps = 0
        self.budget = budget

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.budget:
            raise _Budget

    # one character against one item ------------------------------------------------------------------------
    def _category(self, cat: Any, ch: str) -> bool:
        name = str(cat)
        if "DIGIT" in name:
            ok = ch.isdigit()
        elif "SPACE" in name:
            ok = ch.isspace()
        elif "WORD" in name:
            ok = ch.isalnum() or ch == "_"
        else:  # pragma: no cover - not used by the project's patterns
            raise NotImplementedError(name)
        return (not ok) if "NOT_" in name else ok

    def _in(self, items: list[tuple[Any, Any]], ch: str) -> bool:
        negate = False
        hit = False
        chars = {ch, ch.lower(), ch.upper()} if self.ignore_case else {ch}
        for op, av in items:
            if op is C.NEGATE:
                negate = True
            elif op is C.LITERAL:
                hit = hit or chr(av) in chars
            elif op is C.RANGE:
                hit = hit or any(av[0] <= ord(c) <= av[1] for c in chars)
            elif op is C.CATEGORY:
                hit = hit or self._category(av, ch)
            else:  # pragma: no cover
                raise NotImplementedError(op)
        return hit != negate

    def one(self, node: tuple[Any, Any], i: int) -> bool:
        """Whether the single-character node matches at ``i``."""
        if i >= self.n:
            return False
        op, av = node
        ch = self.text[i]
        if op is C.LITERAL:
            return ch == chr(av) or (self.ignore_case and ch.lower() == chr(av).lower())
        if op is C.NOT_LITERAL:
            return ch != chr(av)
        if op is C.ANY:
            return self.dotall or ch != "\n"
        if op is C.IN:
            return self._in(av, ch)
        if op is C.CATEGORY:
            return self._category(av, ch)
        raise NotImplementedError(op)  # pragma: no cover

    # sequences, with a continuation for what follows -----------------------------------------------------------
    def seq(self, nodes: list[tuple[Any, Any]], k: int, i: int, cont: Cont) -> bool:
        if k == len(nodes):
            return cont(i)
        self.tick()
        op, av = nodes[k]
        nxt: Cont = lambda j: self.seq(nodes, k + 1, j, cont)  # noqa: E731
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN, C.CATEGORY):
            return self.one(nodes[k], i) and nxt(i + 1)
        if op is C.AT:
            if av in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
                return i == 0 and nxt(i)
            if av is C.AT_END:  # like Python and Java: the end, or before a final line break
                return (i == self.n or (i == self.n - 1 and self.text[i] == "\n")) and nxt(i)
            if av is C.AT_END_STRING:
                return i == self.n and nxt(i)
            raise NotImplementedError(av)  # pragma: no cover
        if op is C.SUBPATTERN:
            return self.seq(list(av[-1]), 0, i, nxt)
        if op is C.BRANCH:
            return any(self.seq(list(alt), 0, i, nxt) for alt in av[1])
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, body = av
            body = list(body)
            greedy = op is C.MAX_REPEAT
            if len(body) == 1 and body[0][0] in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN, C.CATEGORY):
                return self._simple_repeat(body[0], lo, hi, greedy, i, nxt)
            return self._repeat(body, lo, hi, greedy, 0, i, nxt)
        raise NotImplementedError(op)  # pragma: no cover

    def _simple_repeat(self, item: tuple[Any, Any], lo: int, hi: int, greedy: bool, i: int, nxt: Cont) -> bool:
        count = 0
        limit = hi if hi is not C.MAXREPEAT else self.n
        if greedy:
            while count < limit and self.one(item, i + count):
                self.tick()
                count += 1
            for c in range(count, lo - 1, -1):
                self.tick()
                if nxt(i + c):
                    return True
            return False
        c = 0
        while True:
            if c >= lo:
                self.tick()
                if nxt(i + c):
                    return True
            if c >= limit or not self.one(item, i + c):
                return False
            self.tick()
            c += 1

    def _repeat(
        self, body: list[tuple[Any, Any]], lo: int, hi: int, greedy: bool, done: int, i: int, nxt: Cont
    ) -> bool:
        more = hi is C.MAXREPEAT or done < hi

        def again(j: int) -> bool:
            return j != i and self._repeat(body, lo, hi, greedy, done + 1, j, nxt)

        if greedy:
            if more and self.seq(body, 0, i, again):
                return True
            return done >= lo and nxt(i)
        if done >= lo and nxt(i):
            return True
        return more and self.seq(body, 0, i, again)


def steps(pattern: str, text: str, *, search: bool = True, flags: int = 0, budget: int = 50_000_000) -> int:
    """Steps a backtracking engine takes to match ``pattern`` against ``text`` (``search``: at every start, as
    ``re.search``, ``re.sub`` and Java's ``find`` do; else at the start only, as ``re.match``).

    The walk's answer is checked against Python's own, so the model cannot drift from the engine it stands for.
    """
    walk = _Walk(text, flags, budget)
    tree = list(P.parse(pattern, flags))
    found = False
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 200_000))
    try:
        for start in range(len(text) + 1 if search else 1):
            walk.tick()
            if walk.seq(tree, 0, start, lambda j: True):
                found = True
                break
    except _Budget:
        return walk.steps
    finally:
        sys.setrecursionlimit(old)
    expected = (re.search if search else re.match)(pattern, text, flags) is not None
    assert found == expected, f"the step model disagrees with re on {pattern!r}"
    return walk.steps


def growth(pattern: str, make: Callable[[int], str], *, n: int = 400, search: bool = True, flags: int = 0) -> float:
    """The ratio of steps on an input of length ~2n to length ~n: about 2 when linear, about 4 when quadratic."""
    return steps(pattern, make(2 * n), search=search, flags=flags) / max(
        1, steps(pattern, make(n), search=search, flags=flags)
    )
