"""Orchestration of a churn run: ``run_churn(features, activity, persons, params)``.

Order (T = as-of date, H = horizon; see ``splits`` for the snapshots):

1. Keep activity before T and the features rows as of T − 2H, T − H and T only.
2. Label the T − 2H (``fit``) and T − H (``holdout``) snapshots; add the BTYD columns of
   each snapshot from its own calibration period (``features``).
3. Fit the candidates (``logistic``, ``gradient_boosting``, ``pareto_nbd_calibrated``)
   on ``fit``; score the holdout; choose the calibrators and the champion
   (``models.choose``); a candidate without a usable column is left out (its metrics are
   NaN). Baselines on the same holdout:
   BG/NBD and Pareto/NBD fitted on activity before T − H (no labels used), the rule fitted
   on ``fit``. A baseline probability that is NaN (no activity before the snapshot) is
   the rule's rate for persons without activity.
4. Refit the champion (and an ML challenger) on the T − H snapshot with its calibrator;
   score every row at T (``splits.scoring_population``). ``expected_purchases`` = the
   BTYD model with the higher holdout ROC AUC (BG/NBD on ties), fitted on activity before
   T; NaN for persons without activity.
5. Importance, fairness (holdout), survival (activity before T), drift (T − H → T, and
   past scores when given), model version, model card. The holdout's per-segment metrics
   and fairness group persons by ``persons.holdout_segment_id`` (their segment as of
   T − H: a segment as of T would already reflect the holdout's outcome window), else by
   ``segment_id``; survival curves by ``segment_id`` (as of T).
6. Warnings in the summary and the card: the champion's validation ROC AUC below a
   baseline's, a fitting snapshot with less activity history than one horizon, a
   validation ECE above 0.03, a BTYD model that could not be fitted.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from behavioral_analytics.churn import card
from behavioral_analytics.churn.audit import run_warnings, score_monitoring
from behavioral_analytics.churn.baselines import BTYD_MODELS, RecencyFrequencyRule
from behavioral_analytics.churn.drift import feature_drift
from behavioral_analytics.churn.fairness import fairness_table
from behavioral_analytics.churn.features import add_btyd_features
from behavioral_analytics.churn.importance import permutation_importances
from behavioral_analytics.churn.labels import activity_before, day_series
from behavioral_analytics.churn.metrics import (
    ECE_BINNING,
    METRIC_COLUMNS,
    classification_metrics,
    metrics_by_segment,
)
from behavioral_analytics.churn.models import CALIBRATIONS, CANDIDATES, choose, fit_model
from behavioral_analytics.churn.params import ChurnParams, ChurnResult, risk_band
from behavioral_analytics.churn.shadow import baseline_probability, shadow_scores
from behavioral_analytics.churn.splits import Snapshots, labelled_snapshot, scoring_population
from behavioral_analytics.churn.survival import survival_curves
from behavioral_analytics.churn.versioning import model_version

METRIC_MODELS = ("champion", *CANDIDATES, *BTYD_MODELS, "recency_frequency_rule")


def _persons(persons: pd.DataFrame) -> pd.DataFrame:
    frame = persons.copy()
    frame["person_id"] = frame["person_id"].astype(str)
    for column in ("user_id", "platform", "locale", "segment_id"):
        if column not in frame.columns:
            frame[column] = pd.NA
    if "holdout_segment_id" not in frame.columns:
        frame["holdout_segment_id"] = frame["segment_id"]
    return frame.drop_duplicates("person_id").set_index("person_id")


def _metrics_rows(holdout, predictions, calibrations, segments, snaps, version) -> pd.DataFrame:
    frames = []
    for model in METRIC_MODELS:
        table = metrics_by_segment(holdout["churned"], predictions[model], segments)
        table.insert(0, "model", model)
        table.insert(1, "calibration", calibrations.get(model, "none"))
        frames.append(table)
    metrics = pd.concat(frames, ignore_index=True)
    metrics.insert(0, "model_version", version)
    metrics.insert(1, "split", "validation")
    metrics["ece_binning"] = ECE_BINNING
    metrics["train_window_start"] = snaps.fit.date()
    metrics["train_window_end"] = snaps.train.date()
    metrics["validation_as_of_date"] = snaps.train.date()
    order = ["model_version", "split", "model", "calibration", "segment", *METRIC_COLUMNS]
    return metrics[
        order + ["ece_binning", "train_window_start", "train_window_end", "validation_as_of_date"]
    ]


def run_churn(
    features: pd.DataFrame,
    activity: pd.DataFrame,
    persons: pd.DataFrame,
    params: ChurnParams,
    previous_scores: pd.DataFrame | None = None,
) -> ChurnResult:
    """Train, validate and score churn as of ``params.as_of_date`` (see the module rules)."""
    with threadpool_limits(limits=params.n_threads):
        return _run(features, activity, persons, params, previous_scores)


def _run(features, activity, persons, params, previous_scores) -> ChurnResult:
    started = time.perf_counter()
    snaps = Snapshots.for_run(params.as_of_date, params.horizon_days)
    horizon, seed = params.horizon_days, params.seed
    activity = activity_before(activity, snaps.score)
    dates = day_series(features["as_of_date"])
    features = features.loc[dates.isin([snaps.fit, snaps.train, snaps.score]).to_numpy()]
    people = _persons(persons)

    def prepared(rows, as_of):
        return add_btyd_features(rows, activity, as_of, horizon, params.btyd_sample_size, seed)

    fit_rows, _ = prepared(labelled_snapshot(features, activity, snaps, snaps.fit), snaps.fit)
    holdout, _ = prepared(labelled_snapshot(features, activity, snaps, snaps.train), snaps.train)
    score_rows, btyd_fits = prepared(scoring_population(features, activity, snaps), snaps.score)

    # 3. candidates and baselines on the time holdout
    fitted = {name: fit_model(name, fit_rows, seed) for name in CANDIDATES}
    fitted = {name: model for name, model in fitted.items() if model is not None}
    labels = holdout["churned"].to_numpy()
    holdout_metrics = {
        name: {m: classification_metrics(labels, model.predict(holdout, m)) for m in CALIBRATIONS}
        for name, model in fitted.items()
    }
    champion, methods = choose(holdout_metrics)
    for name, model in fitted.items():
        model.method = methods[name]
    rule = RecencyFrequencyRule.fit(fit_rows, fit_rows["churned"].to_numpy())
    predictions = {name: np.full(len(holdout), np.nan) for name in CANDIDATES}
    predictions.update({name: model.predict(holdout) for name, model in fitted.items()})
    predictions["champion"] = predictions[champion]
    for name in (*BTYD_MODELS, "recency_frequency_rule"):
        predictions[name] = baseline_probability(holdout, name, rule)
    calibrations = {**methods, "champion": methods[champion]}
    auc = {
        name: classification_metrics(labels, predictions[name])["roc_auc"] for name in predictions
    }
    best_btyd = "pareto_nbd" if auc["pareto_nbd"] > auc["bg_nbd"] else "bg_nbd"

    window = {
        "features_as_of": snaps.train.date(),
        "labels_from": snaps.train.date(),
        "labels_to_exclusive": snaps.score.date(),
    }
    version = model_version(
        params, window, {"champion": champion, "calibration": methods[champion]}
    )
    segments = people["holdout_segment_id"].reindex(holdout["person_id"]).reset_index(drop=True)
    metrics = _metrics_rows(holdout, predictions, calibrations, segments, snaps, version)

    # 4. refit on T - H, score T (the fit on T - 2H if T - H leaves no usable column)
    final = fit_model(champion, holdout, seed) or fitted[champion]
    final.method = methods[champion]
    probability = final.predict(score_rows)
    cuts = params.risk_band_cut_points
    scores = pd.DataFrame(
        {
            "person_id": score_rows["person_id"].to_numpy(),
            "user_id": people["user_id"].reindex(score_rows["person_id"]).to_numpy(),
            "as_of_date": snaps.score.date(),
            "horizon_days": horizon,
            "churn_probability": probability,
            "expected_purchases": score_rows[f"{best_btyd}_expected_purchases"].to_numpy(),
            "risk_band": risk_band(probability, cuts).to_numpy(),
            "model_version": version,
        }
    )
    shadow = shadow_scores(params, champion, probability, score_rows, holdout, methods, cuts)

    # 5. audit tables
    importance = permutation_importances(fitted[champion], holdout, seed)
    importance.insert(0, "model_version", version)
    groups = people.reindex(holdout["person_id"]).drop(columns="segment_id")
    groups = groups.rename(columns={"holdout_segment_id": "segment"})
    fairness = fairness_table(labels, predictions["champion"], groups, params.fairness_threshold)
    fairness.insert(0, "model_version", version)
    first_seen = score_rows.set_index("person_id").get("first_seen_at")
    curves = survival_curves(activity, snaps.score, horizon, first_seen, people["segment_id"])
    curves.insert(0, "as_of_date", snaps.score.date())
    drift = feature_drift(holdout, score_rows, final.columns)
    drift.insert(0, "reference_as_of_date", snaps.train.date())
    drift.insert(1, "as_of_date", snaps.score.date())
    drift_of_scores, past = score_monitoring(previous_scores, scores, activity, snaps)
    summary = {
        "warnings": run_warnings(auc, metrics, fit_rows, horizon, btyd_fits),
        "champion": champion,
        "calibration": methods[champion],
        "model_version": version,
        "best_btyd": best_btyd,
        "validation_roc_auc": auc,
        "btyd_params": {name: fit.params for name, fit in btyd_fits.items()},
        "btyd_errors": {name: fit.error for name, fit in btyd_fits.items() if fit.error},
        "features": {name: model.columns for name, model in fitted.items()},
        "rows": {"fit": len(fit_rows), "holdout": len(holdout), "scored": len(scores)},
        "seconds": round(time.perf_counter() - started, 2),
    }
    markdown = card.model_card(summary, snaps, metrics, importance, params)
    return ChurnResult(
        scores,
        metrics,
        importance,
        curves,
        shadow,
        fairness,
        markdown,
        drift,
        drift_of_scores,
        past,
        summary,
    )
