"""Parameters of a segmentation run, and the model version they give.

Every threshold of the segmentation is a field here, so that the dbt Python
models can pass each ``behavior__segment_*`` var straight through. The model
version is a hash of the code version, these parameters and the training
as-of date: two runs with the same three have the same version, and a later
run can find which earlier snapshot a stored model was trained on (see
``runner``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date

import pandas as pd

from behavioral_analytics.segmentation.features import DEFAULT_FEATURES, FEATURES

ALGORITHMS = ("kmeans", "gmm", "hdbscan")
SCALERS = ("robust", "standard")


@dataclass(frozen=True)
class SegmentationParams:
    """Parameters of a segmentation run (defaults are the vars' defaults).

    - ``k_range``: inclusive range of segment counts tried for k-means and the
      Gaussian mixture.
    - ``min_size_share``: every segment of an eligible solution holds at least
      this share of the fitted persons.
    - ``sample_size``: persons sampled (fixed seed) for fitting and scoring
      candidates; everybody else is assigned to the fitted segments.
    - ``seed``: the one seed of every random step.
    - ``pca_components``: optional PCA on the scaled features (None: none).
    - ``scaler``: ``robust`` (median / IQR) or ``standard`` (mean / sd),
      applied after log1p.
    - ``silhouette_tolerance``: candidates whose null-calibrated silhouette
      is within this (absolute) of the best are near-best; among them the
      consensus partition is chosen (``selection``).
    - ``null_references``: structureless reference sets the silhouette is
      calibrated against (0: the raw silhouette is used).
    - ``features``: the model features by name (``features.FEATURES``).
    - ``max_outlier_share``: a density (HDBSCAN) solution leaving more than
      this share of persons as outliers is not eligible.
    - ``refit_every_snapshots``: refit when this many snapshots have been
      assigned with the model, its training snapshot included.
    - ``refit_drift_threshold``: refit when the mean of some model feature
      has moved more than this many training standard deviations since the
      training snapshot (standardized mean difference).
    - ``min_events`` / ``min_tenure_days`` / ``min_active_days``: persons
      below any of them are not scored by the model but by the rule-based
      fallback. The model's features are rates over the active span: with
      less than two weeks of tenure (one weekly cycle of weekday / weekend
      behaviour) or fewer than 3 active days they are mostly noise (one
      active day sets the active-day rate to 1).
    - ``algorithms``: the families compared (subset of kmeans, gmm, hdbscan).
    - ``code_version``: the version of the calling code, part of the model
      version.
    """

    k_range: tuple[int, int] = (2, 10)
    min_size_share: float = 0.03
    sample_size: int = 5000
    seed: int = 42
    pca_components: int | None = None
    scaler: str = "standard"
    silhouette_tolerance: float = 0.02
    null_references: int = 3
    max_outlier_share: float = 0.25
    refit_every_snapshots: int = 4
    refit_drift_threshold: float = 0.25
    min_events: int = 3
    min_tenure_days: int = 14
    min_active_days: int = 3
    algorithms: tuple[str, ...] = ALGORITHMS
    features: tuple[str, ...] = DEFAULT_FEATURES
    code_version: str = "segmentation-3"

    def __post_init__(self) -> None:
        low, high = self.k_range
        if not 2 <= low <= high:
            raise ValueError(f"k_range must satisfy 2 <= low <= high, got {self.k_range}")
        if not 0 <= self.min_size_share < 0.5:
            raise ValueError("min_size_share must be in [0, 0.5)")
        if self.scaler not in SCALERS:
            raise ValueError(f"scaler must be one of {SCALERS}")
        unknown = set(self.algorithms) - set(ALGORITHMS)
        if unknown or not self.algorithms:
            raise ValueError(f"algorithms must be a non-empty subset of {ALGORITHMS}")
        if not self.features or set(self.features) - set(FEATURES):
            raise ValueError(f"features must be a non-empty subset of {sorted(FEATURES)}")
        if self.refit_every_snapshots < 1:
            raise ValueError("refit_every_snapshots must be >= 1")


def model_version(params: SegmentationParams, trained_as_of_date: date | pd.Timestamp) -> str:
    """sha256 of (code version, every parameter, training as-of date), 16 hex digits."""
    payload = asdict(params)
    payload["k_range"] = list(params.k_range)
    payload["algorithms"] = list(params.algorithms)
    payload["features"] = list(params.features)
    payload["trained_as_of_date"] = pd.Timestamp(trained_as_of_date).date().isoformat()
    text = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
