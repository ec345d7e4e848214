"""Held-out quality of discovery: ROC AUC of the spec's score vs a gradient-boosting black box vs the planted truth.

A synthetic history is split by account into train and test halves. The spec is built on the train half; the
black box (scikit-learn HistGradientBoosting on the same raw attributes, one-hot / multi-hot) is trained on the
same half; both are scored on the test half against its cohorts (high-value retained vs churned, never closed and
low-value retained). The planted truth (four criteria, one exclusion) is the ceiling an honest ICP can reach.

    python bench/discovery.py [--accounts 20000] [--seeds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from icpkit.cohorts import assign_cohorts
from icpkit.discover import ICPBuilder
from icpkit.discover.behavior import deal_attributes
from icpkit.score.vector import score_table
from icpkit.synth import generate

RAW = [
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "region",
    "founded_year",
    "funding_stage",
    "business_model",
    "noise_color",
    "noise_segment",
    "noise_score",
    "noise_flag",
]


def _design(accounts: pa.Table, behavior: pa.Table, as_of_days: int, vocab: dict | None = None):
    """One-hot categoricals, multi-hot technologies, numbers as they are (NaN kept), dates as days ago."""
    cols, names = [], []
    vocab = vocab if vocab is not None else {}
    for name in [*RAW, *behavior.column_names]:
        col = accounts[name] if name in accounts.column_names else behavior[name]
        if pa.types.is_string(col.type):
            values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)
            levels = vocab.setdefault(name, sorted({v for v in values if v is not None}))
            for lv in levels:
                cols.append((values == lv).astype(float))
                names.append(f"{name}={lv}")
        else:
            cols.append(np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=float))
            names.append(name)
    tech = accounts["tech_stack"]
    items = vocab.setdefault("tech_stack", sorted(set(pc.list_flatten(tech).to_pylist())))
    rows = pc.list_parent_indices(tech).to_numpy()
    flat = np.asarray(pc.list_flatten(tech).to_numpy(zero_copy_only=False), dtype=object)
    for it in items:
        v = np.zeros(accounts.num_rows)
        v[rows[flat == it]] = 1.0
        cols.append(v)
        names.append(f"tech={it}")
    days = pc.cast(accounts["last_funding_date"], pa.int32()).to_numpy(zero_copy_only=False)
    cols.append(as_of_days - np.asarray(days, dtype=float))
    names.append("last_funding_days")
    return np.column_stack(cols), vocab


def _spec_scores(spec, table: pa.Table, as_of) -> tuple[np.ndarray, np.ndarray]:
    """(ranking with excluded accounts last, as the spec routes them; the points score alone)."""
    out = score_table(spec, table, as_of=as_of, explain=False)
    score = out["score"].to_numpy().astype(float)
    excluded = np.asarray(pc.equal(out["tier"], "excluded").to_numpy(zero_copy_only=False), dtype=bool)
    return np.where(excluded, score - 101.0, score), score


def run(n: int, seed: int) -> dict[str, float]:
    h = generate(n, seed=seed)
    cohorts = assign_cohorts(h.dataset())  # outcomes of every account, as of the same day
    rng = np.random.default_rng(1000 + seed)
    train = rng.random(n) < 0.5
    ids = h.accounts["account_id"]
    train_ids = ids.filter(pa.array(train))
    deals_train = h.deals.filter(pc.is_in(h.deals["account_id"], value_set=train_ids))
    acc_train = h.accounts.filter(pa.array(train))
    t0 = time.perf_counter()
    result = ICPBuilder(name="bench").fit(acc_train, deals_train, kinds=h.kinds["accounts"])
    build_s = time.perf_counter() - t0

    behavior = deal_attributes(ids, h.deals, cohorts.as_of)
    full = h.accounts
    for col in behavior.column_names:
        full = full.append_column(col, behavior[col])
    codes = cohorts.codes
    test = ~train & (codes < 4)
    y = codes[test] == 0
    spec_score = _spec_scores(result.spec, full.filter(pa.array(test)), cohorts.as_of)
    lead_spec = result.spec.model_copy(
        update={"layers": {k: v for k, v in result.spec.layers.items() if k != "behavioral"}}
    )
    lead_score = _spec_scores(lead_spec, full.filter(pa.array(test)), cohorts.as_of)
    truth_score = _spec_scores(h.truth, full.filter(pa.array(test)), cohorts.as_of)

    as_of_days = (cohorts.as_of - __import__("datetime").date(1970, 1, 1)).days
    X, _vocab = _design(full, behavior, as_of_days)
    learn_train = train & (codes < 4)
    w = np.where(codes == 1, 0.5, 1.0)
    gbm = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, early_stopping=True, random_state=seed)
    gbm.fit(X[learn_train], codes[learn_train] == 0, sample_weight=w[learn_train])
    gbm_score = gbm.predict_proba(X[test])[:, 1]
    return {
        "spec": roc_auc_score(y, spec_score[0]),
        "spec_points": roc_auc_score(y, spec_score[1]),
        "spec_no_behavioral": roc_auc_score(y, lead_score[0]),
        "gbm": roc_auc_score(y, gbm_score),
        "truth": roc_auc_score(y, truth_score[0]),
        "truth_points": roc_auc_score(y, truth_score[1]),
        "criteria": len(result.spec.criteria()),
        "build_s": build_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    print(f"held-out ROC AUC, {args.accounts:,} accounts (train half / test half)")
    print("  spec / truth: excluded accounts ranked last (as routed); '+pts': the points score alone")
    keys = ("spec", "spec_points", "spec_no_behavioral", "gbm", "truth", "truth_points")
    heads = ("spec", "spec+pts", "spec-lead", "GBM", "truth", "truth+pts")
    print(f"{'seed':>4}  " + "  ".join(f"{h:>9}" for h in heads) + "  criteria  build")
    rows = []
    for seed in range(args.seeds):
        r = run(args.accounts, seed)
        rows.append(r)
        print(f"{seed:>4}  " + "  ".join(f"{r[k]:>9.4f}" for k in keys) + f"  {r['criteria']:>8}  {r['build_s']:.2f}s")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    print(f"{'mean':>4}  " + "  ".join(f"{mean[k]:>9.4f}" for k in keys))


if __name__ == "__main__":
    main()
