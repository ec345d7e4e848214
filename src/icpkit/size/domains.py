"""Company keys for joining a CRM or a lead to a company universe: registrable domain and normalised name.

One definition, two spellings: DuckDB macros for bulk joins (``register_macros``) and Python functions for one
record at a time (``registrable_domain``, ``normalise_name``). Tests hold the two to the same answers.

* **Host**: lower-cased and trimmed; an email keeps the part after ``@``; scheme, path, query, port, trailing
  dots and a leading ``www.``/``www2.`` go. Anything without a dot is no domain. The host is the company key:
  real universes hold distinct organisations under one registrable domain (``forces.gc.ca``,
  ``tdsb.on.ca``, ``x.blogspot.com``), so hosts are never collapsed blindly.
* **Registrable domain** (``eu.shop.acme.co.uk`` -> ``acme.co.uk``, with a short list of two-level public
  suffixes rather than the whole public-suffix list) is the floor of a lead's match: a lead's host reduces, one
  label at a time, to the longest parent that is a company of the universe, never below its registrable domain
  (``domain_candidates``).
* **Free mail** (gmail.com, yahoo.*, outlook.com …) identifies a person, never a company: it never matches.
* **Name**: accents stripped, ``&`` -> ``and``, punctuation removed, a leading "the" and trailing legal forms
  (Inc., GmbH, N.V., S.A. …) dropped, so ``The Acme Company, Inc.`` and ``ACME`` meet.
"""

from __future__ import annotations

import re
import unicodedata

import duckdb

__all__ = [
    "FREE_MAIL_BRANDS",
    "FREE_MAIL_DOMAINS",
    "LEGAL_FORMS",
    "TWO_LEVEL_SUFFIXES",
    "domain_candidates",
    "is_free_mail",
    "normalise_host",
    "normalise_name",
    "register_macros",
    "registrable_domain",
]

# Second-level public suffixes under country codes that people register below (not the full PSL on purpose).
TWO_LEVEL_SUFFIXES: frozenset[str] = frozenset(
    f"{sld}.{cc}"
    for cc, slds in {
        "ca": ("gc", "on", "qc", "bc", "ab", "mb", "ns", "nb", "nl", "sk", "pe"),
        "us": ("k12", "state", "ci", "co"),
        "uk": ("co", "org", "ac", "gov", "ltd", "plc", "me", "net", "nhs", "sch"),
        "au": ("com", "net", "org", "edu", "gov", "asn", "id"),
        "nz": ("co", "org", "net", "ac", "govt", "school"),
        "br": ("com", "net", "org", "gov", "edu", "art", "ind"),
        "ar": ("com", "org", "net", "gob", "edu"),
        "mx": ("com", "org", "gob", "edu", "net"),
        "jp": ("co", "ne", "or", "ac", "go", "ad"),
        "kr": ("co", "or", "ne", "ac", "go"),
        "cn": ("com", "net", "org", "gov", "edu", "ac"),
        "hk": ("com", "org", "net", "edu", "gov"),
        "tw": ("com", "org", "net", "edu", "gov"),
        "sg": ("com", "org", "net", "edu", "gov"),
        "my": ("com", "org", "net", "edu", "gov"),
        "in": ("co", "net", "org", "firm", "gen", "ind", "ac", "edu", "gov", "res"),
        "za": ("co", "org", "net", "ac", "gov", "web"),
        "il": ("co", "org", "net", "ac", "gov"),
        "tr": ("com", "org", "net", "gen", "edu", "gov"),
        "id": ("co", "or", "ac", "go", "web"),
        "th": ("co", "or", "ac", "go", "in"),
        "ph": ("com", "org", "net", "gov", "edu"),
        "pk": ("com", "org", "net", "edu", "gov"),
        "eg": ("com", "org", "net", "edu", "gov"),
        "sa": ("com", "org", "net", "edu", "gov"),
        "ng": ("com", "org", "net", "edu", "gov"),
        "ke": ("co", "or", "ac", "go"),
        "co": ("com", "org", "net", "edu", "gov"),
        "pe": ("com", "org", "net", "edu", "gob"),
        "cl": ("gob",),
        "ve": ("com", "org", "net", "gob"),
        "uy": ("com", "org", "net", "edu", "gub"),
        "ua": ("com", "org", "net", "gov", "in"),
        "ru": ("com", "org", "net"),
        "pl": ("com", "org", "net", "gov"),
        "fr": ("gouv", "asso", "com"),
        "es": ("com", "org", "gob", "edu", "nom"),
        "it": ("gov",),
        "be": ("ac",),
        "at": ("co", "or", "ac", "gv"),
        "vn": ("com", "net", "org", "edu", "gov"),
    }.items()
    for sld in slds
)

# Free-mail and consumer ISP domains: a lead from one of them says nothing about their company.
FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "rocketmail.com", "outlook.com", "hotmail.com",
        "live.com", "msn.com", "passport.com", "aol.com", "aim.com", "icloud.com", "me.com", "mac.com", "proton.me",
        "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com", "tuta.io", "fastmail.com", "hey.com",
        "zohomail.com", "mail.com", "email.com", "inbox.com", "gmx.com", "gmx.net", "gmx.de", "web.de",
        "t-online.de", "freenet.de", "mail.ru", "bk.ru", "list.ru", "inbox.ru", "yandex.ru", "yandex.com",
        "rambler.ru", "qq.com", "163.com", "126.com", "sina.com", "naver.com", "hanmail.net", "daum.net",
        "rediffmail.com", "libero.it", "virgilio.it", "laposte.net", "orange.fr", "wanadoo.fr", "free.fr",
        "sfr.fr", "bluewin.ch", "btinternet.com", "sky.com", "comcast.net", "verizon.net", "att.net",
        "sbcglobal.net", "cox.net", "earthlink.net", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "bol.com.br",
        "uol.com.br", "terra.com.br", "shaw.ca", "rogers.com", "bigpond.com",
    }
)  # fmt: skip
# Providers whose consumer mail lives under many country domains (yahoo.co.uk, hotmail.fr, gmx.at …).
FREE_MAIL_BRANDS: frozenset[str] = frozenset({"gmail", "yahoo", "ymail", "hotmail", "outlook", "live", "gmx", "aol"})

# Legal forms dropped from the end of a company name (after dots are removed: "N.V." -> "nv").
LEGAL_FORMS: tuple[str, ...] = (
    "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "llp", "lp", "ltd", "limited", "plc",
    "gmbh", "ag", "kg", "se", "sa", "sas", "sarl", "nv", "bv", "srl", "spa", "ab", "asa", "as", "oy", "oyj", "aps",
    "kk", "pty", "pte", "bhd", "sdn", "tbk", "pt", "ltda", "sl",
)  # fmt: skip

_SCHEME = r"^[a-z][a-z0-9+.\-]*://"
_PATH = r"[/?#].*$"
_BEFORE_AT = r"^.*@"
_PORT = r":[0-9]*$"
_TRAILING_DOTS = r"\.+$"
_WWW = r"^www[0-9]*\."
_VALID = r"^[^.\s@:/<>,;\"]+(\.[^.\s@:/<>,;\"]+)+$"
_LAST2 = r"([^.]+\.[^.]+)$"
_LAST3 = r"([^.]+\.[^.]+\.[^.]+)$"
_LEGAL_TAIL = r"(\s+(" + "|".join(LEGAL_FORMS) + r"))+$"
_THE = r"^the\s+"

# Python runs only the anchored patterns whose classes cannot overlap (linear on a backtracking engine); the
# others are spelled as string operations in ``_host``, ``registrable_domain`` and ``normalise_name``.
_re = {"scheme": re.compile(_SCHEME)}
_re_path_start = re.compile(r"[/?#]")
_re_www, _re_valid, _re_the = re.compile(_WWW), re.compile(_VALID), re.compile(_THE)
_LEGAL = frozenset(LEGAL_FORMS)


def normalise_host(value: str | None) -> str | None:
    """``https://www.EU.Acme.com:8080/x`` -> ``eu.acme.com``; ``jane@acme.com`` -> ``acme.com``; None when none."""
    return None if value is None else _host(value)


def domain_candidates(host: str | None) -> list[str]:
    """``a.b.acme.co.uk`` -> [``a.b.acme.co.uk``, ``b.acme.co.uk``, ``acme.co.uk``]: longest first."""
    reg = registrable_domain(host)
    if host is None or reg is None:
        return []
    labels = host.split(".")
    out = [".".join(labels[i:]) for i in range(len(labels))]
    return [c for c in out if len(c) >= len(reg)]


def _host(value: str) -> str | None:
    """The host, by the same rules as the SQL macros, in string operations where the patterns would backtrack.

    ``re`` tries ``[/?#].*$``, ``\\.+$`` and ``([^.]+\\.[^.]+)$`` at every start, which is quadratic on a long
    run that fails at its end; DuckDB's engine is linear, Python's is not, and a visitor chooses the value.
    """
    h = _re["scheme"].sub("", value.strip().lower())
    if not h.isascii() and not _encodable(h):  # a lone surrogate (JSON allows one) is no host, and no UTF-8
        return None
    if "\n" in h:  # '.' stops at a line break, so the SQL keeps it and the host is invalid there too
        return None
    cut = _re_path_start.search(h)
    if cut is not None:
        h = h[: cut.start()]
    h = h.rpartition("@")[2]
    head, colon, port = h.rpartition(":")
    if colon and (not port or (port.isascii() and port.isdigit())):
        h = head
    h = _re_www.sub("", h.rstrip("."))
    return h if _re_valid.match(h) else None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def registrable_domain(value: str | None) -> str | None:
    """``https://www.EU.Acme.co.uk:8080/x``, ``jane@eu.acme.co.uk`` -> ``acme.co.uk``; None when no domain."""
    if value is None:
        return None
    h = _host(value)
    if h is None:
        return None
    labels = h.split(".")  # a valid host has two or more labels, none empty
    last2 = ".".join(labels[-2:])
    if h in TWO_LEVEL_SUFFIXES:
        return None
    if len(labels) > 2 and last2 in TWO_LEVEL_SUFFIXES:
        return ".".join(labels[-3:])
    return last2


def is_free_mail(domain: str | None) -> bool:
    """True for a registrable domain of a free-mail provider (``gmail.com``, ``yahoo.co.uk``, ``gmx.at`` …)."""
    if not domain:
        return False
    return domain in FREE_MAIL_DOMAINS or domain.split(".", 1)[0] in FREE_MAIL_BRANDS


def normalise_name(value: str | None) -> str | None:
    """``The Acme Company, Inc.`` -> ``acme``; None when nothing is left."""
    if value is None:
        return None
    s = unicodedata.normalize("NFKD", value.strip().lower())
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("&", " and ").replace(".", "").replace("'", "").replace("\u2019", "")
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    words = _re_the.sub("", s).split(" ")
    while len(words) > 1 and words[-1] in _LEGAL:  # _LEGAL_TAIL: trailing legal forms, never the first word
        words.pop()
    s = " ".join(words).strip()
    return s or None


def _sql_list(items: frozenset[str]) -> str:
    return "[" + ", ".join("'" + x.replace("'", "''") + "'" for x in sorted(items)) + "]"


def register_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``icp_domain(x)``, ``icp_free_mail(d)`` and ``icp_name(x)`` on ``con`` (same rules as above).

    The constants are this module's own (no user input reaches the macro text).
    """
    host = "lower(trim(CAST(x AS VARCHAR)))"
    for pattern in (_SCHEME, _PATH, _BEFORE_AT, _PORT, _TRAILING_DOTS, _WWW):
        host = f"regexp_replace({host}, '{pattern}', '')"
    con.execute(f"CREATE OR REPLACE TEMP MACRO icp_host(x) AS {host}")
    con.execute(f"CREATE OR REPLACE TEMP MACRO icp_host_ok(h) AS CASE WHEN regexp_matches(h, '{_VALID}') THEN h END")
    last2, last3 = f"regexp_extract(h, '{_LAST2}', 1)", f"regexp_extract(h, '{_LAST3}', 1)"
    con.execute(
        "CREATE OR REPLACE TEMP MACRO icp_registrable(h) AS CASE "
        f"WHEN h IS NULL OR {last2} = '' OR list_contains({_sql_list(TWO_LEVEL_SUFFIXES)}, h) THEN NULL "
        f"WHEN list_contains({_sql_list(TWO_LEVEL_SUFFIXES)}, {last2}) AND {last3} <> '' THEN {last3} "
        f"ELSE {last2} END"
    )
    con.execute("CREATE OR REPLACE TEMP MACRO icp_hostkey(x) AS icp_host_ok(icp_host(x))")
    con.execute("CREATE OR REPLACE TEMP MACRO icp_domain(x) AS icp_registrable(icp_hostkey(x))")
    con.execute(
        "CREATE OR REPLACE TEMP MACRO icp_candidates(h) AS CASE WHEN icp_registrable(h) IS NULL THEN [] ELSE "
        "list_filter(list_transform(range(len(string_split(h, '.'))), "
        "lambda i: array_to_string(string_split(h, '.')[i + 1:], '.')), "
        "lambda c: length(c) >= length(icp_registrable(h))) END"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO icp_free_mail(d) AS coalesce("
        f"list_contains({_sql_list(FREE_MAIL_DOMAINS)}, d) "
        f"OR list_contains({_sql_list(FREE_MAIL_BRANDS)}, split_part(d, '.', 1)), false)"
    )
    name = "strip_accents(lower(trim(CAST(x AS VARCHAR))))"
    name = f"replace({name}, '&', ' and ')"
    name = f"regexp_replace({name}, '[.''\u2019]', '', 'g')"
    name = f"trim(regexp_replace({name}, '[^a-z0-9]+', ' ', 'g'))"
    name = f"trim(regexp_replace(regexp_replace({name}, '{_THE}', ''), '{_LEGAL_TAIL}', ''))"
    con.execute(f"CREATE OR REPLACE TEMP MACRO icp_name(x) AS nullif({name}, '')")
