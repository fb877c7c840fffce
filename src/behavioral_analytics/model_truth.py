"""The dbt Python models' outputs against the event generator's truth.

``model_scores(warehouse, truth_dir)`` reads the latest as-of date of
``person_segments`` and ``person_churn_scores`` and returns:

- ``segments``: ``segmentation.truth.persona_recovery`` (adjusted Rand index of the
  model segments against the generated personas);
- ``churn``: ``churn.truth.score_against_truth`` (the scores against the persons the
  generator churned by the end of the horizon), with the holdout ROC AUC of the champion
  and of the Pareto/NBD baseline on the warehouse's own labels (churn_model_metrics).

A table that is missing or empty gives None for its part (the models were not built,
or the history was too short to train).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from behavioral_analytics import relations
from behavioral_analytics.churn.truth import score_against_truth
from behavioral_analytics.segmentation.truth import persona_recovery


def _latest(connection, table: str) -> pd.DataFrame | None:
    layout = relations.layout(connection)
    try:
        frame = connection.execute(
            f"select * from {layout.marts}.{table}"
            f" where as_of_date = (select max(as_of_date) from {layout.marts}.{table})"
        ).df()
    except duckdb.CatalogException:
        return None
    return frame if len(frame) else None


def _holdout_auc(connection, model_version: str) -> dict:
    layout = relations.layout(connection)
    rows = connection.execute(
        f"select model, roc_auc, ece from {layout.marts}.churn_model_metrics"
        " where model_version = ? and segment = 'all'",
        [model_version],
    ).df()
    return {
        f"holdout_{row.model}_{metric}": float(getattr(row, metric))
        for row in rows.itertuples()
        for metric in ("roc_auc", "ece")
    }


def model_scores(warehouse: Path, truth_dir: Path) -> dict:
    truth = pd.read_csv(truth_dir / "persons.csv", keep_default_na=False, dtype=str)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        segments = _latest(connection, "person_segments")
        scores = _latest(connection, "person_churn_scores")
        result: dict = {"segments": None, "churn": None}
        if segments is not None:
            result["segments"] = {
                "as_of_date": str(pd.Timestamp(segments["as_of_date"].iloc[0]).date()),
                **persona_recovery(segments, truth),
            }
        if scores is not None:
            version = str(scores["model_version"].iloc[0])
            result["churn"] = {
                "as_of_date": str(pd.Timestamp(scores["as_of_date"].iloc[0]).date()),
                "horizon_days": int(scores["horizon_days"].iloc[0]),
                "model_version": version,
                **score_against_truth(scores, truth),
                **_holdout_auc(connection, version),
            }
    return result
