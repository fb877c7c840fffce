"""The report's sections: which marts each needs, its chart(s) and one-line caption.

A section is rendered only when every mart it needs exists and has rows; otherwise it is
listed as skipped with a line saying which mart is missing or empty and how to build it.
Every rendered section holds exactly one chart (the funnels give one section per funnel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
import yaml

from behavioral_analytics import project
from behavioral_analytics.report import binning, charts
from behavioral_analytics.report.queries import Warehouse

# The dbt Python models (python_models/): builds that exclude tag:python_models skip them.
PYTHON_MODELS = frozenset(
    {
        "person_segments",
        "segment_profiles",
        "person_churn_scores",
        "churn_model_metrics",
        "fct_model_fairness",
        "fct_past_score_calibration",
        "fct_feature_drift",
        "fct_score_drift",
    }
)
DRIFT_DEFAULTS = {"behavior__feature_drift_max_psi": 0.25, "behavior__score_drift_max_psi": 0.2}


@dataclass(frozen=True)
class Chart:
    """One rendered section: a figure and the caption under it."""

    key: str
    title: str
    caption: str
    figure: go.Figure


@dataclass(frozen=True)
class Skipped:
    """A section left out, and why."""

    key: str
    title: str
    reason: str


class Skip(Exception):
    """Raised by a section whose marts exist but hold nothing to draw."""


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    group: str
    marts: tuple[str, ...]
    build: Callable[[Warehouse], list[Chart]]
    uses: tuple[str, ...] = field(default=())  # marts read when present (header counts)


def build_hint(mart: str) -> str:
    if mart in PYTHON_MODELS:
        return (
            f"it is a dbt Python model: `dbt build --select +{mart}` on at least two weeks of "
            "history builds it (`behavior demo` does; builds with "
            "`--exclude tag:python_models` leave it out)"
        )
    return f"build it with `dbt build --select +{mart}` (or `behavior demo`)"


def missing_reason(warehouse: Warehouse, page: Page) -> str | None:
    for mart in page.marts:
        status = warehouse.status(mart)
        if status.rows is None:
            return f"{warehouse.marts}.{mart} is missing: {build_hint(mart)}."
        if status.rows == 0:
            if mart == "fct_score_drift":
                return (
                    f"{warehouse.marts}.{mart} is empty: it compares scores at two as-of "
                    "dates; build again at a later as-of date (the scores are incremental)."
                )
            return f"{warehouse.marts}.{mart} is empty (0 rows): {build_hint(mart)}."
    return None


def drift_thresholds() -> dict[str, float]:
    """The drift warn thresholds: the dbt_project.yml vars, else their defaults."""
    try:
        config = yaml.safe_load((project.PROJECT_ROOT / "dbt_project.yml").read_text("utf-8"))
        variables = config.get("vars", {}) or {}
    except (OSError, yaml.YAMLError):
        variables = {}
    return {key: float(variables.get(key, default)) for key, default in DRIFT_DEFAULTS.items()}


def percent(value: float) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.1%}"


# ---- data quality ------------------------------------------------------------------------


def event_volumes(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.event_volumes()
    anomalies = int(frame["is_anomaly"].sum())
    partial = sorted(set(charts.iso(frame.loc[frame["is_partial_day"], "received_date"])))
    caption = (
        "fct_daily_event_volumes: sum(event_count) per received_date, stacked by event_name; "
        f"× marks a day with is_anomaly (|count − trailing baseline mean| above the threshold), "
        f"{anomalies} anomalous name-days"
        + (f"; {', '.join(partial)} is still arriving (is_partial_day)." if partial else ".")
    )
    return [Chart("event_volumes", "Event volumes per day", caption, charts.event_volumes(frame))]


def bad_lines(warehouse: Warehouse) -> list[Chart]:
    totals = warehouse.reconciliation_totals()
    frame = warehouse.bad_lines()
    if frame.empty:
        raise Skip(
            f"{warehouse.marts}.fct_raw_file_reconciliation has no bad line: all "
            f"{totals['lines_read']} lines read were staged."
        )
    source = (
        "stg_tracker__events_quarantine (reason)"
        if warehouse.status("stg_tracker__events_quarantine", warehouse.staging).rows is not None
        else "fct_raw_file_reconciliation.lines_quarantined"
    )
    caption = (
        f"fct_raw_file_reconciliation per received_date: duplicates, unreadable files, and "
        f"quarantined lines from {source}; over {totals['files']} files lines_read "
        f"{totals['lines_read']} = staged {totals['events_staged']} + duplicates "
        f"{totals['duplicates']} + quarantined {totals['quarantined']} (lost {totals['lost']})."
    )
    return [Chart("bad_lines", "Bad lines per day", caption, charts.bad_lines(frame))]


# ---- activity ----------------------------------------------------------------------------


def sessions(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.sessions_per_day()
    total = int(frame["sessions"].sum())
    bounce = float((frame["bounce_rate"] * frame["sessions"]).sum() / total) if total else None
    caption = (
        "fct_sessions: count(*) per session_start_date (UTC date of session_start_at), stacked "
        f"by platform; {total} sessions, bounce rate (is_bounce) {percent(bounce)}."
    )
    return [Chart("sessions", "Sessions per day", caption, charts.sessions(frame))]


def active_users(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.active_users()
    caption = (
        "fct_active_users_daily: DAU = persons with an active event on the day, WAU / MAU = "
        "in the trailing 7 / 30 days ending that day; stickiness = dau_over_mau = DAU / MAU."
    )
    return [
        Chart("active_users", "DAU, WAU, MAU and stickiness", caption, charts.active_users(frame))
    ]


def stickiness(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.stickiness()
    if frame.empty:
        raise Skip(f"{warehouse.marts}.fct_stickiness has no weekly rows.")
    caption = (
        "fct_stickiness (period_unit = week): persons active on exactly n distinct days of "
        "the week (persons), one bar group per n, one colour per week."
    )
    return [Chart("stickiness", "Power-user curve", caption, charts.stickiness(frame))]


# ---- retention and lifecycle -------------------------------------------------------------


def retention(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.weekly_retention()
    if frame.empty:
        raise Skip(f"{warehouse.marts}.fct_retention_cohorts has no first_seen weekly rows.")
    incomplete = int((~frame["is_period_complete"]).sum())
    caption = (
        "fct_retention_cohorts (cohort_kind = first_seen, period_unit = week): retention_rate "
        "= active_persons / cohort_persons per cohort week × weeks since"
        + (f"; {incomplete} cells are periods still in progress." if incomplete else ".")
    )
    return [
        Chart("retention", "Weekly retention cohorts", caption, charts.retention_heatmap(frame))
    ]


def lifecycle(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.lifecycle()
    if frame.empty:
        raise Skip(f"{warehouse.marts}.fct_lifecycle has no weekly rows.")
    caption = (
        "fct_lifecycle (period_unit = week): persons per status; new = first active event "
        "ever, returning = active this and last week, resurrecting = active again after a gap, "
        "dormant = active last week, not this one (drawn below zero)."
    )
    return [Chart("lifecycle", "Lifecycle", caption, charts.lifecycle(frame))]


# ---- funnels -----------------------------------------------------------------------------


def funnels(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.funnels()
    if frame.empty:
        raise Skip(f"{warehouse.marts}.fct_funnel_steps has no breakdown = 'all' rows.")
    result = []
    for name, steps in frame.groupby("funnel_name", sort=True):
        last = steps.iloc[-1]
        caption = (
            f"fct_funnel_steps (funnel_name = {name}, breakdown = all): persons whose attempt "
            "reached each step; % = conversion_from_first = persons / persons at step 1; "
            f"overall {percent(last['conversion_from_first'])}."
        )
        result.append(
            Chart(f"funnel:{name}", f"Funnel: {name}", caption, charts.funnel(steps, str(name)))
        )
    return result


# ---- segments ----------------------------------------------------------------------------


def segment_sizes(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.segment_sizes()
    source = "segment_profiles" if warehouse.has_rows("segment_profiles") else "person_segments"
    caption = (
        f"{source}: persons per segment_id at each as-of date; bar label = share = persons / "
        "persons segmented that date (negative ids are rule-based segments)."
    )
    return [Chart("segment_sizes", "Segment sizes", caption, charts.segment_sizes(frame))]


def segment_profiles(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.segment_profiles()
    metrics = [c for c in frame.columns if c.startswith("median_") or c.endswith("_lift")]
    metrics = [c for c in metrics if frame[c].notna().any()]
    if not metrics:
        raise Skip(f"{warehouse.marts}.segment_profiles has no profile metric with a value.")
    as_of = charts.iso(frame["as_of_date"])[0]
    caption = (
        f"segment_profiles at as_of_date {as_of}: the segment's median of each person_features "
        "metric and its conversion / retention lift; colour = value ÷ the largest segment's."
    )
    return [
        Chart(
            "segment_profiles", "Segment profiles", caption, charts.segment_profiles(frame, metrics)
        )
    ]


# ---- churn -------------------------------------------------------------------------------


def churn_calibration(warehouse: Warehouse) -> list[Chart]:
    metrics = warehouse.champion_metrics()
    champion = metrics[metrics["model"] == "champion"]
    stated = ""
    if len(champion):
        row = champion.iloc[0]
        stated = (
            f" Holdout champion (churn_model_metrics, validation as of "
            f"{charts.iso([row['validation_as_of_date']])[0]}, {row['calibration']}): "
            f"Brier {row['brier']:.3f}, ECE {row['ece']:.3f} over {row['ece_binning']}."
        )
    matured = warehouse.matured_scores() if warehouse.has_rows("person_churn_scores") else None
    if matured is not None and len(matured):
        table = binning.reliability(matured["churn_probability"], matured["churned"])
        dates = sorted(set(charts.iso(matured["as_of_date"])))
        caption = (
            f"person_churn_scores at past as-of dates {', '.join(dates)} whose horizon has ended, "
            "against the outcome (churned = no int_churn_activity_days row in [as_of_date, "
            f"as_of_date + horizon_days)); binning: {binning.BINNING}; ECE = "
            f"{binning.expected_calibration_error(table):.3f} over {len(matured)} scores." + stated
        )
        figure = charts.reliability(table, "Churn calibration: reliability diagram of past scores")
        return [Chart("churn_calibration", "Churn calibration", caption, figure)]
    note = (
        "No past score's horizon has ended yet, so no per-bin reliability diagram of "
        "person_churn_scores: "
    )
    if warehouse.has_rows("fct_model_fairness"):
        fairness = warehouse.fairness()
        caption = (
            note + "fct_model_fairness on the time holdout instead: per group, "
            "mean_probability vs base_rate (observed churn rate); the diagonal is perfect "
            f"calibration. The ECE binning is {binning.BINNING}." + stated
        )
        figure = charts.group_calibration(
            fairness, "Churn calibration on the time holdout, by group"
        )
    else:
        caption = note + "churn_model_metrics (segment = all): Brier and ECE per model." + stated
        figure = charts.metric_bars(metrics, "Churn calibration on the time holdout, per model")
    return [Chart("churn_calibration", "Churn calibration", caption, figure)]


def score_distribution(warehouse: Warehouse) -> list[Chart]:
    scores = warehouse.latest_scores()
    table = binning.histogram(scores["churn_probability"])
    # risk bands (low < 0.4 <= medium < 0.7 <= high) fall on bin edges: one band per bin
    bands = ["low" if i < 4 else "medium" if i < 7 else "high" for i in table["bin"]]
    as_of = charts.iso(scores["as_of_date"])[0]
    caption = (
        f"person_churn_scores at as_of_date {as_of} (horizon {int(scores['horizon_days'].iloc[0])} "
        f"days): persons per bin of churn_probability, {binning.BINNING}; colour = risk_band; "
        f"{len(scores)} persons, mean {scores['churn_probability'].mean():.3f}."
    )
    return [
        Chart(
            "churn_scores",
            "Churn score distribution",
            caption,
            charts.score_histogram(table, bands),
        )
    ]


# ---- drift -------------------------------------------------------------------------------


def feature_drift(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.feature_drift()
    threshold = drift_thresholds()["behavior__feature_drift_max_psi"]
    row = frame.iloc[0]
    caption = (
        f"fct_feature_drift at as_of_date {charts.iso([row['as_of_date']])[0]} against "
        f"{charts.iso([row['reference_as_of_date']])[0]}: PSI = Σ (cur − ref) · ln(cur / ref) "
        f"over {row['binning']}; red above behavior__feature_drift_max_psi = {threshold}."
    )
    return [
        Chart("feature_drift", "Feature drift", caption, charts.feature_drift(frame, threshold))
    ]


def score_drift(warehouse: Warehouse) -> list[Chart]:
    frame = warehouse.score_drift()
    threshold = drift_thresholds()["behavior__score_drift_max_psi"]
    caption = (
        "fct_score_drift: PSI of churn_probability at each as-of date against the previous "
        f"scored date ({frame['binning'].iloc[-1]}); line = behavior__score_drift_max_psi = "
        f"{threshold}."
    )
    return [Chart("score_drift", "Score drift", caption, charts.score_drift(frame, threshold))]


PAGES: tuple[Page, ...] = (
    Page(
        "event_volumes",
        "Event volumes per day",
        "Data quality",
        ("fct_daily_event_volumes",),
        event_volumes,
    ),
    Page(
        "bad_lines",
        "Bad lines per day",
        "Data quality",
        ("fct_raw_file_reconciliation",),
        bad_lines,
    ),
    Page("sessions", "Sessions per day", "Activity", ("fct_sessions",), sessions),
    Page(
        "active_users",
        "DAU, WAU, MAU and stickiness",
        "Activity",
        ("fct_active_users_daily",),
        active_users,
    ),
    Page("stickiness", "Power-user curve", "Activity", ("fct_stickiness",), stickiness),
    Page(
        "retention",
        "Weekly retention cohorts",
        "Retention and lifecycle",
        ("fct_retention_cohorts",),
        retention,
    ),
    Page("lifecycle", "Lifecycle", "Retention and lifecycle", ("fct_lifecycle",), lifecycle),
    Page("funnels", "Funnels", "Funnels", ("fct_funnel_steps",), funnels),
    Page(
        "segment_sizes",
        "Segment sizes",
        "Segments",
        ("person_segments",),
        segment_sizes,
        uses=("segment_profiles",),
    ),
    Page(
        "segment_profiles", "Segment profiles", "Segments", ("segment_profiles",), segment_profiles
    ),
    Page(
        "churn_calibration",
        "Churn calibration",
        "Churn",
        ("churn_model_metrics",),
        churn_calibration,
        uses=("person_churn_scores", "fct_model_fairness"),
    ),
    Page(
        "churn_scores",
        "Churn score distribution",
        "Churn",
        ("person_churn_scores",),
        score_distribution,
    ),
    Page("feature_drift", "Feature drift", "Drift", ("fct_feature_drift",), feature_drift),
    Page("score_drift", "Score drift", "Drift", ("fct_score_drift",), score_drift),
)


def header_marts() -> list[str]:
    """The marts the report reads, in page order (for the header's row counts)."""
    seen: list[str] = []
    for page in PAGES:
        for mart in (*page.marts, *page.uses):
            if mart not in seen:
                seen.append(mart)
    return seen


def render(warehouse: Warehouse, page: Page) -> list[Chart] | Skipped:
    reason = missing_reason(warehouse, page)
    if reason is not None:
        return Skipped(page.key, page.title, reason)
    try:
        return page.build(warehouse)
    except Skip as skip:
        return Skipped(page.key, page.title, str(skip))
