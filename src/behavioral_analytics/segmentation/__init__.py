"""Behavioural segmentation of person_features snapshots (issue 10, section 1).

``run_segmentation(features, previous, previous_features, params)`` returns the
four tables the dbt Python models write: person_segments, segment_profiles,
segment_model_runs and segment_stability. One module per job:

- ``params``: the parameters and the model version hash;
- ``features``: which features, log1p, imputation, scaler, optional PCA;
- ``selection``: k-means / Gaussian mixture / HDBSCAN candidates on a
  sample, chosen by silhouette within the minimum segment size;
  ``scores``: silhouette (all candidates in one pass) and Davies-Bouldin;
- ``model``: a fitted solution and how any point is assigned (outliers);
- ``identity``: stable ids (canonical order, Hungarian matching);
- ``labels``: profile-derived labels; ``profiles``: segment_profiles;
- ``fallback``: rule-based segments for persons the model cannot score;
- ``stability``: reassignment rate, ARI and centroid movement;
- ``fitting`` / ``history`` / ``runner`` / ``tables``: fitting one snapshot,
  rebuilding the state of earlier runs, the orchestration, and the rows of
  the output tables.
"""

from behavioral_analytics.segmentation.params import SegmentationParams, model_version
from behavioral_analytics.segmentation.runner import SegmentationResult, run_segmentation

__all__ = ["SegmentationParams", "SegmentationResult", "model_version", "run_segmentation"]
