"""An independent pandas computation of every behavioural mart of docs/definitions.md.

Written from the written definitions only (never from the SQL models), so that
``test_behavior_marts.py`` can compare the built marts with it row for row.
One function per mart, each taking ``fct_events`` as a DataFrame and a
:class:`Config` holding the project vars; each returns the mart's rows with the
column names of the definitions.

Readings taken where the definitions leave room (each one is listed in the
report of the comparison too):

- ``ordered`` funnels, a repeated step name: the event must come after (in
  (event_at, event_id) order) the latest event the attempt already used for
  that same name.
- ``any`` funnels: ``step_k_at`` is null past ``furthest_step`` (the
  definition's "null when not reached, past furthest_step"); the switch
  :data:`ANY_STEPS_PAST_FURTHEST` is kept to show the other reading fails.
- ``fct_feature_adoption.cumulative_adopters`` counts every use up to the
  week, also uses before the first active week (only possible when
  ``behavior__active_events`` leaves the feature's event out).
"""

from __future__ import annotations

import bisect
import csv
import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from behavioral_analytics.contract_rules import PLATFORMS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SESSION_START = "(session_start)"
SESSION_END = "(session_end)"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_FUNNEL_STEPS = 20
# `any` funnels: step_k_at of a step reached after a step that is not (see above)
ANY_STEPS_PAST_FURTHEST = False
FUNNEL_ORDERS = ("ordered", "strict", "any")
PERSON_SESSION = ["person_id", "session_id"]
# a Monday: week indexes count whole weeks from it (shifted to the week start)
_WEEK_ANCHOR = pd.Timestamp("1970-01-05")
_DAY_EPOCH = pd.Timestamp("1970-01-01")
_MICROS_PER_SECOND = 1_000_000
_MICROS_PER_DAY = 86_400 * _MICROS_PER_SECOND


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Config:
    """The vars of the behavioural marts (names without ``behavior__``) and the seeds."""

    as_of_date: date | None = None
    reporting_timezone: str = "UTC"
    week_start: str = "monday"
    active_events: tuple[str, ...] = ()
    purchase_events: tuple[str, ...] = ("purchase",)
    conversion_events: tuple[str, ...] = ("purchase",)
    page_view_events: tuple[str, ...] = ("page_view", "screen_view")
    platforms: tuple[str, ...] = PLATFORMS
    cohort_trigger_events: tuple[str, ...] = ()
    engagement_half_life_days: float = 14.0
    feature_snapshot_weeks: int = 0
    churn_horizon_days: int = 28
    # {name: {"steps": [...], "window_hours": float, "order": str}}
    funnels: dict[str, dict[str, Any]] = field(default_factory=dict)
    units_per_eur: dict[str, float] = field(default_factory=dict)
    reporting_currency: str = "EUR"
    # (recency_score, frequency_score) -> rfm_segment
    rfm_segments: dict[tuple[int, int], str] = field(default_factory=dict)

    @classmethod
    def from_vars(cls, overrides: dict[str, Any] | None = None, root: Path = PROJECT_ROOT):
        """The config a dbt run with ``--vars overrides`` sees: dbt_project.yml, then overrides."""
        project_vars = yaml.safe_load((root / "dbt_project.yml").read_text())["vars"]
        merged = {**project_vars, **(overrides or {})}

        def var(name: str, default: Any = None) -> Any:
            value = merged.get(f"behavior__{name}", default)
            return default if value is None else value

        as_of = var("as_of_date")
        if isinstance(as_of, str):
            as_of = date.fromisoformat(as_of) if as_of.strip() else None
        funnels = {}
        for name, spec in (var("funnels", {}) or {}).items():
            steps = list(spec["steps"])
            order = spec.get("order") or "ordered"
            if not 1 <= len(steps) <= MAX_FUNNEL_STEPS or order not in FUNNEL_ORDERS:
                raise ValueError(f"funnel {name!r}: bad steps or order")
            funnels[name] = {
                "steps": steps,
                "window_hours": float(spec.get("window_hours", 72)),
                "order": order,
            }
        return cls(
            as_of_date=as_of,
            reporting_timezone=var("reporting_timezone", "UTC"),
            week_start=str(var("week_start", "monday")).lower(),
            active_events=tuple(var("active_events", [])),
            purchase_events=tuple(var("purchase_events", ["purchase"])),
            conversion_events=tuple(var("conversion_events", ["purchase"])),
            page_view_events=tuple(var("page_view_events", ["page_view", "screen_view"])),
            platforms=tuple(var("platforms", cls.platforms)),
            cohort_trigger_events=tuple(var("cohort_trigger_events", [])),
            engagement_half_life_days=float(var("engagement_half_life_days", 14)),
            feature_snapshot_weeks=int(var("feature_snapshot_weeks", 0)),
            churn_horizon_days=int(var("churn_horizon_days", 28)),
            funnels=funnels,
            units_per_eur=read_currency_rates(root / "seeds" / "currency_rates.csv"),
            reporting_currency=str(var("reporting_currency", "EUR")),
            rfm_segments=read_rfm_segments(root / "seeds" / "rfm_segment_map.csv"),
        )


def read_currency_rates(path: Path) -> dict[str, float]:
    with path.open(newline="") as handle:
        return {
            row["currency"].upper(): float(row["units_per_eur"]) for row in csv.DictReader(handle)
        }


def read_rfm_segments(path: Path) -> dict[tuple[int, int], str]:
    with path.open(newline="") as handle:
        return {
            (int(row["recency_score"]), int(row["frequency_score"])): row["rfm_segment"]
            for row in csv.DictReader(handle)
        }


# --------------------------------------------------------------------------- shared rules


def _feature(properties: Any) -> str | None:
    """properties.feature as text (JSON ->> semantics: a string as is, others as JSON)."""
    if properties is None or (isinstance(properties, float) and math.isnan(properties)):
        return None
    parsed = json.loads(properties) if isinstance(properties, str) else properties
    if not isinstance(parsed, dict):
        return None
    value = parsed.get("feature")
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def prepare(events: pd.DataFrame, config: Config) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The persons' events with the derived columns, ordered, and the as-of date.

    Every event of a person is returned (the callers cut at an as-of date with
    :func:`before`); the as-of date is the config's, else the day after the last
    local date of all of them.
    """
    frame = events[events["person_id"].notna()].copy()
    frame["event_at"] = pd.to_datetime(frame["event_at"], utc=True).dt.as_unit("us")
    frame["event_id"] = frame["event_id"].astype(object)
    local = frame["event_at"].dt.tz_convert(config.reporting_timezone).dt.tz_localize(None)
    frame["local_at"] = local
    frame["local_date"] = local.dt.normalize()
    names = frame["event_name"]
    frame["is_active"] = names.isin(config.active_events) if config.active_events else True
    frame["is_purchase"] = names.isin(config.purchase_events)
    page = frame["page_path"].where(frame["page_path"].notna(), frame["screen_name"])
    frame["page"] = page.astype(object).where(page.notna(), None)
    frame["is_page_view"] = names.isin(config.page_view_events) & frame["page"].notna()
    frame["feature"] = frame["properties"].map(_feature).astype(object)
    rates = config.units_per_eur
    reporting_rate = rates.get(config.reporting_currency.upper(), np.nan)
    currency_rate = frame["currency"].map(
        lambda currency: (
            rates.get(currency.upper(), np.nan) if isinstance(currency, str) else np.nan
        )
    )
    frame["revenue_rc"] = (
        frame["revenue"].astype(float) / currency_rate.astype(float) * reporting_rate
    )
    frame = frame.sort_values(["event_at", "event_id"], kind="stable").reset_index(drop=True)
    if config.as_of_date is not None:
        as_of = pd.Timestamp(config.as_of_date)
    else:
        as_of = frame["local_date"].max() + pd.Timedelta(days=1)
    return frame, as_of.as_unit("us")


def before(frame: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The events whose local time is before the as-of date's midnight."""
    return frame[frame["local_at"] < as_of].reset_index(drop=True)


def as_of_moment(as_of: pd.Timestamp, config: Config) -> pd.Timestamp:
    """Midnight starting the as-of day in the reporting time zone, in UTC."""
    return as_of.tz_localize(config.reporting_timezone).tz_convert("UTC")


def period_start(dates: pd.Series, unit: str, week_start: str) -> pd.Series:
    if unit == "day":
        return dates
    if unit == "week":
        back = (dates.dt.day_of_week - WEEKDAYS.index(week_start)) % 7
        return dates - pd.to_timedelta(back, unit="D")
    if unit == "month":
        return dates - pd.to_timedelta(dates.dt.day - 1, unit="D")
    raise ValueError(unit)


def period_index(starts: pd.Series, unit: str, week_start: str) -> pd.Series:
    """A whole number per period start: consecutive periods have consecutive numbers."""
    if unit == "day":
        return (starts - _DAY_EPOCH).dt.days
    if unit == "week":
        anchor = _WEEK_ANCHOR + pd.Timedelta(days=WEEKDAYS.index(week_start))
        return (starts - anchor).dt.days // 7
    if unit == "month":
        return starts.dt.year * 12 + starts.dt.month - 1
    raise ValueError(unit)


def index_start(index: int, unit: str, week_start: str) -> pd.Timestamp:
    """The period start of a period index (inverse of :func:`period_index`)."""
    if unit == "day":
        return _DAY_EPOCH + pd.Timedelta(days=index)
    if unit == "week":
        anchor = _WEEK_ANCHOR + pd.Timedelta(days=WEEKDAYS.index(week_start))
        return anchor + pd.Timedelta(days=7 * index)
    if unit == "month":
        return pd.Timestamp(year=index // 12, month=index % 12 + 1, day=1)
    raise ValueError(unit)


def period_end(start: pd.Timestamp, unit: str) -> pd.Timestamp:
    if unit == "day":
        return start + pd.Timedelta(days=1)
    if unit == "week":
        return start + pd.Timedelta(days=7)
    return start + pd.DateOffset(months=1)


def _last_index(as_of: pd.Timestamp, unit: str, week_start: str) -> int:
    """The index of the last period: the one containing as_of_date - 1 day."""
    last_day = pd.Series([as_of - pd.Timedelta(days=1)])
    return int(period_index(period_start(last_day, unit, week_start), unit, week_start).iloc[0])


def _with_periods(frame: pd.DataFrame, unit: str, config: Config) -> pd.DataFrame:
    frame = frame.copy()
    starts = period_start(frame["local_date"], unit, config.week_start)
    frame["period"] = period_index(starts, unit, config.week_start)
    return frame


def _micros(timestamps: pd.Series) -> np.ndarray:
    return timestamps.dt.as_unit("us").astype("int64").to_numpy()


def _cume_dist_score(values: pd.Series, ascending: bool) -> pd.Series:
    """ceil(5 x cume_dist()) over the values ordered ascending or descending; ties equal."""
    peers_and_before = values.rank(method="max", ascending=ascending)
    return np.ceil(5 * (peers_and_before / len(values))).astype("int64")


# --------------------------------------------------------------------------- person_features


def person_features(events: pd.DataFrame, config: Config) -> pd.DataFrame:
    """person_features: one row per person x snapshot as-of date.

    The snapshots: the as-of date, the weekly ones before it
    (``feature_snapshot_weeks``) and the churn model's two, one and two
    ``churn_horizon_days`` earlier; a date in both lists is one snapshot.
    """
    frame, as_of = prepare(events, config)
    days_before = {7 * weeks for weeks in range(config.feature_snapshot_weeks + 1)}
    days_before |= {config.churn_horizon_days, 2 * config.churn_horizon_days}
    snapshots = [as_of - pd.Timedelta(days=days) for days in sorted(days_before)]
    parts = [
        _person_features_at(before(frame, snapshot), snapshot, config) for snapshot in snapshots
    ]
    return pd.concat(parts, ignore_index=True)


def _person_features_at(events: pd.DataFrame, as_of: pd.Timestamp, config: Config) -> pd.DataFrame:
    by_person = events.groupby("person_id", sort=True)
    persons = pd.Index(sorted(events["person_id"].unique()), name="person_id")
    out = pd.DataFrame(index=persons)
    out["as_of_date"] = as_of

    def count(series: pd.Series) -> pd.Series:
        return series.reindex(persons, fill_value=0).astype("int64")

    out["first_seen_at"] = by_person["event_at"].min()
    out["last_seen_at"] = by_person["event_at"].max()
    out["tenure_days"] = (as_of - by_person["local_date"].min()).dt.days
    out["recency_days"] = (as_of - by_person["local_date"].max()).dt.days
    active = events[events["is_active"]]
    out["active_days"] = count(active.groupby("person_id")["local_date"].nunique())
    out["event_count"] = count(by_person.size())
    out["active_event_count"] = count(active.groupby("person_id").size())
    out["session_count"] = count(by_person["session_id"].nunique())

    sessions = events.groupby(PERSON_SESSION).agg(
        started_at=("event_at", "min"), ended_at=("event_at", "max"), events=("event_id", "size")
    )
    sessions["seconds"] = (sessions["ended_at"] - sessions["started_at"]).dt.total_seconds()
    sessions["is_bounce"] = (sessions["events"] == 1).astype(float)
    per_person = sessions.groupby(level="person_id")
    out["mean_session_seconds"] = per_person["seconds"].mean()
    out["median_session_seconds"] = per_person["seconds"].median()
    out["events_per_session"] = out["event_count"] / out["session_count"]
    out["bounce_rate"] = per_person["is_bounce"].mean()

    purchases = events[events["is_purchase"]]
    out["order_count"] = count(purchases.groupby("person_id")["order_id"].nunique())
    revenue = purchases.groupby("person_id")["revenue_rc"].sum()
    out["revenue"] = revenue.reindex(persons, fill_value=0.0).astype(float)
    has_orders = out["order_count"] > 0
    out["average_order_value"] = (out["revenue"] / out["order_count"]).where(has_orders)
    ordered = purchases[purchases["order_id"].notna()]
    last_order = ordered.groupby("person_id")["local_date"].max()
    out["days_since_last_order"] = (as_of - last_order).dt.days.reindex(persons).astype("Int64")

    buyers = out[has_orders]
    out["rfm_recency_score"] = _cume_dist_score(
        buyers["days_since_last_order"].astype(float), ascending=False
    ).reindex(persons)
    out["rfm_frequency_score"] = _cume_dist_score(buyers["order_count"], True).reindex(persons)
    out["rfm_monetary_score"] = _cume_dist_score(buyers["revenue"], True).reindex(persons)
    for column in ("rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score"):
        out[column] = out[column].astype("Int64")
    out["rfm_segment"] = [
        config.rfm_segments.get((int(recency), int(frequency))) if buyer else "non_buyer"
        for buyer, recency, frequency in zip(
            has_orders,
            out["rfm_recency_score"].fillna(0),
            out["rfm_frequency_score"].fillna(0),
            strict=True,
        )
    ]
    out["engagement_recency_score"] = _cume_dist_score(out["recency_days"], ascending=False)
    out["engagement_frequency_score"] = _cume_dist_score(out["active_days"], ascending=True)
    out["engagement_volume_score"] = _cume_dist_score(out["event_count"], ascending=True)

    moment = as_of_moment(as_of, config)
    age_days = (moment - events["event_at"]).dt.total_seconds() / 86_400
    weight = np.exp(-math.log(2) * age_days / config.engagement_half_life_days)
    out["engagement_score"] = weight.groupby(events["person_id"]).sum()

    for days in (7, 28, 90):
        recent = events[events["local_at"] >= as_of - pd.Timedelta(days=days)]
        out[f"events_last_{days}_days"] = count(recent.groupby("person_id").size())
    recent_active = active[active["local_at"] >= as_of - pd.Timedelta(days=28)]
    out["active_days_last_28_days"] = count(
        recent_active.groupby("person_id")["local_date"].nunique()
    )
    for platform in config.platforms:
        on_platform = (events["platform"] == platform).astype(float)
        out[f"{platform}_event_share"] = on_platform.groupby(events["person_id"]).mean()

    out["distinct_features_used"] = count(by_person["feature"].nunique())
    page_views = events[events["is_page_view"]].copy()
    out["page_view_count"] = count(page_views.groupby("person_id").size())
    out["navigation_entropy"] = _navigation_entropy(page_views).reindex(persons)
    out["backtrack_rate"] = _backtrack_rate(page_views).reindex(persons)
    out["burstiness"] = _burstiness(events).reindex(persons)
    out["repeat_action_share"] = _repeat_action_share(events).reindex(persons)
    return out.reset_index()


def _navigation_entropy(page_views: pd.DataFrame) -> pd.Series:
    counts = page_views.groupby(["person_id", "page"]).size()
    share = counts / counts.groupby(level="person_id").transform("sum")
    return -(share * np.log2(share)).groupby(level="person_id").sum()


def _backtrack_rate(page_views: pd.DataFrame) -> pd.Series:
    by_session = page_views.groupby(PERSON_SESSION, sort=False)["page"]
    previous = by_session.shift(1)
    two_back = by_session.shift(2)
    eligible = two_back.notna()
    backtrack = eligible & (page_views["page"] == two_back) & (page_views["page"] != previous)
    frame = pd.DataFrame(
        {
            "person_id": page_views["person_id"],
            "eligible": eligible.astype(int),
            "backtrack": backtrack.astype(int),
        }
    )
    totals = frame.groupby("person_id")[["eligible", "backtrack"]].sum()
    totals = totals[totals["eligible"] > 0]
    return totals["backtrack"] / totals["eligible"]


def _burstiness(events: pd.DataFrame) -> pd.Series:
    gaps = events.groupby("person_id", sort=False)["event_at"].diff().dt.total_seconds()
    frame = pd.DataFrame({"person_id": events["person_id"], "gap": gaps}).dropna()
    stats = frame.groupby("person_id")["gap"].agg(
        mean="mean", std=lambda gap: gap.std(ddof=0), gaps="size"
    )
    stats = stats[(stats["gaps"] >= 2) & (stats["std"] + stats["mean"] != 0)]
    return (stats["std"] - stats["mean"]) / (stats["std"] + stats["mean"])


def _repeat_action_share(events: pd.DataFrame) -> pd.Series:
    previous = events.groupby(PERSON_SESSION, sort=False)["event_name"].shift(1)
    pairs = previous.notna()
    same = (events["event_name"] == previous) & pairs
    frame = pd.DataFrame(
        {"person_id": events["person_id"], "pairs": pairs.astype(int), "same": same.astype(int)}
    )
    totals = frame.groupby("person_id")[["pairs", "same"]].sum()
    totals = totals[totals["pairs"] > 0]
    return totals["same"] / totals["pairs"]


# --------------------------------------------------------------------------- sequences


def fct_event_transitions(events: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per platform x from_event_name x to_event_name."""
    frame, as_of = prepare(events, config)
    frame = before(frame, as_of)
    by_session = frame.groupby(PERSON_SESSION, sort=False)
    session_platform = by_session["platform"].transform("first")
    previous_name = by_session["event_name"].shift(1)
    previous_at = by_session["event_at"].shift(1)
    into = pd.DataFrame(
        {
            "session_platform": session_platform,
            "from_event_name": previous_name.astype(object).where(
                previous_name.notna(), SESSION_START
            ),
            "to_event_name": frame["event_name"],
            "seconds": (frame["event_at"] - previous_at).dt.total_seconds(),
            "session_id": frame["session_id"],
            "person_id": frame["person_id"],
        }
    )
    is_last = by_session.cumcount(ascending=False) == 0
    out_of = pd.DataFrame(
        {
            "session_platform": session_platform[is_last],
            "from_event_name": frame.loc[is_last, "event_name"],
            "to_event_name": SESSION_END,
            "seconds": np.nan,
            "session_id": frame.loc[is_last, "session_id"],
            "person_id": frame.loc[is_last, "person_id"],
        }
    )
    transitions = pd.concat([into, out_of], ignore_index=True)
    transitions = pd.concat(
        [
            transitions.assign(platform="all"),
            transitions.assign(platform=transitions["session_platform"]),
        ],
        ignore_index=True,
    )
    key = ["platform", "from_event_name", "to_event_name"]
    out = (
        transitions.groupby(key, dropna=False)
        .agg(
            transition_count=("person_id", "size"),
            session_count=("session_id", "nunique"),
            person_count=("person_id", "nunique"),
            median_seconds=("seconds", "median"),
        )
        .reset_index()
    )
    from_total = out.groupby(["platform", "from_event_name"], dropna=False)[
        "transition_count"
    ].transform("sum")
    out["transition_probability"] = out["transition_count"] / from_total
    return out


def fct_path_ngrams(events: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per n (2, 3) x path."""
    frame, as_of = prepare(events, config)
    frame = before(frame, as_of)
    by_session = frame.groupby(PERSON_SESSION, sort=False)["event_name"]
    parts = []
    for n in (2, 3):
        names = [by_session.shift(n - 1 - offset) for offset in range(n - 1)] + [
            frame["event_name"]
        ]
        complete = names[0].notna()
        paths = pd.Series(
            [
                " > ".join(window)
                for window in zip(*(name[complete] for name in names), strict=True)
            ],
            index=frame.index[complete],
            dtype=object,
        )
        windows = pd.DataFrame(
            {
                "path": paths,
                "last_name": frame.loc[complete, "event_name"],
                "session_id": frame.loc[complete, "session_id"],
                "person_id": frame.loc[complete, "person_id"],
            }
        )
        grams = (
            windows.groupby("path")
            .agg(
                occurrences=("person_id", "size"),
                session_count=("session_id", "nunique"),
                person_count=("person_id", "nunique"),
                last_name=("last_name", "first"),
            )
            .reset_index()
        )
        grams.insert(0, "n", n)
        grams["ends_in_conversion"] = grams["last_name"].isin(config.conversion_events)
        grams = grams.drop(columns="last_name")
        grams = grams.sort_values(["occurrences", "path"], ascending=[False, True], kind="stable")
        grams["occurrence_rank"] = np.arange(1, len(grams) + 1)
        converting = grams["ends_in_conversion"]
        grams["conversion_path_rank"] = pd.Series(pd.NA, index=grams.index, dtype="Int64")
        grams.loc[converting, "conversion_path_rank"] = np.arange(1, int(converting.sum()) + 1)
        parts.append(grams)
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- retention


def fct_retention_cohorts(events: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per cohort_kind x period_unit x cohort_start_date x period_number."""
    frame, as_of = prepare(events, config)
    frame = before(frame, as_of)
    active = frame[frame["is_active"]]
    cohort_events = {"first_seen": active.groupby("person_id")["local_date"].min()}
    for name in config.cohort_trigger_events:
        named = frame[frame["event_name"] == name]
        cohort_events[name] = named.groupby("person_id")["local_date"].min()
    rows = []
    for unit in ("day", "week", "month"):
        last = _last_index(as_of, unit, config.week_start)
        activity = _with_periods(active, unit, config)
        active_periods = activity.groupby("person_id")["period"].agg(set).to_dict()
        for kind, cohort_dates in cohort_events.items():
            cohort_index = period_index(
                period_start(cohort_dates, unit, config.week_start), unit, config.week_start
            )
            for cohort, members in cohort_index.groupby(cohort_index):
                persons = list(members.index)
                cohort_start = index_start(int(cohort), unit, config.week_start)
                for number in range(0, last - int(cohort) + 1):
                    period = int(cohort) + number
                    if number == 0:
                        active_count = retained = len(persons)
                    else:
                        periods = [active_periods.get(person, set()) for person in persons]
                        active_count = sum(period in seen for seen in periods)
                        retained = sum(bool(seen) and max(seen) >= period for seen in periods)
                    start = index_start(period, unit, config.week_start)
                    rows.append(
                        {
                            "cohort_kind": kind,
                            "period_unit": unit,
                            "cohort_start_date": cohort_start,
                            "period_number": number,
                            "period_start_date": start,
                            "cohort_persons": len(persons),
                            "active_persons": active_count,
                            "retained_on_or_after_persons": retained,
                            "retention_rate": active_count / len(persons),
                            "retained_on_or_after_rate": retained / len(persons),
                            "is_period_complete": period_end(start, unit) <= as_of,
                        }
                    )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- lifecycle


def fct_lifecycle(events: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per period_unit (week, month) x period_start_date x status."""
    frame, as_of = prepare(events, config)
    active = before(frame, as_of)
    active = active[active["is_active"]]
    rows = []
    for unit in ("week", "month"):
        last = _last_index(as_of, unit, config.week_start)
        activity = _with_periods(active, unit, config)
        periods = activity.groupby("person_id")["period"].agg(set).to_dict()
        if not periods:
            continue
        first = {person: min(seen) for person, seen in periods.items()}
        for period in range(min(first.values()), last + 1):
            counts = {
                "new": sum(first[person] == period for person in periods),
                "returning": sum(period in s and period - 1 in s for s in periods.values()),
                "resurrecting": sum(
                    period in s and period - 1 not in s and first[person] < period
                    for person, s in periods.items()
                ),
                "dormant": sum(period - 1 in s and period not in s for s in periods.values()),
            }
            start = index_start(period, unit, config.week_start)
            for status, persons in counts.items():
                rows.append(
                    {
                        "period_unit": unit,
                        "period_start_date": start,
                        "status": status,
                        "persons": persons,
                        "is_period_complete": period_end(start, unit) <= as_of,
                    }
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- activity


def _active_dates(events: pd.DataFrame, config: Config) -> tuple[pd.DataFrame, pd.Timestamp]:
    frame, as_of = prepare(events, config)
    active = before(frame, as_of)
    active = active[active["is_active"]]
    return active[["person_id", "local_date"]].drop_duplicates(), as_of


def fct_active_users_daily(events: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per activity_date from the first active date to as_of_date - 1."""
    dates, as_of = _active_dates(events, config)
    first_dates = dates.groupby("person_id")["local_date"].min()
    rows = []
    if dates.empty:
        return pd.DataFrame(rows)

    def persons_between(first_day: pd.Timestamp, last_day: pd.Timestamp) -> int:
        inside = dates["local_date"].between(first_day, last_day)
        return dates.loc[inside, "person_id"].nunique()

    day = dates["local_date"].min()
    while day < as_of:
        dau = persons_between(day, day)
        wau = persons_between(day - pd.Timedelta(days=6), day)
        mau = persons_between(day - pd.Timedelta(days=29), day)
        rows.append(
            {
                "activity_date": day,
                "dau": dau,
                "wau": wau,
                "mau": mau,
                "dau_over_mau": dau / mau if mau else np.nan,
                "wau_over_mau": wau / mau if mau else np.nan,
                "new_persons": int((first_dates == day).sum()),
            }
        )
        day += pd.Timedelta(days=1)
    return pd.DataFrame(rows)


def fct_stickiness(events: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per period_unit (week, month) x period_start_date x active_days."""
    dates, as_of = _active_dates(events, config)
    rows = []
    for unit in ("week", "month"):
        if dates.empty:
            break
        last = _last_index(as_of, unit, config.week_start)
        activity = _with_periods(dates, unit, config)
        days_per_person = activity.groupby(["period", "person_id"]).size()
        for period in range(int(activity["period"].min()), last + 1):
            start = index_start(period, unit, config.week_start)
            days_in_period = (period_end(start, unit) - start).days
            counts = (
                days_per_person.loc[period]
                if period in days_per_person.index.get_level_values("period")
                else pd.Series(dtype="int64")
            )
            for active_days in range(1, days_in_period + 1):
                rows.append(
                    {
                        "period_unit": unit,
                        "period_start_date": start,
                        "active_days": active_days,
                        "persons": int((counts == active_days).sum()),
                        "persons_at_least": int((counts >= active_days).sum()),
                        "active_persons": int((counts >= 1).sum()),
                        "is_period_complete": period_end(start, unit) <= as_of,
                    }
                )
    return pd.DataFrame(rows)


def fct_feature_adoption(events: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per week_start_date x feature."""
    frame, as_of = prepare(events, config)
    frame = _with_periods(before(frame, as_of), "week", config)
    active = frame[frame["is_active"]]
    uses = frame[frame["feature"].notna()]
    features = sorted(uses["feature"].unique())
    rows = []
    if active.empty:
        return pd.DataFrame(rows)
    last = _last_index(as_of, "week", config.week_start)
    first_active_week = active.groupby("person_id")["period"].min()
    first_use = uses.groupby(["feature", "person_id"])["period"].min()
    for week in range(int(active["period"].min()), last + 1):
        active_users = active.loc[active["period"] == week, "person_id"].nunique()
        active_so_far = int((first_active_week <= week).sum())
        this_week = uses[uses["period"] == week]
        for feature in features:
            firsts = first_use.loc[feature]
            users = this_week.loc[this_week["feature"] == feature, "person_id"].nunique()
            cumulative = int((firsts <= week).sum())
            rows.append(
                {
                    "week_start_date": index_start(week, "week", config.week_start),
                    "feature": feature,
                    "feature_users": users,
                    "active_users": active_users,
                    "adoption_rate": users / active_users if active_users else np.nan,
                    "new_adopters": int((firsts == week).sum()),
                    "cumulative_adopters": cumulative,
                    "cumulative_adoption_rate": (
                        cumulative / active_so_far if active_so_far else np.nan
                    ),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- funnels


@dataclass
class _Attempt:
    entry: int  # position of the entry event in the person's ordered events
    step_positions: list[int | None]  # per step, the event used (None: not reached)

    @property
    def furthest_step(self) -> int:
        furthest = 0
        for position in self.step_positions:
            if position is None:
                break
            furthest += 1
        return furthest


def _attempt(
    entry: int,
    times: np.ndarray,
    names: list[str],
    positions_by_name: dict[str, tuple[list[int], list[int]]],
    steps: list[str],
    window: int,
    order: str,
) -> _Attempt:
    """One attempt from the step-1 event at ``entry`` (times in microseconds)."""
    entered = times[entry]
    reached: list[int | None] = [entry]
    if order == "any":
        for name in steps[1:]:
            candidates, candidate_times = positions_by_name.get(name, ([], []))
            first = bisect.bisect_left(candidate_times, entered - window)
            found = None
            if first < len(candidates) and candidate_times[first] <= entered + window:
                found = candidates[first]
            reached.append(found)
        return _Attempt(entry, reached)
    used = {entry}
    last_used_of_name = {steps[0]: entry}
    previous = entry
    for name in steps[1:]:
        found = None
        if order == "strict":
            following = previous + 1
            if (
                following < len(names)
                and names[following] == name
                and times[following] <= entered + window
            ):
                found = following
        else:
            candidates, candidate_times = positions_by_name.get(name, ([], []))
            start = bisect.bisect_left(candidate_times, times[previous])
            for position in candidates[start:]:
                if position in used or position <= last_used_of_name.get(name, -1):
                    continue
                if times[position] <= entered + window:
                    found = position
                break
        if found is None:
            break
        reached.append(found)
        used.add(found)
        last_used_of_name[name] = found
        previous = found
    reached += [None] * (len(steps) - len(reached))
    return _Attempt(entry, reached)


def fct_funnel_persons(events: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per funnel_name x person_id who did step 1."""
    frame, as_of = prepare(events, config)
    frame = before(frame, as_of)
    moment = as_of_moment(as_of, config)
    week_starts = period_start(frame["local_date"], "week", config.week_start)
    rows = []
    for funnel_name, spec in config.funnels.items():
        steps, order = spec["steps"], spec["order"]
        window = round(spec["window_hours"] * 3600 * _MICROS_PER_SECOND)
        window_delta = pd.Timedelta(microseconds=window)
        for person_id, person in frame.groupby("person_id", sort=True):
            names = list(person["event_name"])
            times = _micros(person["event_at"])
            positions_by_name: dict[str, tuple[list[int], list[int]]] = {}
            for position, name in enumerate(names):
                positions, at = positions_by_name.setdefault(name, ([], []))
                positions.append(position)
                at.append(int(times[position]))
            entries = positions_by_name.get(steps[0], ([], []))[0]
            if not entries:
                continue
            attempts = [
                _attempt(entry, times, names, positions_by_name, steps, window, order)
                for entry in entries
            ]
            # largest furthest_step; entries are in (event_at, event_id) order already
            best = max(attempts, key=lambda attempt: (attempt.furthest_step, -attempt.entry))
            event_at = person["event_at"].reset_index(drop=True)
            entered_at = event_at[best.entry]
            row = {
                "funnel_name": funnel_name,
                "person_id": person_id,
                "entered_at": entered_at,
                "entry_event_id": person["event_id"].iloc[best.entry],
                "entry_platform": person["platform"].iloc[best.entry],
                "entry_week_start_date": week_starts.loc[person.index[best.entry]],
                "furthest_step": best.furthest_step,
                "step_count": len(steps),
                "is_converted": best.furthest_step == len(steps),
            }
            shown_steps = len(steps)
            if order == "any" and not ANY_STEPS_PAST_FURTHEST:
                shown_steps = best.furthest_step
            for number in range(1, MAX_FUNNEL_STEPS + 1):
                position = best.step_positions[number - 1] if number <= shown_steps else None
                row[f"step_{number}_at"] = event_at[position] if position is not None else pd.NaT
            last_at = row[f"step_{len(steps)}_at"]
            row["seconds_to_convert"] = (
                (last_at - entered_at).total_seconds() if row["is_converted"] else np.nan
            )
            row["is_window_complete"] = entered_at + window_delta <= moment
            rows.append(row)
    out = pd.DataFrame(rows)
    for number in range(1, MAX_FUNNEL_STEPS + 1):
        if f"step_{number}_at" in out:
            out[f"step_{number}_at"] = pd.to_datetime(out[f"step_{number}_at"], utc=True)
    return out


def fct_funnel_steps(events: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per funnel_name x breakdown x breakdown_value x step_number."""
    persons = fct_funnel_persons(events, config)
    rows = []
    if persons.empty:
        return pd.DataFrame(rows)
    persons = persons.copy()
    persons["breakdown_all"] = "all"
    persons["breakdown_platform"] = persons["entry_platform"]
    persons["breakdown_entry_week"] = persons["entry_week_start_date"].dt.strftime("%Y-%m-%d")
    for funnel_name, spec in config.funnels.items():
        steps = spec["steps"]
        of_funnel = persons[persons["funnel_name"] == funnel_name]
        for breakdown in ("all", "platform", "entry_week"):
            for value, group in of_funnel.groupby(f"breakdown_{breakdown}", dropna=False):
                reached = [
                    int((group["furthest_step"] >= n).sum()) for n in range(1, len(steps) + 1)
                ]
                for number in range(1, len(steps) + 1):
                    count = reached[number - 1]
                    median = np.nan
                    if number == 1:
                        from_previous = 1.0
                    else:
                        previous = reached[number - 2]
                        from_previous = count / previous if previous else np.nan
                        those = group[group["furthest_step"] >= number]
                        if len(those):
                            gaps = those[f"step_{number}_at"] - those[f"step_{number - 1}_at"]
                            median = float(gaps.dt.total_seconds().median())
                    rows.append(
                        {
                            "funnel_name": funnel_name,
                            "breakdown": breakdown,
                            "breakdown_value": value,
                            "step_number": number,
                            "step_name": steps[number - 1],
                            "persons": count,
                            "conversion_from_first": count / reached[0],
                            "conversion_from_previous": from_previous,
                            "median_seconds_from_previous": median,
                        }
                    )
    return pd.DataFrame(rows)


MARTS = {
    "person_features": (person_features, ["person_id", "as_of_date"]),
    "fct_event_transitions": (
        fct_event_transitions,
        ["platform", "from_event_name", "to_event_name"],
    ),
    "fct_path_ngrams": (fct_path_ngrams, ["n", "path"]),
    "fct_retention_cohorts": (
        fct_retention_cohorts,
        ["cohort_kind", "period_unit", "cohort_start_date", "period_number"],
    ),
    "fct_lifecycle": (fct_lifecycle, ["period_unit", "period_start_date", "status"]),
    "fct_active_users_daily": (fct_active_users_daily, ["activity_date"]),
    "fct_stickiness": (fct_stickiness, ["period_unit", "period_start_date", "active_days"]),
    "fct_feature_adoption": (fct_feature_adoption, ["week_start_date", "feature"]),
    "fct_funnel_persons": (fct_funnel_persons, ["funnel_name", "person_id"]),
    "fct_funnel_steps": (
        fct_funnel_steps,
        ["funnel_name", "breakdown", "breakdown_value", "step_number"],
    ),
}
