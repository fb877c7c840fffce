"""Plotly figures, one function per chart of the report (DataFrames in, a figure out).

Rules: every figure has a title and both axis titles; dates are passed as ISO strings (so
the figure JSON is the same for the same warehouse); no figure reads the warehouse.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

HEIGHT = 420
LIFECYCLE_COLORS = {
    "new": "#2ca02c",
    "returning": "#1f77b4",
    "resurrecting": "#9467bd",
    "dormant": "#d62728",
}
# 10 distinct colours, then 14 more, so charts with many traces do not repeat a colour
COLORWAY = [*qualitative.D3, *qualitative.Dark24[10:]]
RISK_COLORS = {"low": "#2ca02c", "medium": "#ff7f0e", "high": "#d62728"}


def iso(values: pd.Series) -> list[str]:
    """Dates (or timestamps at midnight) as YYYY-MM-DD strings."""
    return [pd.Timestamp(value).strftime("%Y-%m-%d") for value in values]


def finish(
    figure: go.Figure, title: str, x_title: str, y_title: str, height: int = HEIGHT
) -> go.Figure:
    many = len(figure.data) > 6
    if many:  # room for the legend column without a scroll bar
        height = max(height, 140 + 19 * len(figure.data))
    figure.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 30, "t": 60, "b": 60},
        # many traces: a legend column on the right; few: one row above the plot
        legend=(
            {"orientation": "v", "yanchor": "top", "y": 1.0, "xanchor": "left", "x": 1.02}
            if many
            else {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1}
        ),
        colorway=COLORWAY,
        font={"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
    )
    figure.update_xaxes(title_text=x_title, automargin=True)
    figure.update_yaxes(title_text=y_title, automargin=True)
    return figure


def daily_axis(figure: go.Figure) -> None:
    figure.update_xaxes(type="date", tickformat="%b %d", dtick=86_400_000 * 2)


def stacked_daily_bars(
    frame: pd.DataFrame, date_column: str, group_column: str, value_column: str
) -> go.Figure:
    figure = go.Figure()
    for group, rows in frame.groupby(group_column, sort=True):
        figure.add_trace(
            go.Bar(x=iso(rows[date_column]), y=rows[value_column].tolist(), name=str(group))
        )
    figure.update_layout(barmode="stack")
    daily_axis(figure)
    return figure


def event_volumes(frame: pd.DataFrame) -> go.Figure:
    figure = stacked_daily_bars(frame, "received_date", "event_name", "event_count")
    anomalies = frame[frame["is_anomaly"]]
    if len(anomalies):
        totals = frame.groupby("received_date")["event_count"].sum()
        figure.add_trace(
            go.Scatter(
                x=iso(anomalies["received_date"]),
                y=[int(totals[day]) for day in anomalies["received_date"]],
                mode="markers",
                marker={"symbol": "x", "size": 10, "color": "black"},
                name="anomaly (an event name off its baseline)",
            )
        )
    return finish(figure, "Events received per day", "received date", "events")


def bad_lines(frame: pd.DataFrame) -> go.Figure:
    figure = stacked_daily_bars(frame, "received_date", "kind", "lines")
    return finish(
        figure,
        "Bad lines per day (quarantined, duplicate retries, unreadable files)",
        "received date",
        "lines (files for unreadable)",
    )


def sessions(frame: pd.DataFrame) -> go.Figure:
    figure = stacked_daily_bars(frame, "session_start_date", "platform", "sessions")
    return finish(figure, "Sessions per day by platform", "session start date (UTC)", "sessions")


def active_users(frame: pd.DataFrame) -> go.Figure:
    stickiness = "dau_over_mau" in frame.columns and frame["dau_over_mau"].notna().any()
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    days = iso(frame["activity_date"])
    for column in ("dau", "wau", "mau"):
        figure.add_trace(
            go.Scatter(x=days, y=frame[column].tolist(), mode="lines+markers", name=column.upper()),
            secondary_y=False,
        )
    if stickiness:
        figure.add_trace(
            go.Scatter(
                x=days,
                y=frame["dau_over_mau"].round(4).tolist(),
                mode="lines",
                line={"dash": "dot", "color": "#7f7f7f"},
                name="DAU/MAU (stickiness, right axis)",
            ),
            secondary_y=True,
        )
    daily_axis(figure)
    finish(figure, "Daily, weekly and monthly active persons", "activity date", "active persons")
    if stickiness:
        figure.update_yaxes(
            title_text="DAU / MAU",
            range=[0, 1.05],
            secondary_y=True,
            tickformat=".0%",
            showgrid=False,
        )
    return figure


def stickiness(frame: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    for week, rows in frame.groupby("period_start_date", sort=True):
        label = pd.Timestamp(week).strftime("%Y-%m-%d")
        if not rows["is_period_complete"].all():
            label += " (incomplete)"
        figure.add_trace(
            go.Bar(x=rows["active_days"].tolist(), y=rows["persons"].tolist(), name=f"week {label}")
        )
    figure.update_layout(barmode="group")
    figure.update_xaxes(dtick=1)
    return finish(
        figure,
        "Power-user curve: persons by active days in the week",
        "distinct active days in the week",
        "persons",
    )


def retention_heatmap(frame: pd.DataFrame) -> go.Figure:
    cohorts = frame.drop_duplicates("cohort_start_date")[["cohort_start_date", "cohort_persons"]]
    labels = {
        row.cohort_start_date: f"{day} ({row.cohort_persons})"
        for row, day in zip(cohorts.itertuples(), iso(cohorts["cohort_start_date"]), strict=True)
    }
    periods = sorted(frame["period_number"].unique().tolist())
    table = frame.pivot(index="cohort_start_date", columns="period_number", values="retention_rate")
    table = table.reindex(columns=periods).sort_index()
    z = [
        [None if pd.isna(value) else round(float(value), 4) for value in row]
        for row in table.values
    ]
    text = [["" if value is None else f"{value:.0%}" for value in row] for row in z]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"week {period}" for period in periods],
            y=[labels[cohort] for cohort in table.index],
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": "retained"}, "tickformat": ".0%"},
            hovertemplate="cohort %{y}<br>%{x}: %{z:.1%}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(type="category")
    return finish(
        figure,
        "Weekly retention by first-seen cohort",
        "weeks since the cohort week",
        "cohort week (persons)",
        height=max(300, 120 + 40 * len(table.index)),
    )


def funnel(frame: pd.DataFrame, funnel_name: str) -> go.Figure:
    steps = [f"{row.step_number}. {row.step_name}" for row in frame.itertuples()]
    text = [
        f"{row.persons} ({row.conversion_from_first:.0%} of step 1)" for row in frame.itertuples()
    ]
    figure = go.Figure(
        go.Bar(
            x=frame["persons"].tolist(),
            y=steps,
            orientation="h",
            text=text,
            textposition="auto",
            marker={"color": "#1f77b4"},
            name=funnel_name,
        )
    )
    figure.update_yaxes(autorange="reversed", type="category")
    return finish(
        figure,
        f"Funnel {funnel_name}",
        "persons reaching the step",
        "step",
        height=max(260, 120 + 50 * len(steps)),
    )


def lifecycle(frame: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    for status in sorted(
        frame["status"].unique(),
        key=lambda s: list(LIFECYCLE_COLORS).index(s) if s in LIFECYCLE_COLORS else 99,
    ):
        rows = frame[frame["status"] == status]
        sign = -1 if status == "dormant" else 1
        figure.add_trace(
            go.Bar(
                x=iso(rows["period_start_date"]),
                y=[sign * int(value) for value in rows["persons"]],
                name=status + (" (drawn below zero)" if sign < 0 else ""),
                marker={"color": LIFECYCLE_COLORS.get(status)},
            )
        )
    figure.update_layout(barmode="relative")
    figure.update_xaxes(type="category")
    return finish(
        figure,
        "Weekly lifecycle: new, returning, resurrecting and dormant persons",
        "week starting",
        "persons (dormant below zero)",
    )


def segment_sizes(frame: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    for (segment_id, label), rows in frame.groupby(["segment_id", "segment_label"], sort=True):
        figure.add_trace(
            go.Bar(
                x=iso(rows["as_of_date"]),
                y=rows["persons"].tolist(),
                text=[f"{share:.0%}" for share in rows["share"]],
                textposition="auto",
                name=f"{segment_id}: {label}",
            )
        )
    figure.update_layout(barmode="group")
    figure.update_xaxes(type="category")
    return finish(figure, "Segment sizes per as-of date", "as-of date", "persons")


def segment_profiles(frame: pd.DataFrame, metrics: list[str]) -> go.Figure:
    """Heatmap: a row per segment, a column per median metric, colour = value / column max."""
    values = frame[metrics].astype(float)
    scale = values.abs().max().replace(0, 1)
    z = (values / scale).round(4).where(values.notna(), None)
    text = [[("" if pd.isna(v) else f"{v:.3g}") for v in row] for row in values.values]
    figure = go.Figure(
        go.Heatmap(
            z=z.values.tolist(),
            x=[metric.removeprefix("median_").replace("_", " ") for metric in metrics],
            y=[
                f"{row.segment_id}: {row.segment_label} ({row.persons})"
                for row in frame.itertuples()
            ],
            text=text,
            texttemplate="%{text}",
            colorscale="Viridis",
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": "÷ column max"}},
            hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(tickangle=-30, type="category")
    return finish(
        figure,
        "Segment profiles (medians; colour relative to the largest segment value)",
        "profile metric",
        "segment (persons)",
        height=max(320, 160 + 45 * len(frame)),
    )


def diagonal(figure: go.Figure) -> None:
    figure.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line={"dash": "dash", "color": "#7f7f7f"},
            name="perfect calibration",
        )
    )
    figure.update_xaxes(range=[0, 1], dtick=0.1)
    figure.update_yaxes(range=[0, 1], dtick=0.1)


def reliability(table: pd.DataFrame, title: str) -> go.Figure:
    figure = go.Figure()
    diagonal(figure)
    figure.add_trace(
        go.Scatter(
            x=table["mean_probability"].round(4).tolist(),
            y=table["observed_rate"].round(4).tolist(),
            mode="lines+markers+text",
            text=[f"n={n}" for n in table["persons"]],
            textposition="top left",
            marker={"size": 9, "color": "#d62728"},
            name="scores (one point per bin)",
            customdata=table["label"].tolist(),
            hovertemplate="bin %{customdata}<br>mean p %{x:.2f}, churned %{y:.2f}<extra></extra>",
        )
    )
    return finish(
        figure,
        title,
        "mean predicted churn probability in the bin",
        "observed churn rate in the bin",
        height=460,
    )


def group_calibration(frame: pd.DataFrame, title: str) -> go.Figure:
    figure = go.Figure()
    diagonal(figure)
    for group_kind, rows in frame.groupby("group_kind", sort=True):
        figure.add_trace(
            go.Scatter(
                x=rows["mean_probability"].round(4).tolist(),
                y=rows["base_rate"].round(4).tolist(),
                mode="markers",
                text=[
                    f"{group_kind} {value} ({n} persons)"
                    for value, n in zip(rows["group_value"], rows["persons"], strict=True)
                ],
                hovertemplate="%{text}<br>mean p %{x:.2f}, churned %{y:.2f}<extra></extra>",
                marker={"size": 11, "line": {"width": 1, "color": "white"}},
                name=f"one point per {group_kind}",
            )
        )
    return finish(
        figure,
        title,
        "mean predicted churn probability of the group",
        "observed churn rate of the group",
        height=460,
    )


def metric_bars(frame: pd.DataFrame, title: str) -> go.Figure:
    figure = go.Figure()
    for metric in ("brier", "ece"):
        figure.add_trace(
            go.Bar(
                x=frame["model"].tolist(),
                y=frame[metric].round(4).tolist(),
                name=metric.upper() if metric == "ece" else "Brier",
            )
        )
    figure.update_layout(barmode="group")
    return finish(figure, title, "model", "score (lower is better)")


def score_histogram(table: pd.DataFrame, bands: list[str]) -> go.Figure:
    figure = go.Figure()
    for band in ("low", "medium", "high"):
        rows = table[[value == band for value in bands]]
        if len(rows):
            figure.add_trace(
                go.Bar(
                    x=rows["label"].tolist(),
                    y=rows["persons"].tolist(),
                    name=f"{band} risk",
                    marker={"color": RISK_COLORS[band]},
                )
            )
    figure.update_layout(barmode="stack", bargap=0.05)
    figure.update_xaxes(
        type="category", categoryorder="array", categoryarray=table["label"].tolist()
    )
    return finish(
        figure,
        "Churn score distribution (latest as-of date)",
        "predicted churn probability (10 equal-width bins)",
        "persons",
    )


def feature_drift(frame: pd.DataFrame, threshold: float) -> go.Figure:
    colors = ["#d62728" if psi > threshold else "#1f77b4" for psi in frame["psi"]]
    figure = go.Figure(
        go.Bar(
            x=frame["psi"].round(4).tolist(),
            y=frame["feature"].tolist(),
            orientation="h",
            marker={"color": colors},
            name="PSI",
        )
    )
    figure.add_vline(x=threshold, line_dash="dash", line_color="#7f7f7f")
    figure.update_yaxes(autorange="reversed", type="category")
    return finish(
        figure,
        "Feature drift: population stability index per churn feature",
        f"PSI (reference T − H vs as-of T); dashed line: warn threshold {threshold}",
        "feature",
        height=max(320, 120 + 28 * len(frame)),
    )


def score_drift(frame: pd.DataFrame, threshold: float) -> go.Figure:
    figure = go.Figure(
        go.Bar(
            x=iso(frame["as_of_date"]),
            y=frame["psi"].round(4).tolist(),
            name="score PSI",
            text=[
                f"mean {a:.2f} → {b:.2f}"
                for a, b in zip(frame["reference_mean"], frame["current_mean"], strict=True)
            ],
            textposition="auto",
        )
    )
    figure.add_hline(
        y=threshold, line_dash="dash", line_color="#7f7f7f", annotation_text=f"warn > {threshold}"
    )
    figure.update_xaxes(type="category")
    return finish(
        figure,
        "Score drift: PSI of churn_probability against the previous scoring",
        "as-of date",
        "PSI",
    )
