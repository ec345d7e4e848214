"""Points: a regularised logistic scorecard on the binary indicators of the surviving criteria.

Signal (high-value retained) against anti-signal, with low-value retained accounts weighted ``low_value_weight``
(default 0.5: they bought and stayed, so they are weaker evidence against a criterion than a churn or a loss).
Rows are first collapsed to distinct indicator patterns with summed weights, which leaves the fit unchanged and
makes it independent of the number of accounts. Points are proportional to the positive coefficients, whole
numbers, and sum to 100 (a perfect fit); a criterion with no positive weight gets no points and is dropped.

A group of criteria can be capped to a share of the points (``to_points(..., capped=mask, cap=0.2)``): the
behavioural layer is unknown for a new lead, so if it carried most of the points no lead could reach the top tiers.
When the group's weights would take more than its cap, it gets exactly ``floor(cap * total)`` points, shared in
proportion to its weights, and the other criteria share the rest in proportion to theirs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_weights", "logistic_l2", "to_points"]


def fit_weights(X: np.ndarray, y: np.ndarray, w: np.ndarray, *, C: float = 1.0, penalty: str = "l2") -> np.ndarray:
    """Logistic coefficients of ``y`` on boolean columns ``X`` with sample weights ``w``."""
    n, m = X.shape
    if m == 0:
        return np.zeros(0)
    # collapse to distinct (pattern, label) rows: exact same objective, a few hundred rows at most
    if m <= 62:
        bits = np.zeros(n, dtype=np.int64)
        for j in range(m):
            bits |= X[:, j].astype(np.int64) << j
        key = bits * 2 + y.astype(np.int64)
        if m <= 20:  # few enough patterns for a direct count over every possible key
            weight = np.bincount(key, weights=w, minlength=2 << m)
            uniq = np.nonzero(weight)[0]
            weight = weight[uniq]
        else:
            uniq, inv = np.unique(key, return_inverse=True)
            weight = np.bincount(inv, weights=w)
        yy = (uniq & 1).astype(int)
        pat = uniq >> 1
        XX = ((pat[:, None] >> np.arange(m)) & 1).astype(float)
    else:
        XX, yy, weight = X.astype(float), y.astype(int), w
    if len(np.unique(yy)) < 2:
        return np.zeros(m)
    if penalty == "l2":
        return logistic_l2(XX, yy, weight, C=C)
    from sklearn.linear_model import LogisticRegression  # only the L1 scorecard needs it: a slow import

    model = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", max_iter=1000)
    model.fit(XX, yy, sample_weight=weight)
    return model.coef_.ravel()


def logistic_l2(X: np.ndarray, y: np.ndarray, w: np.ndarray, *, C: float = 1.0, tol: float = 1e-10) -> np.ndarray:
    """Coefficients minimising ``C * sum(w * logloss) + ||coef||^2 / 2`` (intercept free), by damped Newton.

    The objective of scikit-learn's ``LogisticRegression(C=C)``; on a few hundred collapsed rows Newton converges
    in a handful of steps, without importing a machine-learning library for one small convex problem.
    """
    n, m = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    ridge = np.r_[np.ones(m), 0.0]
    theta = np.zeros(m + 1)

    def objective(t: np.ndarray) -> float:
        z = A @ t
        return float(C * np.sum(w * (np.logaddexp(0.0, z) - y * z)) + 0.5 * np.sum(ridge * t * t))

    f = objective(theta)
    for _ in range(100):
        p = 0.5 * (1.0 + np.tanh(0.5 * (A @ theta)))  # the logistic function, without overflow
        grad = C * A.T @ (w * (p - y)) + ridge * theta
        hess = C * (A.T * (w * p * (1.0 - p))) @ A + np.diag(ridge) + 1e-12 * np.eye(m + 1)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-8:
            cand = theta - t * step
            f_new = objective(cand)
            if f_new <= f + 1e-4 * t * float(grad @ -step):
                break
            t *= 0.5
        theta, decrease, f = cand, f - f_new, f_new
        if decrease <= tol * max(1.0, abs(f)) and np.max(np.abs(t * step)) < 1e-8:
            break
    return theta[:m]


def to_points(
    weights: np.ndarray, total: int = 100, *, capped: np.ndarray | None = None, cap: float = 1.0
) -> np.ndarray:
    """Whole points proportional to the positive weights, summing to ``total`` (largest remainder).

    ``capped`` marks criteria whose points together may not exceed ``floor(cap * total)`` while the others have
    positive weight to take the rest.
    """
    pos = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    pts = _allocate(pos, total)
    if capped is None:
        return pts
    capped = np.asarray(capped, dtype=bool)
    budget = int(np.floor(max(0.0, min(1.0, cap)) * total + 1e-9))
    if pts[capped].sum() <= budget or pos[~capped].sum() <= 0:
        return pts
    out = np.zeros(pos.size, dtype=int)
    out[capped] = _allocate(pos[capped], budget)
    out[~capped] = _allocate(pos[~capped], total - int(out[capped].sum()))
    return out


def _allocate(pos: np.ndarray, total: int) -> np.ndarray:
    if pos.sum() <= 0 or total <= 0:
        return np.zeros(pos.size, dtype=int)
    if np.count_nonzero(pos) > total:  # fewer points than criteria: the weakest get none
        weakest = np.argsort(-pos, kind="stable")[total:]
        pos = pos.copy()
        pos[weakest] = 0.0
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
