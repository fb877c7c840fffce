"""The synthetic event generator: determinism, contract faults, and truth that adds up.

The checks re-read the written files with the contract's rules as written
(``behavioral_analytics.contract_rules``: ``classify``, ``event_at``, the first
copy's order) instead of trusting the generator's own bookkeeping.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from behavioral_analytics.contract_rules import (
    BAD_LINE_REASONS,
    INVALID_JSON,
    MISSING_EVENT_ID,
    SESSION_ENDING_EVENT,
    SESSION_TIMEOUT_MINUTES,
    analytics_consent,
    classify,
    event_at,
    first_copy_key,
    parse_line,
    parse_timestamp,
)
from behavioral_analytics.generator import PERSONAS, generate
from behavioral_analytics.sessionize import sessionize

SMALL = {"persons": 30, "days": 5, "progress": False}
TIMEOUT = pd.Timedelta(minutes=SESSION_TIMEOUT_MINUTES)
TRUTH_FILES = {
    "sessions.csv",
    "events.parquet",
    "devices.csv",
    "persons.csv",
    "bad_lines.csv",
    "duplicates.csv",
    "orders.csv",
    "summary.json",
}


# ---------------------------------------------------------------- reading what was written


def read_jsonl_lines(events_dir: Path) -> dict[str, list[str]]:
    """relative path -> lines (without the trailing newline), checking every line ends with one."""
    files = {}
    for path in sorted(events_dir.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(events_dir).as_posix()
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
        assert text.endswith("\n"), relative
        files[relative] = text[:-1].split("\n")
    return files


def read_table_rows(events_dir: Path, file_format: str) -> dict[str, list[dict]]:
    """relative path -> rows as dicts (nulls dropped, properties/context parsed)."""
    files = {}
    for path in sorted(events_dir.rglob(f"*.{file_format}")):
        relative = path.relative_to(events_dir).as_posix()
        if file_format == "csv":
            text = path.read_text(encoding="utf-8")
            assert text.endswith("\n")
            records = list(csv.DictReader(text.splitlines()))
            records = [{k: v for k, v in row.items() if v != ""} for row in records]
        else:
            frame = pd.read_parquet(path)
            records = [
                {k: v for k, v in row.items() if v is not None and not pd.isna(v)}
                for row in frame.astype(object).to_dict("records")
            ]
        rows = []
        for record in records:
            for column in ("properties", "context"):
                if column in record:
                    record[column] = json.loads(record[column])
            if "schema_version" in record:
                record["schema_version"] = int(record["schema_version"])
            rows.append(record)
        files[relative] = rows
    return files


def read_truth(out: Path) -> dict[str, pd.DataFrame]:
    truth = out / "truth"
    tables = {
        name: pd.read_csv(truth / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("sessions", "devices", "persons", "bad_lines", "duplicates", "orders")
    }
    tables["events"] = pd.read_parquet(truth / "events.parquet")
    return tables


def tree_digest(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def jsonl_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("jsonl")
    summary = generate(out, seed=42, **SMALL)
    lines = read_jsonl_lines(out / "events")
    return out, summary, lines, read_truth(out)


@pytest.fixture(scope="module")
def parsed_lines(jsonl_run):
    _, _, lines, _ = jsonl_run
    return {path: [parse_line(text) for text in file_lines] for path, file_lines in lines.items()}


# --------------------------------------------------------------------------- layout and determinism


def test_layout(jsonl_run):
    out, summary, lines, _ = jsonl_run
    assert {path.name for path in (out / "truth").iterdir()} == TRUTH_FILES
    assert not list((out / "events").rglob("truth"))
    pattern = re.compile(
        r"^received_date=\d{4}-\d{2}-\d{2}/(web|server|offline)-\d{4}\.jsonl$"
        r"|^received_date=\d{4}-\d{2}-\d{2}/mobile-\d{4}\.jsonl\.gz$"
    )
    assert lines, "no event files"
    assert all(pattern.match(path) for path in lines), sorted(lines)
    streams = {path.split("/")[1].split("-")[0] for path in lines}
    assert {"web", "mobile", "server"} <= streams
    assert set(summary["files"]) == set(lines)
    assert summary["lines_per_file"] == {
        path: len(file_lines) for path, file_lines in lines.items()
    }


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path, jsonl_run):
    out, _, _, _ = jsonl_run
    again = tmp_path / "again"
    generate(again, seed=42, **SMALL)
    assert tree_digest(again) == tree_digest(out)
    other = tmp_path / "other"
    generate(other, seed=7, **SMALL)
    assert tree_digest(other / "events") != tree_digest(out / "events")
    assert tree_digest(other / "truth") != tree_digest(out / "truth")


def test_rerun_into_same_folder_replaces_previous_output(tmp_path):
    generate(tmp_path, seed=3, persons=12, days=3, progress=False)
    first = tree_digest(tmp_path)
    generate(tmp_path, seed=4, persons=12, days=2, progress=False)
    generate(tmp_path, seed=3, persons=12, days=3, progress=False)
    assert tree_digest(tmp_path) == first


def test_progress_bar_runs(tmp_path):
    summary = generate(tmp_path, seed=1, persons=5, days=2, progress=True)
    assert summary["valid_events"] > 0


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, persons=5, days=2, file_format="xml", progress=False)
    with pytest.raises(ValueError):
        generate(tmp_path, persons=0, days=2, progress=False)


# --------------------------------------------------------------------------- bad lines


def test_every_reason_code_is_recorded_and_really_breaks_the_rule(jsonl_run, parsed_lines):
    _, summary, lines, truth = jsonl_run
    bad = truth["bad_lines"]
    assert set(bad["reason"]) == set(BAD_LINE_REASONS)
    recorded = set()
    for row in bad.itertuples():
        line_number = int(row.line_number)
        text = lines[row.file][line_number - 1]
        assert text == row.raw_line
        assert classify(parsed_lines[row.file][line_number - 1]) == row.reason, text
        recorded.add((row.file, line_number))
    # And no other line breaks a rule.
    for path, objects in parsed_lines.items():
        for number, obj in enumerate(objects, start=1):
            if (path, number) not in recorded:
                assert classify(obj) is None, (path, number, lines[path][number - 1])
    share = len(bad) / summary["lines"]
    assert 0.004 <= share <= 0.012
    assert summary["bad_lines_by_reason"] == bad["reason"].value_counts().to_dict()


def test_bad_line_variety(jsonl_run, parsed_lines):
    _, _, lines, truth = jsonl_run
    raw = list(truth["bad_lines"]["raw_line"])
    assert "" in raw  # an empty line
    assert any(text.startswith("[") for text in raw)  # a JSON array
    assert any(text.startswith('"') for text in raw)  # a bare string
    empty_rows = truth["bad_lines"][truth["bad_lines"]["raw_line"] == ""]
    for row in empty_rows.itertuples():
        assert 1 < int(row.line_number) < len(lines[row.file])  # in the middle of a file
    # Several faults: the first reason in contract order wins.
    objects = [json.loads(text) for text in raw if text.startswith("{") and parse_line(text)]
    multi = [
        obj for obj in objects if "event_id" not in obj and obj.get("event_name") == "AddToCart"
    ]
    assert multi and all(classify(obj) == MISSING_EVENT_ID for obj in multi)
    invalid_names = {obj.get("event_name") for obj in objects}
    assert {"AddToCart", "page-view"} <= invalid_names
    platforms = {obj.get("platform", "<absent>") for obj in objects}
    assert {"desktop", "<absent>"} <= platforms
    revenues = {
        obj["properties"]["revenue"]
        for obj in objects
        if isinstance(obj.get("properties"), dict) and "revenue" in obj["properties"]
    }
    assert {"12.50", "abc"} <= revenues


# --------------------------------------------------------------------------- truth adds up


def test_summary_adds_up_per_file(jsonl_run):
    _, summary, lines, truth = jsonl_run
    events = truth["events"]
    first_copies = events.groupby("file").size().to_dict()
    duplicates = truth["duplicates"].groupby("file").size().to_dict()
    bad = truth["bad_lines"].groupby("file").size().to_dict()
    for path, counts in summary["files"].items():
        assert counts["lines"] == len(lines[path])
        assert counts["valid_first_copies"] == first_copies.get(path, 0)
        assert counts["duplicates"] == duplicates.get(path, 0)
        assert counts["bad_lines"] == bad.get(path, 0)
        assert counts["lines"] == (
            counts["valid_first_copies"] + counts["duplicates"] + counts["bad_lines"]
        )
    assert summary["lines"] == sum(len(file_lines) for file_lines in lines.values())
    assert summary["valid_events"] == len(events) == events["event_id"].nunique()
    assert summary["duplicates"] == len(truth["duplicates"])
    assert summary["bad_lines"] == len(truth["bad_lines"])
    sessions_are_bots = truth["sessions"]["is_bot"] == "True"
    assert summary["sessions"] == int((~sessions_are_bots).sum())
    assert summary["bot_sessions"] == int(sessions_are_bots.sum())
    assert summary["devices"] == len(truth["devices"]) == events["device_id"].nunique()
    assert summary["persons"] == len(truth["persons"]) == SMALL["persons"]
    assert summary["orders"] == len(truth["orders"])
    assert summary["revenue"] == pytest.approx(truth["orders"]["revenue"].astype(float).sum())
    assert summary["parameters"]["seed"] == 42


def test_truth_events_are_the_first_received_copies(jsonl_run, parsed_lines):
    _, _, _, truth = jsonl_run
    copies = defaultdict(list)
    for path, objects in parsed_lines.items():
        for number, obj in enumerate(objects, start=1):
            if classify(obj) is None:
                received = parse_timestamp(obj["received_at"])
                copies[obj["event_id"]].append(
                    {"received_at": received, "file": path, "line_number": number, "line": obj}
                )
    events = truth["events"]
    assert set(copies) == set(events["event_id"])
    expected_duplicates = set()
    for row in events.itertuples():
        first, *later = sorted(copies[row.event_id], key=first_copy_key)
        obj = first["line"]
        assert (first["file"], first["line_number"]) == (row.file, row.line_number)
        assert first["received_at"] == row.received_at.to_pydatetime()
        assert event_at(obj) == row.event_at.to_pydatetime()  # exact, to the microsecond
        assert obj["event_name"] == row.event_name
        assert obj.get("anonymous_id") == (None if pd.isna(row.anonymous_id) else row.anonymous_id)
        assert obj.get("user_id") == (None if pd.isna(row.user_id) else row.user_id)
        assert obj["platform"] == row.platform
        assert analytics_consent(obj) == row.consent_analytics
        expected_duplicates.update((copy["file"], copy["line_number"]) for copy in later)
    recorded = {(row.file, int(row.line_number)) for row in truth["duplicates"].itertuples()}
    assert recorded == expected_duplicates
    assert len(recorded) > 0
    # Retries in the same file and in a later file both happen.
    event_files = {
        event_id: {copy["file"] for copy in items}
        for event_id, items in copies.items()
        if len(items) > 1
    }
    assert any(len(files) == 1 for files in event_files.values())
    assert any(len(files) > 1 for files in event_files.values())


def test_truth_sessions_equal_sessionize_over_events(jsonl_run):
    _, summary, _, truth = jsonl_run
    # events without analytics consent, and a person's events after their
    # opt-out, take no part in sessions (contract)
    assert truth["events"].loc[~truth["events"]["is_analysed"], "session_index"].isna().all()
    events = truth["events"][truth["events"]["is_analysed"]].reset_index(drop=True)
    assert events["session_index"].notna().all()
    resessionized = sessionize(
        events.drop(columns=["session_index"]),
        timeout_minutes=summary["parameters"]["timeout_minutes"],
        max_session_minutes=summary["parameters"]["max_session_minutes"],
    )
    assert list(resessionized["session_index"]) == list(events["session_index"])
    grouped = (
        events.groupby(["device_id", "session_index"], sort=True)
        .agg(
            session_start_at=("event_at", "min"),
            session_end_at=("event_at", "max"),
            event_count=("event_id", "size"),
            first_event_id=("event_id", "first"),
        )
        .reset_index()
    )
    sessions = truth["sessions"]
    assert list(sessions.columns) == [
        "device_id",
        "session_index",
        "session_start_at",
        "session_end_at",
        "event_count",
        "first_event_id",
        "is_bot",
    ]
    assert list(sessions["device_id"]) == list(grouped["device_id"])
    assert list(sessions["session_index"].astype(int)) == list(grouped["session_index"])
    assert list(sessions["event_count"].astype(int)) == list(grouped["event_count"])
    assert list(sessions["first_event_id"]) == list(grouped["first_event_id"])
    for column in ("session_start_at", "session_end_at"):
        assert all(value.endswith("+00:00") and len(value) == 32 for value in sessions[column])
        parsed = pd.to_datetime(sessions[column], utc=True, format="ISO8601")
        assert list(parsed) == list(grouped[column])


def test_exact_timeout_boundaries_are_present(jsonl_run):
    _, _, _, truth = jsonl_run
    events = truth["events"].sort_values(["device_id", "event_at", "event_id"])
    humans = events[~events["is_bot"]]
    gap = humans.groupby("device_id")["event_at"].diff()
    session_step = humans.groupby("device_id")["session_index"].diff()
    exact = (gap == TIMEOUT) & (session_step == 0)
    just_over = (gap == TIMEOUT + pd.Timedelta(milliseconds=1)) & (session_step == 1)
    assert exact.any()
    assert just_over.any()
    # Logout then a quick return: a new session although the gap is short.
    previous_name = humans.groupby("device_id")["event_name"].shift()
    quick_return = (previous_name == SESSION_ENDING_EVENT) & (gap < pd.Timedelta(minutes=10))
    assert quick_return.any()
    assert (session_step[quick_return] == 1).all()


def test_max_session_length_cut_is_present(jsonl_run):
    _, _, _, truth = jsonl_run
    events = truth["events"].sort_values(["device_id", "event_at", "event_id"])
    gap = events.groupby("device_id")["event_at"].diff()
    step = events.groupby("device_id")["session_index"].diff()
    previous_name = events.groupby("device_id")["event_name"].shift()
    cut = (step == 1) & (gap <= TIMEOUT) & (previous_name != SESSION_ENDING_EVENT)
    assert cut.any()


def test_late_mobile_batches_cross_the_day(jsonl_run):
    _, _, _, truth = jsonl_run
    events = truth["events"]
    mobile = events[events["file"].str.contains("/mobile-")]
    folder_date = pd.to_datetime(mobile["file"].str.slice(14, 24)).dt.date
    event_date = mobile["event_at"].dt.date
    assert (folder_date > event_date).any()
    assert (mobile["received_at"] - mobile["event_at"] > pd.Timedelta(hours=1)).any()


def test_clock_skew_is_present_and_corrected(jsonl_run, parsed_lines):
    skews = []
    for objects in parsed_lines.values():
        for obj in objects:
            if classify(obj) is None and obj.get("sent_at") is not None:
                skew = parse_timestamp(obj["sent_at"]) - parse_timestamp(obj["received_at"])
                skews.append(abs(skew.total_seconds()))
    assert max(skews) > 3600
    assert sum(1 for value in skews if value < 5) > len(skews) / 2


def test_identity_shared_devices_bots_and_consent(jsonl_run):
    _, summary, _, truth = jsonl_run
    devices = truth["devices"]
    events = truth["events"]
    assert list(devices.columns) == [
        "device_id",
        "anonymous_id",
        "person_id",
        "user_ids_seen",
        "is_shared",
        "is_bot",
        "bot_kind",
        "platform",
        "user_agent",
        "ips",
    ]
    shared = devices[devices["is_shared"] == "True"]
    assert len(shared) >= 1
    for row in shared.itertuples():
        assert len(row.user_ids_seen.split("|")) >= 2
        performers = events.loc[events["device_id"] == row.device_id, "person_id"].dropna()
        assert performers.nunique() >= 2
    bots = devices[devices["is_bot"] == "True"]
    assert set(bots["bot_kind"]) == {"ua", "behaviour"}
    assert bots["user_ids_seen"].eq("").all()
    ua_bots = bots[bots["bot_kind"] == "ua"]
    assert ua_bots["user_agent"].str.contains("bot|Headless|python-requests|curl").all()
    bot_events = events[events["is_bot"]]
    assert bot_events["person_id"].isna().all() and bot_events["user_id"].isna().all()
    assert summary["bots"] == len(bots)
    # Server and offline events carry only a user_id; their device is the user_id.
    server = events[events["platform"].isin(["server", "offline"])]
    assert len(server) > 0
    assert server["anonymous_id"].isna().all()
    assert (server["device_id"] == server["user_id"]).all()
    # Anonymous events before a login on the same device are stitched retroactively.
    stitched = events[events["user_id"].isna() & events["resolved_user_id"].notna()]
    assert len(stitched) > 0
    # Devices that never log in exist.
    human_devices = devices[(devices["is_bot"] == "False") & (devices["anonymous_id"] != "")]
    assert (human_devices["user_ids_seen"] == "").any()
    assert (human_devices["user_ids_seen"] != "").any()


def test_consent_and_persons(tmp_path):
    # Opt-outs and churn are rare events per person: use a bigger, still quick, run.
    out = tmp_path / "consent"
    generate(out, seed=11, persons=120, days=8, progress=False)
    truth = read_truth(out)
    persons = truth["persons"]
    events = truth["events"]
    assert list(persons.columns) == [
        "person_id",
        "user_id",
        "persona",
        "signup_date",
        "churn_date",
        "opted_out_at",
        "device_count",
        "is_identified",
    ]
    assert set(persons["persona"]) == set(PERSONAS)
    assert (persons["churn_date"] != "").any()
    assert (persons["signup_date"] >= "2026-01-05").any()
    opted = persons[persons["opted_out_at"] != ""]
    assert len(opted) >= 1
    for row in opted.itertuples():
        moment = pd.Timestamp(row.opted_out_at)
        own = events[events["person_id"] == row.person_id]
        assert own.loc[~own["consent_analytics"], "event_at"].min() == moment
    # Opt-outs reach the first device (and the server); other devices only
    # sometimes learn of it, so consented events after an opt-out exist, and
    # the truth marks them as not analysed.
    late = events[events["consent_analytics"] & events["is_after_opt_out"]]
    assert len(late) > 0 and not events.loc[late.index, "is_analysed"].any()
    assert (
        events["is_analysed"] == (events["consent_analytics"] & ~events["is_after_opt_out"])
    ).all()
    assert events["consent_analytics"].sum() > 0.9 * len(events)
    # Churned persons are not active after their churn date.
    for row in persons[persons["churn_date"] != ""].itertuples():
        own = events[(events["person_id"] == row.person_id) & (events["platform"] != "offline")]
        churn = pd.Timestamp(row.churn_date, tz="UTC")
        assert (own["event_at"] < churn + pd.Timedelta(hours=24)).all()
    # Orders point at purchase events.
    orders = truth["orders"]
    purchase_ids = set(events.loc[events["event_name"] == "purchase", "event_id"])
    assert len(orders) > 0 and set(orders["event_id"]) == purchase_ids
    assert set(events["event_name"]) >= {
        "page_view",
        "screen_view",
        "product_view",
        "search",
        "add_to_cart",
        "checkout_started",
        "purchase",
        "login",
        "logout",
        "feature_used",
        "promo_banner_click",
        "order_completed",
    }


# --------------------------------------------------------------------------- other formats


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_parquet_and_csv_modes(tmp_path, jsonl_run, file_format):
    _, _, _, jsonl_truth = jsonl_run
    out = tmp_path / file_format
    summary = generate(out, seed=42, file_format=file_format, **SMALL)
    files = read_table_rows(out / "events", file_format)
    assert files and all(path.endswith(f".{file_format}") for path in files)
    assert not list((out / "events").rglob("*.jsonl*"))
    truth = read_truth(out)
    bad = truth["bad_lines"]
    assert set(bad["reason"]) == set(BAD_LINE_REASONS) - {INVALID_JSON}
    recorded = {(row.file, int(row.line_number)): row.reason for row in bad.itertuples()}
    # Line numbers are file lines: a CSV's header is line 1, its first row line 2.
    first_line = 2 if file_format == "csv" else 1
    for path, rows in files.items():
        assert summary["files"][path]["lines"] == len(rows)
        for number, row in enumerate(rows, start=first_line):
            assert classify(row) == recorded.get((path, number)), (path, number, row)
    # Same valid events as in jsonl mode (positions in files differ).
    columns = [
        column for column in jsonl_truth["events"].columns if column not in ("file", "line_number")
    ]
    left = jsonl_truth["events"][columns].sort_values("event_id").reset_index(drop=True)
    right = truth["events"][columns].sort_values("event_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)
    pd.testing.assert_frame_equal(truth["sessions"], jsonl_truth["sessions"])
    # The first-copy location points at a row with that event_id.
    for row in truth["events"].head(200).itertuples():
        assert files[row.file][row.line_number - first_line]["event_id"] == row.event_id


def test_event_at_in_utc_with_timestamps_as_written(jsonl_run, parsed_lines):
    # Timestamps are written with millisecond precision and various offsets.
    suffixes = set()
    for objects in parsed_lines.values():
        for obj in objects:
            if classify(obj) is None:
                assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}", obj["event_ts"])
                suffixes.add(obj["event_ts"][23:])
                suffixes.add(obj["received_at"][23:])
    assert {"Z", "+00:00", "+01:00"} <= suffixes
    assert len(suffixes) >= 4
