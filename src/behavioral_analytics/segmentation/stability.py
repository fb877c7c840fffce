"""Stability of the segments between two consecutive as-of dates.

Over the persons present in both snapshots and scored by the model in both
(not rule-based in either; a person graduating from the fallback is not a
reassignment of the model):

- ``persons_in_both``: their number;
- ``reassignment_rate``: the share of them whose segment_id changed;
- ``adjusted_rand_index``: ARI between their two segmentations (1 = the same
  partition up to names; NaN with fewer than 2 such persons);
- ``centroid_movement``: for each model segment present at both dates, the
  Euclidean distance between the mean point of its members at the earlier and
  at the later date, both in the feature space of the model in force at the
  later date; averaged weighting each segment by its members at the later
  date (NaN without a common segment or without the earlier features).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score


def _scored(segments: pd.DataFrame) -> pd.DataFrame:
    return segments.loc[~segments["is_rule_based"].astype(bool), ["person_id", "segment_id"]]


def centroid_movement(
    previous_points: np.ndarray,
    previous_ids: np.ndarray,
    points: np.ndarray,
    ids: np.ndarray,
) -> float:
    """Member-weighted mean distance between the segments' mean points (see module)."""
    common = sorted(set(previous_ids[previous_ids > 0]) & set(ids[ids > 0]))
    if not common:
        return float("nan")
    distances, weights = [], []
    for segment_id in common:
        before = previous_points[previous_ids == segment_id].mean(axis=0)
        after = points[ids == segment_id].mean(axis=0)
        distances.append(float(np.linalg.norm(after - before)))
        weights.append(int((ids == segment_id).sum()))
    return float(np.average(distances, weights=weights))


def stability_row(
    previous_segments: pd.DataFrame,
    segments: pd.DataFrame,
    movement: float,
) -> dict:
    """The segment_stability row of two snapshots' person_segments (without the dates)."""
    both = _scored(previous_segments).merge(
        _scored(segments), on="person_id", suffixes=("_previous", "")
    )
    persons = len(both)
    if persons:
        changed = float((both["segment_id"] != both["segment_id_previous"]).mean())
    else:
        changed = float("nan")
    ari = (
        float(adjusted_rand_score(both["segment_id_previous"], both["segment_id"]))
        if persons >= 2
        else float("nan")
    )
    return {
        "persons_in_both": persons,
        "reassignment_rate": changed,
        "adjusted_rand_index": ari,
        "centroid_movement": movement,
    }
