"""Fit the candidate solutions on a sample and choose one.

Rules:

- Sample: when there are more than ``sample_size`` points, a fixed-seed sample
  of that many (``numpy.random.default_rng(seed)``, rows in input order, i.e.
  sorted by person_id); every candidate is fitted and scored on it.
- Candidates: k-means (``n_init=10``) and a Gaussian mixture (diagonal
  covariances) for every k in ``k_range``; HDBSCAN (scikit-learn's) with
  ``min_cluster_size`` = the minimum segment size (at least 5 points).
  HDBSCAN noise points are scored at their nearest cluster (so the silhouette
  is not flattered by leaving out the hard points).
- Silhouette and Davies-Bouldin as in ``scores`` (all candidates' silhouettes
  in one pass over the sample's pairwise distances).
- Eligible: at least 2 segments, every segment at least ``min_size_share``
  of the sample, and (HDBSCAN) at most ``max_outlier_share`` outliers.
- Choice: the best silhouette s* among the eligible; candidates with a
  silhouette >= s* - ``silhouette_tolerance`` (default 0.1) are tied, and
  the tie goes to the most segments, then the higher silhouette, then the
  order above. Why: on behavioural data the silhouette maximum is nearly
  always k = 2 (heavy vs light users), a split rather than a segmentation,
  and beyond it the curve is a plateau on which the silhouette barely tells
  k apart (0.28 - 0.32 for k = 4 .. 10 on the generated events, against
  0.37 - 0.40 at k = 2); the finest solution that separates almost as well
  is the most useful one (there k = 2 recovers the personas with ARI about
  0.4, the plateau's finest solutions 0.6 - 0.7). On clearly clustered data
  the silhouette falls by more than the tolerance past the true k (0.89 at
  k = 3, 0.71 at k = 4 on the blobs of the tests), so it is not
  over-split. With no eligible candidate, the k-means solution with the
  smallest k is used.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.mixture import GaussianMixture

from behavioral_analytics.segmentation.model import Clustering, member_means, pairwise_distances
from behavioral_analytics.segmentation.params import SegmentationParams
from behavioral_analytics.segmentation.scores import davies_bouldin, silhouettes


@dataclass
class Candidate:
    algorithm: str
    k: int
    clustering: Clustering
    labels: np.ndarray  # on the sample, internal 0..k-1
    silhouette: float
    davies_bouldin: float
    min_share: float
    outlier_share: float
    eligible: bool = False
    noise: np.ndarray | None = None  # HDBSCAN's own noise flags on the sample

    def summary(self) -> dict:
        """The JSON-able record of this candidate for segment_model_runs.candidates."""
        return {
            "algorithm": self.algorithm,
            "k": self.k,
            "silhouette": _round(self.silhouette),
            "davies_bouldin": _round(self.davies_bouldin),
            "min_share": _round(self.min_share),
            "outlier_share": _round(self.outlier_share),
            "eligible": self.eligible,
        }


def _round(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def sample_indices(n: int, sample_size: int, seed: int) -> np.ndarray:
    """Sorted row indices of the fixed-seed sample (all rows when n <= sample_size)."""
    if n <= sample_size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=sample_size, replace=False))


def _candidate(algorithm: str, clustering: Clustering, points, noise) -> Candidate:
    """A candidate with its sizes and Davies-Bouldin; the silhouette is filled later."""
    labels = clustering.assign(points).labels
    counts = np.bincount(labels, minlength=clustering.k)
    return Candidate(
        algorithm,
        clustering.k,
        clustering,
        labels,
        float("nan"),
        davies_bouldin(points, labels),
        float(counts.min() / len(points)),
        float(noise.mean()) if len(noise) else 0.0,
    )


def fit_kmeans(points: np.ndarray, k: int, seed: int) -> Clustering:
    model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(points)
    return Clustering("kmeans", model.cluster_centers_.astype(float))


def fit_gmm(points: np.ndarray, k: int, seed: int) -> Clustering:
    model = GaussianMixture(n_components=k, covariance_type="diag", random_state=seed)
    model.fit(points)
    return Clustering("gmm", model.means_.astype(float), mixture=model)


def fit_hdbscan(points: np.ndarray, min_size: int) -> tuple[Clustering, np.ndarray] | None:
    """HDBSCAN clusters as centroids + radii, and the noise mask; None below 2 clusters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the default of `copy` changes in 1.10
        labels = HDBSCAN(min_cluster_size=min_size).fit(points).labels_
    k = int(labels.max()) + 1 if len(labels) else 0
    if k < 2:
        return None
    noise = labels < 0
    centroids = member_means(points, labels, k)
    member_distance = pairwise_distances(points[~noise], centroids)[
        np.arange(int((~noise).sum())), labels[~noise]
    ]
    radius = np.array([member_distance[labels[~noise] == c].max() for c in range(k)])
    return Clustering("hdbscan", centroids, radius=radius), noise


def fit_candidates(points: np.ndarray, params: SegmentationParams) -> list[Candidate]:
    """Every candidate of the module's rules, fitted and scored on ``points``."""
    n = len(points)
    low, high = params.k_range
    candidates: list[Candidate] = []
    no_noise = np.zeros(n, dtype=bool)
    for algorithm in ("kmeans", "gmm"):
        if algorithm not in params.algorithms:
            continue
        fit = fit_kmeans if algorithm == "kmeans" else fit_gmm
        for k in range(low, min(high, n - 1) + 1):
            clustering = fit(points, k, params.seed)
            candidates.append(_candidate(algorithm, clustering, points, no_noise))
    if "hdbscan" in params.algorithms and n >= 10:
        fitted = fit_hdbscan(points, max(5, math.ceil(params.min_size_share * n)))
        if fitted is not None:
            clustering, noise = fitted
            candidate = _candidate("hdbscan", clustering, points, noise)
            candidate.noise = noise
            candidates.append(candidate)
    scores = silhouettes(points, [candidate.labels for candidate in candidates])
    for candidate, score in zip(candidates, scores, strict=True):
        candidate.silhouette = score
        candidate.eligible = (
            candidate.k >= 2
            and math.isfinite(candidate.silhouette)
            and candidate.min_share >= params.min_size_share
            and candidate.outlier_share <= params.max_outlier_share
        )
    return candidates


def choose(candidates: list[Candidate], params: SegmentationParams) -> Candidate:
    """The chosen candidate by the module's rule (tolerance ties go to more segments)."""
    eligible = [c for c in candidates if c.eligible]
    if not eligible:
        kmeans = [c for c in candidates if c.algorithm == "kmeans"] or candidates
        if not kmeans:
            raise ValueError("no candidate solution could be fitted")
        return min(kmeans, key=lambda c: c.k)
    best = max(c.silhouette for c in eligible)
    tied = [c for c in eligible if c.silhouette >= best - params.silhouette_tolerance]
    order = {id(c): position for position, c in enumerate(candidates)}
    return min(tied, key=lambda c: (-c.k, -c.silhouette, order[id(c)]))
