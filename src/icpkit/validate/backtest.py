"""``validate``: rebuild the ICP on the training part only, judge it on held-out accounts, and say what holds.

A spec is never judged on the data it was built from: discovery (``ICPBuilder``) runs again on the training part
of every split. A spec under test (a hand-edited one, or the spec built on all the data) is scored on the same
held-out accounts and reported alongside, labelled in-sample whenever its build period overlaps them.

Pure: tables and specs in, a :class:`ValidationReport` out. Reading files and printing is the CLI's job.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.cohorts import assign_cohorts
from icpkit.discover import BuildResult, ICPBuilder
from icpkit.discover.behavior import deal_attributes
from icpkit.errors import InsufficientSignalError
from icpkit.ingest.schema import Dataset
from icpkit.score.vector import score_table
from icpkit.spec.io import content_hash
from icpkit.spec.model import ICPSpec
from icpkit.validate.figures import Availability, compare, tier_rows
from icpkit.validate.model import HoldoutFigures, SegmentValidation, ValidationReport
from icpkit.validate.narrowness import leads_check, targets_check
from icpkit.validate.split import data_as_of, held_out_outcomes, stratified_folds, time_cutoff, train_dataset
from icpkit.validate.verdicts import GATING, verdicts
from icpkit.words import criterion_text

__all__ = ["FIT_TIERS", "availability", "validate"]

FIT_TIERS = ("tier1", "tier2")  # routed to sales: "fit"; everything else (tier 3, none, excluded) is non-fit
_COHORT_PARAMS = ("window_months", "top_share", "expansion_is_high_value", "value", "min_signal")


def availability(ds: Dataset) -> Availability:
    """Which outcomes this dataset can speak to."""
    acc, deals, subs = ds.accounts.column_names, ds.deals, ds.subscriptions
    has_subs = subs is not None and subs.num_rows > 0
    has_deals = deals is not None and deals.num_rows > 0 and "outcome" in deals.column_names
    return Availability(
        churn="churned" in acc or "churn_date" in acc or has_subs,
        expansion="expansion_arr" in acc or has_subs,
        amounts=has_deals and "amount" in deals.column_names,
        deals=has_deals,
    )


def _score_tiers(spec: ICPSpec, table: pa.Table, as_of: dt.date) -> np.ndarray:
    return _score(spec, table, as_of)[0]


def _score(spec: ICPSpec, table: pa.Table, as_of: dt.date) -> tuple[np.ndarray, np.ndarray | None]:
    """Tier of every row, and its best segment (``None`` for a single-ICP spec)."""
    scored = score_table(spec, table, as_of=as_of, explain=False)
    tiers = np.asarray(scored.column("tier").to_numpy(zero_copy_only=False), dtype=object)
    if spec.segments is None:
        return tiers, None
    return tiers, np.asarray(scored.column("segment").to_numpy(zero_copy_only=False), dtype=object)


def _per_segment(
    spec: ICPSpec,
    tiers: np.ndarray,
    best: np.ndarray,
    outcomes: pa.Table,
    avail: Availability,
    fit_tiers: Sequence[str],
    source: Literal["rebuilt", "under_test"],
    in_sample: bool = False,
) -> list[SegmentValidation]:
    """Each segment's fit accounts (best segment, tier 1–2) against every non-fit account: figures and verdicts."""
    judged = np.asarray(outcomes.column("judged").to_numpy(zero_copy_only=False), dtype=bool)
    fit = np.isin(tiers, list(fit_tiers))
    total = int(judged.sum())
    out = []
    for name, seg in spec.segment_specs():
        mine = best == name
        seg_fit = fit & mine
        seg_judged = judged & (seg_fit | ~fit)  # other segments' fit accounts are neither fit nor baseline
        figs = HoldoutFigures(
            source=source,
            label=f"segment {name}: its fit accounts vs every non-fit account",
            spec_name=f"{spec.name}.{name}",
            judged=int(seg_judged.sum()),
            fit=int((seg_fit & judged).sum()),
            non_fit=int((~fit & judged).sum()),
            fit_tiers=list(fit_tiers),
            comparisons=compare(seg_fit, outcomes, avail, judged=seg_judged),
            tiers=tier_rows(np.where(mine, tiers, ""), outcomes, avail),
            criteria=_criteria(seg),
            in_sample=in_sample,
        )
        vs = [v for v in verdicts(figs) if v.check != "signal"]
        n = int((mine & judged).sum())
        out.append(
            SegmentValidation(
                segment=name,
                source=source,
                accounts=n,
                share=n / total if total else None,
                figures=figs,
                verdicts=vs,
                passed=not any(v.status == "fail" and v.check in GATING for v in vs),
            )
        )
    return out


def _with_behaviour(accounts: pa.Table, deals: pa.Table | None, as_of: dt.date) -> pa.Table:
    """Accounts plus the behavioural attributes the deals up to ``as_of`` allow (never the judged deals)."""
    if deals is None or deals.num_rows == 0:
        return accounts
    beh = deal_attributes(accounts.column("account_id"), deals, as_of)
    for name in beh.column_names:
        if name not in accounts.column_names:
            accounts = accounts.append_column(name, beh.column(name))
    return accounts


def _subset(ds: Dataset, keep: np.ndarray) -> Dataset:
    """The accounts where ``keep`` holds, with their deals and subscriptions."""
    accounts = ds.accounts.filter(pa.array(keep))
    ids = accounts.column("account_id")

    def of(t: pa.Table | None) -> pa.Table | None:
        if t is None or "account_id" not in t.column_names:
            return t
        return t.filter(pc.is_in(t.column("account_id"), value_set=ids).fill_null(False))

    return Dataset(accounts=accounts, deals=of(ds.deals), subscriptions=of(ds.subscriptions), kinds=ds.kinds)


def _figures(
    tiers: np.ndarray,
    outcomes: pa.Table,
    avail: Availability,
    fit_tiers: Sequence[str],
    **meta: Any,
) -> HoldoutFigures:
    judged = np.asarray(outcomes.column("judged").to_numpy(zero_copy_only=False), dtype=bool)
    fit = np.isin(tiers, list(fit_tiers))
    return HoldoutFigures(
        judged=int(judged.sum()),
        fit=int((fit & judged).sum()),
        non_fit=int((~fit & judged).sum()),
        fit_tiers=list(fit_tiers),
        comparisons=compare(fit, outcomes, avail, judged=judged),
        tiers=tier_rows(tiers, outcomes, avail),
        **meta,
    )


def _criteria(spec: ICPSpec) -> list[str]:
    """Criteria in plain words; those of a multi-segment spec prefixed with their segment's name."""
    if spec.segments is not None:
        return [f"{name}: {text}" for name, seg in spec.segment_specs() for text in _criteria(seg)]
    return [f"{criterion_text(c)} ({c.points} pts)" for _, c in spec.criteria()]


def _plain(criteria: list[str]) -> set[str]:
    """Criteria texts without points or segment prefix, to compare two specs' criteria."""
    return {c.split(" (")[0].split(": ", 1)[-1] for c in criteria}


def _rebuild(
    train: Dataset, params: dict[str, Any], as_of: dt.date, segments: int | str | None, notes: list[str]
) -> tuple[ICPSpec, BuildResult]:
    """The rebuild on the training part: one ICP, or segment discovery when ``segments`` asks for it."""
    builder = ICPBuilder(**params, as_of=as_of)
    if segments in (None, 1):
        built = builder.fit(train)
        return built.spec, built
    from icpkit.segments import SegmentFinder

    most = segments if isinstance(segments, int) else 3
    found = SegmentFinder(builder, n_segments=segments, max_segments=max(3, most)).fit(train)
    names = [name for name, _ in found.spec.segment_specs()]
    notes.append(
        f"the rebuild on the training part kept {len(names)} segments ({', '.join(names)})"
        if names
        else "the rebuild on the training part found no distinct segments: it is one ICP"
    )
    return found.spec, found.base


def validate(
    data: Dataset,
    *,
    spec: ICPSpec | None = None,
    full_build: BuildResult | None = None,
    method: Literal["time", "kfold"] = "time",
    cutoff: dt.date | None = None,
    held_share: float = 0.275,
    folds: int = 5,
    seed: int = 0,
    builder: Mapping[str, Any] | None = None,
    fit_tiers: Sequence[str] = FIT_TIERS,
    leads: pa.Table | None = None,
    universe: pa.Table | None = None,
    sizing: Any = None,
    segments: int | str | None = None,
    as_of: dt.date | None = None,
) -> ValidationReport:
    """Backtest the ICP on held-out data, check its narrowness, and give plain-words verdicts.

    ``spec`` is the spec under test (default: ``full_build.spec``, the build on all the data, in-sample);
    ``builder`` holds ``ICPBuilder`` parameters for the rebuilds. ``leads`` and ``universe`` (or an already
    computed ``sizing``) add the narrowness checks.

    ``segments`` (``"auto"`` or a number) rebuilds with segment discovery; by default a spec under test with
    segments is rebuilt with as many. Every segment of the rebuild (time split) and of the spec under test gets
    its own figures and verdicts next to the overall ones. ``as_of`` ends the history (default: its last event
    that happened): nothing after it is learned from or judged.
    """
    params = dict(builder or {})
    params.pop("as_of", None)
    params.pop("progress", None)
    as_of = as_of or data_as_of(data)
    avail = availability(data)
    under_spec = spec if spec is not None else (full_build.spec if full_build is not None else None)
    notes: list[str] = []
    if under_spec is not None and not _criteria(under_spec):
        notes.append("the spec under test has no criteria: every account is non-fit, so it is not scored")
        under_spec = None
    build_error: str | None = None
    no_signal = False
    rebuilt: HoldoutFigures | None = None
    train_counts: dict[str, int] = {}
    held_counts: dict[str, int] = {}
    split_cutoff: dt.date | None = None
    share: float | None = None
    basis = ""
    if segments is None and under_spec is not None and under_spec.segments is not None:
        segments = len(under_spec.segments)
    per_segment: list[SegmentValidation] = []

    if method == "time":
        split = time_cutoff(data, held_share, as_of=as_of)
        split_cutoff, share, basis = cutoff or split.cutoff, split.held_share, split.basis
        if cutoff is not None:
            share = None
        train = train_dataset(data, split_cutoff)
        outcomes = held_out_outcomes(data, cutoff=split_cutoff, as_of=as_of)
        held_table = _with_behaviour(data.accounts, train.deals, split_cutoff)
        try:
            rebuilt_spec, built = _rebuild(train, params, split_cutoff, segments, notes)
            train_counts = dict(built.cohorts.sizes)
            no_signal = built.no_signal
            tiers, best = _score(rebuilt_spec, held_table, as_of)
            rebuilt = _figures(
                tiers, outcomes, avail, fit_tiers,
                source="rebuilt", label=f"rebuilt on data up to {split_cutoff} (out of sample)",
                spec_name=rebuilt_spec.name, spec_hash=content_hash(rebuilt_spec), criteria=_criteria(rebuilt_spec),
            )  # fmt: skip
            if best is not None:
                per_segment += _per_segment(rebuilt_spec, tiers, best, outcomes, avail, fit_tiers, "rebuilt")
        except InsufficientSignalError as exc:
            build_error = str(exc)
        in_sample = under_spec is not None and (under_spec.as_of is None or under_spec.as_of > split_cutoff)
        if data.deals is not None and "created_date" in data.deals.column_names:
            later = pc.greater(
                data.deals.column("created_date").cast(pa.date32()), pa.scalar(split_cutoff, pa.date32())
            )
            held_counts["deals_after_cutoff"] = int(pc.sum(later.fill_null(False).cast(pa.int64())).as_py() or 0)
    else:
        cohorts = assign_cohorts(data, as_of=as_of, **{k: params[k] for k in _COHORT_PARAMS if k in params})
        fold = stratified_folds(cohorts.codes, folds, seed)
        tiers = np.full(data.accounts.num_rows, "none", dtype=object)
        found: Counter[str] = Counter()
        errors, empty = [], 0
        for f in range(folds):
            hold = fold == f
            try:
                built = ICPBuilder(**params, as_of=as_of).fit(_subset(data, ~hold))
            except InsufficientSignalError as exc:
                errors.append(str(exc))
                continue
            empty += built.no_signal
            found.update(criterion_text(c) for _, c in built.spec.criteria())
            tiers[hold] = _score_tiers(built.spec, data.accounts.filter(pa.array(hold)), as_of)
        train_counts = {"folds": folds, "accounts_per_fold": int(np.ceil(data.accounts.num_rows / folds))}
        if len(errors) == folds:
            build_error = errors[0]
        else:
            if errors:
                notes.append(f"{len(errors)} of {folds} folds had too little signal to build on; their accounts "
                             "count as non-fit")  # fmt: skip
            no_signal = empty + len(errors) == folds
        outcomes = held_out_outcomes(data, cutoff=None, as_of=as_of)
        if build_error is None:
            rebuilt = _figures(
                tiers, outcomes, avail, fit_tiers,
                source="rebuilt", label=f"rebuilt on the other folds ({folds}-fold, out of sample)",
                spec_name=f"{folds} fold specs", criteria=[f"{t} ({n}/{folds} folds)" for t, n in found.most_common()],
            )  # fmt: skip
        held_table = data.accounts
        in_sample = under_spec is not None
        split_cutoff = None
        if segments not in (None, 1):
            notes.append(
                "k-fold rebuilds one ICP per fold (segments found in different folds cannot be matched up); "
                "per-segment figures are the spec under test's"
            )

    judged = np.asarray(outcomes.column("judged").to_numpy(zero_copy_only=False), dtype=bool)
    for name in ("closed", "won", "customer", "churned"):
        col = np.asarray(outcomes.column(name).fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        held_counts[name] = int((col & judged).sum())
    held_counts = {"accounts": int(judged.sum()), **held_counts}
    if method == "time":
        repeat = int(np.sum(np.asarray(outcomes.column("repeat").to_numpy(zero_copy_only=False), dtype=bool)))
        held_counts["repeat_business"] = repeat
        if repeat:
            notes.append(
                f"{repeat:,} accounts with deals after the cutoff were already customers at it: their later deals "
                "are repeat or expansion business and are not judged (the ICP is about winning new accounts)"
            )

    under: HoldoutFigures | None = None
    if under_spec is not None:
        tiers_u, best_u = _score(under_spec, held_table, as_of)
        label = "spec under test" + (" — in-sample: its build period overlaps the held-out data" if in_sample else "")
        under = _figures(
            tiers_u, outcomes, avail, fit_tiers,
            source="under_test", label=label, spec_name=under_spec.name, spec_hash=content_hash(under_spec),
            in_sample=in_sample, criteria=_criteria(under_spec),
        )  # fmt: skip
        if best_u is not None:
            per_segment += _per_segment(
                under_spec, tiers_u, best_u, outcomes, avail, fit_tiers, "under_test", in_sample
            )

    leads_result = leads_check(under_spec, leads, as_of=as_of) if leads is not None and under_spec else None
    if sizing is None and universe is not None and under_spec is not None:
        from icpkit.size import size_universe

        sizing = size_universe(under_spec, universe, accounts=data.accounts, deals=data.deals, as_of=as_of)
    targets_result = targets_check(sizing.report) if sizing is not None else None
    if (leads is not None or universe is not None) and under_spec is None:
        notes.append("narrowness needs a spec: give one, or let validate build it on all the data")

    found_figs = rebuilt
    if found_figs is None:  # nothing learned: judge availability on an all-non-fit scoring
        nothing = np.full(data.accounts.num_rows, "none", dtype=object)
        found_figs = _figures(nothing, outcomes, avail, fit_tiers, source="rebuilt", label="", spec_name="")
    vs = verdicts(found_figs, build_error=build_error, no_signal=no_signal, leads=leads_result, targets=targets_result)
    if rebuilt is not None and under is not None and method == "time":
        same = _plain(rebuilt.criteria) & _plain(under.criteria)
        notes.append(
            f"the rebuild on the training part shares {len(same)} of its {len(rebuilt.criteria)} criteria with "
            f"the spec under test ({len(under.criteria)} criteria)"
        )
    if avail.churn and method == "time":
        notes.append(f"churn of held-out customers is what happened between their start and {as_of}: a short window")
    return ValidationReport(
        method=method,
        as_of=as_of,
        cutoff=split_cutoff,
        folds=folds if method == "kfold" else None,
        held_share=share,
        split_basis=basis,
        train=train_counts,
        held_out=held_counts,
        rebuilt=rebuilt,
        under_test=under,
        build_error=build_error,
        no_signal=no_signal,
        verdicts=vs,
        leads=leads_result,
        targets=targets_result,
        segments=per_segment,
        notes=notes,
        passed=not any(v.status == "fail" and v.check in GATING for v in vs),
    )
