"""Classification metrics from labels and predictions: plain numpy, checked by hand in tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

TOP_K_FROM = 6  # top-k accuracy is reported when there are more than 5 classes


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """``n x n`` counts: row = true class, column = predicted class."""
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return matrix


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (the share of a true class predicted as each class)."""
    sums = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, sums, out=np.zeros(matrix.shape, float), where=sums > 0)


def _safe(num: float, den: float) -> float:
    return float(num / den) if den else 0.0


def classification_metrics(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    classes: Sequence[str],
    probs: np.ndarray | None = None,
) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1/support, macro and weighted averages, the
    confusion matrix (counts and row-normalised) and, with ``probs`` and more than 5
    classes, top-3 and top-5 accuracy. Precision of a never-predicted class is 0."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    n = len(classes)
    matrix = confusion_matrix(y_true, y_pred, n)
    per_class = []
    for i, name in enumerate(classes):
        tp = float(matrix[i, i])
        precision = _safe(tp, matrix[:, i].sum())
        recall = _safe(tp, matrix[i, :].sum())
        f1 = _safe(2 * precision * recall, precision + recall)
        per_class.append(
            {
                "class": name,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "support": int(matrix[i, :].sum()),
            }
        )
    support = np.array([c["support"] for c in per_class], float)
    total = float(support.sum())
    averages = {}
    for kind, weights in (("macro", np.ones(n) / n), ("weighted", support / max(total, 1.0))):
        averages[kind] = {
            key: float(sum(w * c[key] for w, c in zip(weights, per_class, strict=True)))
            for key in ("precision", "recall", "f1")
        }
    result: dict[str, Any] = {
        "classes": list(classes),
        "count": len(y_true),
        "accuracy": _safe(float(np.trace(matrix)), total),
        "per_class": per_class,
        "macro": averages["macro"],
        "weighted": averages["weighted"],
        "confusion": matrix.tolist(),
        "confusion_normalised": row_normalised(matrix).tolist(),
        "top_k": {},
    }
    if probs is not None and n >= TOP_K_FROM:
        ranked = np.argsort(-probs, axis=1, kind="stable")
        for k in (3, 5):
            hits = (ranked[:, :k] == y_true[:, None]).any(axis=1)
            result["top_k"][str(k)] = float(hits.mean()) if len(hits) else 0.0
    return result
