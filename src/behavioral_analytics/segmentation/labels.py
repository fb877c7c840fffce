"""Profile-derived segment labels.

Each model segment is named when the model is fitted, from its members on the
training snapshot compared with the whole scored population of that snapshot,
and keeps the name until the next refit. With ``m(x)`` the segment's median of
x, ``P(x)`` the population's median, ``b`` the segment's buyer share (order_count
> 0), ``B`` the population's, and ``Pb(x)`` the median of x among the
population's buyers, the first rule that holds names the segment:

1. "dormant": m(recency_days) >= max(14, 3 P(recency_days)).
2. "at risk": m(recency_days) >= 2 P(recency_days) and b >= B (buyers slipping
   away); "lapsing visitor" when b < B.
3. "new and exploring": m(tenure_days) <= P(tenure_days) / 2.
4. "high-value loyal": m(order_count) >= 2, m(active_days) >= P(active_days)
   and m(revenue) >= Pb(revenue).
5. "bargain buyer": b >= B and the segment buyers' median average_order_value
   <= 0.6 Pb(average_order_value).
6. "occasional buyer": b >= B.
7. "engaged browser": m(event_count) >= P(event_count).
8. "casual visitor": otherwise.

When two segments get the same name, each of them is suffixed with its
segment id ("occasional buyer (3)"), so labels stay unique within a model.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

PROFILE_COLUMNS = (
    "recency_days",
    "tenure_days",
    "active_days",
    "event_count",
    "order_count",
    "revenue",
    "average_order_value",
)


def _median(values: pd.Series) -> float:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.median()) if len(values) else float("nan")


def label_rule(segment: pd.DataFrame, population: pd.DataFrame) -> str:
    """The label of one segment's rows against the population's rows (module's rules)."""

    def m(column: str) -> float:
        return _median(segment[column])

    def p(column: str) -> float:
        return _median(population[column])

    buyers = population[pd.to_numeric(population["order_count"]).fillna(0) > 0]
    segment_buyers = segment[pd.to_numeric(segment["order_count"]).fillna(0) > 0]
    b = len(segment_buyers) / len(segment) if len(segment) else 0.0
    big_b = len(buyers) / len(population) if len(population) else 0.0
    recency, population_recency = m("recency_days"), p("recency_days")
    if recency >= max(14.0, 3 * population_recency):
        return "dormant"
    if recency >= 2 * population_recency:
        return "at risk" if b >= big_b and b > 0 else "lapsing visitor"
    if m("tenure_days") <= p("tenure_days") / 2:
        return "new and exploring"
    buyer_revenue = _median(buyers["revenue"])
    if (
        m("order_count") >= 2
        and m("active_days") >= p("active_days")
        and m("revenue") >= buyer_revenue
    ):
        return "high-value loyal"
    if b >= big_b and b > 0:
        segment_value = _median(segment_buyers["average_order_value"])
        if segment_value <= 0.6 * _median(buyers["average_order_value"]):
            return "bargain buyer"
        return "occasional buyer"
    if m("event_count") >= p("event_count"):
        return "engaged browser"
    return "casual visitor"


def segment_labels(frame: pd.DataFrame, segment_ids: np.ndarray) -> dict[int, str]:
    """Segment id -> unique label, for the scored rows ``frame`` and their ids."""
    labels = {
        int(segment_id): label_rule(frame[segment_ids == segment_id], frame)
        for segment_id in sorted(set(segment_ids.tolist()))
    }
    counts = Counter(labels.values())
    return {
        segment_id: f"{label} ({segment_id})" if counts[label] > 1 else label
        for segment_id, label in labels.items()
    }
