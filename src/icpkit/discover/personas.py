"""Propose buyer personas from the contacts on won and lost deals, with the evidence rules of discovery.

The unit is a closed deal (or, when contacts carry only an account id, an account: won when it has a won deal).
A candidate is a title word or two-word phrase without a stop word (``vp``, ``vice president``), or a whole
seniority or department value, read as persona matching reads them (:func:`icpkit.score.semantics.persona_words`).
A unit has a candidate when one of its contacts does. Each candidate is tested on two thirds of the units (the
learning part, a fixed shuffle): support (won units with it) of at least ``min_support``, a 2x2 test of won x
has-candidate with Benjamini-Hochberg over every candidate tested, lift above 1, and the lift must hold on the
held-out third too. Titles that make a deal significantly *less* likely to be won in both parts, by a lift of at
most ``1 / min_lift`` (``assistant``, ``student``), become ``exclude_titles``.

Surviving title patterns are grouped by seniority words (executive, vp, director, manager, other) into one persona
each; surviving seniority and department values become personas of their own. Each persona is then matched exactly
as scoring matches it and kept only when its own support, q, held-out lift and a lift of at least ``min_lift``
(1.5: a persona worth routing on) pass; its evidence is what was measured on every unit. Order (the priority
when several match) is by lift. Pure: tables in, personas out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.discover.stats import benjamini_hochberg, lift_interval, two_by_two_pvalue
from icpkit.errors import InputError
from icpkit.score.persona import apply_personas_table
from icpkit.score.semantics import WORD_SEPARATORS
from icpkit.spec.model import Evidence, ICPSpec, Persona

__all__ = ["PersonaProposal", "propose_personas"]

STOP_WORDS = frozenset({"of", "and", "the", "to", "for", "in", "at", "a", "an", "de", "la"})
# Seniority words that group title patterns into one persona each, most senior first.
# Seniority words that group title patterns into one persona each; checked in this order ("vice president" is vp).
_EXECUTIVE = "chief ceo cto cfo coo cro cmo cio ciso cpo president founder cofounder owner partner c"
SENIORITY_GROUPS: tuple[tuple[str, frozenset[str]], ...] = (
    ("vp", frozenset({"vp", "svp", "evp", "avp", "vice"})),
    ("executive", frozenset(_EXECUTIVE.split(" "))),
    ("director", frozenset({"director", "head"})),
    ("manager", frozenset({"manager", "lead", "supervisor"})),
)
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class PersonaProposal:
    """Personas found (in priority order), every candidate tested with its figures, and plain notes."""

    personas: list[Persona]
    candidates: pa.Table
    notes: list[str] = field(default_factory=list)


def _words(arr: pa.Array) -> pa.Array:
    """Normalised words (no padding), null when missing: the reading of persona matching."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return pa.nulls(len(arr), pa.string())
    w = pc.ascii_lower(pc.utf8_trim(pc.replace_substring_regex(arr.cast(pa.string()), WORD_SEPARATORS, " "), " "))
    return pc.if_else(pc.greater(pc.utf8_length(w), 0), w, pa.nulls(len(w), pa.string()))


def _units(contacts: pa.Table, deals: pa.Table) -> tuple[np.ndarray, np.ndarray, str]:
    """(unit index of each contact or -1, won flag per unit, unit name) from the contacts' deal or account id."""
    closed = deals.filter(pc.is_in(deals.column("outcome"), value_set=pa.array(["won", "lost"])))
    if "deal_id" in contacts.column_names and "deal_id" in closed.column_names:
        keys, unit = closed.column("deal_id").cast(pa.string()), "deal"
        won = np.asarray(pc.equal(closed.column("outcome"), "won").to_numpy(zero_copy_only=False), bool)
        link = contacts.column("deal_id").cast(pa.string())
    elif "account_id" in contacts.column_names and "account_id" in closed.column_names:
        unit = "account"
        ids = closed.column("account_id").cast(pa.string())
        won_rows = np.asarray(pc.equal(closed.column("outcome"), "won").to_numpy(zero_copy_only=False), bool)
        keys = pc.unique(ids)
        idx = np.asarray(pc.index_in(ids, value_set=keys).to_numpy(zero_copy_only=False), np.int64)
        won = np.bincount(idx[won_rows], minlength=len(keys)) > 0
        link = contacts.column("account_id").cast(pa.string())
    else:
        raise InputError("contacts need a deal_id (or account_id) column linking them to the deals export")
    pos = pc.index_in(link, value_set=keys).fill_null(-1)
    return np.asarray(pos.to_numpy(zero_copy_only=False), np.int64), won, unit


def _title_grams(words: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(contact index, gram) pairs for every title word and two-word phrase without a stop word."""
    tokens = pc.split_pattern(words, " ")
    flat = pc.list_flatten(tokens)
    parents = np.asarray(pc.list_parent_indices(tokens).to_numpy(zero_copy_only=False), np.int64)
    plain = ~np.asarray(pc.is_in(flat, value_set=pa.array(sorted(STOP_WORDS))).to_numpy(zero_copy_only=False), bool)
    if len(flat) < 2:
        return parents[plain], pc.filter(flat, pa.array(plain))
    pair = (parents[1:] == parents[:-1]) & plain[1:] & plain[:-1]
    phrases = pc.binary_join_element_wise(flat.slice(0, len(flat) - 1), flat.slice(1), " ")
    rows = np.concatenate([parents[plain], parents[1:][pair]])
    grams = pa.concat_arrays([pc.filter(flat, pa.array(plain)), pc.filter(phrases, pa.array(pair))])
    return rows, grams


def _counts(
    unit_of: np.ndarray, rows: np.ndarray, grams: pa.Array, won: np.ndarray, part: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Per gram: its name, (won units, units) in the learning and the held-out part; and the (gram, unit) pairs."""
    units = unit_of[rows]
    keep = units >= 0
    encoded = pc.filter(grams, pa.array(keep)).dictionary_encode()
    names = encoded.dictionary.to_pylist()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), np.int64)
    units = units[keep]
    k, n_units = len(names), len(won)
    pairs = np.unique(codes * n_units + units)  # a unit counts once per gram
    g, u = pairs // max(n_units, 1), pairs % max(n_units, 1)
    learn = part[u]
    a_l = np.bincount(g[learn & won[u]], minlength=k)
    n_l = np.bincount(g[learn], minlength=k)
    a_h = np.bincount(g[~learn & won[u]], minlength=k)
    n_h = np.bincount(g[~learn], minlength=k)
    return names, np.stack([a_l, n_l]), np.stack([a_h, n_h]), np.stack([g, u])


def _slug(prefix: str, value: str) -> str:
    return f"{prefix}_{_SLUG.sub('_', value).strip('_')}"[:40].rstrip("_")


def _group(pattern: str) -> str:
    words = pattern.split()
    for name, vocab in SENIORITY_GROUPS:
        if any(w in vocab for w in words):
            return name
    return "other"


def propose_personas(
    contacts: pa.Table,
    deals: pa.Table,
    *,
    min_support: int = 5,
    fdr: float = 0.05,
    min_lift: float = 1.5,
    min_units: int = 30,
    max_personas: int = 6,
    seed: int = 0,
) -> PersonaProposal:
    """Personas from contacts (deal_id or account_id, title, maybe seniority and department) and closed deals."""
    if "outcome" not in deals.column_names:
        raise InputError("proposing personas needs deals with an outcome (won / lost)")
    unit_of, won, unit = _units(contacts, deals)
    fields = {
        name: _words(contacts.column(name).combine_chunks())
        for name in ("title", "seniority", "department")
        if name in contacts.column_names
    }
    if "title" not in fields:
        raise InputError("contacts need a title column (job title) to propose personas")
    with_contact = np.zeros(len(won), bool)
    linked = unit_of[unit_of >= 0]
    with_contact[linked] = True
    notes: list[str] = []
    n_units = int(with_contact.sum())
    empty = PersonaProposal([], pa.table({"candidate": pa.array([], pa.string())}), notes)
    if n_units < min_units or won[with_contact].sum() < min_support:
        notes.append(
            f"personas: {n_units} closed {unit}s have contacts ({int(won[with_contact].sum())} won); "
            f"at least {min_units} with {min_support} won are needed to compare titles on won and lost {unit}s"
        )
        return empty
    rng = np.random.default_rng(seed)
    part = rng.random(len(won)) < 2 / 3  # learning part; the rest is held out
    rows_all: list[np.ndarray] = []
    grams_all: list[pa.Array] = []
    for name, words in fields.items():
        if name == "title":
            rows, grams = _title_grams(words)
        else:
            valid = np.asarray(words.is_valid().to_numpy(zero_copy_only=False), bool)
            rows, grams = np.nonzero(valid)[0], pc.filter(words, pa.array(valid))
        rows_all.append(rows)
        grams_all.append(pc.binary_join_element_wise(f"{name}:", grams.cast(pa.string()), ""))
    names, learn, held, pairs = _counts(unit_of, np.concatenate(rows_all), pa.concat_arrays(grams_all), won, part)
    in_l, in_h = with_contact & part, with_contact & ~part
    S_l, N_l = int(won[in_l].sum()), int(in_l.sum())
    S_h, N_h = int(won[in_h].sum()), int(in_h.sum())
    a_l, n_l = learn
    a_h, n_h = held
    tested = (a_l >= min_support) | ((n_l - a_l) >= min_support)
    p = np.ones(len(names))
    if tested.any():
        p[tested] = two_by_two_pvalue(a_l[tested], n_l[tested], S_l, N_l)
    q = np.ones(len(names))
    if tested.any():
        q[tested] = benjamini_hochberg(p[tested])
    base_l = S_l / N_l if N_l else 0.0
    base_h = S_h / N_h if N_h else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(n_l > 0, a_l / np.maximum(n_l, 1) / base_l if base_l else 0.0, 0.0)
        held_lift = np.where(n_h > 0, a_h / np.maximum(n_h, 1) / base_h if base_h else 0.0, 0.0)
    positive = tested & (a_l >= min_support) & (q <= fdr) & (lift > 1) & (held_lift > 1)
    negative = tested & (q <= fdr) & (lift <= 1 / min_lift) & (n_h > 0) & (held_lift < 1) & (n_l - a_l >= min_support)
    status = np.where(positive, "kept", np.where(negative, "against", np.where(tested, "not significant", "rare")))
    candidates = pa.table(
        {
            "candidate": pa.array(names, pa.string()),
            "won_units": pa.array(a_l + a_h, pa.int64()),
            "units": pa.array(n_l + n_h, pa.int64()),
            "lift": pa.array(lift, pa.float64()),
            "held_out_lift": pa.array(held_lift, pa.float64()),
            "p": pa.array(p, pa.float64()),
            "q": pa.array(q, pa.float64()),
            "status": pa.array(status, pa.string()),
        }
    )
    against = _prune([i for i in np.nonzero(negative)[0] if names[i].startswith("title:")], names, pairs, n_l + n_h)
    titles = _prune([i for i in np.nonzero(positive)[0] if names[i].startswith("title:")], names, pairs, lift)
    others = [i for i in np.nonzero(positive)[0] if not names[i].startswith("title:")]
    covered = _units_of(titles, names, pairs)
    others = [names[i] for i in _prune(others, names, pairs, lift, covered=covered)]
    titles = [names[i] for i in titles]
    against = [names[i] for i in against]
    drafts: list[Persona] = []
    groups: dict[str, list[str]] = {}
    for t in sorted(titles, key=lambda t: -lift[names.index(t)]):
        group = _group(t[6:])
        groups.setdefault(group if group != "other" else _slug("title", t[6:]), []).append(t[6:])
    for name, pats in groups.items():
        excl = [x[6:] for x in against if not any(x[6:] in t or t in x[6:] for t in pats)]
        drafts.append(Persona(name=name, titles=sorted(pats), exclude_titles=sorted(excl)))
    for k in others:
        kind, value = k.split(":", 1)
        drafts.append(Persona(name=_slug(kind, value), **{kind: [value]}))
    personas = _confirm(drafts, contacts, unit_of, won, with_contact, part, min_support, fdr, min_lift)
    personas = personas[:max_personas]
    if not personas:
        notes.append(
            f"personas: no title, seniority or department separated won from lost {unit}s with support "
            f">= {min_support}, q <= {fdr}, lift >= {min_lift} and a held-out lift above 1 "
            f"({len(names)} candidates tested)"
        )
    return PersonaProposal(personas, candidates, notes)


def _units_of(idx: list[int], names: list[str], pairs: np.ndarray) -> set[int]:
    g, u = pairs
    return set(u[np.isin(g, idx)].tolist())


def _seniority_words(gram: str) -> int:
    words = gram.split(":", 1)[-1].split()
    return sum(any(w in vocab for _, vocab in SENIORITY_GROUPS) for w in words)


def _prune(
    idx: list[int], names: list[str], pairs: np.ndarray, strength: np.ndarray, covered: set[int] | None = None
) -> list[int]:
    """Fewer, clearer patterns. Patterns with seniority words come first (personas are about who buys), then by
    ``strength``, more seniority words, a phrase before a word; each is kept only when at least a tenth of its
    units are not covered yet (``growth`` of ``head of growth`` gives way to ``head``)."""
    g, u = pairs
    units = {i: set(u[g == i].tolist()) for i in idx}

    def key(i: int) -> tuple:
        senior = _seniority_words(names[i])
        return (senior == 0, -round(float(strength[i]), 1), -senior, -names[i].count(" "), names[i])

    order = sorted(idx, key=key)
    seen = set(covered or ())
    out = []
    for i in order:
        if len(units[i] - seen) >= 0.1 * len(units[i]):
            out.append(i)
            seen |= units[i]
    return out


def _confirm(
    drafts: list[Persona],
    contacts: pa.Table,
    unit_of: np.ndarray,
    won: np.ndarray,
    with_contact: np.ndarray,
    part: np.ndarray,
    min_support: int,
    fdr: float,
    min_lift: float,
) -> list[Persona]:
    """Each draft matched exactly as scoring matches it; kept with its evidence when it passes on its own."""
    if not drafts:
        return []
    S, N = int(won[with_contact].sum()), int(with_contact.sum())
    rows = []
    for d in drafts:
        spec = ICPSpec(name="personas", personas=[d])
        matched = apply_personas_table(spec, contacts).column("persona").is_valid()
        hit_rows = np.nonzero(np.asarray(matched.to_numpy(zero_copy_only=False), bool) & (unit_of >= 0))[0]
        has = np.zeros(len(won), bool)
        has[unit_of[hit_rows]] = True
        a, n1 = int((has & won).sum()), int(has.sum())
        held = has & ~part & with_contact
        base_h = won[with_contact & ~part].mean() if (with_contact & ~part).any() else 0.0
        held_lift = (won[held].mean() / base_h) if held.any() and base_h else 0.0
        rows.append((d, a, n1, held_lift))
    p = two_by_two_pvalue([r[1] for r in rows], [r[2] for r in rows], S, N)
    q = benjamini_hochberg(p)
    out = []
    for (d, a, n1, held_lift), pi, qi in zip(rows, p, q, strict=True):
        if a < min_support or n1 == 0 or qi > fdr or held_lift <= 1:
            continue
        lift, low, high = (float(x[0]) for x in lift_interval(a, n1, S, N))
        if lift < min_lift:
            continue
        ev = Evidence(
            support=a,
            n=n1,
            signal_rate=a / n1,
            base_rate=S / N,
            lift=lift,
            lift_low=low,
            lift_high=high,
            p=float(pi),
            q=float(qi),
        )
        out.append(d.model_copy(update={"evidence": ev}))
    return sorted(out, key=lambda d: -(d.evidence.lift if d.evidence and d.evidence.lift else 0.0))
