"""Run parameters and results of the churn scoring."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

MODEL_NAMES = (
    "logistic",
    "gradient_boosting",
    "pareto_nbd_calibrated",
    "bg_nbd",
    "pareto_nbd",
    "recency_frequency_rule",
)
RISK_BANDS = ("low", "medium", "high")


class InsufficientHistory(ValueError):
    """The data cannot train a churn model as of the as-of date: a training snapshot
    (T - H or T - 2H) has no persons, or its labels hold one class only. The dbt models
    then write empty tables and a model card saying why, instead of failing the build."""


@dataclass(frozen=True)
class ChurnParams:
    """What a run depends on (all but ``n_threads`` enter the model version).

    - ``as_of_date`` T: scores are as of T; only activity before T is read.
    - ``horizon_days`` H: churn = no activity in [as-of, as-of + H).
    - ``seed``: every random choice (folds, samples, boosting, permutations).
    - ``challenger``: one of ``MODEL_NAMES`` scored beside the champion, or None.
    - ``code_version``: the package or git version that produced the run.
    - ``btyd_sample_size``: BTYD models are fitted on at most this many persons.
    - ``risk_band_cut_points`` (a, b): low = p < a, medium = a <= p < b, high = p >= b.
    - ``fairness_threshold``: probability at or above which a person counts as a
      predicted churner in the fairness audit.
    - ``n_threads``: OpenMP/BLAS threads (1 by default: on a shared 2-core machine
      gradient boosting with 2 threads ran 4-25 times slower than with 1).
    """

    as_of_date: dt.date
    horizon_days: int = 28
    seed: int = 42
    challenger: str | None = None
    code_version: str = "dev"
    btyd_sample_size: int = 10_000
    risk_band_cut_points: tuple[float, float] = (0.4, 0.7)
    fairness_threshold: float = 0.5
    n_threads: int = 1

    def __post_init__(self):
        if self.challenger is not None and self.challenger not in MODEL_NAMES:
            raise ValueError(f"challenger must be one of {MODEL_NAMES} or None")
        low, high = self.risk_band_cut_points
        if not 0 < low < high < 1:
            raise ValueError("risk_band_cut_points must be 0 < low < high < 1")


@dataclass
class ChurnResult:
    """The tables of one run (see ``runner.run_churn``) and a summary for reports."""

    person_churn_scores: pd.DataFrame
    churn_model_metrics: pd.DataFrame
    churn_feature_importance: pd.DataFrame
    churn_survival_curves: pd.DataFrame
    churn_shadow_scores: pd.DataFrame
    model_fairness: pd.DataFrame
    model_card_markdown: str
    feature_drift: pd.DataFrame
    score_drift: pd.DataFrame
    past_score_calibration: pd.DataFrame
    summary: dict = field(default_factory=dict)


def risk_band(probabilities, cut_points: tuple[float, float]) -> pd.Series:
    """'low' below the first cut point, 'high' at or above the second, else 'medium'."""
    values = pd.Series(probabilities, dtype="float64")
    low, high = cut_points
    bands = pd.Series("medium", index=values.index, dtype="string")
    bands[values < low] = "low"
    bands[values >= high] = "high"
    return bands
