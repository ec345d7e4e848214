"""Points: a regularised logistic scorecard on the binary indicators of the surviving criteria.

Signal (high-value retained) against anti-signal, with low-value retained accounts weighted ``low_value_weight``
(default 0.5: they bought and stayed, so they are weaker evidence against a criterion than a churn or a loss).
Rows are first collapsed to distinct indicator patterns with summed weights, which leaves the fit unchanged and
makes it independent of the number of accounts. Points are proportional to the positive coefficients, whole
numbers, and sum to 100 (a perfect fit); a criterion with no positive weight gets no points and is dropped.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = ["fit_weights", "to_points"]


def fit_weights(X: np.ndarray, y: np.ndarray, w: np.ndarray, *, C: float = 1.0, penalty: str = "l2") -> np.ndarray:
    """Logistic coefficients of ``y`` on boolean columns ``X`` with sample weights ``w``."""
    n, m = X.shape
    if m == 0:
        return np.zeros(0)
    # collapse to distinct (pattern, label) rows: exact same objective, a few hundred rows at most
    bits = np.zeros(n, dtype=np.int64) if m <= 62 else None
    if bits is not None:
        for j in range(m):
            bits |= X[:, j].astype(np.int64) << j
        key = bits * 2 + y.astype(np.int64)
        uniq, inv = np.unique(key, return_inverse=True)
        weight = np.bincount(inv, weights=w)
        yy = (uniq & 1).astype(int)
        pat = uniq >> 1
        XX = ((pat[:, None] >> np.arange(m)) & 1).astype(float)
    else:
        XX, yy, weight = X.astype(float), y.astype(int), w
    if len(np.unique(yy)) < 2:
        return np.zeros(m)
    solver = "liblinear" if penalty == "l1" else "lbfgs"
    model = LogisticRegression(C=C, l1_ratio=1.0 if penalty == "l1" else 0.0, solver=solver, max_iter=1000)
    model.fit(XX, yy, sample_weight=weight)
    return model.coef_.ravel()


def to_points(weights: np.ndarray, total: int = 100) -> np.ndarray:
    """Whole points proportional to the positive weights, summing to ``total`` (largest remainder)."""
    pos = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    if pos.sum() <= 0:
        return np.zeros(pos.size, dtype=int)
    raw = pos / pos.sum() * total
    pts = np.floor(raw).astype(int)
    pts[(pos > 0) & (pts == 0)] = 1
    short = total - pts.sum()
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    i = 0
    while short != 0 and i < 10 * pos.size:
        j = order[i % pos.size]
        if pos[j] > 0 and (short > 0 or pts[j] > 1):
            pts[j] += 1 if short > 0 else -1
            short += -1 if short > 0 else 1
        i += 1
    return pts
