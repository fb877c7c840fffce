"""Separation scores of labelings on the same points: silhouette and Davies-Bouldin.

Silhouette follows scikit-learn's definition (a = mean distance to the other
members of the own cluster, b = the smallest mean distance to another
cluster, s = (b - a) / max(a, b), 0 for a point alone in its cluster; the
score is the mean s). Every labeling of one sample is scored in a single pass
over the pairwise distances, by blocks of rows (Euclidean distances in
float64, ``scipy.spatial.distance.cdist``), multiplying each block by the
stacked one-hot matrices of all labelings: the cost is one distance pass for
all candidates, and no n x n matrix is kept. Davies-Bouldin is
scikit-learn's. Either score is NaN for fewer than 2 labels, or as many
labels as points.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.metrics import davies_bouldin_score

BLOCK_ROWS = 512


def _scorable(labels: np.ndarray) -> bool:
    distinct = len(np.unique(labels))
    return 2 <= distinct < len(labels)


def silhouettes(points: np.ndarray, labelings: list[np.ndarray]) -> list[float]:
    """The mean silhouette of each labeling of ``points`` (see module)."""
    points = np.asarray(points, dtype=np.float64)
    n = len(points)
    codes, offsets, total = [], [], 0
    for labels in labelings:
        _, code = np.unique(labels, return_inverse=True)
        codes.append(code)
        offsets.append(total)
        total += int(code.max()) + 1 if n else 0
    scorable = [_scorable(labels) for labels in labelings]
    if not any(scorable):
        return [float("nan")] * len(labelings)
    onehot = np.zeros((n, total))
    for code, offset in zip(codes, offsets, strict=True):
        onehot[np.arange(n), offset + code] = 1.0
    sums = np.empty((n, total))
    for start in range(0, n, BLOCK_ROWS):
        sums[start : start + BLOCK_ROWS] = (
            cdist(points[start : start + BLOCK_ROWS], points) @ onehot
        )
    sizes = onehot.sum(axis=0)
    result = []
    rows = np.arange(n)
    for code, offset, ok in zip(codes, offsets, scorable, strict=True):
        if not ok:
            result.append(float("nan"))
            continue
        k = int(code.max()) + 1
        block, size = sums[:, offset : offset + k], sizes[offset : offset + k]
        own = size[code]
        a = block[rows, code] / np.maximum(own - 1, 1)
        means = block / size[None, :]
        means[rows, code] = np.inf
        b = means.min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.where(own > 1, (b - a) / np.maximum(a, b), 0.0)
        result.append(float(np.nan_to_num(scores).mean()))
    return result


def davies_bouldin(points: np.ndarray, labels: np.ndarray) -> float:
    """scikit-learn's Davies-Bouldin index; NaN when not scorable."""
    return float(davies_bouldin_score(points, labels)) if _scorable(labels) else float("nan")


def separation_scores(points: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(silhouette, Davies-Bouldin) of one labeling."""
    return silhouettes(points, [labels])[0], davies_bouldin(points, labels)
