"""Churn scores against the event generator's truth (``truth/persons.csv``).

Rules:

- The generator stops a churned person for good on its ``churn_date`` (no event on or
  after it). A scored person **truly churned** for scores as of T with horizon H when its
  ``churn_date`` is set and falls before T + H: it is gone by the end of the window
  (persons who stopped before T are the dormant ones, and count too).
- A warehouse ``person_id`` is matched to a truth person through its account,
  ``scoring.person_hash(user_id)``; persons never identified (no user_id) cannot be
  matched and are left out (``coverage`` says how many scores were matched).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from behavioral_analytics.churn.labels import to_day
from behavioral_analytics.churn.metrics import classification_metrics
from behavioral_analytics.scoring import person_hash


def truth_labels(truth_persons: pd.DataFrame, as_of_date, horizon_days: int) -> pd.Series:
    """1 = truly churned by as_of_date + horizon, indexed by warehouse person_id."""
    persons = truth_persons.copy()
    user_id = persons["user_id"].astype("string").fillna("")
    persons = persons[user_id != ""]
    end = to_day(as_of_date) + pd.Timedelta(days=horizon_days)
    churn = pd.to_datetime(persons["churn_date"].replace("", None), errors="coerce")
    labels = (churn.notna() & (churn < end)).astype("int64").to_numpy()
    index = [person_hash(str(user)) for user in persons["user_id"]]
    return pd.Series(labels, index=pd.Index(index, name="person_id"), name="truly_churned")


def score_against_truth(scores: pd.DataFrame, truth_persons: pd.DataFrame) -> dict:
    """Metrics of ``person_churn_scores`` rows (one as-of date) against the truth."""
    as_of = scores["as_of_date"].iloc[0]
    horizon = int(scores["horizon_days"].iloc[0])
    labels = truth_labels(truth_persons, as_of, horizon)
    matched = scores[scores["person_id"].isin(labels.index)]
    y = labels.reindex(matched["person_id"]).to_numpy()
    result = classification_metrics(y, matched["churn_probability"].to_numpy(dtype=float))
    result["coverage"] = float(len(matched) / len(scores)) if len(scores) else np.nan
    return result
