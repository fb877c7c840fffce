"""The generated model card (markdown) of a churn run.

Sections: model, warnings (when any), data window, features, validation metrics of every
model, calibration per segment (champion), permutation importance, BTYD fits, known
limits, and the statement that the model is predictive, not causal. Numbers come from
the run's tables.
"""

from __future__ import annotations

import math

import pandas as pd


def _number(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _table(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame[columns].itertuples(index=False):
        lines.append("| " + " | ".join(_number(value) for value in row) + " |")
    return lines


def model_card(summary: dict, snaps, metrics: pd.DataFrame, importance, params) -> str:
    """Markdown text of the card."""
    h = params.horizon_days
    overall = metrics[metrics["segment"] == "all"]
    champion_rows = metrics[metrics["model"] == "champion"]
    metric_columns = [
        "model",
        "calibration",
        "roc_auc",
        "pr_auc",
        "brier",
        "ece",
        "base_rate",
        "persons",
        "positives",
    ]
    segment_columns = ["segment", "persons", "base_rate", "ece", "brier", "roc_auc"]
    lines = [
        f"# Churn model card — version `{summary['model_version']}`",
        "",
        "## Model",
        f"- Predicts P(no churn-activity event in the {h} days after the as-of date).",
        f"- Champion: **{summary['champion']}**, calibrated with **{summary['calibration']}**"
        " (both chosen on the time holdout); code version "
        f"`{params.code_version}`, seed {params.seed}.",
        f"- Risk bands: low < {params.risk_band_cut_points[0]} <= medium < "
        f"{params.risk_band_cut_points[1]} <= high.",
        "",
        *(
            ["## Warnings", *[f"- {note}" for note in summary["warnings"]], ""]
            if summary["warnings"]
            else []
        ),
        "## Data window",
        f"- Selection: fitted on features as of {snaps.fit.date()} with labels from "
        f"[{snaps.fit.date()}, {snaps.train.date()}); validated on features as of "
        f"{snaps.train.date()} with labels from [{snaps.train.date()}, {snaps.score.date()}).",
        f"- Scoring model: refitted on features as of {snaps.train.date()} with labels from "
        f"[{snaps.train.date()}, {snaps.score.date()}); scores as of {snaps.score.date()}.",
        f"- Rows: {summary['rows']['fit']} (fit), {summary['rows']['holdout']} (validation), "
        f"{summary['rows']['scored']} scored. No event on or after {snaps.score.date()} is read.",
        "",
        "## Features",
    ]
    for name, columns in summary["features"].items():
        lines.append(f"- {name} ({len(columns)}): " + ", ".join(f"`{c}`" for c in columns))
    lines += ["", "## Validation metrics (ECE: 10 equal-width bins)", ""]
    lines += _table(overall, metric_columns)
    lines += ["", "## Calibration per segment (champion)", ""]
    lines += _table(champion_rows, segment_columns)
    lines += ["", "## Permutation importance (ROC AUC drop on the holdout, top 10)", ""]
    lines += _table(importance.head(10), ["feature", "importance_mean", "importance_std"])
    lines += ["", "## BTYD baselines (fitted in weeks on the scoring period)", ""]
    for name, fitted in summary["btyd_params"].items():
        text = ", ".join(f"{key} = {value:.4g}" for key, value in fitted.items()) or "not fitted"
        lines.append(f"- {name}: {text}")
    lines += [
        "",
        "## Known limits",
        "- One training snapshot one horizon back: a change of the churn rate between"
        " consecutive windows (seasonality, campaigns, an ageing cohort) moves the"
        " calibration; watch the calibration of past scores once their outcomes arrive.",
        "- Persons without any churn-activity event before a snapshot have no BTYD"
        " features; persons first seen after the training snapshot are scored by"
        " extrapolation from older persons.",
        "- BTYD assumes stationary purchase rates per person; the rule baseline is a lookup"
        " table of the fitting snapshot.",
        "- The fairness table is an audit of differences between groups, not a correction.",
        "",
        "## Not causal",
        "These scores predict who is likely to stop; they do not say why, nor what an"
        " action would change. Importance measures predictive association on the holdout,"
        " not effect. Test interventions with an experiment.",
        "",
    ]
    return "\n".join(lines)
