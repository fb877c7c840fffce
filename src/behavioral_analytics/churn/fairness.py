"""Fairness audit of churn probabilities per group (an audit, not a fix).

Rules, on rows with a known outcome (the time holdout: scores of the model fitted on
T − 2H for the snapshot T − H, outcomes in [T − H, T)):

- Group kinds ``platform``, ``locale``, ``segment``; a missing value is the group ``none``.
- ``positive_rate`` = share of the group predicted to churn, churn_probability >=
  ``threshold`` (default 0.5); ``base_rate`` = observed churn share; ``mean_probability``.
- ``calibration_error`` = the group's ECE (10 equal-width bins, as in ``metrics``);
  ``roc_auc`` = the group's ROC AUC (NaN with one class).
- ``largest_disparity_ratio`` (same on every row of a group kind) = max / min
  positive_rate over that kind's groups with at least ``min_group_persons`` (default 30)
  persons; NaN with fewer than two such groups or a minimum of 0.

Nothing here changes a score: the table shows where the model behaves differently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from behavioral_analytics.churn.metrics import classification_metrics

GROUP_KINDS = ("platform", "locale", "segment")
COLUMNS = [
    "group_kind",
    "group_value",
    "persons",
    "positive_rate",
    "base_rate",
    "mean_probability",
    "calibration_error",
    "roc_auc",
    "largest_disparity_ratio",
]


def disparity_ratio(rates: pd.Series, persons: pd.Series, min_group_persons: int) -> float:
    eligible = rates[(persons >= min_group_persons) & rates.notna()]
    if len(eligible) < 2 or eligible.min() <= 0:
        return float("nan")
    return float(eligible.max() / eligible.min())


def fairness_table(
    labels,
    probabilities,
    groups: pd.DataFrame,
    threshold: float = 0.5,
    min_group_persons: int = 30,
) -> pd.DataFrame:
    """One row per group kind × group value; ``groups`` holds one column per group kind."""
    y = np.asarray(labels, dtype=int)
    p = np.asarray(probabilities, dtype=float)
    tables = []
    for kind in GROUP_KINDS:
        if kind not in groups.columns:
            continue
        values = groups[kind].astype("string").fillna("none").to_numpy()
        rows = []
        for value in sorted(set(values)):
            mask = values == value
            metrics = classification_metrics(y[mask], p[mask])
            rows.append(
                {
                    "group_kind": kind,
                    "group_value": value,
                    "persons": int(mask.sum()),
                    "positive_rate": float(np.mean(p[mask] >= threshold)),
                    "base_rate": metrics["base_rate"],
                    "mean_probability": float(np.mean(p[mask])),
                    "calibration_error": metrics["ece"],
                    "roc_auc": metrics["roc_auc"],
                }
            )
        table = pd.DataFrame(rows)
        table["largest_disparity_ratio"] = disparity_ratio(
            table["positive_rate"], table["persons"], min_group_persons
        )
        tables.append(table)
    if not tables:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(tables, ignore_index=True)[COLUMNS]
