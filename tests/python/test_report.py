"""`behavior report`: one static HTML file, every chart drawn by real headless Chromium.

Two warehouses: the session build `built_jsonl` (the SQL marts; its build leaves the dbt
Python models out, so the segment, churn and drift sections must be listed as skipped) and
a small hand-made DuckDB file holding only the segment / churn / drift tables (with past
scores whose horizon has ended, so the reliability diagram is drawn from them).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from behavioral_analytics import browser
from behavioral_analytics.report import binning, write_report
from behavioral_analytics.report.command import report
from behavioral_analytics.report.queries import Warehouse

SQL_SECTIONS = [
    "event_volumes",
    "bad_lines",
    "sessions",
    "active_users",
    "stickiness",
    "retention",
    "lifecycle",
]
MODEL_SECTIONS = [
    "segment_sizes",
    "segment_profiles",
    "churn_calibration",
    "churn_scores",
    "feature_drift",
    "score_drift",
]
GENERATED_AT = datetime(2026, 2, 3, 12, 0, 0, tzinfo=UTC)


def graph_div_count(text: str) -> int:
    return len(re.findall(r'<div id="chart-[^"]+" class="plotly-graph-div"', text))


def assert_drawn(path: Path, expected: int) -> str:
    """Every chart of the file was drawn by Chromium: one plot container with SVG each."""
    text = path.read_text(encoding="utf-8")
    assert expected > 0
    assert graph_div_count(text) == expected
    # offline: plotly.js is inlined (once), no script is fetched
    assert len(text) > 3_000_000
    assert text.count("window.PlotlyConfig") == 1
    assert not re.search(r"<script[^>]*\ssrc=", text)
    dom = browser.render_dom(path.as_uri(), budget_ms=5_000)
    assert dom.count('class="plot-container plotly"') == expected
    charts = re.split(r'class="plotly-graph-div', dom)[1:]
    assert len(charts) == expected
    for chart in charts:
        assert 'class="main-svg"' in chart, "a chart div without its drawn SVG"
    return dom


def keep_screenshot(path: Path, artifacts: Path, name: str, capsys) -> Path:
    shot = browser.screenshot(
        path.as_uri(), artifacts / name, width=1400, height=6000, budget_ms=5_000
    )
    assert shot.stat().st_size > 50_000  # a drawn page, not a blank one
    with capsys.disabled():
        print(f"\nreport screenshot: {shot}")
    return shot


# ---- a hand-made warehouse with the model marts only ---------------------------------------

AS_OF = date(2026, 2, 2)
PAST = date(2026, 1, 19)  # scored with horizon 7: its window ended on 2026-01-26 <= AS_OF
PERSONS = 40


def past_probability(i: int) -> float:
    return round((i + 0.5) / PERSONS, 4)


def past_active(i: int) -> bool:
    """Whether person i had activity in [PAST, PAST + 7): the higher p, the rarer."""
    return i % 4 != 0 if i < 20 else i % 4 == 0


def make_model_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema main_marts; create schema main_intermediate")
        connection.execute(
            "create table main_intermediate.int_as_of_dates as select * from (values "
            "(date '2026-02-02', 0, 'current', true), (date '2026-01-26', 1, 'weekly', false))"
            " as t(as_of_date, snapshot_number, snapshot_kind, is_current)"
        )
        activity = [
            (f"p{i:02d}", PAST + timedelta(days=2), 1) for i in range(PERSONS) if past_active(i)
        ]
        # activity outside the window does not count
        activity += [(f"p{i:02d}", PAST - timedelta(days=1), 3) for i in range(PERSONS)]
        connection.execute(
            "create table main_intermediate.int_churn_activity_days "
            "(person_id varchar, activity_date date, activity_event_count bigint)"
        )
        connection.executemany(
            "insert into main_intermediate.int_churn_activity_days values (?, ?, ?)", activity
        )
        connection.execute(
            "create table main_marts.person_churn_scores (person_id varchar, user_id varchar, "
            "as_of_date date, horizon_days integer, churn_probability double, "
            "expected_purchases double, risk_band varchar, model_version varchar)"
        )
        rows = []
        for i in range(PERSONS):
            for day, p in ((PAST, past_probability(i)), (AS_OF, round(i / (PERSONS - 1), 4))):
                band = "low" if p < 0.4 else "medium" if p < 0.7 else "high"
                rows.append((f"p{i:02d}", None, day, 7, p, 1.0, band, "v1"))
        connection.executemany(
            "insert into main_marts.person_churn_scores values (?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
        connection.execute(
            "create table main_marts.churn_model_metrics as select * from (values "
            "('v1', 'validation', 'champion', 'isotonic', 'all', 0.8, 0.6, 0.15, 0.05, 0.4,"
            " 40, 16, '10 equal-width bins of the predicted probability',"
            " date '2026-01-19', date '2026-01-26', date '2026-01-26'),"
            "('v1', 'validation', 'logistic', 'isotonic', 'all', 0.78, 0.55, 0.17, 0.07, 0.4,"
            " 40, 16, '10 equal-width bins of the predicted probability',"
            " date '2026-01-19', date '2026-01-26', date '2026-01-26')) as t(model_version,"
            " split, model, calibration, segment, roc_auc, pr_auc, brier, ece, base_rate,"
            " persons, positives, ece_binning, train_window_start, train_window_end,"
            " validation_as_of_date)"
        )
        connection.execute(
            "create table main_marts.person_segments as select 'p' || lpad(cast(i as varchar),"
            " 2, '0') as person_id, d as as_of_date, i % 3 as segment_id, ['new', 'buyer',"
            " 'casual'][i % 3 + 1] as segment_label, null::double as assignment_distance,"
            " null::double as membership_probability, false as is_outlier,"
            " false as is_rule_based, 'm1' as model_version"
            " from range(40) as r(i), (values (date '2026-01-26'), (date '2026-02-02')) as t(d)"
        )
        connection.execute(
            "create table main_marts.segment_profiles as select as_of_date, segment_id,"
            " any_value(segment_label) as segment_label, 'a segment' as description,"
            " count(*) as persons, count(*) / 40 as share, 10.0 + segment_id as"
            " median_tenure_days, 2.0 * segment_id as median_event_count, 1.0 as"
            " median_order_count, 0.5 + segment_id as conversion_lift"
            " from main_marts.person_segments group by as_of_date, segment_id"
        )
        connection.execute(
            "create table main_marts.fct_feature_drift as select * from (values"
            " (date '2026-01-26', date '2026-02-02', 'recency_days', 0.31, 40, 40, 0.0, 0.0,"
            "  'deciles of the reference snapshot + a missing-value bin'),"
            " (date '2026-01-26', date '2026-02-02', 'event_count', 0.05, 40, 40, 0.0, 0.0,"
            "  'deciles of the reference snapshot + a missing-value bin'))"
            " as t(reference_as_of_date, as_of_date, feature, psi, reference_rows,"
            " current_rows, reference_missing_share, current_missing_share, binning)"
        )
        connection.execute(
            "create table main_marts.fct_score_drift as select * from (values"
            " (date '2026-01-19', date '2026-02-02', 0.12, 40, 40, 0.5, 0.5,"
            "  'deciles of the reference scores')) as t(reference_as_of_date, as_of_date, psi,"
            " reference_rows, current_rows, reference_mean, current_mean, binning)"
        )
    return path


@pytest.fixture(scope="module")
def model_warehouse(tmp_path_factory) -> Path:
    return make_model_warehouse(tmp_path_factory.mktemp("report_models") / "models.duckdb")


# ---- tests ---------------------------------------------------------------------------------


def test_report_of_the_sql_marts_skips_the_model_marts(built_jsonl, tmp_path, capsys):
    out = tmp_path / "report.html"
    result = write_report(built_jsonl.warehouse, out, generated_at=GENERATED_AT)
    funnels = built_jsonl.query(
        "select distinct funnel_name from main_marts.fct_funnel_steps order by 1"
    )["funnel_name"].tolist()
    assert funnels, "the fixture's build has funnels"
    assert result.rendered == SQL_SECTIONS + [f"funnel:{name}" for name in funnels]
    # the fixture's build leaves the dbt Python models out: every model section says so
    skipped = {item.key: item.reason for item in result.skipped}
    assert sorted(skipped) == sorted(MODEL_SECTIONS)
    for reason in skipped.values():
        assert "is missing" in reason and "dbt build --select" in reason
    text = out.read_text(encoding="utf-8")
    assert "main_marts.person_churn_scores is missing" in text
    assert f"<dd>{built_jsonl.warehouse.resolve()}</dd>" in text
    assert "<dt>as-of date</dt>" in text and "generated at" in text
    events = built_jsonl.query("select count(*) as n from main_marts.fct_sessions")["n"][0]
    assert f"{events:,}</td>" in text  # the header's row count of fct_sessions

    assert_drawn(out, result.charts)
    keep_screenshot(out, tmp_path / "artifacts", "report_sql_marts.png", capsys)


def test_report_of_the_model_marts(model_warehouse, tmp_path):
    out = tmp_path / "models.html"
    result = write_report(model_warehouse, out, generated_at=GENERATED_AT)
    assert result.rendered == MODEL_SECTIONS
    assert result.as_of_date == AS_OF.isoformat()
    assert sorted(item.key for item in result.skipped) == sorted([*SQL_SECTIONS, "funnels"])
    text = out.read_text(encoding="utf-8")
    # the reliability diagram is drawn from the past scores whose horizon ended
    assert "person_churn_scores at past as-of dates 2026-01-19" in text
    assert "10 equal-width bins" in text
    assert_drawn(out, result.charts)


def test_calibration_without_matured_scores_uses_the_holdout_metrics(tmp_path):
    warehouse = make_model_warehouse(tmp_path / "fresh.duckdb")
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "delete from main_marts.person_churn_scores where as_of_date = ?", [PAST]
        )
    result = write_report(warehouse, tmp_path / "fresh.html", generated_at=GENERATED_AT)
    assert result.rendered == MODEL_SECTIONS
    text = result.out.read_text(encoding="utf-8")
    assert "No past score&#x27;s horizon has ended yet" in text
    assert "churn_model_metrics (segment = all): Brier and ECE per model" in text
    assert "Brier 0.150, ECE 0.050" in text
    assert graph_div_count(text) == len(MODEL_SECTIONS)


def test_matured_scores_and_their_reliability_bins(model_warehouse):
    with Warehouse(model_warehouse) as reader:
        matured = reader.matured_scores()
    # only the past scores (their window ended), not the current ones
    assert set(matured["as_of_date"].dt.date) == {PAST}
    assert len(matured) == PERSONS
    by_person = dict(zip(matured["churn_probability"], matured["churned"], strict=True))
    for i in range(PERSONS):
        assert bool(by_person[past_probability(i)]) == (not past_active(i))

    table = binning.reliability(matured["churn_probability"], matured["churned"])
    # recomputed by hand: 4 persons per bin of width 0.1
    expected = (
        pd.DataFrame(
            {
                "bin": [min(int(past_probability(i) * 10), 9) for i in range(PERSONS)],
                "p": [past_probability(i) for i in range(PERSONS)],
                "y": [float(not past_active(i)) for i in range(PERSONS)],
            }
        )
        .groupby("bin")
        .agg(n=("y", "size"), p=("p", "mean"), y=("y", "mean"))
    )
    assert table["bin"].tolist() == list(range(10))
    assert table["persons"].tolist() == expected["n"].tolist() == [4] * 10
    assert table["mean_probability"].round(9).tolist() == expected["p"].round(9).tolist()
    assert table["observed_rate"].tolist() == expected["y"].tolist()
    weights = expected["n"] / expected["n"].sum()
    assert binning.expected_calibration_error(table) == pytest.approx(
        float((weights * (expected["p"] - expected["y"]).abs()).sum())
    )


def test_binning_edges():
    index = binning.bin_index(pd.Series([0.0, 0.0999, 0.1, 0.5, 0.9, 0.95, 1.0]))
    assert index.tolist() == [0, 0, 1, 5, 9, 9, 9]
    assert binning.histogram(pd.Series([1.0, 0.0]))["persons"].tolist() == [1] + [0] * 8 + [1]


def test_same_warehouse_same_report(model_warehouse, tmp_path):
    first = write_report(model_warehouse, tmp_path / "a.html", generated_at=GENERATED_AT)
    write_report(model_warehouse, tmp_path / "b.html", generated_at=GENERATED_AT)
    assert first.out.read_bytes() == (tmp_path / "b.html").read_bytes()
    later = write_report(model_warehouse, tmp_path / "c.html")  # generated now
    a = first.out.read_text(encoding="utf-8").splitlines()
    c = later.out.read_text(encoding="utf-8").splitlines()
    assert len(a) == len(c)
    differing = [x for x, y in zip(a, c, strict=True) if x != y]
    assert len(differing) == 1 and "generated at" in differing[0]


def test_command_writes_beside_the_warehouse(model_warehouse, tmp_path):
    warehouse = tmp_path / "w" / "copy.duckdb"
    warehouse.parent.mkdir()
    warehouse.write_bytes(model_warehouse.read_bytes())
    outcome = CliRunner().invoke(report, ["--warehouse", str(warehouse)])
    assert outcome.exit_code == 0, outcome.output
    assert (warehouse.parent / "report.html").is_file()
    assert "6 sections rendered, 8 skipped" in outcome.output


def test_command_on_a_missing_warehouse(tmp_path):
    missing = tmp_path / "nowhere.duckdb"
    outcome = CliRunner().invoke(report, ["--warehouse", str(missing)])
    assert outcome.exit_code == 1
    lines = outcome.output.strip().splitlines()
    assert len(lines) == 1
    assert str(missing) in lines[0] and "behavior demo" in lines[0]
    assert not (tmp_path / "report.html").exists()
