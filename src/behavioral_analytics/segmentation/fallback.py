"""Rule-based segments for persons the model cannot score.

A person is not scored by the model when ``tenure_days < min_tenure_days``
(too new: its rates over the active span are noise), ``event_count <
min_events`` (too few events to describe a behaviour) or ``active_days <
min_active_days`` (active on too few days for a visit rate to mean anything).
Such persons get, flagged ``is_rule_based``, the first that applies of:

- segment 0, "new (rule-based)": tenure_days < min_tenure_days;
- segment -1, "too little activity (rule-based)": event_count < min_events;
- segment -2, "rare visitor (rule-based)": active_days < min_active_days.

Their ``assignment_distance`` and ``membership_probability`` are NaN and they
are never outliers. Model segments have positive ids, so the two never mix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from behavioral_analytics.segmentation.params import SegmentationParams

NEW_SEGMENT_ID = 0
LOW_ACTIVITY_SEGMENT_ID = -1
RARE_SEGMENT_ID = -2
RULE_LABELS = {
    NEW_SEGMENT_ID: "new (rule-based)",
    LOW_ACTIVITY_SEGMENT_ID: "too little activity (rule-based)",
    RARE_SEGMENT_ID: "rare visitor (rule-based)",
}


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return pd.to_numeric(frame[name], errors="coerce").fillna(0).to_numpy()


def is_rule_based(frame: pd.DataFrame, params: SegmentationParams) -> np.ndarray:
    """True for the rows the model does not score (see the module's rule)."""
    return (
        (_column(frame, "tenure_days") < params.min_tenure_days)
        | (_column(frame, "event_count") < params.min_events)
        | (_column(frame, "active_days") < params.min_active_days)
    )


def rule_based_segment_ids(frame: pd.DataFrame, params: SegmentationParams) -> np.ndarray:
    """The fallback segment id of each row (meaningful where ``is_rule_based``)."""
    return np.select(
        [
            _column(frame, "tenure_days") < params.min_tenure_days,
            _column(frame, "event_count") < params.min_events,
        ],
        [NEW_SEGMENT_ID, LOW_ACTIVITY_SEGMENT_ID],
        default=RARE_SEGMENT_ID,
    )
