"""Generated events with known truth -> `dbt build` -> marts equal to the truth."""

from __future__ import annotations

import gzip

import duckdb
import pandas as pd
import pytest

from behavioral_analytics.contract_rules import BAD_LINE_REASONS

from .conftest import build, run_dbt

pytestmark = pytest.mark.e2e


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True, format="ISO8601").dt.as_unit("us")


def _sessions_match_truth(built) -> None:
    truth = pd.read_csv(built.truth / "sessions.csv", dtype={"device_id": str})
    truth = truth[~truth["is_bot"]].drop(columns="is_bot")  # no behavioural mart has bots
    truth["session_start_at"] = _utc(truth["session_start_at"])
    truth["session_end_at"] = _utc(truth["session_end_at"])
    marts = built.query(
        """
        select device_id, session_index, session_start_at, session_end_at, event_count,
               first_event_id
        from main_marts.fct_sessions
        """
    )
    marts["session_start_at"] = _utc(marts["session_start_at"])
    marts["session_end_at"] = _utc(marts["session_end_at"])
    assert len(marts) == len(truth), "session count differs from the truth"
    key = ["device_id", "session_index"]
    merged = truth.merge(marts, on=key, how="outer", suffixes=("_truth", "_mart"), indicator=True)
    missing = merged[merged["_merge"] != "both"]
    assert missing.empty, f"sessions only on one side:\n{missing.head(20)}"
    for column in ("session_start_at", "session_end_at", "event_count", "first_event_id"):
        differs = merged[merged[f"{column}_truth"] != merged[f"{column}_mart"]]
        assert differs.empty, f"{column} differs for {len(differs)} sessions:\n{differs.head(10)}"


def test_sessions_equal_truth(built_jsonl):
    assert built_jsonl.summary["sessions"] > 100
    _sessions_match_truth(built_jsonl)


def _quarantine_matches_truth(built) -> pd.DataFrame:
    """Every bad line of the truth is quarantined with its reason and file line, and
    nothing else is; returns the truth's bad lines."""
    truth = pd.read_csv(built.truth / "bad_lines.csv", keep_default_na=False)
    quarantine = built.query(
        "select file_name, line_number, reason, reason_detail"
        " from main_staging.stg_tracker__events_quarantine"
    )
    merged = truth.rename(columns={"file": "file_name"}).merge(
        quarantine, on=["file_name", "line_number"], how="outer", indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head(20)
    wrong = merged[merged["reason_x"] != merged["reason_y"]]
    assert wrong.empty, wrong[["file_name", "line_number", "reason_x", "reason_y"]].head(20)
    assert quarantine["reason_detail"].str.len().min() > 0
    return truth


def test_every_bad_line_quarantined_with_its_reason(built_jsonl):
    truth = _quarantine_matches_truth(built_jsonl)
    # every contract reason code is exercised by the generated data
    assert set(truth["reason"]) == set(BAD_LINE_REASONS)


def test_duplicates_are_the_later_copies(built_jsonl):
    truth = pd.read_csv(built_jsonl.truth / "duplicates.csv", keep_default_na=False)
    marts = built_jsonl.query(
        "select file_name, line_number, event_id from main_staging.stg_tracker__event_duplicates"
    )
    assert len(truth) > 0
    key = ["file_name", "line_number", "event_id"]
    left = truth.rename(columns={"file": "file_name"})[key].sort_values(key).reset_index(drop=True)
    right = marts[key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False)


def test_events_equal_truth_event_times(built_jsonl):
    truth = pd.read_parquet(built_jsonl.truth / "events.parquet")
    marts = built_jsonl.query(
        "select event_id, device_id, event_at, file_name, line_number"
        " from main_staging.stg_tracker__events"
    )
    assert len(marts) == len(truth)
    merged = truth.merge(marts, on="event_id", suffixes=("_truth", "_mart"))
    assert len(merged) == len(truth)
    assert (_utc(merged["event_at_truth"]).values == _utc(merged["event_at_mart"]).values).all()
    assert (merged["device_id_truth"] == merged["device_id_mart"]).all()


def test_every_file_reconciles(built_jsonl):
    reconciliation = built_jsonl.query("select * from main_marts.fct_raw_file_reconciliation")
    assert (reconciliation["lines_lost"] == 0).all()
    expected = built_jsonl.summary["lines_per_file"]
    actual = dict(zip(reconciliation["file_name"], reconciliation["lines_read"], strict=True))
    assert actual == expected
    assert reconciliation["lines_quarantined"].sum() == built_jsonl.summary["bad_lines"]
    assert reconciliation["duplicates"].sum() == built_jsonl.summary["duplicates"]
    assert reconciliation["events_staged"].sum() == built_jsonl.summary["valid_events"]


def test_unknown_event_names_flagged_not_dropped(built_jsonl):
    flagged = built_jsonl.query(
        "select distinct event_name from main_staging.stg_tracker__events"
        " where not is_known_event_name"
    )
    assert len(flagged) >= 1
    assert (
        "WARN" in built_jsonl.dbt_output
        and "assert_event_names_in_taxonomy" in built_jsonl.dbt_output
    )


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_parquet_and_csv_sessions_equal_truth(tmp_path, file_format):
    """Parquet and CSV rows are read typed (never rendered to JSON to be parsed again):
    the same sessions, and the generator's bad rows quarantined with their reasons."""
    built = build(tmp_path, file_format=file_format, persons=25, days=4, seed=11)
    _sessions_match_truth(built)
    assert len(_quarantine_matches_truth(built)) > 0
    formats = built.query("select distinct file_format from main_marts.fct_raw_file_reconciliation")
    assert set(formats["file_format"]) == {file_format}


def test_an_unreadable_file_is_quarantined_named_and_the_others_load(tmp_path):
    events = tmp_path / "events" / "received_date=2026-01-05"
    events.mkdir(parents=True)
    good = (
        b'{"event_id":"e1","event_name":"page_view","event_ts":"2026-01-05T10:00:00Z",'
        b'"received_at":"2026-01-05T10:00:01Z","anonymous_id":"a","platform":"web"}\n'
    )
    (events / "good.jsonl.gz").write_bytes(gzip.compress(good))
    (events / "broken.jsonl.gz").write_bytes(gzip.compress(good)[:20])
    warehouse = tmp_path / "w.duckdb"
    code, output = run_dbt(
        ["build", "--target", "duckdb"], tmp_path / "events", warehouse, check=False
    )
    assert code != 0
    assert "unreadable raw file received_date=2026-01-05/broken.jsonl.gz" in output
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        staged = connection.execute(
            "select event_id from main_staging.stg_tracker__events"
        ).fetchall()
    assert staged == [("e1",)]


def test_a_line_that_is_not_utf8_is_a_bad_line_and_the_build_passes(tmp_path):
    events = tmp_path / "events" / "received_date=2026-01-05"
    events.mkdir(parents=True)
    (events / "latin1.jsonl").write_bytes('{"event_id":"é"}\n'.encode("latin-1"))
    warehouse = tmp_path / "w.duckdb"
    code, output = run_dbt(
        ["build", "--target", "duckdb"], tmp_path / "events", warehouse, check=False
    )
    assert code == 0, output[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        reasons = connection.execute(
            "select file_name, reason from main_staging.stg_tracker__events_quarantine"
        ).fetchall()
    assert reasons == [("received_date=2026-01-05/latin1.jsonl", "invalid_encoding")]


def test_events_without_consent_counted_not_analysed(built_jsonl):
    truth = pd.read_parquet(built_jsonl.truth / "events.parquet")
    without_consent = set(truth.loc[~truth["consent_analytics"], "event_id"])
    after_opt_out = truth["consent_analytics"] & truth["is_after_opt_out"]
    assert without_consent, "the generated data has opt-outs"
    assert after_opt_out.any(), "some devices keep sending consent after their person's opt-out"
    counted = built_jsonl.query(
        "select sum(events_without_consent) as n, sum(events) as total,"
        " sum(consented_events_after_opt_out) as after_opt_out, sum(analysed_events) as analysed"
        " from main_marts.fct_daily_consent"
    )
    assert int(counted["n"][0]) == len(without_consent)
    assert int(counted["total"][0]) == len(truth)
    assert int(counted["after_opt_out"][0]) == int(after_opt_out.sum())
    assert int(counted["analysed"][0]) == int(truth["is_analysed"].sum())
    sessionized = built_jsonl.query("select event_id from main_intermediate.int_events_sessionized")
    assert without_consent.isdisjoint(sessionized["event_id"])


def test_fct_events_is_exactly_the_analysed_human_events(built_jsonl):
    """Valid, first copy, consented, before the person's opt-out, not a bot: per the truth."""
    truth = pd.read_parquet(built_jsonl.truth / "events.parquet")
    expected = truth[truth["is_analysed"] & ~truth["is_bot"]]
    marts = built_jsonl.query(
        "select event_id, event_at, device_id, session_index from main_marts.fct_events"
    )
    assert len(marts) == len(expected)
    merged = expected.merge(marts, on="event_id", how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head(10)
    assert (merged["device_id_x"] == merged["device_id_y"]).all()
    assert (_utc(merged["event_at_x"]) == _utc(merged["event_at_y"])).all()
    assert (merged["session_index_x"].astype(int) == merged["session_index_y"]).all()


def test_no_bot_or_unanalysed_event_in_any_mart(built_jsonl):
    truth = pd.read_parquet(built_jsonl.truth / "events.parquet")
    devices = pd.read_csv(built_jsonl.truth / "devices.csv", keep_default_na=False, dtype=str)
    bots = set(devices.loc[devices["is_bot"] == "True", "device_id"])
    excluded = set(truth.loc[~truth["is_analysed"], "event_id"])
    assert bots and excluded
    for relation in ("fct_events", "fct_sessions"):
        devices_seen = built_jsonl.query(f"select device_id from main_marts.{relation}")
        assert bots.isdisjoint(devices_seen["device_id"]), relation
    session_events = built_jsonl.query(
        "select first_event_id as event_id from main_marts.fct_sessions"
        " union all select last_event_id from main_marts.fct_sessions"
        " union all select event_id from main_marts.fct_events"
    )
    assert excluded.isdisjoint(session_events["event_id"])
    persons = built_jsonl.query(
        "select person_id from main_marts.dim_persons"
        " where person_id in (select person_id from main_marts.dim_devices where is_bot)"
    )
    assert persons.empty


def test_summary_reads_the_warehouse_like_a_bi_tool(built_jsonl):
    """`behavior summary` (and a BI tool) reads the marts without dbt's plugin."""
    from behavioral_analytics.warehouse import summarize

    result = summarize(built_jsonl.warehouse)
    assert result.lines_read == built_jsonl.summary["lines"]
    assert result.bad_lines == built_jsonl.summary["bad_lines"]
    assert result.duplicates == built_jsonl.summary["duplicates"]
    assert result.sessions == built_jsonl.summary["sessions"]
    assert result.lines_lost == 0
    assert set(result.relations) >= {"main_marts.fct_sessions", "main_marts.fct_schema_drift"}
