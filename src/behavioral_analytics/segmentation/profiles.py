"""segment_profiles: one row per as_of_date x segment_id (rule-based segments included).

- ``persons`` / ``share``: persons of the segment, and their share of every
  person of the snapshot.
- ``median_<feature>``: the segment's median of each of ``MEDIAN_FEATURES``
  (person_features columns, nulls ignored).
- ``conversion_lift``: share of the segment with order_count > 0 divided by
  that share in the whole snapshot (NaN when nobody in the snapshot bought).
- ``retention_lift``: share of the segment with recency_days <= 7 (active in
  the last week before the as-of date) divided by that share in the snapshot
  (NaN when nobody was).
- ``description``: one line built from the above.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEDIAN_FEATURES = (
    "tenure_days",
    "recency_days",
    "active_days",
    "event_count",
    "session_count",
    "events_per_session",
    "order_count",
    "revenue",
    "average_order_value",
    "page_view_count",
    "distinct_features_used",
    "engagement_score",
)
RETENTION_DAYS = 7
PROFILE_COLUMNS = [
    "as_of_date",
    "segment_id",
    "segment_label",
    "description",
    "persons",
    "share",
    *(f"median_{feature}" for feature in MEDIAN_FEATURES),
    "conversion_lift",
    "retention_lift",
]


def _share(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else float("nan")


def _lift(segment_share: float, population_share: float) -> float:
    return segment_share / population_share if population_share > 0 else float("nan")


def describe(label: str, row: dict) -> str:
    """One line: size, typical behaviour, lifts."""

    def number(value: float) -> str:
        return "n/a" if value is None or not np.isfinite(value) else f"{value:g}"

    return (
        f"{label}: {row['persons']} persons ({row['share']:.1%}); median "
        f"{number(row['median_event_count'])} events on {number(row['median_active_days'])} "
        f"active days, {number(row['median_order_count'])} orders, last seen "
        f"{number(row['median_recency_days'])} days before; conversion x"
        f"{number(round(row['conversion_lift'], 2))}, retention x"
        f"{number(round(row['retention_lift'], 2))}"
    )


def snapshot_profiles(snapshot: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Profiles of one snapshot: ``snapshot`` (person_features) aligned row for row
    with ``segments`` (person_segments of that date)."""
    frame = snapshot.reset_index(drop=True).copy()
    frame["segment_id"] = segments["segment_id"].to_numpy()
    frame["segment_label"] = segments["segment_label"].to_numpy()
    bought = pd.to_numeric(frame["order_count"]).fillna(0) > 0
    retained = pd.to_numeric(frame["recency_days"]).fillna(np.inf) <= RETENTION_DAYS
    population_conversion, population_retention = _share(bought), _share(retained)
    rows = []
    for segment_id, members in frame.groupby("segment_id", sort=True):
        row: dict = {
            "segment_id": int(segment_id),
            "segment_label": str(members["segment_label"].iloc[0]),
            "persons": len(members),
            "share": len(members) / len(frame),
        }
        for feature in MEDIAN_FEATURES:
            values = pd.to_numeric(members[feature], errors="coerce").dropna()
            row[f"median_{feature}"] = float(values.median()) if len(values) else float("nan")
        row["conversion_lift"] = _lift(_share(bought[members.index]), population_conversion)
        row["retention_lift"] = _lift(_share(retained[members.index]), population_retention)
        row["description"] = describe(row["segment_label"], row)
        rows.append(row)
    profiles = pd.DataFrame(rows, columns=[c for c in PROFILE_COLUMNS if c != "as_of_date"])
    profiles.insert(0, "as_of_date", snapshot["as_of_date"].iloc[0] if len(snapshot) else pd.NaT)
    return profiles
