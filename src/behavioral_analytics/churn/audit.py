"""Run cautions and score monitoring of a churn run.

Rules:

- Warnings (``run_warnings``): the champion's validation ROC AUC below a baseline's; a
  fitting snapshot with less activity history than one horizon (its persons are all
  younger than the window they are labelled on); a validation ECE above ``ECE_WARNING``
  (0.03, the issue's target); a BTYD model that could not be fitted.
- Score monitoring (``score_monitoring``, when earlier scores are given): PSI of the
  latest earlier run's probabilities against this run's (``drift.score_drift``) and the
  calibration of every earlier run whose window has ended
  (``drift.past_score_calibration``); earlier = as-of date before T.
"""

from __future__ import annotations

import pandas as pd

from behavioral_analytics.churn.baselines import BTYD_MODELS
from behavioral_analytics.churn.drift import past_score_calibration, score_drift
from behavioral_analytics.churn.labels import day_series

ECE_WARNING = 0.03


def run_warnings(auc, metrics, fit_rows, horizon, btyd_fits) -> list[str]:
    """Plain-text cautions for the model card (see the module rules)."""
    notes = []
    baselines = {name: auc[name] for name in (*BTYD_MODELS, "recency_frequency_rule")}
    better = [name for name, value in baselines.items() if value > auc["champion"]]
    if better:
        notes.append(
            f"validation ROC AUC of the champion ({auc['champion']:.4f}) is below "
            + ", ".join(f"{name} ({baselines[name]:.4f})" for name in better)
        )
    history = fit_rows["btyd_age_days"].max()
    if not history >= horizon:
        notes.append(
            f"the fitting snapshot has at most {history:.0f} days of activity history, less "
            f"than the {horizon}-day horizon: the selection is weak evidence"
        )
    champion = metrics[(metrics["model"] == "champion") & (metrics["segment"] == "all")]
    ece = float(champion["ece"].iloc[0])
    if ece > ECE_WARNING:
        notes.append(f"validation ECE of the champion is {ece:.4f} (> {ECE_WARNING})")
    notes += [
        f"{name} could not be fitted: {fit.error}" for name, fit in btyd_fits.items() if fit.error
    ]
    return notes


def score_monitoring(previous_scores, scores, activity, snaps):
    """Score PSI against the latest earlier run and calibration of past scores (if given)."""
    if previous_scores is None or previous_scores.empty:
        return pd.DataFrame(), pd.DataFrame()
    previous = previous_scores.copy()
    previous["as_of_date"] = day_series(previous["as_of_date"])
    previous = previous[previous["as_of_date"] < snaps.score]
    if previous.empty:
        return pd.DataFrame(), pd.DataFrame()
    latest = previous["as_of_date"].max()
    reference = previous.loc[previous["as_of_date"] == latest, "churn_probability"]
    drift = score_drift(reference, scores["churn_probability"])
    drift = pd.DataFrame(
        [{"reference_as_of_date": latest.date(), "as_of_date": snaps.score.date(), **drift}]
    )
    return drift, past_score_calibration(previous, activity, snaps.score)
