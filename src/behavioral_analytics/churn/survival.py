"""Kaplan-Meier curves of the time to churn, per cohort and per segment (``lifelines``).

Rules, per person with activity before T (activity dates d0 < d1 < … < dn, H = horizon):

- The person **churns** at the first activity date di after which nothing happens for a
  whole horizon: no activity in [di + 1, di + 1 + H), and that window ends on or before T
  (observed). Its duration is (di + 1) − d0 days (the first day without activity, counted
  from the first activity), event observed. A person who resumes later still churned at
  that first lapse.
- Otherwise it is **censored** at T − d0 days (still active, or its last window not yet
  complete).
- Groups: ``all`` (everybody), ``cohort`` = first-seen month (``YYYY-MM`` of the features'
  ``first_seen_at`` as of T, else of d0) and ``segment`` = ``segment_id`` (``none`` when
  missing; no segment rows when nobody has one).
- One row per group × day, day = 0 … the group's longest duration:
  ``survival_probability`` = ``KaplanMeierFitter`` S(day) (share not churned after ``day``
  days), ``at_risk`` = persons with duration ≥ day, ``events`` = churns at exactly ``day``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from behavioral_analytics.churn.labels import activity_before

COLUMNS = ["group_kind", "group_value", "day", "survival_probability", "at_risk", "events"]


def churn_durations(activity: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int) -> pd.DataFrame:
    """person_id, first_activity_date, duration_days, churned (see the module rules)."""
    seen = activity_before(activity, as_of)
    if seen.empty:
        return pd.DataFrame(
            columns=["person_id", "first_activity_date", "duration_days", "churned"]
        )
    dates = seen["activity_date"]
    following = seen.groupby("person_id")["activity_date"].shift(-1)
    lapse_end = dates + pd.Timedelta(days=1 + horizon_days)
    lapsed = (following.isna() & (lapse_end <= as_of)) | (following >= lapse_end)
    first = seen.groupby("person_id")["activity_date"].min()
    first_lapse = seen[lapsed].groupby("person_id")["activity_date"].min()
    out = pd.DataFrame({"first_activity_date": first})
    out["lapse_date"] = first_lapse.reindex(out.index)
    out["churned"] = out["lapse_date"].notna()
    end = out["lapse_date"] + pd.Timedelta(days=1)
    end = end.where(out["churned"], as_of)
    out["duration_days"] = (end - out["first_activity_date"]).dt.days.astype(int)
    out = out.reset_index()
    return out[["person_id", "first_activity_date", "duration_days", "churned"]]


def _curve(kind: str, value: str, durations: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    fitter = KaplanMeierFitter().fit(durations, event_observed=observed)
    days = np.arange(int(durations.max()) + 1)
    survival = fitter.survival_function_at_times(days).to_numpy()
    events = np.bincount(durations[observed], minlength=len(days))[: len(days)]
    leaving = np.bincount(durations, minlength=len(days))[: len(days)]
    at_risk = len(durations) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    return pd.DataFrame(
        {
            "group_kind": kind,
            "group_value": value,
            "day": days,
            "survival_probability": survival,
            "at_risk": at_risk,
            "events": events,
        }
    )


def survival_curves(
    activity: pd.DataFrame,
    as_of: pd.Timestamp,
    horizon_days: int,
    first_seen: pd.Series | None = None,
    segments: pd.Series | None = None,
) -> pd.DataFrame:
    """Curves per group (``first_seen`` and ``segments`` are Series indexed by person_id)."""
    persons = churn_durations(activity, as_of, horizon_days).set_index("person_id")
    if persons.empty:
        return pd.DataFrame(columns=COLUMNS)
    month = persons["first_activity_date"].dt.strftime("%Y-%m")
    if first_seen is not None:
        seen = pd.to_datetime(first_seen.reindex(persons.index))
        if getattr(seen.dt, "tz", None) is not None:
            seen = seen.dt.tz_localize(None)
        month = seen.dt.strftime("%Y-%m").fillna(month)
    groups = {"all": pd.Series("all", index=persons.index), "cohort": month}
    if segments is not None and segments.notna().any():
        groups["segment"] = segments.reindex(persons.index).astype("string").fillna("none")
    curves = []
    for kind, values in groups.items():
        for value in sorted(values.unique()):
            members = persons[values == value]
            curves.append(
                _curve(
                    kind,
                    str(value),
                    members["duration_days"].to_numpy(dtype=int),
                    members["churned"].to_numpy(dtype=bool),
                )
            )
    return pd.concat(curves, ignore_index=True)[COLUMNS]
