"""Classification and calibration metrics of churn probabilities.

Rules:

- The positive class is **churned** (label 1); the scores are churn probabilities.
- ``roc_auc``: scikit-learn's ROC AUC; ``pr_auc``: average precision of the churned class;
  both NaN when the rows hold one class only.
- ``brier``: mean of (probability − label)².
- ``ece``: expected calibration error with **10 equal-width bins of the predicted
  probability** ([0, 0.1), [0.1, 0.2), …, [0.9, 1.0], 1.0 in the last bin):
  Σ_bins (rows in bin / rows) · |mean label − mean probability| over non-empty bins.
- ``base_rate`` = mean label; ``persons`` = rows; ``positives`` = churned rows.
- Rows whose probability is NaN are left out (counted in ``persons`` only if scored).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

ECE_BINS = 10
ECE_BINNING = "10 equal-width bins of the predicted probability"
UNSEGMENTED = "none"
METRIC_COLUMNS = ["roc_auc", "pr_auc", "brier", "ece", "base_rate", "persons", "positives"]


def expected_calibration_error(labels, probabilities, bins: int = ECE_BINS) -> float:
    """ECE over ``bins`` equal-width bins of [0, 1] (see the module rules)."""
    y = np.asarray(labels, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if len(y) == 0:
        return float("nan")
    index = np.clip(np.floor(p * bins).astype(int), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = index == b
        if in_bin.any():
            total += in_bin.mean() * abs(y[in_bin].mean() - p[in_bin].mean())
    return float(total)


def classification_metrics(labels, probabilities) -> dict:
    """roc_auc, pr_auc, brier, ece, base_rate, persons, positives of one set of rows."""
    y = np.asarray(labels, dtype=int)
    p = np.asarray(probabilities, dtype=float)
    scored = ~np.isnan(p)
    y, p = y[scored], p[scored]
    both_classes = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both_classes else float("nan"),
        # average precision sums precision x recall steps: a perfect ranking can come
        # out as 1.0000000000000002 (seen on 1M events), which a [0, 1] check rejects
        "pr_auc": min(1.0, float(average_precision_score(y, p))) if both_classes else float("nan"),
        "brier": float(np.mean((p - y) ** 2)) if len(y) else float("nan"),
        "ece": expected_calibration_error(y, p),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
        "persons": int(len(y)),
        "positives": int(y.sum()),
    }


def metrics_by_segment(labels, probabilities, segments: pd.Series) -> pd.DataFrame:
    """One row for ``segment = 'all'``, then one per segment value (sorted).

    Persons without a segment form the segment ``'none'``; when nobody has a segment only
    the ``'all'`` row is returned.
    """
    y = np.asarray(labels, dtype=int)
    p = np.asarray(probabilities, dtype=float)
    rows = [{"segment": "all", **classification_metrics(y, p)}]
    text = segments.astype("string")
    if text.isna().all():
        return pd.DataFrame(rows)
    values = text.fillna(UNSEGMENTED).to_numpy()
    for segment in sorted(set(values)):
        mask = values == segment
        rows.append({"segment": segment, **classification_metrics(y[mask], p[mask])})
    return pd.DataFrame(rows)
