"""Where the target list goes next: an ad platform's company audience and an ABM platform's account list.

* ``linkedin`` — LinkedIn Matched Audiences company list (Campaign Manager's CSV template). LinkedIn matches on
  company name, website/email domain and company page URL; a list needs at least 300 companies to be used and may
  hold up to 300,000. Download the template in Campaign Manager when in doubt: LinkedIn refuses changed headers.
* ``abm`` — a generic account-list upload (6sense / Demandbase style): domain, name, country, tier, score (and
  segment, from a multi-segment spec).
* ``csv`` — the full target list as ``icpkit size --out`` writes it.
* ``google-ads`` is refused on purpose: Customer Match uploads *people* (emails, phones, addresses), not companies.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import InputError

__all__ = [
    "ABM_COLUMNS",
    "DESTINATIONS",
    "LINKEDIN_COLUMNS",
    "LINKEDIN_MAX",
    "LINKEDIN_MIN",
    "destination_notes",
    "render",
]

LINKEDIN_COLUMNS = (
    "companyname", "companywebsite", "companyemaildomain", "linkedincompanypageurl", "stocksymbol", "industry",
    "city", "state", "companycountry", "zipcode",
)  # fmt: skip
ABM_COLUMNS = ("Domain", "Account Name", "Country", "ICP Tier", "ICP Score")
LINKEDIN_MIN, LINKEDIN_MAX = 300, 300_000
_TIER_LABELS = {"tier1": "Tier 1", "tier2": "Tier 2", "tier3": "Tier 3", "none": "None", "excluded": "Excluded"}
_SYMBOL_COLUMNS = ("stock_symbol", "stocksymbol", "ticker", "symbol")
_ZIP_COLUMNS = ("zipcode", "zip", "postal_code", "postcode", "zip_code")


def _text(table: pa.Table, *names: str) -> pa.Array:
    """The first present column among ``names`` as text (nulls where none is present)."""
    for name in names:
        if name in table.column_names:
            col = table.column(name).combine_chunks()
            if pa.types.is_floating(col.type):  # 10001.0 -> "10001"
                col = pc.cast(pc.round(col), pa.int64())
            return pc.cast(col, pa.string())
    return pa.nulls(table.num_rows, pa.string())


def _linkedin_url(values: pa.Array) -> pa.Array:
    """``linkedin.com/company/ibm`` -> ``https://www.linkedin.com/company/ibm`` (the form the template shows)."""
    v = pc.utf8_trim_whitespace(values)
    v = pc.replace_substring_regex(v, r"^(https?://)?(www\.)?", "")
    ok = pc.fill_null(pc.match_substring_regex(v, r"^linkedin\.com/"), False)
    return pc.if_else(ok, pc.binary_join_element_wise("https://www.", v, ""), pa.nulls(len(v), pa.string()))


def _linkedin(t: pa.Table) -> pa.Table:
    domain = _text(t, "domain")
    return pa.table(
        {
            "companyname": _text(t, "name"),
            "companywebsite": domain,
            "companyemaildomain": domain,
            "linkedincompanypageurl": _linkedin_url(_text(t, "linkedin_url", "linkedin")),
            "stocksymbol": _text(t, *_SYMBOL_COLUMNS),
            "industry": _text(t, "industry"),
            "city": _text(t, "city"),
            "state": _text(t, "region", "state"),
            "companycountry": _text(t, "country"),
            "zipcode": _text(t, *_ZIP_COLUMNS),
        }
    )


def _abm(t: pa.Table) -> pa.Table:
    tiers = _text(t, "tier")
    labels = pa.array(list(_TIER_LABELS.values()), pa.string()).take(
        pc.index_in(tiers, value_set=pa.array(list(_TIER_LABELS), pa.string()))
    )
    score = t.column("score") if "score" in t.column_names else pa.nulls(t.num_rows, pa.int64())
    columns = {
        "Domain": _text(t, "domain"),
        "Account Name": _text(t, "name"),
        "Country": _text(t, "country"),
        "ICP Tier": pc.coalesce(labels, tiers),
        "ICP Score": pc.cast(score, pa.int64()),
    }
    if "segment" in t.column_names:  # a multi-segment spec: the account's best segment, to build one list each
        columns["ICP Segment"] = _text(t, "segment")
    return pa.table(columns)


DESTINATIONS: dict[str, Callable[[pa.Table], pa.Table]] = {
    "linkedin": _linkedin,
    "abm": _abm,
    "csv": lambda t: t,
}


def render(targets: pa.Table, to: str) -> pa.Table:
    """The target list in the columns ``to`` expects (``linkedin``, ``abm`` or ``csv``)."""
    key = to.strip().lower()
    if key in ("google-ads", "google_ads", "google"):
        raise InputError(
            "Google Ads Customer Match uploads people (emails, phone numbers, addresses), not companies; "
            "export the contacts of these accounts from your CRM for it, or use --to linkedin / abm"
        )
    if key not in DESTINATIONS:
        raise InputError(f"unknown destination '{to}'; choose {', '.join([*DESTINATIONS, 'checklist'])}")
    if key != "csv":
        missing = [c for c in ("name", "domain") if c not in targets.column_names]
        if len(missing) == 2:
            raise InputError("the target list has neither a name nor a domain column to match companies by")
    return DESTINATIONS[key](targets)


def destination_notes(to: str, table: pa.Table) -> list[str]:
    """What a user should know before uploading ``table`` to ``to``."""
    notes = []
    n = table.num_rows
    if to == "linkedin":
        if n < LINKEDIN_MIN:
            notes.append(f"{n:,} companies: LinkedIn needs at least {LINKEDIN_MIN} to use a company list")
        if n > LINKEDIN_MAX:
            notes.append(f"{n:,} companies: LinkedIn takes at most {LINKEDIN_MAX:,} per list; split the file")
        urls = n - table.column("linkedincompanypageurl").null_count
        domains = n - table.column("companywebsite").null_count
        notes.append(f"{domains:,} of {n:,} with a website, {urls:,} with a LinkedIn page URL (best match rate)")
    if to == "abm":
        domains = n - table.column("Domain").null_count
        if domains < n:
            notes.append(f"{n - domains:,} accounts have no domain; most ABM platforms match on domain only")
    return notes
