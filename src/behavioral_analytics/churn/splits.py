"""Time-based snapshots: train, validate, score. Never a random split.

With T = the run's as-of date and H = ``horizon_days``:

=============  ==================  ============================  =========================
role           features as of      labels (no activity in)       used for
=============  ==================  ============================  =========================
``fit``        T − 2H              [T − 2H, T − H)               fit candidates (selection)
``holdout``    T − H               [T − H, T)                    choose model + calibrator,
                                                                 report metrics, fairness
``train``      T − H               [T − H, T)                    refit the chosen model
``score``      T                   unknown (the future)          scores written
=============  ==================  ============================  =========================

``holdout`` and ``train`` are the same rows: the chosen model is refitted on the latest
snapshot whose labels are fully observed. Rows of ``features`` at other dates, and any
activity on or after T, are ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from behavioral_analytics.churn.labels import activity_before, churn_labels, day_series, to_day
from behavioral_analytics.churn.params import InsufficientHistory


@dataclass(frozen=True)
class Snapshots:
    """The three as-of dates of a run (timezone-naive midnights)."""

    score: pd.Timestamp
    train: pd.Timestamp
    fit: pd.Timestamp
    horizon_days: int

    @classmethod
    def for_run(cls, as_of_date: dt.date, horizon_days: int) -> Snapshots:
        if horizon_days < 1:
            raise ValueError(f"horizon_days must be 1 or more, got {horizon_days}")
        score = to_day(as_of_date)
        step = pd.Timedelta(days=horizon_days)
        return cls(score=score, train=score - step, fit=score - 2 * step, horizon_days=horizon_days)


def snapshot_rows(features: pd.DataFrame, as_of_date: pd.Timestamp) -> pd.DataFrame:
    """The features rows of one snapshot, one per person, sorted by person_id."""
    dates = day_series(features["as_of_date"])
    rows = features.loc[dates == as_of_date].copy()
    if rows.empty:
        raise InsufficientHistory(
            f"person_features has no rows as of {as_of_date.date()}: the events do not reach "
            "back two churn horizons before the as-of date"
        )
    rows["person_id"] = rows["person_id"].astype(str)
    if rows["person_id"].duplicated().any():
        raise ValueError(f"person_features has duplicate persons as of {as_of_date.date()}")
    rows["as_of_date"] = as_of_date
    return rows.sort_values("person_id").reset_index(drop=True)


def labelled_snapshot(
    features: pd.DataFrame, activity: pd.DataFrame, snapshots: Snapshots, as_of_date: pd.Timestamp
) -> pd.DataFrame:
    """Snapshot rows with the ``churned`` label of the window after their as-of date."""
    rows = snapshot_rows(features, as_of_date)
    labels = churn_labels(
        rows["person_id"], activity, as_of_date, snapshots.horizon_days, snapshots.score
    )
    rows["churned"] = labels.to_numpy()
    return rows


def scoring_population(
    features: pd.DataFrame, activity: pd.DataFrame, snapshots: Snapshots
) -> pd.DataFrame:
    """Rows to score at T: every features row at T plus anyone active before T without one.

    A person with activity before T has events before T, so the warehouse gives it a row;
    a missing one (a partial ``features`` frame) gets a row with its id and date only, so
    dormant persons are never dropped.
    """
    dates = day_series(features["as_of_date"])
    rows = features.loc[dates == snapshots.score].copy()
    rows["person_id"] = rows["person_id"].astype(str)
    rows["as_of_date"] = snapshots.score
    active_ids = activity_before(activity, snapshots.score)["person_id"].unique()
    missing = sorted(set(active_ids) - set(rows["person_id"]))
    if missing:
        extra = pd.DataFrame({"person_id": missing, "as_of_date": snapshots.score})
        rows = pd.concat([rows, extra], ignore_index=True) if len(rows) else extra
    if rows.empty:
        raise InsufficientHistory(f"nothing to score as of {snapshots.score.date()}")
    return rows.sort_values("person_id").reset_index(drop=True)
