"""Population stability and the calibration of past scores.

Population stability index (PSI) between a reference (earlier) and a current sample:
PSI = Σ_bins (a − e) · ln(a / e), with e, a = the shares of the reference and current rows
in each bin, each share floored at 1e-4 (an empty bin would make ln infinite). Binning:

- **features**: the reference's deciles (cut points at its 10 %, 20 %, … 90 % quantiles,
  duplicates merged, open-ended outer bins), plus one bin for missing values; a column
  that is missing in both samples, or constant in the reference, gets as many bins as it
  has distinct cut points (possibly one, then PSI = 0 unless missing shares differ);
- **scores** (probabilities): 10 equal-width bins of [0, 1].

Usual reading: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 large shift (thresholds are
the caller's vars; nothing here warns).

Calibration of past scores: scores written as of ``s`` with horizon H are compared with
the outcome that has since arrived (churned = no activity in [s, s + H)), only when the
whole window is observed (s + H <= the current as-of date T); metrics as in ``metrics``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from behavioral_analytics.churn.labels import churn_labels, day_series, to_day
from behavioral_analytics.churn.metrics import ECE_BINNING, classification_metrics

FLOOR = 1e-4
FEATURE_BINNING = "deciles of the reference snapshot + a missing-value bin"
SCORE_BINNING = "10 equal-width bins of [0, 1]"


def _shares(codes: np.ndarray, bins: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=bins).astype(float)
    return np.maximum(counts / max(len(codes), 1), FLOOR)


def population_stability_index(reference, current, edges: np.ndarray) -> float:
    """PSI over the bins defined by inner cut points ``edges`` plus a missing-value bin."""
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    bins = len(edges) + 2

    def codes(values):
        index = np.searchsorted(edges, values, side="right")
        return np.where(np.isnan(values), bins - 1, index)

    expected, actual = _shares(codes(ref), bins), _shares(codes(cur), bins)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def decile_edges(reference) -> np.ndarray:
    values = np.asarray(reference, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return np.array([])
    return np.unique(np.quantile(values, np.linspace(0.1, 0.9, 9)))


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, columns: list[str]
) -> pd.DataFrame:
    """feature, psi, reference/current rows and missing shares, binning; per column."""
    rows = []
    for column in columns:
        ref = pd.to_numeric(reference[column], errors="coerce").astype(float).to_numpy()
        cur = pd.to_numeric(current[column], errors="coerce").astype(float).to_numpy()
        rows.append(
            {
                "feature": column,
                "psi": population_stability_index(ref, cur, decile_edges(ref)),
                "reference_rows": len(ref),
                "current_rows": len(cur),
                "reference_missing_share": float(np.isnan(ref).mean()) if len(ref) else np.nan,
                "current_missing_share": float(np.isnan(cur).mean()) if len(cur) else np.nan,
                "binning": FEATURE_BINNING,
            }
        )
    return pd.DataFrame(rows)


def score_drift(reference_scores, current_scores) -> dict:
    """PSI of two sets of churn probabilities over 10 equal-width bins, with their means."""
    edges = np.linspace(0.1, 0.9, 9)
    ref = np.clip(np.asarray(reference_scores, dtype=float), 0, 1)
    cur = np.clip(np.asarray(current_scores, dtype=float), 0, 1)
    return {
        "psi": population_stability_index(ref, cur, edges),
        "reference_rows": len(ref),
        "current_rows": len(cur),
        "reference_mean": float(np.nanmean(ref)) if len(ref) else np.nan,
        "current_mean": float(np.nanmean(cur)) if len(cur) else np.nan,
        "binning": SCORE_BINNING,
    }


def past_score_calibration(
    past_scores: pd.DataFrame, activity: pd.DataFrame, as_of_date
) -> pd.DataFrame:
    """Per (as_of_date, horizon_days, model_version) of past scores whose window has ended.

    ``past_scores``: person_id, as_of_date, horizon_days, churn_probability, model_version.
    Returns those keys, the metrics of ``metrics.classification_metrics``,
    ``mean_probability`` and ``ece_binning``; nothing for windows still open.
    """
    now = to_day(as_of_date)
    scores = past_scores.copy()
    scores["as_of_date"] = day_series(scores["as_of_date"])
    rows = []
    keys = ["as_of_date", "horizon_days", "model_version"]
    for (as_of, horizon, version), group in scores.groupby(keys, sort=True):
        if as_of + pd.Timedelta(days=int(horizon)) > now:
            continue
        labels = churn_labels(group["person_id"], activity, as_of, int(horizon), now)
        probability = group["churn_probability"].to_numpy(dtype=float)
        rows.append(
            {
                "as_of_date": as_of,
                "horizon_days": int(horizon),
                "model_version": version,
                **classification_metrics(labels.to_numpy(), probability),
                "mean_probability": float(np.nanmean(probability)),
                "ece_binning": ECE_BINNING,
            }
        )
    return pd.DataFrame(rows)
