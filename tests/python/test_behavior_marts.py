"""The behavioural marts equal an independent pandas computation of docs/definitions.md.

``reference_marts`` recomputes every mart from ``fct_events`` with pandas,
written from the definitions alone. First the reference itself is checked on
tiny hand-made timelines (the edge cases of each definition); then a generated
data set is built with non-default vars (a time zone east of UTC, weeks
starting on Sunday, an as-of date before the end of the data, weekly
snapshots, a purchase cohort, three funnel orders) and with the defaults, and
each mart is compared with the reference row for row. Events added after the
as-of date change no row, incrementally or on a full refresh.
"""

from __future__ import annotations

import gzip
import json
import math
import numbers
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from behavioral_analytics.contract_rules import classify, event_at, parse_line
from behavioral_analytics.generator import generate

from . import reference_marts as reference
from .conftest import BuiltWarehouse, run_dbt

# the compared marts and what they are made of, models only: the comparisons
# below are the check (dbt's data tests run elsewhere)
BUILD = [
    "build",
    "--target",
    "duckdb",
    "--select",
    *(f"+{name}" for name in reference.MARTS),
    "--exclude",
    "resource_type:test",
    "resource_type:unit_test",
]
FCT_EVENTS_COLUMNS = (
    "event_id, person_id, session_id, event_name, platform, event_at, page_path,"
    " screen_name, order_id, revenue, currency, properties"
)
RELATIVE_TOLERANCE = 1e-9
COLUMN_TOLERANCES = {"engagement_score": 1e-6}
# |x - y| below this counts as equal too (a burstiness of 0 computed two ways)
ABSOLUTE_TOLERANCE = 1e-12

CHECKOUT = ["product_view", "add_to_cart", "checkout_started", "purchase"]
AS_OF_DATE = "2026-02-05"  # the generated data runs from 2026-01-05 to 2026-02-08
NON_DEFAULT_VARS = {
    "behavior__as_of_date": AS_OF_DATE,
    "behavior__reporting_timezone": "Asia/Shanghai",
    "behavior__week_start": "sunday",
    "behavior__cohort_trigger_events": ["purchase"],
    "behavior__feature_snapshot_weeks": 2,
    # the churn snapshots T - 14 (also the second weekly one) and T - 28
    "behavior__churn_horizon_days": 14,
    "behavior__reporting_currency": "USD",
    "behavior__engagement_half_life_days": 10,
    # page views, logins and the like do not make a person active here
    "behavior__active_events": [
        "product_view",
        "search",
        "add_to_cart",
        "remove_from_cart",
        "feature_used",
        "promo_banner_click",
        "chat_opened",
        "checkout_started",
        "purchase",
    ],
    "behavior__funnels": {
        "checkout": {"steps": CHECKOUT, "window_hours": 72, "order": "ordered"},
        "checkout_strict": {"steps": CHECKOUT, "window_hours": 72, "order": "strict"},
        "checkout_any": {"steps": CHECKOUT, "window_hours": 72, "order": "any"},
        # chat_opened is rare: many reach purchase without it (steps past furthest_step)
        "browse_any": {
            "steps": ["search", "chat_opened", "purchase"],
            "window_hours": 24,
            "order": "any",
        },
        "second_look": {
            "steps": ["product_view", "product_view", "add_to_cart"],
            "window_hours": 0.5,
            "order": "ordered",
        },
    },
}


# --------------------------------------------------------------------------- comparison


def _is_missing(value) -> bool:
    return value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value))


def _same(expected, actual, tolerance: float) -> bool:
    if _is_missing(expected) or _is_missing(actual):
        return _is_missing(expected) and _is_missing(actual)
    numeric = (numbers.Number, np.number)
    if (
        isinstance(expected, numeric)
        and isinstance(actual, numeric)
        and not isinstance(expected, bool | np.bool_)
        and not isinstance(actual, bool | np.bool_)
    ):
        return math.isclose(
            float(expected), float(actual), rel_tol=tolerance, abs_tol=ABSOLUTE_TOLERANCE
        )
    return bool(expected == actual)


def _normalise(column: pd.Series, like: pd.Series) -> pd.Series:
    """``column`` in the representation of ``like`` (the reference's column)."""
    if isinstance(like.dtype, pd.DatetimeTZDtype):
        return pd.to_datetime(column, utc=True).dt.as_unit("us")
    if pd.api.types.is_datetime64_dtype(like.dtype):
        converted = pd.to_datetime(column)
        if isinstance(converted.dtype, pd.DatetimeTZDtype):
            converted = converted.dt.tz_localize(None)
        return converted.dt.as_unit("us")
    return column.astype(object).where(column.notna(), None)


def assert_same_rows(
    name: str, actual: pd.DataFrame, expected: pd.DataFrame, key: list[str]
) -> None:
    """The mart's rows equal the reference's: same keys, every column of the reference."""
    missing = [column for column in expected.columns if column not in actual.columns]
    assert not missing, f"{name}: columns missing from the mart: {missing}"
    assert len(expected) > 0, f"{name}: the reference has no rows (the check would be empty)"
    expected = expected.reset_index(drop=True)
    actual = actual[list(expected.columns)].reset_index(drop=True)
    actual = pd.DataFrame({c: _normalise(actual[c], expected[c]) for c in expected.columns})
    expected = pd.DataFrame({c: _normalise(expected[c], expected[c]) for c in expected.columns})
    duplicated = actual[actual.duplicated(key, keep=False)]
    assert duplicated.empty, f"{name}: key {key} not unique in the mart:\n{duplicated.head(10)}"
    merged = expected.merge(
        actual, on=key, how="outer", suffixes=("_reference", "_mart"), indicator=True
    )
    problems = []
    one_side = merged[merged["_merge"] != "both"]
    if len(one_side):
        sides = one_side["_merge"].map({"left_only": "reference only", "right_only": "mart only"})
        shown = one_side[key].assign(side=sides.astype(str)).sort_values([*key])
        problems.append(
            f"{len(one_side)} rows on one side only"
            f" ({int((sides == 'reference only').sum())} reference only):\n"
            + shown.head(15).to_string()
        )
    both = merged[merged["_merge"] == "both"]
    for column in expected.columns:
        if column in key:
            continue
        left, right = both[f"{column}_reference"], both[f"{column}_mart"]
        tolerance = COLUMN_TOLERANCES.get(column, RELATIVE_TOLERANCE)
        same = [_same(x, y, tolerance) for x, y in zip(left, right, strict=True)]
        differs = both[[not equal for equal in same]]
        if len(differs):
            shown = differs[[*key, f"{column}_reference", f"{column}_mart"]].sort_values(key)
            problems.append(
                f"{column}: {len(differs)} of {len(both)} rows differ:\n"
                + shown.head(10).to_string()
            )
    assert not problems, f"{name}: mart != reference\n" + "\n\n".join(problems)


# --------------------------------------------------------------- the reference, tiny timelines


T0 = datetime(2026, 3, 2, 10, 0, 0)  # a Monday


def _timeline(rows: list[tuple]) -> pd.DataFrame:
    """fct_events rows from (event_id, person_id, session_id, event_name, seconds after T0,
    extra columns)."""
    records = []
    for event_id, person_id, session_id, event_name, seconds, *extra in rows:
        record = {
            "event_id": event_id,
            "person_id": person_id,
            "session_id": session_id,
            "event_name": event_name,
            "platform": "web",
            "event_at": pd.Timestamp(T0 + timedelta(seconds=seconds), tz="UTC"),
            "page_path": None,
            "screen_name": None,
            "order_id": None,
            "revenue": np.nan,
            "currency": None,
            "properties": None,
        }
        record.update(extra[0] if extra else {})
        records.append(record)
    return pd.DataFrame(records)


def _config(**changes) -> reference.Config:
    base = reference.Config(
        units_per_eur={"EUR": 1.0, "USD": 1.1, "JPY": 160.0},
        rfm_segments={(r, f): f"r{r}f{f}" for r in range(1, 6) for f in range(1, 6)},
    )
    return reference.Config(**{**base.__dict__, **changes})


def _features(rows, **changes) -> pd.DataFrame:
    return reference.person_features(_timeline(rows), _config(**changes)).set_index("person_id")


def test_burstiness_needs_three_events_and_a_nonzero_denominator():
    features = _features(
        [
            ("a1", "two", "s", "view", 0),
            ("a2", "two", "s", "view", 10),
            ("b1", "three", "s", "view", 0),
            ("b2", "three", "s", "view", 10),  # gaps 10, 30: mean 20, population sd 10
            ("b3", "three", "s", "view", 40),
            ("c1", "even", "s", "view", 0),
            ("c2", "even", "s", "view", 5),
            ("c3", "even", "s", "view", 10),
            ("d1", "instant", "s", "view", 0),
            ("d2", "instant", "s", "view", 0),
            ("d3", "instant", "s", "view", 0),
        ]
    )
    assert pd.isna(features.loc["two", "burstiness"])
    assert features.loc["three", "burstiness"] == pytest.approx((10 - 20) / (10 + 20))
    assert features.loc["even", "burstiness"] == pytest.approx(-1.0)
    assert pd.isna(features.loc["instant", "burstiness"])


def test_backtrack_is_a_b_a_within_a_person_session():
    def view(event_id, person, session, seconds, page):
        return (event_id, person, session, "page_view", seconds, {"page_path": page})

    features = _features(
        [
            # A B A (backtrack), A (two back is B: no), C, A (two back is A, previous C: yes)
            view("p1", "x", "s1", 0, "/a"),
            view("p2", "x", "s1", 1, "/b"),
            view("p3", "x", "s1", 2, "/a"),
            ("e1", "x", "s1", "search", 3),  # not a page view: does not break the chain
            view("p4", "x", "s1", 4, "/a"),
            view("p5", "x", "s1", 5, "/c"),
            view("p6", "x", "s1", 6, "/a"),
            # A A A: two back equals, but so does the previous page: no backtrack
            view("q1", "y", "s2", 0, "/a"),
            view("q2", "y", "s2", 1, "/a"),
            view("q3", "y", "s2", 2, "/a"),
            # A B | A in another session: no page view has two earlier ones
            view("r1", "z", "s3", 0, "/a"),
            view("r2", "z", "s3", 1, "/b"),
            view("r3", "z", "s4", 2, "/a"),
            ("r4", "z", "s4", "page_view", 3),  # a page view without a page is none
        ]
    )
    assert features.loc["x", "backtrack_rate"] == pytest.approx(2 / 4)
    assert features.loc["y", "backtrack_rate"] == 0
    assert pd.isna(features.loc["z", "backtrack_rate"])
    assert features.loc["z", "page_view_count"] == 3
    assert features.loc["x", "navigation_entropy"] == pytest.approx(
        -(4 / 6 * math.log2(4 / 6) + 1 / 6 * math.log2(1 / 6) * 2)
    )
    assert features.loc["y", "navigation_entropy"] == 0


def test_sessions_repeats_money_and_platform_shares():
    features = _features(
        [
            ("a1", "x", "s1", "view", 0),
            ("a2", "x", "s1", "view", 60),
            (
                "a3",
                "x",
                "s1",
                "purchase",
                100,
                {"order_id": "o1", "revenue": 11.0, "currency": "usd"},
            ),
            (
                "a4",
                "x",
                "s2",
                "purchase",
                200,
                {"order_id": "o2", "revenue": 5.0, "currency": "XXX"},
            ),
            ("a5", "x", "s3", "view", 300, {"platform": "ios"}),
        ],
        purchase_events=("purchase",),
    )
    row = features.loc["x"]
    assert row["session_count"] == 3
    assert row["mean_session_seconds"] == pytest.approx(100 / 3)
    assert row["median_session_seconds"] == 0
    assert row["bounce_rate"] == pytest.approx(2 / 3)
    assert row["repeat_action_share"] == pytest.approx(1 / 2)  # view>view, view>purchase
    assert row["order_count"] == 2
    assert row["revenue"] == pytest.approx(10.0)  # 11 USD; the unknown currency counts nothing
    assert row["average_order_value"] == pytest.approx(5.0)
    assert row["web_event_share"] == pytest.approx(4 / 5)
    assert row["ios_event_share"] == pytest.approx(1 / 5)


def test_as_of_date_is_midnight_in_the_reporting_time_zone():
    # 2026-03-05 00:00 in Asia/Shanghai is 2026-03-04 16:00 UTC
    midnight = (datetime(2026, 3, 4, 16) - T0).total_seconds()
    features = _features(
        [
            ("a1", "x", "s1", "view", 0),
            ("a2", "x", "s1", "view", midnight - 0.000001),
            ("a3", "x", "s1", "view", midnight),
        ],
        as_of_date=date(2026, 3, 5),
        reporting_timezone="Asia/Shanghai",
    )
    assert features.loc["x", "event_count"] == 2
    assert features.loc["x", "recency_days"] == 1
    assert features.loc["x", "engagement_score"] == pytest.approx(
        2 ** (-(midnight / 86400) / 14) + 2 ** (-(0.000001 / 86400) / 14)
    )
    default = _features([("a1", "x", "s1", "view", 0), ("a3", "x", "s1", "view", midnight)])
    assert default.loc["x", "as_of_date"] == pd.Timestamp("2026-03-05")  # the UTC date + 1


def test_scores_are_ceil_five_cume_dist_with_ties():
    rows = []
    for person, orders in (("p1", 1), ("p2", 1), ("p3", 2), ("p4", 3), ("p5", 3)):
        for number in range(orders):
            rows.append(
                (
                    f"{person}-{number}",
                    person,
                    "s",
                    "purchase",
                    number,
                    {"order_id": f"{person}{number}"},
                )
            )
    rows.append(("n1", "n", "s", "view", 0))
    features = _features(rows)
    assert list(features.loc[["p1", "p2", "p3", "p4", "p5"], "rfm_frequency_score"]) == [
        2,
        2,
        3,
        5,
        5,
    ]
    assert pd.isna(features.loc["n", "rfm_frequency_score"])
    assert features.loc["n", "rfm_segment"] == "non_buyer"
    # everybody's last event is on the same day: one tie, the top score
    assert set(features["engagement_recency_score"]) == {5}


def _funnel_persons(rows, steps, order="ordered", window_hours=1.0, as_of=date(2026, 3, 10)):
    config = _config(
        funnels={"f": {"steps": steps, "window_hours": window_hours, "order": order}},
        as_of_date=as_of,
    )
    return reference.fct_funnel_persons(_timeline(rows), config).set_index("person_id")


def test_funnel_window_includes_its_boundary_only():
    persons = _funnel_persons(
        [
            ("a1", "exact", "s", "A", 0),
            ("a2", "exact", "s", "B", 3600),
            ("b1", "late", "s", "A", 0),
            ("b2", "late", "s", "B", 3601),
        ],
        ["A", "B"],
    )
    assert persons.loc["exact", "furthest_step"] == 2
    assert persons.loc["exact", "seconds_to_convert"] == 3600
    assert persons.loc["late", "furthest_step"] == 1
    assert pd.isna(persons.loc["late", "step_2_at"])
    assert persons["is_window_complete"].all()


def test_ordered_funnel_same_instant_and_repeated_names():
    persons = _funnel_persons(
        [
            # B at the entry's instant with a smaller id still follows A
            ("z", "instant", "s", "A", 0),
            ("a", "instant", "s", "B", 0),
            # A -> A needs two A's; the second at the same instant, later id
            ("r1", "twice", "s", "A", 0),
            ("r2", "twice", "s", "A", 0),
            ("r3", "twice", "s", "B", 10),
            ("o1", "once", "s", "A", 0),
            ("o2", "once", "s", "B", 10),
        ],
        ["A", "B"],
    )
    assert persons.loc["instant", "furthest_step"] == 2
    repeated = _funnel_persons(
        [
            ("r1", "twice", "s", "A", 0),
            ("r2", "twice", "s", "A", 0),
            ("r3", "twice", "s", "B", 10),
            ("o1", "once", "s", "A", 0),
            ("o2", "once", "s", "B", 10),
        ],
        ["A", "A", "B"],
    )
    assert repeated.loc["twice", "furthest_step"] == 3
    assert repeated.loc["twice", "entry_event_id"] == "r1"
    assert repeated.loc["once", "furthest_step"] == 1
    # A -> B -> A: the second A shares B's instant with a smaller id; its name is not
    # B's, so "whatever their ids" applies (it only has to follow the first A)
    back = _funnel_persons(
        [("m", "p", "s", "A", 0), ("x", "p", "s", "B", 10), ("a", "p", "s", "A", 10)],
        ["A", "B", "A"],
    )
    assert back.loc["p", "furthest_step"] == 3
    assert back.loc["p", "entry_event_id"] == "m"


def test_strict_and_any_funnels():
    rows = [
        ("b0", "p", "s", "B", 0),
        ("a1", "p", "s", "A", 60),
        ("c1", "p", "s", "C", 70),
        ("b1", "p", "s", "B", 80),
    ]
    assert _funnel_persons(rows, ["A", "B"], "ordered").loc["p", "furthest_step"] == 2
    assert _funnel_persons(rows, ["A", "B"], "strict").loc["p", "furthest_step"] == 1
    anywhere = _funnel_persons(rows, ["A", "B"], "any").loc["p"]
    assert anywhere["furthest_step"] == 2
    assert anywhere["seconds_to_convert"] == -60  # the earliest B, before the entry
    # no D: furthest_step 1, while C (step 3) is reached on its own
    gap = _funnel_persons(rows, ["A", "D", "C"], "any").loc["p"]
    assert gap["furthest_step"] == 1
    assert pd.isna(gap["step_2_at"])
    assert pd.isna(gap["step_3_at"]) != reference.ANY_STEPS_PAST_FURTHEST


def test_best_attempt_is_the_furthest_then_the_earliest():
    persons = _funnel_persons(
        [
            ("a1", "p", "s", "A", 0),
            ("a2", "p", "s", "A", 7200),
            ("b2", "p", "s", "B", 7300),
            ("a3", "p", "s", "A", 9000),
        ],
        ["A", "B"],
        as_of=date(2026, 3, 3),
    )
    assert persons.loc["p", "entry_event_id"] == "a2"
    assert persons.loc["p", "step_1_at"] == pd.Timestamp(T0 + timedelta(seconds=7200), tz="UTC")


def test_funnel_steps_count_the_furthest_step():
    config = _config(
        funnels={"f": {"steps": ["A", "B", "C"], "window_hours": 1, "order": "ordered"}},
    )
    timeline = _timeline(
        [
            ("a1", "p", "s", "A", 0),
            ("b1", "p", "s", "B", 10),
            ("c1", "p", "s", "C", 30),
            ("a2", "q", "s", "A", 0),
            ("b2", "q", "s", "B", 30),
            ("a3", "r", "s", "A", 0),
        ]
    )
    steps = reference.fct_funnel_steps(timeline, config)
    overall = steps[steps["breakdown"] == "all"].set_index("step_number")
    assert list(overall["persons"]) == [3, 2, 1]
    assert list(overall["conversion_from_previous"]) == pytest.approx([1, 2 / 3, 1 / 2])
    assert overall.loc[2, "median_seconds_from_previous"] == 20
    assert set(steps["breakdown_value"]) == {"all", "web", "2026-03-02"}


def test_transitions_and_ngrams_of_a_session():
    timeline = _timeline(
        [
            ("a1", "p", "s1", "A", 0),
            ("a2", "p", "s1", "B", 5),
            ("a3", "p", "s1", "B", 20),
            ("b1", "q", "s2", "A", 0, {"platform": "ios"}),
        ]
    )
    transitions = reference.fct_event_transitions(timeline, _config())
    web = transitions[transitions["platform"] == "web"].set_index(
        ["from_event_name", "to_event_name"]
    )
    assert list(web.index) == [
        ("(session_start)", "A"),
        ("A", "B"),
        ("B", "(session_end)"),
        ("B", "B"),
    ]
    assert web.loc[("B", "B"), "transition_probability"] == 0.5
    assert web.loc[("A", "B"), "median_seconds"] == 5
    assert pd.isna(web.loc[("(session_start)", "A"), "median_seconds"])
    everyone = transitions[transitions["platform"] == "all"].set_index(
        ["from_event_name", "to_event_name"]
    )
    assert everyone.loc[("(session_start)", "A"), "person_count"] == 2
    grams = reference.fct_path_ngrams(timeline, _config()).set_index(["n", "path"])
    assert list(grams.index) == [(2, "A > B"), (2, "B > B"), (3, "A > B > B")]


def test_retention_lifecycle_and_activity():
    day = 86_400
    timeline = _timeline(
        [
            ("a1", "p", "s", "view", 0),  # Monday 2026-03-02
            ("a2", "p", "s", "view", 2 * day),
            ("a3", "p", "s", "purchase", 14 * day),
            ("b1", "q", "s", "view", 7 * day),
        ]
    )
    config = _config(as_of_date=date(2026, 3, 19), cohort_trigger_events=("purchase",))
    cohorts = reference.fct_retention_cohorts(timeline, config)
    weekly = cohorts[(cohorts["period_unit"] == "week") & (cohorts["cohort_kind"] == "first_seen")]
    march_2 = weekly[weekly["cohort_start_date"] == pd.Timestamp("2026-03-02")]
    assert list(march_2["active_persons"]) == [1, 0, 1]
    assert list(march_2["retained_on_or_after_persons"]) == [1, 1, 1]
    assert list(march_2["is_period_complete"]) == [True, True, False]
    bought = cohorts[cohorts["cohort_kind"] == "purchase"]
    assert set(bought["cohort_persons"]) == {1}
    lifecycle = reference.fct_lifecycle(timeline, config)
    weeks = lifecycle[lifecycle["period_unit"] == "week"].pivot(
        index="period_start_date", columns="status", values="persons"
    )
    assert weeks.loc["2026-03-09"].to_dict() == {
        "dormant": 1,
        "new": 1,
        "resurrecting": 0,
        "returning": 0,
    }
    assert weeks.loc["2026-03-16"].to_dict() == {
        "dormant": 1,
        "new": 0,
        "resurrecting": 1,
        "returning": 0,
    }
    daily = reference.fct_active_users_daily(timeline, config).set_index("activity_date")
    assert len(daily) == 17  # 2026-03-02 .. 2026-03-18
    assert daily.loc["2026-03-09", ["dau", "wau", "mau", "new_persons"]].tolist() == [1, 2, 2, 1]
    stickiness = reference.fct_stickiness(timeline, config)
    first_week = stickiness[
        (stickiness["period_unit"] == "week")
        & (stickiness["period_start_date"] == pd.Timestamp("2026-03-02"))
    ]
    assert first_week["persons"].tolist() == [0, 1, 0, 0, 0, 0, 0]
    sunday = reference.fct_stickiness(
        timeline, _config(**{**config.__dict__, "week_start": "sunday"})
    )
    assert sunday["period_start_date"].min() == pd.Timestamp("2026-03-01")


def test_feature_adoption():
    day = 86_400
    wishlist = {"properties": '{"feature": "wishlist"}'}
    timeline = _timeline(
        [
            ("a1", "p", "s", "feature_used", 0, wishlist),
            ("b1", "q", "s", "view", 0),
            ("b2", "q", "s", "feature_used", 7 * day, wishlist),
            ("c1", "r", "s", "view", 7 * day, {"properties": '{"feature": null}'}),
        ]
    )
    adoption = reference.fct_feature_adoption(timeline, _config()).set_index("week_start_date")
    assert adoption["feature"].unique().tolist() == ["wishlist"]
    assert adoption.loc["2026-03-02", "adoption_rate"] == 0.5
    assert adoption.loc["2026-03-09", ["new_adopters", "cumulative_adopters"]].tolist() == [1, 2]
    assert adoption.loc["2026-03-09", "cumulative_adoption_rate"] == pytest.approx(2 / 3)


def test_the_comparison_reports_differences():
    expected = pd.DataFrame({"k": [1, 2], "x": [1.0, np.nan], "y": ["a", "b"]})
    assert_same_rows("same", expected.assign(x=[1.0 + 1e-12, np.nan]), expected, ["k"])
    with pytest.raises(AssertionError, match="x: 1 of 2 rows differ"):
        assert_same_rows("close", expected.assign(x=[1.001, np.nan]), expected, ["k"])
    with pytest.raises(AssertionError, match="x: 1 of 2 rows differ"):
        assert_same_rows("null", expected.assign(x=[1.0, 0.0]), expected, ["k"])
    with pytest.raises(AssertionError, match="1 reference only"):
        assert_same_rows("rows", expected.iloc[:1], expected, ["k"])


# --------------------------------------------------------------------------- built warehouses


@dataclass
class Behavior:
    built: BuiltWarehouse
    vars: dict
    config: reference.Config

    def mart(self, name: str) -> pd.DataFrame:
        return mart(self.built.warehouse, name)

    def events(self) -> pd.DataFrame:
        return self.mart_events(self.built.warehouse)

    @staticmethod
    def mart_events(warehouse: Path) -> pd.DataFrame:
        schema = _schema_of(warehouse, "fct_events")
        return _query(warehouse, f"select {FCT_EVENTS_COLUMNS} from {schema}.fct_events")


def _query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).df()


def _schema_of(warehouse: Path, table: str) -> str:
    schemas = _query(
        warehouse,
        f"select table_schema from information_schema.tables where table_name = '{table}'",
    )["table_schema"].tolist()
    if not schemas:
        pytest.fail(f"{table} is not in the warehouse")
    return "main_marts" if "main_marts" in schemas else schemas[0]


def mart(warehouse: Path, name: str) -> pd.DataFrame:
    return _query(warehouse, f"select * from {_schema_of(warehouse, name)}.{name}")


def _build(root: Path, dbt_vars: dict, summary: dict | None = None, **generate_args) -> Behavior:
    """Build ``root/events`` with these vars: generated with ``generate_args``, or written
    already (then ``summary`` describes them)."""
    if summary is None:
        summary = generate(out_dir=root, progress=False, **generate_args)
    warehouse = root / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    _, output = run_dbt([*BUILD, "--vars", json.dumps(dbt_vars)], root / "events", warehouse)
    built = BuiltWarehouse(root, root / "events", root / "truth", warehouse, summary, output)
    return Behavior(built, dbt_vars, reference.Config.from_vars(dbt_vars))


@pytest.fixture(scope="session")
def behavior(tmp_path_factory) -> Behavior:
    """Non-default vars: Asia/Shanghai, Sunday weeks, as of 2026-02-05, snapshots, funnels."""
    return _build(
        tmp_path_factory.mktemp("behavior"), NON_DEFAULT_VARS, persons=150, days=35, seed=11
    )


@pytest.fixture(scope="session")
def behavior_defaults(built_jsonl) -> Behavior:
    """Every behavioural var at its default (UTC, Monday weeks, as of the day after the
    data): the shared end-to-end build (a full `dbt build` with no vars), not a build
    of its own."""
    return Behavior(built_jsonl, {}, reference.Config.from_vars({}))


@pytest.fixture(scope="session")
def behavior_events(behavior) -> pd.DataFrame:
    return behavior.events()


@pytest.mark.e2e
def test_the_build_exercises_the_definitions(behavior, behavior_events):
    config = behavior.config
    frame, as_of = reference.prepare(behavior_events, config)
    assert as_of == pd.Timestamp(AS_OF_DATE)
    after = frame[frame["local_at"] >= as_of]
    assert len(after) > 1000, "events after the as-of date (the no-lookahead property)"
    assert {"ios", "android", "web"} <= set(frame["platform"])
    funnels = reference.fct_funnel_persons(behavior_events, config)
    for name in NON_DEFAULT_VARS["behavior__funnels"]:
        reached = funnels.loc[funnels["funnel_name"] == name, "furthest_step"]
        assert (reached >= 2).any(), f"funnel {name} has persons past step 1"


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(reference.MARTS))
def test_mart_equals_the_reference(behavior, behavior_events, name):
    compute, key = reference.MARTS[name]
    assert_same_rows(name, behavior.mart(name), compute(behavior_events, behavior.config), key)


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(reference.MARTS))
def test_mart_equals_the_reference_with_default_vars(behavior_defaults, name):
    compute, key = reference.MARTS[name]
    expected = compute(behavior_defaults.events(), behavior_defaults.config)
    assert_same_rows(name, behavior_defaults.mart(name), expected, key)


# ------------------------------------------------------------------ hand-written edge cases

EDGE_START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai
EDGE_VARS = {
    "behavior__as_of_date": "2026-03-10",  # starts 2026-03-09 16:00 UTC
    "behavior__reporting_timezone": "Asia/Shanghai",
    "behavior__week_start": "sunday",
    "behavior__reporting_currency": "USD",
    "behavior__cohort_trigger_events": ["purchase"],
    "behavior__funnels": {
        "boundary": {"steps": ["product_view", "add_to_cart"], "window_hours": 1},
        "strict": {"steps": ["product_view", "add_to_cart"], "window_hours": 1, "order": "strict"},
        "back": {"steps": ["product_view", "search", "product_view"], "window_hours": 1},
        "twice": {"steps": ["product_view", "product_view", "add_to_cart"], "window_hours": 1},
        "anywhere": {
            "steps": ["product_view", "search", "add_to_cart"],
            "window_hours": 1,
            "order": "any",
        },
    },
}


def _edge_timelines() -> dict[str, list[tuple]]:
    """Per user: (event_id, event_name, seconds after EDGE_START, properties, platform)."""
    day = 86_400
    midnight = (datetime(2026, 3, 9, 16, tzinfo=UTC) - EDGE_START).total_seconds()

    def page(path: str) -> dict:
        return {"page_path": path}

    def purchase(order: str, revenue: float, currency: str) -> dict:
        return {"order_id": order, "revenue": revenue, "currency": currency}

    return {
        # funnel window: add_to_cart exactly one hour after the entry, 1 ms and 1 s past it
        "exact": [("exact-1", "product_view", 0), ("exact-2", "add_to_cart", 3600)],
        "late": [("late-1", "product_view", 0), ("late-2", "add_to_cart", 3600.001)],
        "late_second": [
            ("late_second-1", "product_view", 0),
            ("late_second-2", "add_to_cart", 3601),
        ],
        # A -> B -> A where the second A shares B's instant with a smaller id
        "back": [
            ("back-m", "product_view", 0),
            ("back-x", "search", 10),
            ("back-a", "product_view", 10),
        ],
        # A -> A at one instant, then B; and one A only
        "twice": [
            ("twice-1", "product_view", 0),
            ("twice-2", "product_view", 0),
            ("twice-3", "add_to_cart", 10),
        ],
        "once": [("once-1", "product_view", 0), ("once-2", "add_to_cart", 10)],
        # another event between the steps: ordered yes, strict no
        "between": [
            ("between-1", "product_view", 0),
            ("between-2", "search", 5),
            ("between-3", "add_to_cart", 10),
        ],
        # any order: add_to_cart before the entry, no search (step 3 past furthest_step)
        "any_gap": [("any_gap-1", "add_to_cart", 0), ("any_gap-2", "product_view", 60)],
        "any_all": [
            ("any_all-1", "search", 0),
            ("any_all-2", "product_view", 100),
            ("any_all-3", "add_to_cart", 200),
        ],
        # pages: A B A (backtrack), A, C, A (backtrack); a page view without a page
        "pages": [
            ("pages-1", "page_view", 0, page("/a")),
            ("pages-2", "page_view", 20, page("/b")),
            ("pages-3", "page_view", 40, page("/a")),
            ("pages-4", "search", 50),
            ("pages-5", "page_view", 60, page("/a")),
            ("pages-6", "page_view", 80, page("/c")),
            ("pages-7", "page_view", 100, page("/a")),
            ("pages-8", "page_view", 120),
            ("pages-9", "page_view", 2 * day, page("/b")),
        ],
        "screens": [
            ("screens-1", "screen_view", 0, {"screen_name": "home"}, "ios"),
            ("screens-2", "screen_view", 30, {"screen_name": "cart"}, "ios"),
            ("screens-3", "screen_view", 60, {"screen_name": "home"}, "ios"),
        ],
        # three events at one instant: the gaps' mean and deviation are 0
        "instant": [
            ("instant-1", "search", 0),
            ("instant-2", "search", 0),
            ("instant-3", "search", 0),
        ],
        # the as-of moment: the last millisecond before it counts, the moment itself not
        "midnight": [
            ("midnight-1", "search", day),
            ("midnight-2", "search", midnight - 0.001),
            ("midnight-3", "search", midnight),
            ("midnight-4", "search", midnight + day),
        ],
        # money: a lower-case currency, one missing from the seed, yen; not a purchase
        "buyer": [
            ("buyer-1", "purchase", 0, purchase("o-1", 11.0, "usd")),
            ("buyer-2", "purchase", day, purchase("o-2", 5.0, "XXX")),
            ("buyer-3", "purchase", 2 * day, purchase("o-3", 1600.0, "JPY")),
            ("buyer-4", "order_completed", 2 * day + 1, {"order_id": "o-4"}),
        ],
        # RFM ties: one order each on the same day, two orders, three orders
        "rfm_1": [("rfm_1-1", "purchase", 3 * day, purchase("r-1", 20.0, "EUR"))],
        "rfm_2": [("rfm_2-1", "purchase", 3 * day + 60, purchase("r-2", 20.0, "EUR"))],
        "rfm_3": [
            ("rfm_3-1", "purchase", day, purchase("r-3", 10.0, "EUR")),
            ("rfm_3-2", "purchase", 4 * day, purchase("r-4", 10.0, "EUR")),
        ],
        "rfm_4": [
            ("rfm_4-1", "purchase", 0, purchase("r-5", 30.0, "GBP")),
            ("rfm_4-2", "purchase", 2 * day, purchase("r-6", 30.0, "GBP")),
            ("rfm_4-3", "purchase", 5 * day, purchase("r-7", 30.0, "GBP")),
        ],
        # lifecycle: active, away a week, back (resurrecting); features used
        "returner": [
            ("returner-1", "feature_used", 0, {"feature": "wishlist"}),
            ("returner-2", "feature_used", 7 * day + 3600, {"feature": 7}),
            ("returner-3", "feature_used", 8 * day, {"feature": "wishlist"}),
        ],
    }


def write_edge_events(events: Path) -> int:
    """The edge timelines as raw JSONL, one identified device per user. Returns the count."""
    lines: dict[str, list[str]] = {}
    for number, (user, timeline) in enumerate(_edge_timelines().items()):
        for event_id, name, seconds, *rest in timeline:
            properties = rest[0] if rest else {}
            platform = rest[1] if len(rest) > 1 else "web"
            at = EDGE_START + timedelta(seconds=seconds)
            received = at + timedelta(milliseconds=400)
            record = {
                "event_id": f"edge-{event_id}",
                "event_name": name,
                "platform": platform,
                "anonymous_id": f"anon-edge-{user}",
                "user_id": f"usr_edge_{user}",
                "event_ts": at.isoformat(timespec="milliseconds"),
                "sent_at": (at + timedelta(milliseconds=100)).isoformat(timespec="milliseconds"),
                "received_at": received.isoformat(timespec="milliseconds"),
                "properties": properties,
                "context": {
                    "ip": f"198.51.100.{number + 1}",
                    "user_agent": (
                        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
                    ),
                    "locale": "en-GB",
                    "timezone_offset_minutes": 0,
                    "consent": {"analytics": True, "marketing": False},
                },
            }
            folder = f"received_date={received.date().isoformat()}"
            lines.setdefault(folder, []).append(json.dumps(record))
    for folder, records in lines.items():
        (events / folder).mkdir(parents=True)
        (events / folder / "web-0001.jsonl").write_text("\n".join(records) + "\n")
    return sum(len(records) for records in lines.values())


@pytest.fixture(scope="session")
def behavior_edges(tmp_path_factory) -> Behavior:
    root = tmp_path_factory.mktemp("behavior_edges")
    count = write_edge_events(root / "events")
    return _build(root, EDGE_VARS, summary={"valid_events": count})


@pytest.mark.e2e
def test_every_edge_event_reaches_fct_events(behavior_edges):
    events = behavior_edges.events()
    assert len(events) == behavior_edges.built.summary["valid_events"]
    assert events["person_id"].notna().all()


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(reference.MARTS))
def test_mart_equals_the_reference_on_edge_cases(behavior_edges, name):
    compute, key = reference.MARTS[name]
    expected = compute(behavior_edges.events(), behavior_edges.config)
    assert_same_rows(name, behavior_edges.mart(name), expected, key)


@pytest.mark.e2e
def test_edge_funnels_in_the_mart(behavior_edges):
    """The boundary cases, spelled out on the mart itself."""
    users = behavior_edges.events()[["person_id", "event_id"]]
    users["user"] = users["event_id"].str.removeprefix("edge-").str.rsplit("-", n=1).str[0]
    user_of = dict(zip(users["person_id"], users["user"], strict=False))
    persons = behavior_edges.mart("fct_funnel_persons")
    persons["user"] = persons["person_id"].map(user_of)
    furthest = persons.set_index(["funnel_name", "user"])["furthest_step"].to_dict()
    assert furthest[("boundary", "exact")] == 2
    assert furthest[("boundary", "late")] == 1
    assert furthest[("boundary", "late_second")] == 1
    assert furthest[("back", "back")] == 3
    assert furthest[("twice", "twice")] == 3
    assert furthest[("twice", "once")] == 1
    assert furthest[("boundary", "between")] == 2
    assert furthest[("strict", "between")] == 1
    assert furthest[("anywhere", "any_all")] == 3
    assert furthest[("anywhere", "any_gap")] == 1


# --------------------------------------------------------------------------- no lookahead


def _shifted(value: str, shift: timedelta) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment + shift).isoformat(timespec="milliseconds")


def add_later_events(events: Path, after: datetime, shift: timedelta) -> int:
    """Copy every valid raw event at or after ``after`` ``shift`` later, with new ids,
    into new received_date folders (as the tracker would deliver them). Returns the count."""
    added = 0
    for file in sorted(events.glob("received_date=*/*.jsonl*")):
        opener = gzip.open if file.name.endswith(".gz") else open
        with opener(file, "rt", encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        copies = []
        for line in lines:
            record = parse_line(line)
            if classify(record) is not None:
                continue  # a bad line of the generator: not copied
            if event_at(record) < after:
                continue
            record["event_id"] += "-later"
            for field in ("event_ts", "sent_at", "received_at"):
                if isinstance(record.get(field), str):
                    record[field] = _shifted(record[field], shift)
            copies.append(json.dumps(record))
        if not copies:
            continue
        received = date.fromisoformat(file.parent.name.split("=")[1]) + shift
        folder = events / f"received_date={received.isoformat()}"
        target = folder / file.name.removesuffix(".gz")
        assert not target.exists(), target
        folder.mkdir(exist_ok=True)
        target.write_text("\n".join(copies) + "\n", encoding="utf-8")
        added += len(copies)
    return added


@pytest.mark.e2e
def test_events_after_the_as_of_date_change_no_row(behavior, tmp_path_factory):
    root = tmp_path_factory.mktemp("behavior_later")
    events = root / "events"
    shutil.copytree(behavior.built.events, events)
    warehouse = root / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    shutil.copy(behavior.built.warehouse, warehouse)
    moment = reference.as_of_moment(pd.Timestamp(AS_OF_DATE), behavior.config)
    assert add_later_events(events, moment.to_pydatetime(), timedelta(days=10)) > 1000
    before = {name: behavior.mart(name) for name in reference.MARTS}
    analysed_before = len(behavior.events())
    vars_json = json.dumps(behavior.vars)
    for run in ("incremental", "full refresh"):
        refresh = ["--full-refresh"] if run == "full refresh" else []
        run_dbt([*BUILD, *refresh, "--vars", vars_json], events, warehouse)
        later = Behavior.mart_events(warehouse)
        # the new events arrived and belong to persons (the check is not empty)
        assert len(later) - analysed_before > 1000, run
        assert later["event_id"].str.endswith("-later").sum() > 1000, run
        for name, (_, key) in reference.MARTS.items():
            assert_same_rows(f"{name} ({run})", mart(warehouse, name), before[name], key)
