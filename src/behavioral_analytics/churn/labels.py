"""Churn labels from activity dates.

Rules:

- A *day* is a timezone-naive midnight (``pandas.Timestamp``); activity dates are the
  reporting-time local dates of the warehouse (``int_churn_activity_days``).
- **No lookahead**: every computation first keeps only activity strictly before the run's
  as-of date T (``activity_before``); nothing at or after T is ever read.
- **Churn** for a snapshot at as-of date ``s`` with horizon ``H`` days: the person has no
  activity date ``d`` with ``s <= d < s + H``. The label is only defined when the whole
  window is observed, ``s + H <= T``; asking for a later snapshot raises.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def to_day(value) -> pd.Timestamp:
    """A date, datetime or string as a timezone-naive midnight."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def day_series(values: pd.Series) -> pd.Series:
    """A column of dates as timezone-naive midnights (datetime64[ns])."""
    series = pd.to_datetime(values)
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_localize(None)
    return series.dt.normalize().astype("datetime64[ns]")


def activity_before(activity: pd.DataFrame, as_of_date: dt.date) -> pd.DataFrame:
    """Distinct (person_id, activity_date) with activity_date < as_of_date, sorted."""
    frame = pd.DataFrame(
        {
            "person_id": activity["person_id"].astype(str),
            "activity_date": day_series(activity["activity_date"]),
        }
    )
    frame = frame[frame["activity_date"] < to_day(as_of_date)]
    frame = frame.drop_duplicates().sort_values(["person_id", "activity_date"])
    return frame.reset_index(drop=True)


def churn_labels(
    person_ids: pd.Series,
    activity: pd.DataFrame,
    snapshot_date: dt.date,
    horizon_days: int,
    observed_until: dt.date,
) -> pd.Series:
    """1 = churned (no activity in [snapshot, snapshot + horizon)), 0 = active; by person_id.

    ``observed_until`` is the run's as-of date T: activity on or after it is dropped, and
    the window must end on or before it.
    """
    start = to_day(snapshot_date)
    end = start + pd.Timedelta(days=horizon_days)
    if end > to_day(observed_until):
        raise ValueError(
            f"churn window [{start.date()}, {end.date()}) ends after the observed period "
            f"(activity before {to_day(observed_until).date()}): labels would look ahead"
        )
    seen = activity_before(activity, observed_until)
    in_window = seen[(seen["activity_date"] >= start) & (seen["activity_date"] < end)]
    active = set(in_window["person_id"])
    ids = person_ids.astype(str)
    labels = np.where(ids.isin(active), 0, 1)
    return pd.Series(labels, index=ids.to_numpy(), name="churned", dtype="int64")
