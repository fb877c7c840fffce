"""Orchestration: segment every snapshot of ``features`` in as_of_date order.

Per snapshot (rows sorted by person_id):

1. Persons below ``min_tenure_days``, ``min_events`` or ``min_active_days``
   go to the rule-based fallback (``fallback``); the others are scored by
   the model.
2. Refit decision, recorded as ``refit_reason`` in segment_model_runs:
   ``first_fit`` when there is no model yet (none stored, or the stored one
   cannot be rebuilt); ``cadence`` when the model has served
   ``refit_every_snapshots`` snapshots (its training snapshot included);
   ``drift`` when some feature's mean has moved more than
   ``refit_drift_threshold`` training standard deviations since the training
   snapshot (standardized mean difference, ``FeatureSpace.drift``);
   ``none`` otherwise: the snapshot, new persons included, is assigned to
   the existing segments.
3. A refit fits on this snapshot and Hungarian-matches the new segments to
   the previous snapshot's (``identity``); a first fit without any previous
   snapshot numbers them canonically.
4. Outputs: person_segments, segment_profiles, segment_model_runs (one "run"
   per snapshot; silhouette and Davies-Bouldin are those of the chosen
   candidate on a refit, else of this snapshot's assignment on the fixed-seed
   sample), segment_stability against the previous snapshot.

With fewer than ``max(10, 2 * k_min)`` scored persons a refit is skipped (the
current model goes on); without any model nothing can be fitted: the persons
get segment -3 "unscored" (``tables``) and the run row says algorithm
``none``, k 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from behavioral_analytics.segmentation.fallback import is_rule_based
from behavioral_analytics.segmentation.fitting import SegmentModel, fit_model
from behavioral_analytics.segmentation.history import History, prepare, restore
from behavioral_analytics.segmentation.params import SegmentationParams
from behavioral_analytics.segmentation.profiles import PROFILE_COLUMNS, snapshot_profiles
from behavioral_analytics.segmentation.tables import (
    RUN_COLUMNS,
    SEGMENT_COLUMNS,
    STABILITY_COLUMNS,
    reference_rows,
    run_row,
    segment_rows,
    stability_rows,
)


@dataclass
class SegmentationResult:
    person_segments: pd.DataFrame
    segment_profiles: pd.DataFrame
    segment_model_runs: pd.DataFrame
    segment_stability: pd.DataFrame
    model: SegmentModel | None = None  # the model of the last snapshot
    params: SegmentationParams | None = None


def assign_snapshot(result: SegmentationResult, features: pd.DataFrame) -> pd.DataFrame:
    """person_id, segment_id of one snapshot under the run's last model, without a refit
    and without writing it anywhere: the rule-based fallback first, then the model's
    nearest segment (all "unscored" without a model). The churn audit groups its holdout
    (as of T - H) this way: each person by their own features then."""
    params = result.params or SegmentationParams()
    snapshot = prepare(features).reset_index(drop=True)
    if snapshot.empty:
        return pd.DataFrame({"person_id": [], "segment_id": []})
    rule = is_rule_based(snapshot, params)
    scored = snapshot[~rule].reset_index(drop=True)
    model = result.model
    assigned = model.assign(scored) if model is not None and len(scored) else None
    if assigned is None:
        rule = np.ones(len(snapshot), dtype=bool)
    date = pd.Timestamp(snapshot["as_of_date"].iloc[0])
    with threadpool_limits(limits=1):
        rows = segment_rows(snapshot, rule, model, assigned, date, params)
    return rows[["person_id", "segment_id"]]


def _decide(model: SegmentModel | None, scored: pd.DataFrame, params: SegmentationParams):
    """(refit reason, assignment under the current model or None)."""
    if model is None:
        return "first_fit", None
    if model.snapshots_assigned >= params.refit_every_snapshots:
        return "cadence", None
    if model.space.drift(scored) > params.refit_drift_threshold:
        return "drift", None
    return "none", model.assign(scored)


def run_segmentation(
    features: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    previous_features: pd.DataFrame | None = None,
    params: SegmentationParams | None = None,
) -> SegmentationResult:
    """Segment every as-of date of ``features`` (see the module's rules).

    Runs single-threaded (BLAS / OpenMP limited to 1): the fits are on a
    sample, and oversubscribed threads were 40x slower on a busy 2-core worker.
    """
    with threadpool_limits(limits=1):
        return _run(features, previous, previous_features, params)


def _run(features, previous, previous_features, params) -> SegmentationResult:
    params = params or SegmentationParams()
    minimum = max(10, 2 * params.k_range[0])
    features = prepare(features)
    dates = sorted(features["as_of_date"].unique())
    history = restore(previous, previous_features, params, dates[0] if dates else None)
    segments_out, profiles_out, runs_out, stability_out = [], [], [], []
    for date in dates:
        date = pd.Timestamp(date)
        snapshot = features[features["as_of_date"] == date].reset_index(drop=True)
        rule = is_rule_based(snapshot, params)
        scored = snapshot[~rule].reset_index(drop=True)
        model = history.model
        reason, assigned = _decide(model, scored, params)
        if reason != "none" and len(scored) < minimum:
            # Too few scored persons to fit: keep the model, or score nobody without one.
            reason, assigned = "none", model.assign(scored) if model is not None else None
            if model is None:
                rule = np.ones(len(snapshot), dtype=bool)
        if reason != "none":
            model = fit_model(scored, date, params, reference_rows(history), history.used_ids)
            assigned = model.assign(scored)
        segments = segment_rows(snapshot, rule, model, assigned, date, params)
        segments_out.append(segments)
        profiles_out.append(snapshot_profiles(snapshot, segments))
        runs_out.append(run_row(date, model, assigned, reason, params))
        if history.last_segments is not None:
            stability_out.append(stability_rows(history, snapshot, segments, model, date))
        if model is not None and assigned is not None:
            model.snapshots_assigned += 1
            history.used_ids |= {int(i) for i in model.segment_ids}
        history = History(model, segments, snapshot, history.used_ids)
    return SegmentationResult(
        _concat(segments_out, SEGMENT_COLUMNS),
        _concat(profiles_out, PROFILE_COLUMNS),
        _concat(runs_out, RUN_COLUMNS),
        _concat(stability_out, STABILITY_COLUMNS),
        history.model,
        params,
    )


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]
