"""The model's input frame of one snapshot: the mart's features plus the BTYD columns.

Rules (all from activity before the snapshot's as-of date ``s``; see ``baselines``):

- ``btyd_frequency``, ``btyd_recency_days``, ``btyd_age_days``: the BTYD calibration
  summary (repeat activity dates, last − first, ``s`` − first; days).
- ``activity_days`` (distinct activity dates), ``days_since_last_activity`` (``s`` − last).
- ``recency_ratio`` = days_since_last_activity / max(btyd_age_days, 1) and
  ``activity_rate`` = activity_days / max(btyd_age_days, 1): scale-free, so they mean the
  same at every snapshot (the absolute ages of a cohort grow by H between snapshots).
- For ``bg_nbd`` and ``pareto_nbd``, fitted on this snapshot's calibration period:
  ``<model>_expected_purchases`` (in the horizon), ``<model>_p_alive``,
  ``<model>_churn_probability`` = P(no activity in the horizon) and
  ``<model>_churn_logit`` = its logit (probabilities clipped to [1e-4, 1 − 1e-4]).
- Persons without activity before ``s`` get NaN in every BTYD column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from behavioral_analytics.churn.baselines import (
    BTYD_MODELS,
    BtydFit,
    fit_btyd,
    predict_btyd,
    rfm_summary,
)

BTYD_COLUMNS = [
    "btyd_frequency",
    "btyd_recency_days",
    "btyd_age_days",
    "activity_days",
    "days_since_last_activity",
    "recency_ratio",
    "activity_rate",
] + [
    f"{model}_{output}"
    for model in BTYD_MODELS
    for output in ("expected_purchases", "p_alive", "churn_probability", "churn_logit")
]


def add_btyd_features(
    rows: pd.DataFrame,
    activity: pd.DataFrame,
    as_of: pd.Timestamp,
    horizon_days: int,
    sample_size: int,
    seed: int,
) -> tuple[pd.DataFrame, dict[str, BtydFit]]:
    """``rows`` (one snapshot, sorted by person_id) with the BTYD columns; the two fits."""
    summary = rfm_summary(rows["person_id"], activity, as_of)
    out = rows.copy()
    out["btyd_frequency"] = summary["frequency"].to_numpy()
    out["btyd_recency_days"] = summary["recency_days"].to_numpy()
    out["btyd_age_days"] = summary["age_days"].to_numpy()
    out["activity_days"] = summary["activity_days"].to_numpy()
    out["days_since_last_activity"] = summary["days_since_last_activity"].to_numpy()
    age = np.maximum(summary["age_days"].to_numpy(), 1.0)
    out["recency_ratio"] = summary["days_since_last_activity"].to_numpy() / age
    out["activity_rate"] = summary["activity_days"].to_numpy() / age
    fits = {}
    for model in BTYD_MODELS:
        fits[model] = fit_btyd(model, summary, sample_size, seed)
        predicted = predict_btyd(fits[model], summary, horizon_days)
        out[f"{model}_expected_purchases"] = predicted["expected_purchases"].to_numpy()
        out[f"{model}_p_alive"] = predicted["p_alive"].to_numpy()
        churn = predicted["churn_probability"].to_numpy()
        out[f"{model}_churn_probability"] = churn
        clipped = np.clip(churn, 1e-4, 1 - 1e-4)
        out[f"{model}_churn_logit"] = np.log(clipped / (1 - clipped))
    return out, fits
