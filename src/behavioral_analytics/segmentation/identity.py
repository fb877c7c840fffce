"""Stable segment ids: a segment keeps its id across refits.

Rules:

- Model segment ids are positive integers; ids <= 0 belong to the
  rule-based fallback (see ``fallback``).
- First fit without a reference: ids 1..k by the segments' engagement,
  highest first (the mean log1p(event_count) of their members on the training
  snapshot); ties by the clustering's internal order.
- With a reference (the segments of the previous snapshot, their centroids
  recomputed in the new model's space): Hungarian matching
  (``scipy.optimize.linear_sum_assignment``) of new centroids to reference
  centroids on Euclidean distance, minimising the total distance. Matched
  segments take the reference id; unmatched new segments (more segments than
  before) get fresh ids, max(every id used so far) + 1, + 2, ... in
  engagement order. A reference id left unmatched is retired, never reused.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from behavioral_analytics.segmentation.model import pairwise_distances


def canonical_ids(engagement: np.ndarray, first_id: int = 1) -> dict[int, int]:
    """Internal label -> id, ids from first_id by engagement descending (ties: label)."""
    order = sorted(range(len(engagement)), key=lambda label: (-engagement[label], label))
    return {label: first_id + rank for rank, label in enumerate(order)}


def match_ids(
    centroids: np.ndarray,
    reference: dict[int, np.ndarray],
    engagement: np.ndarray,
    used_ids: set[int],
) -> dict[int, int]:
    """Internal label -> id by Hungarian matching to the reference centroids (see rules)."""
    reference = {
        segment_id: centre
        for segment_id, centre in reference.items()
        if segment_id > 0 and np.all(np.isfinite(centre))
    }
    if not reference:
        return canonical_ids(engagement, first_id=max(used_ids | {0}) + 1)
    reference_ids = sorted(reference)
    cost = pairwise_distances(centroids, np.vstack([reference[i] for i in reference_ids]))
    rows, columns = linear_sum_assignment(cost)
    mapping = {int(row): reference_ids[column] for row, column in zip(rows, columns, strict=True)}
    next_id = max(used_ids | set(reference_ids) | {0}) + 1
    unmatched = [label for label in range(len(centroids)) if label not in mapping]
    for label in sorted(unmatched, key=lambda label: (-engagement[label], label)):
        mapping[label] = next_id
        next_id += 1
    return mapping


def ids_from_history(labels: np.ndarray, previous_ids: np.ndarray, k: int) -> dict[int, int] | None:
    """Internal label -> the id most of its members had in a stored run (ties: smaller id).

    Used to rebuild a stored model: the same data and parameters give the same
    partition, so every label maps to exactly one stored id. None when some
    label has no member with a positive stored id or two labels map to one id.
    """
    mapping: dict[int, int] = {}
    for label in range(k):
        ids = previous_ids[(labels == label) & (previous_ids > 0)]
        if not len(ids):
            return None
        values, counts = np.unique(ids, return_counts=True)
        mapping[label] = int(values[np.argmax(counts)])
    if len(set(mapping.values())) != k:
        return None
    return mapping
