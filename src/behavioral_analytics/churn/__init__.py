"""Churn scoring: labels, time splits, BTYD baselines, calibrated models, audit tables.

``run_churn(features, activity, persons, params)`` is what the dbt Python models call;
the modules each hold one rule set (see their docstrings).
"""

from behavioral_analytics.churn.params import ChurnParams, ChurnResult, InsufficientHistory
from behavioral_analytics.churn.runner import run_churn

__all__ = ["ChurnParams", "ChurnResult", "InsufficientHistory", "run_churn"]
