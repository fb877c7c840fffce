"""Fit a segmentation model on one snapshot: space, chosen solution, ids, labels.

A ``SegmentModel`` is everything later snapshots need to be assigned without a
refit: the fitted feature space (which also holds the drift reference), the
chosen clustering, the internal-label -> segment_id map, the labels, and the
training as-of date and version.

Ids come from one of three places (see ``identity``): canonical order on a
first fit; Hungarian matching to a reference snapshot's segments on a refit;
or, when a stored model is rebuilt, the ids its persons were stored with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from behavioral_analytics.segmentation import identity
from behavioral_analytics.segmentation.features import FeatureSpace
from behavioral_analytics.segmentation.labels import segment_labels
from behavioral_analytics.segmentation.model import Assignment, Clustering
from behavioral_analytics.segmentation.params import SegmentationParams, model_version
from behavioral_analytics.segmentation.selection import (
    Candidate,
    choose,
    fit_candidates,
    sample_indices,
)


@dataclass
class SegmentModel:
    space: FeatureSpace
    clustering: Clustering
    chosen: Candidate
    candidates: list[Candidate]
    trained_as_of_date: pd.Timestamp
    version: str
    segment_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    labels: dict[int, str] = field(default_factory=dict)
    training_outliers: frozenset[str] = frozenset()  # HDBSCAN noise of the fitted sample
    snapshots_assigned: int = 0
    ids_source: str = "canonical"  # canonical, matched or stored

    def assign(self, scored: pd.DataFrame) -> tuple[Assignment, np.ndarray, np.ndarray]:
        """(assignment, segment ids, points) of the scored rows of a snapshot."""
        points = self.space.transform(scored)
        assignment = self.clustering.assign(points)
        if self.training_outliers:
            is_training = scored["as_of_date"].to_numpy() == np.datetime64(self.trained_as_of_date)
            in_sample = scored["person_id"].isin(self.training_outliers).to_numpy() & is_training
            assignment.is_outlier = assignment.is_outlier | in_sample
        return assignment, self.segment_ids[assignment.labels], points

    def candidates_json(self) -> str:
        return json.dumps([c.summary() for c in self.candidates], sort_keys=True)

    def features_json(self) -> str:
        return json.dumps(self.space.columns)


def _engagement(scored: pd.DataFrame, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean log1p(event_count) of each internal label's members."""
    volume = np.log1p(pd.to_numeric(scored["event_count"]).fillna(0).to_numpy(dtype=float))
    return np.array([volume[labels == c].mean() if (labels == c).any() else 0 for c in range(k)])


def fit_model(
    scored: pd.DataFrame,
    as_of_date: pd.Timestamp,
    params: SegmentationParams,
    reference: pd.DataFrame | None = None,
    used_ids: set[int] | None = None,
    stored_ids: np.ndarray | None = None,
) -> SegmentModel:
    """Fit on the scored rows of one snapshot (sorted by person_id).

    ``reference``: person_features rows of the previous snapshot with their
    ``segment_id`` and ``is_outlier`` (scored rows only), for Hungarian matching.
    ``stored_ids``: the segment_id each row of ``scored`` was stored with, to
    rebuild a stored model with its own ids (takes precedence).
    """
    space = FeatureSpace(params.features, params.scaler, params.pca_components, params.seed)
    space.fit(scored)
    points = space.transform(scored)
    sample = sample_indices(len(points), params.sample_size, params.seed)
    candidates = fit_candidates(points[sample], params)
    chosen = choose(candidates, params)
    clustering = chosen.clustering
    outliers: frozenset[str] = frozenset()
    if chosen.noise is not None:
        outliers = frozenset(scored["person_id"].to_numpy()[sample][chosen.noise].tolist())
    model = SegmentModel(
        space,
        clustering,
        chosen,
        candidates,
        pd.Timestamp(as_of_date),
        model_version(params, as_of_date),
        training_outliers=outliers,
    )
    assignment = clustering.assign(points)
    engagement = _engagement(scored, assignment.labels, clustering.k)
    mapping = None
    if stored_ids is not None:
        mapping = identity.ids_from_history(assignment.labels, stored_ids, clustering.k)
        model.ids_source = "stored" if mapping is not None else model.ids_source
    if mapping is None and reference is not None and len(reference):
        reference_points = space.transform(reference)
        keep = ~reference["is_outlier"].to_numpy(dtype=bool)
        reference_ids = reference["segment_id"].to_numpy(dtype=int)
        centres = {
            int(segment_id): reference_points[keep & (reference_ids == segment_id)].mean(axis=0)
            for segment_id in np.unique(reference_ids[keep])
        }
        mapping = identity.match_ids(
            clustering.centroids, centres, engagement, set(used_ids or set())
        )
        model.ids_source = "matched"
    if mapping is None:
        mapping = identity.canonical_ids(engagement, first_id=max((used_ids or set()) | {0}) + 1)
    model.segment_ids = np.array([mapping[label] for label in range(clustering.k)], dtype=int)
    ids = model.segment_ids[assignment.labels]
    model.labels = segment_labels(scored.reset_index(drop=True), ids)
    return model
