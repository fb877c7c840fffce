"""The churn models' shared run: person_features at T, T - H and T - 2H,
the activity days for labels, the audit groups, the segments and the
earlier builds' scores (for score drift and past calibration)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from behavioral_analytics import __version__

from .contract import conform
from .io import fingerprint, once, read, settings
from .segments import result as segment_result

# Output table -> attribute of ChurnResult (the rest are named alike).
ATTRIBUTES = {
    "fct_model_fairness": "model_fairness",
    "fct_feature_drift": "feature_drift",
    "fct_score_drift": "score_drift",
    "fct_past_score_calibration": "past_score_calibration",
}


def _params(values: dict, as_of_date: dt.date):
    from behavioral_analytics.churn import ChurnParams

    defaults = ChurnParams(as_of_date=as_of_date)
    return ChurnParams(
        as_of_date=as_of_date,
        horizon_days=int(values.get("horizon_days", defaults.horizon_days)),
        seed=int(values.get("seed", defaults.seed)),
        challenger=values.get("challenger") or None,
        code_version=f"churn-{__version__}",
    )


def _as_of(refs: dict) -> dt.date | None:
    as_of_dates = read(refs, "int_as_of_dates")
    current = as_of_dates.loc[as_of_dates["is_current"], "as_of_date"]
    return pd.Timestamp(current.iloc[0]).date() if len(current) else None


def _day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.date


def _holdout_segments(refs, segmentation_settings, segments, features, params) -> pd.DataFrame:
    """person_id, holdout_segment_id: each holdout person (as of T - H) assigned to this
    build's segments by their own features then (the segmentation's last model, no
    refit): their segment as of T would already reflect the holdout's outcome window."""
    from behavioral_analytics.segmentation.runner import assign_snapshot

    holdout_date = params.as_of_date - dt.timedelta(days=params.horizon_days)
    rows = features[_day(features["as_of_date"]) == holdout_date]
    empty = pd.DataFrame({"person_id": [], "holdout_segment_id": []})
    if rows.empty or segmentation_settings is None:
        return empty
    segmentation = segment_result(refs, segmentation_settings, segments)
    assigned = assign_snapshot(segmentation, rows)
    assigned["segment_id"] = assigned["segment_id"].astype("Int64")
    return assigned.rename(columns={"segment_id": "holdout_segment_id"})


def inputs(
    refs: dict,
    settings_value,
    previous_scores: pd.DataFrame | None,
    segmentation_settings=None,
):
    """(features, activity, persons, params, earlier scores) of this build.
    ``segmentation_settings``: the segmentation models' settings, to assign the holdout
    persons to segments (None: no per-segment holdout metrics)."""
    as_of_date = _as_of(refs)
    params = _params(settings(settings_value), as_of_date) if as_of_date else None
    features = read(refs, "person_features")
    if params is not None:
        horizon = dt.timedelta(days=params.horizon_days)
        wanted = {as_of_date, as_of_date - horizon, as_of_date - 2 * horizon}
        features = features[_day(features["as_of_date"]).isin(wanted)]
    features = features.sort_values(["as_of_date", "person_id"]).reset_index(drop=True)
    activity = read(refs, "int_churn_activity_days")[["person_id", "activity_date"]]
    attributes = read(refs, "int_person_attributes")
    segments = read(refs, "person_segments")
    persons = attributes.rename(
        columns={"primary_platform": "platform", "primary_locale": "locale"}
    )
    if params is not None:
        current = (
            segments[_day(segments["as_of_date"]) == as_of_date] if len(segments) else segments
        )
        persons = persons.merge(current[["person_id", "segment_id"]], on="person_id", how="left")
        persons["segment_id"] = persons["segment_id"].astype("Int64")
        holdout = _holdout_segments(refs, segmentation_settings, segments, features, params)
        persons = persons.merge(holdout, on="person_id", how="left")
    else:
        persons = persons.assign(segment_id=pd.NA, holdout_segment_id=pd.NA)
    persons = persons[
        ["person_id", "user_id", "platform", "locale", "segment_id", "holdout_segment_id"]
    ]
    persons = persons.sort_values("person_id").reset_index(drop=True)
    earlier = None
    if params is not None and previous_scores is not None and len(previous_scores):
        earlier = previous_scores[_day(previous_scores["as_of_date"]) < as_of_date]
        earlier = earlier.sort_values(["as_of_date", "person_id"]).reset_index(drop=True)
    return features, activity, persons, params, earlier


def result(
    refs: dict,
    settings_value,
    previous_scores: pd.DataFrame | None,
    segmentation_settings=None,
):
    """run_churn on this build's inputs, once per process: a ChurnResult, None without
    events, or (as_of_date, reason) when the history cannot train a model."""
    from behavioral_analytics.churn import InsufficientHistory, run_churn

    features, activity, persons, params, earlier = inputs(
        refs, settings_value, previous_scores, segmentation_settings
    )
    if params is None:
        return None

    def run():
        try:
            return run_churn(
                features=features,
                activity=activity,
                persons=persons,
                params=params,
                previous_scores=earlier,
            )
        except InsufficientHistory as error:
            return params.as_of_date, str(error)

    key = "churn:" + fingerprint(features, activity, persons, earlier, repr(params))
    return once(key, run)


def _untrained_card(as_of_date: dt.date, reason: str) -> pd.DataFrame:
    markdown = (
        f"# Churn model as of {as_of_date}: not trained\n\n{reason}.\n\n"
        "No scores were written. Training needs features two horizons before the as-of "
        "date and both outcomes among the persons then; lower "
        "`behavior__churn_horizon_days` or load more history.\n"
    )
    return pd.DataFrame(
        {
            "model_version": [f"not-trained-{as_of_date}"],
            "model_name": ["churn"],
            "as_of_date": [as_of_date],
            "markdown": [markdown],
        }
    )


def _frame(outcome, name: str) -> pd.DataFrame:
    if isinstance(outcome, tuple):
        return _untrained_card(*outcome) if name == "churn_model_cards" else pd.DataFrame()
    if outcome is None:
        return pd.DataFrame()
    if name == "churn_model_cards":
        scores = outcome.person_churn_scores
        return pd.DataFrame(
            {
                "model_version": [outcome.summary["model_version"]],
                "model_name": ["churn"],
                "as_of_date": [scores["as_of_date"].iloc[0] if len(scores) else None],
                "markdown": [outcome.model_card_markdown],
            }
        )
    return getattr(outcome, ATTRIBUTES.get(name, name))


def table(name: str, refs: dict, settings_value, session, previous_scores, segmentation_settings):
    """One output table of the churn run, under the model's contract."""
    outcome = result(refs, settings_value, previous_scores, segmentation_settings)
    return conform(_frame(outcome, name), name, session)
