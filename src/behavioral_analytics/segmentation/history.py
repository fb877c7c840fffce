"""Input hygiene, and the state of earlier runs rebuilt from their stored rows.

An incremental build passes the person_segments rows of earlier as-of dates
(``previous``) and their person_features rows (``previous_features``). From
them, the run continues exactly where the earlier ones stopped:

- The stored model is found by its version: the training as-of date is the
  previous snapshot date ``d`` for which ``model_version(params, d)`` equals
  the model_version stored on the last previous date. It is refitted on that
  snapshot's features; the same data and parameters give the same
  partition, and each segment takes the id its persons were stored with.
  The count of snapshots it has served is the number of previous dates from
  its training date on.
- When that fails (other code version or parameters, or the training
  snapshot's features are missing), there is no model: the first new
  snapshot is fitted and matched to the last previous snapshot's segments
  (Hungarian matching, ``identity``), and its run says ``first_fit``;
  without ``previous_features`` there is nothing to match on, and the new
  segments get fresh ids.
- Every id stored in ``previous`` counts as used, so a fresh id never reuses
  a retired one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from behavioral_analytics.segmentation.fallback import is_rule_based
from behavioral_analytics.segmentation.fitting import SegmentModel, fit_model
from behavioral_analytics.segmentation.params import SegmentationParams, model_version


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with as_of_date as a day (datetime64, no zone), person_id as text,
    rows sorted by (as_of_date, person_id); duplicate person x date is an error."""
    frame = frame.copy()
    dates = pd.to_datetime(frame["as_of_date"])
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    frame["as_of_date"] = dates.dt.normalize().astype("datetime64[us]")
    frame["person_id"] = frame["person_id"].astype(str)
    if frame.duplicated(["person_id", "as_of_date"]).any():
        raise ValueError("more than one row per person_id x as_of_date")
    return frame.sort_values(["as_of_date", "person_id"], kind="mergesort").reset_index(drop=True)


@dataclass
class History:
    model: SegmentModel | None = None
    last_segments: pd.DataFrame | None = None  # person_segments rows of the last date
    last_features: pd.DataFrame | None = None  # person_features rows of the last date
    used_ids: set[int] = field(default_factory=set)


def _rebuild(
    segments: pd.DataFrame, features: pd.DataFrame, params: SegmentationParams
) -> SegmentModel | None:
    last_date = segments["as_of_date"].max()
    stored_versions = segments.loc[segments["as_of_date"] == last_date, "model_version"]
    version = stored_versions.mode().iloc[0] if len(stored_versions) else None
    dates = sorted(features.loc[features["as_of_date"] <= last_date, "as_of_date"].unique())
    trained = next((d for d in reversed(dates) if model_version(params, d) == version), None)
    if trained is None:
        return None
    snapshot = features[features["as_of_date"] == trained]
    scored = snapshot[~is_rule_based(snapshot, params)].reset_index(drop=True)
    stored = scored[["person_id"]].merge(
        segments.loc[segments["as_of_date"] == trained, ["person_id", "segment_id"]],
        on="person_id",
        how="left",
    )
    stored_ids = stored["segment_id"].fillna(0).to_numpy(dtype=int)
    try:
        model = fit_model(scored, pd.Timestamp(trained), params, stored_ids=stored_ids)
    except ValueError:
        return None
    if model.ids_source != "stored":
        return None
    served = segments.loc[segments["as_of_date"] >= trained, "as_of_date"].nunique()
    model.snapshots_assigned = int(served)
    return model


def restore(
    previous: pd.DataFrame | None,
    previous_features: pd.DataFrame | None,
    params: SegmentationParams,
    before: pd.Timestamp | None,
) -> History:
    """The state after the earlier runs whose rows are ``previous`` (see module)."""
    if previous is None or not len(previous):
        return History()
    segments = prepare(previous)
    if before is not None:
        segments = segments[segments["as_of_date"] < before]
    if not len(segments):
        return History()
    ids = segments["segment_id"].to_numpy(dtype=int)
    history = History(used_ids={int(i) for i in np.unique(ids[ids > 0])})
    last_date = segments["as_of_date"].max()
    history.last_segments = segments[segments["as_of_date"] == last_date].reset_index(drop=True)
    if previous_features is None or not len(previous_features):
        return history
    features = prepare(previous_features)
    features = features[features["as_of_date"] <= last_date]
    history.last_features = features[features["as_of_date"] == last_date].reset_index(drop=True)
    history.model = _rebuild(segments, features, params)
    return history
