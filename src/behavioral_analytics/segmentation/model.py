"""A fitted clustering and the rule that assigns any point of the space to it.

Assignment rules (the same for the training snapshot and every later one, so
new persons are placed without a refit):

- ``kmeans`` and ``hdbscan``: the nearest centroid (Euclidean, in the scaled
  space). For HDBSCAN the centroid of a cluster is the mean of its members.
- ``gmm``: the component with the highest posterior (``predict``);
  ``membership_probability`` is that posterior. The other algorithms give NaN.
- ``assignment_distance``: the Euclidean distance to the assigned centroid
  (for the mixture: to the assigned component's mean).
- Outliers (HDBSCAN only): a point is an outlier when it is farther from its
  nearest centroid than that cluster's radius, the largest distance of one of
  its HDBSCAN members (non-noise points of the fitted sample) to the
  centroid; the points of the fitted sample keep HDBSCAN's own verdict
  (noise = outlier). An outlier still gets its nearest segment's id, with
  ``is_outlier`` true, so every person has one segment; k-means and mixture
  solutions flag nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.mixture import GaussianMixture


@dataclass
class Assignment:
    labels: np.ndarray  # internal cluster index 0..k-1
    distance: np.ndarray
    probability: np.ndarray
    is_outlier: np.ndarray


@dataclass
class Clustering:
    """A fitted solution: centroids in internal order 0..k-1 and how to assign."""

    algorithm: str
    centroids: np.ndarray
    mixture: GaussianMixture | None = None
    radius: np.ndarray | None = None  # per cluster, HDBSCAN only

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    def assign(self, points: np.ndarray) -> Assignment:
        """Assign points (rows) to this solution by the module's rules."""
        points = np.asarray(points, dtype=float)
        distances = pairwise_distances(points, self.centroids)
        n = points.shape[0]
        probability = np.full(n, np.nan)
        if self.mixture is not None and n:
            posterior = self.mixture.predict_proba(points)
            labels = posterior.argmax(axis=1)
            probability = posterior[np.arange(n), labels]
        else:
            labels = distances.argmin(axis=1) if n else np.zeros(0, dtype=int)
        distance = distances[np.arange(n), labels] if n else np.zeros(0)
        is_outlier = np.zeros(n, dtype=bool)
        if self.radius is not None and n:
            is_outlier = distance > self.radius[labels]
        return Assignment(labels.astype(int), distance, probability, is_outlier)


def pairwise_distances(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Euclidean distances, rows = points, columns = centroids."""
    diff = points[:, None, :] - centroids[None, :, :]
    return np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))


def member_means(points: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean point of each label 0..k-1 (NaN row for a label without members)."""
    means = np.full((k, points.shape[1]), np.nan)
    for label in range(k):
        members = points[labels == label]
        if len(members):
            means[label] = members.mean(axis=0)
    return means
