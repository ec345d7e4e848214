"""Every pattern that a backtracking engine runs on user data does work linear in the input's length.

Python's ``re`` (the reference scorer, the Arrow fallback, domain and name normalisation for ``--universe``) and
Java's regex (Spark's RLIKE) back up on failure; a pattern that can split one run of characters two ways takes
quadratic time on a long run followed by a character that fails it, and a visitor's form field chooses that
input. The check counts steps with a model of such an engine (``regex_steps``) on inputs of length n and 2n:
linear work doubles, quadratic work quadruples. Nothing is timed.

Patterns that run only in DuckDB or Arrow (RE2, linear by construction) are checked for their answers on the same
hostile inputs in ``test_attack_regex.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from regex_steps import growth, steps

from icpkit.score import semantics
from icpkit.score.sql import DATE_REGEX, NUMBER_REGEX
from icpkit.size import domains
from icpkit.size.domains import normalise_host, normalise_name, registrable_domain

# Inputs that make a backtracking pattern retry a long run: runs of each character class the patterns use, each
# followed by a character that fails at the end.
HOSTILE: dict[str, Callable[[int], str]] = {
    "digits then x": lambda n: "1" * n + "x",
    "digits, dot, digits then x": lambda n: "1" * n + "." + "1" * n + "x",
    "digits, e, digits then x": lambda n: "1" * n + "e" + "1" * n + "x",
    "dots then x": lambda n: "." * n + "x",
    "letters": lambda n: "a" * n,
    "long label then two": lambda n: "a" * n + ".b.c",
    "labels then a line break": lambda n: "a." * n + "\nx",
    "slashes then a line break": lambda n: "/" * n + "\nx",
    "ports": lambda n: ":1" * n + "x",
    "at signs": lambda n: "@" * n + "\n",
    "legal forms then a word": lambda n: " co" * n + " x",
    "spaces then x": lambda n: " " * n + "x",
    "www": lambda n: "www" + "1" * n + "x",
    "scheme": lambda n: "a" * n + ":/x",
}

# (name, pattern, how it is applied): every pattern the project runs on a backtracking engine.
BACKTRACKED = [
    ("number (Python reference, Arrow fallback)", semantics.NUMBER_PATTERN, "match"),
    ("number (SQL: Spark RLIKE, PostgreSQL ~)", NUMBER_REGEX, "search"),
    ("date (SQL)", DATE_REGEX, "search"),
    ("date (Python reference)", semantics._DATE_RE.pattern, "match"),
    ("persona words", semantics.WORD_SEPARATORS, "search"),
    ("domain scheme", domains._SCHEME, "search"),
    ("domain www", domains._WWW, "search"),
    ("domain valid", domains._VALID, "match"),
    ("company name 'the'", domains._THE, "search"),
    ("path start", domains._re_path_start.pattern, "search"),
]


@pytest.mark.parametrize(("name", "pattern", "how"), BACKTRACKED, ids=[b[0] for b in BACKTRACKED])
@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_pattern_work_grows_linearly(name: str, pattern: str, how: str, shape: str) -> None:
    ratio = growth(pattern, HOSTILE[shape], n=300, search=how == "search")
    assert ratio < 2.5, f"{name}: {ratio:.2f}x the steps for twice the input ({shape})"


@pytest.mark.parametrize(
    ("pattern", "shape"),
    [
        (r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$", "digits then x"),  # the number pattern before
        (domains._TRAILING_DOTS, "dots then x"),
        (domains._LAST2, "long label then two"),
        (domains._LAST3, "letters"),
        (domains._PATH, "slashes then a line break"),
        (domains._LEGAL_TAIL, "legal forms then a word"),
    ],
)
def test_the_model_sees_quadratic_patterns(pattern: str, shape: str) -> None:
    """The check can fail: the old number pattern and the domain patterns Python no longer runs are quadratic."""
    assert growth(pattern, HOSTILE[shape], n=30 if pattern == domains._LEGAL_TAIL else 150) > 3.5


def _compiled(module: object) -> list[re.Pattern[str]]:
    found: list[re.Pattern[str]] = []
    for value in vars(module).values():
        values = value.values() if isinstance(value, dict) else [value]
        found += [v for v in values if isinstance(v, re.Pattern)]
    return found


@pytest.mark.parametrize("module", [semantics, domains], ids=["semantics", "domains"])
def test_every_compiled_pattern_is_checked(module: object) -> None:
    """A pattern compiled for user data in these modules must be one of those checked above."""
    checked = {p for _, p, _ in BACKTRACKED}
    assert [c.pattern for c in _compiled(module) if c.pattern not in checked] == []


def test_the_model_agrees_with_re_on_answers() -> None:
    for pattern in (semantics.NUMBER_PATTERN, NUMBER_REGEX, domains._VALID):
        for text in ("12", "1.", ".5", "-1e5", "1e", "x", "", "acme.com", "a..b", "1.2.3"):
            steps(pattern, text, search=False)  # asserts the model's answer equals re.match's


def test_number_pattern_reads_the_same_numbers() -> None:
    old = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
    new, sql = re.compile(semantics.NUMBER_PATTERN), re.compile(NUMBER_REGEX)
    for text in ("1", "1.", "1.5", ".5", ".", "+.5e-3", "-12e+04", "1e", "e5", "1..2", "1.2.3", "١٢", "1_000", " 1"):
        assert bool(new.match(text)) == bool(old.match(text)) == bool(sql.search(text)), text


# The string operations in domains.py against the regexes they replace (the SQL macros still run those).
def _old_host(value: str) -> str | None:
    h = value.strip().lower()
    for pattern in (domains._SCHEME, domains._PATH, domains._BEFORE_AT, domains._PORT):
        h = re.sub(pattern, "", h)
    h = re.sub(domains._WWW, "", re.sub(domains._TRAILING_DOTS, "", h))
    return h if re.match(domains._VALID, h) else None


def _old_registrable(value: str) -> str | None:
    h = _old_host(value)
    if h is None:
        return None
    last2, last3 = re.search(domains._LAST2, h), re.search(domains._LAST3, h)
    if last2 is None or h in domains.TWO_LEVEL_SUFFIXES:
        return None
    if last3 is not None and last2.group(1) in domains.TWO_LEVEL_SUFFIXES:
        return last3.group(1)
    return last2.group(1)


def _old_name(value: str) -> str | None:
    import unicodedata

    s = unicodedata.normalize("NFKD", value.strip().lower())
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("&", " and ").replace(".", "").replace("'", "").replace("\u2019", "")
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    return re.sub(domains._LEGAL_TAIL, "", re.sub(domains._THE, "", s)).strip() or None


_PIECES = [*"aw1.:/?#@ \n\t-_Ü", "www.", "http://", "co.uk", ":80"]
_HOSTY = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)
_NAMEY = st.lists(st.sampled_from(["the", "acme", "inc", "co", "company", "gmbh", "&", ".", " ", "-", "x"]), max_size=8)


@settings(max_examples=400, deadline=None)
@given(_HOSTY)
def test_host_rules_match_the_patterns(value: str) -> None:
    assert normalise_host(value) == _old_host(value)
    assert registrable_domain(value) == _old_registrable(value)


@settings(max_examples=300, deadline=None)
@given(_NAMEY)
def test_name_rules_match_the_patterns(words: list[str]) -> None:
    value = " ".join(words)
    assert normalise_name(value) == _old_name(value)


@pytest.mark.parametrize(
    ("value", "host", "domain"),
    [
        ("https://www.EU.Acme.co.uk:8080/x?y#z", "eu.acme.co.uk", "acme.co.uk"),
        ("jane@sub.acme.com", "sub.acme.com", "acme.com"),
        ("acme.com.", "acme.com", "acme.com"),
        ("co.uk", "co.uk", None),
        ("acme.com/a\nb", None, None),
        ("a" * 5000 + ".b.c", "a" * 5000 + ".b.c", "b.c"),
        ("." * 5000 + "x", None, None),
    ],
)
def test_host_examples(value: str, host: str | None, domain: str | None) -> None:
    assert normalise_host(value) == host
    assert registrable_domain(value) == domain
