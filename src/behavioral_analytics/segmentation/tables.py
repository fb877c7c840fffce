"""The rows of the four output tables, built from one snapshot's results.

- person_segments: model-scored persons carry the model's segment, distance,
  probability and outlier flag; rule-based ones the fallback's segment with
  NaN distance and probability. When no model could be fitted at all (too
  few scored persons), the persons who would have been scored get segment
  -3, "unscored (too few persons to fit)", also flagged ``is_rule_based``.
- segment_model_runs: one row per snapshot (see ``runner``); ``sizes`` counts
  the model segments' persons (JSON object id -> persons), ``candidates`` is
  the JSON list of every candidate tried on a refit ("[]" otherwise).
- segment_stability: ``stability`` against the previous snapshot, with
  centroids in the current model's space.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from behavioral_analytics.segmentation.fallback import (
    RULE_LABELS,
    is_rule_based,
    rule_based_segment_ids,
)
from behavioral_analytics.segmentation.history import History
from behavioral_analytics.segmentation.scores import separation_scores
from behavioral_analytics.segmentation.selection import sample_indices
from behavioral_analytics.segmentation.stability import centroid_movement, stability_row

UNSCORED_SEGMENT_ID = -3
UNSCORED_LABEL = "unscored (too few persons to fit)"

SEGMENT_COLUMNS = [
    "person_id",
    "as_of_date",
    "segment_id",
    "segment_label",
    "assignment_distance",
    "membership_probability",
    "is_outlier",
    "is_rule_based",
    "model_version",
]
RUN_COLUMNS = [
    "as_of_date",
    "model_version",
    "algorithm",
    "k",
    "silhouette",
    "davies_bouldin",
    "sizes",
    "features_used",
    "is_refit",
    "refit_reason",
    "trained_as_of_date",
    "candidates",
]
STABILITY_COLUMNS = [
    "as_of_date",
    "previous_as_of_date",
    "persons_in_both",
    "reassignment_rate",
    "adjusted_rand_index",
    "centroid_movement",
]


def reference_rows(history: History) -> pd.DataFrame | None:
    """The previous snapshot's scored persons: features + segment_id + is_outlier."""
    if history.last_segments is None or history.last_features is None:
        return None
    segments = history.last_segments.loc[
        ~history.last_segments["is_rule_based"].astype(bool),
        ["person_id", "segment_id", "is_outlier"],
    ]
    return history.last_features.merge(segments, on="person_id", how="inner")


def segment_rows(snapshot, rule, model, assigned, date, params) -> pd.DataFrame:
    """person_segments rows of one snapshot (``rule``: the rows not model-scored)."""
    n = len(snapshot)
    frame = pd.DataFrame(
        {
            "person_id": snapshot["person_id"].to_numpy(),
            "as_of_date": np.repeat(np.datetime64(date, "us"), n),
            "segment_id": np.where(
                is_rule_based(snapshot, params),
                rule_based_segment_ids(snapshot, params),
                UNSCORED_SEGMENT_ID,
            ),
            "segment_label": "",
            "assignment_distance": np.nan,
            "membership_probability": np.nan,
            "is_outlier": False,
            "is_rule_based": rule,
            "model_version": model.version if model is not None else "",
        }
    )
    if assigned is not None:
        assignment, ids, _ = assigned
        scored = ~rule
        frame.loc[scored, "segment_id"] = ids
        frame.loc[scored, "assignment_distance"] = assignment.distance
        frame.loc[scored, "membership_probability"] = assignment.probability
        frame.loc[scored, "is_outlier"] = assignment.is_outlier
    labels = {**RULE_LABELS, UNSCORED_SEGMENT_ID: UNSCORED_LABEL}
    labels |= model.labels if model is not None else {}
    frame["segment_label"] = frame["segment_id"].map(labels).fillna("unlabelled")
    return frame[SEGMENT_COLUMNS]


def run_row(date, model, assigned, reason, params) -> pd.DataFrame:
    """The segment_model_runs row of one snapshot."""
    if model is None or assigned is None:
        row = {"model_version": "", "algorithm": "none", "k": 0, "silhouette": np.nan}
        row |= {"davies_bouldin": np.nan, "sizes": "{}", "features_used": "[]"}
        row |= {"is_refit": False, "refit_reason": "none", "trained_as_of_date": pd.NaT}
        row |= {"candidates": "[]"}
    else:
        assignment, ids, points = assigned
        is_refit = reason != "none"
        if is_refit:
            silhouette, davies_bouldin = model.chosen.silhouette, model.chosen.davies_bouldin
        else:
            sample = sample_indices(len(points), params.sample_size, params.seed)
            silhouette, davies_bouldin = separation_scores(points[sample], ids[sample])
        values, counts = np.unique(ids, return_counts=True)
        row = {
            "model_version": model.version,
            "algorithm": model.clustering.algorithm,
            "k": model.clustering.k,
            "silhouette": silhouette,
            "davies_bouldin": davies_bouldin,
            "sizes": json.dumps({str(v): int(c) for v, c in zip(values, counts, strict=True)}),
            "features_used": model.features_json(),
            "is_refit": is_refit,
            "refit_reason": reason,
            "trained_as_of_date": np.datetime64(model.trained_as_of_date, "us"),
            "candidates": model.candidates_json() if is_refit else "[]",
        }
    row["as_of_date"] = np.datetime64(date, "us")
    return pd.DataFrame([row])[RUN_COLUMNS]


def stability_rows(history: History, snapshot, segments, model, date) -> pd.DataFrame:
    """The segment_stability row of this snapshot against the previous one."""
    movement = float("nan")
    reference = reference_rows(history)
    scored = ~segments["is_rule_based"].to_numpy(dtype=bool)
    if model is not None and reference is not None and len(reference) and scored.any():
        movement = centroid_movement(
            model.space.transform(reference),
            reference["segment_id"].to_numpy(dtype=int),
            model.space.transform(snapshot[scored]),
            segments["segment_id"].to_numpy(dtype=int)[scored],
        )
    row = stability_row(history.last_segments, segments, movement)
    row["as_of_date"] = np.datetime64(date, "us")
    row["previous_as_of_date"] = np.datetime64(history.last_segments["as_of_date"].iloc[0], "us")
    return pd.DataFrame([row])[STABILITY_COLUMNS]
