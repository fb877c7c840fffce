"""Snowplow and GA4 adapters: field mapping, nulls, timestamps, folder layout, contract rules."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from behavioral_analytics.adapters import (
    convert_atomic_events,
    convert_atomic_events_csv,
    convert_ga4_events,
    convert_ga4_events_csv,
)
from behavioral_analytics.adapters.ga4 import ga4_event_id
from behavioral_analytics.adapters.snowplow import contract_event_name, normalize_timestamp
from behavioral_analytics.contract_rules import (
    EVENT_NAME_PATTERN,
    FUTURE_TOLERANCE,
    PLATFORMS,
    event_at,
    parse_timestamp,
)

PEER_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "peer_fixtures"
SNOWPLOW_WEB = PEER_FIXTURES / "snowplow_dbt-snowplow-web@0.15.2"
DBT_LABS_SNOWPLOW = PEER_FIXTURES / "dbt-labs_snowplow"
VELIR_GA4 = PEER_FIXTURES / "Velir_dbt-ga4"


# --------------------------------------------------------------------------- the contract

REQUIRED_FIELDS = ("event_id", "event_name", "event_ts", "received_at", "platform")
# Stricter than the contract: the adapters write one canonical ISO-8601 form.
ISO_8601_WITH_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not ISO_8601_WITH_OFFSET.match(value):
        return None
    return parse_timestamp(value)


def contract_violations(event: object) -> list[str]:
    """Every rule of EVENT_CONTRACT.md (version 1) that one decoded line breaks."""
    if not isinstance(event, dict):
        return ["not a JSON object"]
    problems = []
    for field in REQUIRED_FIELDS:
        if not isinstance(event.get(field), str) or not event[field].strip():
            problems.append(f"missing {field}")
    name = event.get("event_name")
    if isinstance(name, str) and not EVENT_NAME_PATTERN.match(name):
        problems.append(f"invalid event_name {name!r}")
    moments = {}
    for field in ("event_ts", "received_at", "sent_at"):
        if field in event:
            moments[field] = _timestamp(event[field])
            if moments[field] is None:
                problems.append(f"{field} {event[field]!r} is not ISO-8601 with an offset")
    identities = [event.get(field) for field in ("anonymous_id", "user_id")]
    if not any(isinstance(value, str) and value.strip() for value in identities):
        problems.append("missing identity")
    for field in ("anonymous_id", "user_id"):
        if field in event and not isinstance(event[field], str):
            problems.append(f"{field} is not a string")
    platform = event.get("platform")
    if isinstance(platform, str) and platform.lower() not in PLATFORMS:
        problems.append(f"invalid platform {platform!r}")
    times_valid = bool(moments.get("event_ts") and moments.get("received_at"))
    times_valid = times_valid and None not in moments.values()
    if times_valid and event_at(event) - moments["received_at"] > FUTURE_TOLERANCE:
        problems.append("future timestamp")
    for field in ("properties", "context"):
        if field in event and not isinstance(event[field], dict):
            problems.append(f"{field} is not an object")
    revenue = event.get("properties", {}).get("revenue") if "properties" in event else None
    if revenue is not None and (isinstance(revenue, bool) or not isinstance(revenue, int | float)):
        problems.append("invalid revenue")
    if "schema_version" in event and not isinstance(event["schema_version"], int):
        problems.append("schema_version is not an integer")
    return problems


def read_lines(out_dir: Path) -> dict[str, list[dict]]:
    """{path relative to out_dir: decoded lines} of every .jsonl file written."""
    result = {}
    for path in sorted(out_dir.rglob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n"), f"{path} does not end with a newline"
        result[path.relative_to(out_dir).as_posix()] = [
            json.loads(line) for line in text.splitlines()
        ]
    return result


def all_lines(out_dir: Path) -> list[dict]:
    return [line for lines in read_lines(out_dir).values() for line in lines]


def assert_contract(out_dir: Path) -> list[dict]:
    lines = all_lines(out_dir)
    assert lines, f"nothing written under {out_dir}"
    broken = {line.get("event_id"): contract_violations(line) for line in lines}
    broken = {event_id: problems for event_id, problems in broken.items() if problems}
    assert not broken, f"lines that break the contract: {broken}"
    for relative in read_lines(out_dir):
        assert re.fullmatch(r"received_date=\d{4}-\d{2}-\d{2}/[^/]+\.jsonl", relative), relative
    return lines


def peer_fixture(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"peer fixture {path} is absent: these tests read ../shared/data/peer_fixtures "
            "beside the repository (never copied into it)"
        )
    return path


def test_validator_catches_every_rule():
    good = {
        "event_id": "e1",
        "event_name": "page_view",
        "event_ts": "2024-01-01T10:00:00.000+01:00",
        "received_at": "2024-01-01T09:00:01Z",
        "anonymous_id": "a1",
        "platform": "web",
    }
    assert contract_violations(good) == []
    cases = {
        "missing event_id": {"event_id": None},
        "invalid event_name": {"event_name": "Page View"},
        "event_ts": {"event_ts": "2024-01-01 10:00:00"},
        "missing identity": {"anonymous_id": ""},
        "invalid platform": {"platform": "tv"},
        "future timestamp": {"event_ts": "2024-01-03T10:00:00Z"},
        "invalid revenue": {"properties": {"revenue": "12"}},
    }
    for expected, change in cases.items():
        problems = contract_violations({**good, **change})
        assert any(expected in problem for problem in problems), (expected, problems)


# --------------------------------------------------------------------------- Snowplow

SNOWPLOW_ROW = {
    "app_id": "site",
    "platform": "web",
    "etl_tstamp": "2021-03-01 20:58:12.000",
    "collector_tstamp": "2021-03-01 20:58:11.021",
    "dvce_created_tstamp": "2021-03-01 20:56:33.286",
    "dvce_sent_tstamp": "2021-03-01 20:56:35.115",
    "derived_tstamp": "2021-03-01 20:58:09.192",
    "event": "page_view",
    "event_name": "page_view",
    "event_id": "1b4b3b57-3cb7-4df2-a7fd-526afa9e3c76",
    "user_id": "user-42",
    "user_ipaddress": "203.0.113.9",
    "domain_userid": "bc0da66e",
    "network_userid": "508312389e",
    "domain_sessionid": "067bcc8e",
    "geo_city": "Dublin",
    "page_url": "https://example.com/pricing?x=1",
    "page_title": "Pricing",
    "page_referrer": "https://www.google.com/",
    "page_urlpath": "/pricing",
    "se_action": "ignored",
    "useragent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
    "br_lang": "en-GB",
    "os_timezone": "Europe/London",
    "geo_timezone": "Europe/Dublin",
    "contexts_com_snowplowanalytics_snowplow_web_page_1_0_0": '[{"id":"86dd35a0"}]',
}


def convert_one(tmp_path: Path, **changes) -> dict:
    out = tmp_path / "events"
    convert_atomic_events([{**SNOWPLOW_ROW, **changes}], out)
    (line,) = all_lines(out)
    return line


def test_snowplow_field_mapping(tmp_path):
    summary = convert_atomic_events([SNOWPLOW_ROW], tmp_path / "events")

    files = read_lines(tmp_path / "events")
    assert list(files) == ["received_date=2021-03-01/snowplow-0001.jsonl"]
    (line,) = files["received_date=2021-03-01/snowplow-0001.jsonl"]
    assert line == {
        "event_id": "1b4b3b57-3cb7-4df2-a7fd-526afa9e3c76",
        "event_name": "page_view",
        "event_ts": "2021-03-01T20:56:33.286Z",
        "sent_at": "2021-03-01T20:56:35.115Z",
        "received_at": "2021-03-01T20:58:11.021Z",
        "anonymous_id": "bc0da66e",
        "user_id": "user-42",
        "platform": "web",
        "properties": {
            "page_path": "/pricing",
            "page_url": "https://example.com/pricing?x=1",
            "page_title": "Pricing",
            "referrer": "https://www.google.com/",
            "page_view_id": "86dd35a0",
        },
        "context": {
            "ip": "203.0.113.9",
            "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
            "locale": "en-GB",
            "timezone_offset_minutes": 0,
        },
    }
    assert contract_violations(line) == []
    assert summary["rows_read"] == 1
    assert summary["lines_written"] == 1
    assert summary["files"] == [
        str(tmp_path / "events" / "received_date=2021-03-01" / "snowplow-0001.jsonl")
    ]
    assert summary["event_names"] == {"page_view": "page_view"}
    assert summary["platforms"] == {"web → web": 1}
    # the contract's event time is Snowplow's derived_tstamp
    assert event_at(line) == datetime(2021, 3, 1, 20, 58, 9, 192000, tzinfo=UTC)


def test_snowplow_unknown_columns_are_left_out(tmp_path):
    line = convert_one(tmp_path)
    text = json.dumps(line)
    for leaked in ("Dublin", "ignored", "508312389e", "067bcc8e", "site", "derived"):
        assert leaked not in text
    assert set(line) <= {*REQUIRED_FIELDS, "sent_at", "anonymous_id", "user_id"} | {
        "properties",
        "context",
    }
    assert "consent" not in line["context"]


@pytest.mark.parametrize("null", ["NULL", "", "   ", None])
def test_snowplow_nulls_are_omitted(tmp_path, null):
    line = convert_one(
        tmp_path,
        user_id=null,
        page_referrer=null,
        page_title=null,
        user_ipaddress=null,
        br_lang=null,
        dvce_sent_tstamp=null,
    )
    assert "user_id" not in line
    assert "sent_at" not in line
    assert "referrer" not in line["properties"]
    assert "page_title" not in line["properties"]
    assert set(line["context"]) == {"user_agent", "timezone_offset_minutes"}
    assert contract_violations(line) == []


def test_snowplow_device_without_domain_userid_keeps_its_user_id(tmp_path):
    line = convert_one(tmp_path, domain_userid="NULL")
    assert "anonymous_id" not in line
    assert line["user_id"] == "user-42"
    assert contract_violations(line) == []


def test_snowplow_row_without_any_id_is_written_not_dropped(tmp_path):
    """The warehouse quarantines it (missing_identity): nothing disappears in the adapter."""
    line = convert_one(tmp_path, domain_userid="", user_id="NULL")
    assert "anonymous_id" not in line and "user_id" not in line
    assert contract_violations(line) == ["missing identity"]


def test_snowplow_empty_properties_and_context_are_not_written(tmp_path):
    empty = dict.fromkeys(
        [
            "page_url",
            "page_title",
            "page_referrer",
            "page_urlpath",
            "useragent",
            "br_lang",
            "user_ipaddress",
            "os_timezone",
            "geo_timezone",
            "contexts_com_snowplowanalytics_snowplow_web_page_1_0_0",
        ],
        "",
    )
    line = convert_one(tmp_path, **empty)
    assert "properties" not in line
    assert "context" not in line


@pytest.mark.parametrize(
    ("source", "written"),
    [
        ("2021-03-01 20:56:39.192", "2021-03-01T20:56:39.192Z"),
        ("2021-03-01 20:56:39.000", "2021-03-01T20:56:39.000Z"),
        ("2018-01-01 7:00:00", "2018-01-01 7:00:00"),  # not ISO: passed through, quarantined
        ("2021-03-01 20:56:39", "2021-03-01T20:56:39Z"),
        ("2021-03-01 20:56:39.123456", "2021-03-01T20:56:39.123456Z"),
        ("2021-03-01T20:56:39.5Z", "2021-03-01T20:56:39.5Z"),
        ("2021-03-01 20:56:39.192 UTC", "2021-03-01T20:56:39.192Z"),
        ("2021-03-01T21:56:39.192+0100", "2021-03-01T21:56:39.192+01:00"),
        ("2021-03-01T15:56:39.192-05:00", "2021-03-01T15:56:39.192-05:00"),
        (datetime(2021, 3, 1, 20, 56, 39, 192000), "2021-03-01T20:56:39.192Z"),
        (datetime(2021, 3, 1, 20, 56, 39, 192345, tzinfo=UTC), "2021-03-01T20:56:39.192345Z"),
    ],
)
def test_snowplow_timestamps_are_utc_with_their_precision(source, written):
    text, moment = normalize_timestamp(source)
    assert text == written
    if source == "2018-01-01 7:00:00":
        assert moment is None
    else:
        assert moment == datetime(2021, 3, 1, 20, 56, 39, moment.microsecond, tzinfo=UTC)
        assert _timestamp(text) == moment


def test_snowplow_unparseable_timestamp_is_passed_through_for_quarantine(tmp_path):
    line = convert_one(tmp_path, dvce_created_tstamp="yesterday")
    assert line["event_ts"] == "yesterday"
    assert "event_ts 'yesterday' is not ISO-8601 with an offset" in contract_violations(line)


def test_snowplow_without_device_time_falls_back_and_drops_sent_at(tmp_path):
    line = convert_one(tmp_path, dvce_created_tstamp="NULL")
    assert line["event_ts"] == "2021-03-01T20:58:09.192Z"  # derived_tstamp
    assert "sent_at" not in line
    line = convert_one(tmp_path / "again", dvce_created_tstamp="", derived_tstamp="")
    assert line["event_ts"] == line["received_at"] == "2021-03-01T20:58:11.021Z"


def test_snowplow_folder_is_the_utc_date_of_collector_tstamp(tmp_path):
    rows = [
        {**SNOWPLOW_ROW, "event_id": "a", "collector_tstamp": "2021-03-01 23:59:59.999"},
        {**SNOWPLOW_ROW, "event_id": "b", "collector_tstamp": "2021-03-02 00:00:00.000"},
        # the device clock says the 1st, the collector received it on the 2nd: the 2nd
        {
            **SNOWPLOW_ROW,
            "event_id": "c",
            "dvce_created_tstamp": "2021-03-01 23:00:00.000",
            "dvce_sent_tstamp": "2021-03-01 23:00:01.000",
            "collector_tstamp": "2021-03-02 00:30:00.000",
        },
        # an explicit offset: 00:30+01:00 is 23:30 UTC on the 1st
        {**SNOWPLOW_ROW, "event_id": "d", "collector_tstamp": "2021-03-02T00:30:00+01:00"},
        # a retry keeps its own line (the warehouse deduplicates)
        {**SNOWPLOW_ROW, "event_id": "a", "collector_tstamp": "2021-03-02 00:00:05.000"},
    ]
    summary = convert_atomic_events(rows, tmp_path)
    files = read_lines(tmp_path)
    assert {name: [line["event_id"] for line in lines] for name, lines in files.items()} == {
        "received_date=2021-03-01/snowplow-0001.jsonl": ["a", "d"],
        "received_date=2021-03-02/snowplow-0001.jsonl": ["b", "c", "a"],
    }
    assert summary["rows_read"] == summary["lines_written"] == 5
    assert summary["files"] == [str(tmp_path / name) for name in sorted(files)]
    assert sorted(summary["lines_per_file"].values()) == [2, 3]
    assert_contract(tmp_path)


def test_snowplow_requires_collector_tstamp(tmp_path):
    with pytest.raises(ValueError, match="row 2 .*collector_tstamp"):
        convert_atomic_events(
            [SNOWPLOW_ROW, {**SNOWPLOW_ROW, "collector_tstamp": "NULL"}], tmp_path
        )


def test_snowplow_never_overwrites_a_file_and_batches_add_files(tmp_path):
    convert_atomic_events([SNOWPLOW_ROW], tmp_path)
    with pytest.raises(FileExistsError, match="never rewritten"):
        convert_atomic_events([SNOWPLOW_ROW], tmp_path)
    convert_atomic_events([{**SNOWPLOW_ROW, "event_id": "second"}], tmp_path, batch=2)
    assert sorted(read_lines(tmp_path)) == [
        "received_date=2021-03-01/snowplow-0001.jsonl",
        "received_date=2021-03-01/snowplow-0002.jsonl",
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("page_view", "page_view"),
        ("Page View", "page_view"),
        ("snowplow-link-click", "snowplow_link_click"),
        ("AddToCart", "addtocart"),
        ("checkout.step__2", "checkout_step__2"),
        ("404_not_found", "e_404_not_found"),
        ("__private", "private"),
        ("  ", None),
        ("!!!", None),
        ("NULL", None),
    ],
)
def test_event_names_are_made_to_match_the_contract(source, expected):
    assert contract_event_name(source) == expected
    if expected is not None:
        assert EVENT_NAME_PATTERN.match(expected)


def test_snowplow_event_name_falls_back_to_event_and_mapping_is_recorded(tmp_path):
    rows = [
        {**SNOWPLOW_ROW, "event_id": "1", "event_name": "", "event": "page_ping"},
        {**SNOWPLOW_ROW, "event_id": "2", "event_name": "Link Click", "event": "unstruct"},
        {**SNOWPLOW_ROW, "event_id": "3", "event_name": "NULL", "event": "struct"},
        {**SNOWPLOW_ROW, "event_id": "4", "event_name": "!!", "event": "unstruct"},
    ]
    summary = convert_atomic_events(rows, tmp_path)
    names = {line["event_id"]: line.get("event_name") for line in all_lines(tmp_path)}
    assert names == {"1": "page_ping", "2": "link_click", "3": "struct", "4": None}
    assert summary["event_names"] == {
        "!!": None,
        "Link Click": "link_click",
        "page_ping": "page_ping",
        "struct": "struct",
    }
    # written without a name, so the warehouse quarantines it as missing_event_name
    assert summary["rows_without_event_name"] == 1


@pytest.mark.parametrize(
    ("changes", "platform"),
    [
        ({"platform": "web"}, "web"),
        ({"platform": "WEB"}, "web"),
        ({"platform": "NULL"}, "web"),
        ({"platform": "srv"}, "server"),
        ({"platform": "mob", "os_family": "iOS"}, "ios"),
        ({"platform": "mob", "os_family": "Android"}, "android"),
        ({"platform": "mob", "useragent": "Mozilla/5.0 (iPhone; CPU iPhone OS 14_4)"}, "ios"),
        ({"platform": "mob", "useragent": "Mozilla/5.0 (Linux; Android 8.1.0)"}, "android"),
        ({"platform": "app", "os_name": "Android 11"}, "android"),
        ({"platform": "mob", "useragent": "SomeApp/1.0"}, "web"),
        ({"platform": "tv"}, "web"),
        # a web page on an Android phone is still web
        ({"platform": "web", "useragent": "Mozilla/5.0 (Linux; Android 8.1.0)"}, "web"),
    ],
)
def test_snowplow_platform_codes(tmp_path, changes, platform):
    line = convert_one(tmp_path, **changes)
    assert line["platform"] == platform
    assert contract_violations(line) == []


@pytest.mark.parametrize(
    ("changes", "page_view_id"),
    [
        ({"page_view_id": "direct"}, "direct"),
        ({}, "86dd35a0"),
        (
            {
                "contexts_com_snowplowanalytics_snowplow_web_page_1_0_0": (
                    '[[{"id": "f83b6fcc-5830-4e03-86c3-46ab3443d7fc"}]]'
                )
            },
            "f83b6fcc-5830-4e03-86c3-46ab3443d7fc",
        ),
        (
            {
                "contexts_com_snowplowanalytics_snowplow_web_page_1_0_0": (
                    '[{"schema": "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",'
                    ' "data": {"id": "self-describing"}}]'
                )
            },
            "self-describing",
        ),
        ({"contexts_com_snowplowanalytics_snowplow_web_page_1_0_0": '[{"id":null}]'}, None),
        ({"contexts_com_snowplowanalytics_snowplow_web_page_1_0_0": "not json"}, None),
        ({"contexts_com_snowplowanalytics_snowplow_web_page_1_0_0": ""}, None),
    ],
)
def test_snowplow_page_view_id(tmp_path, changes, page_view_id):
    line = convert_one(tmp_path, **changes)
    assert line["properties"].get("page_view_id") == page_view_id


def test_snowplow_page_view_id_from_a_separate_table(tmp_path):
    row = {**SNOWPLOW_ROW, "contexts_com_snowplowanalytics_snowplow_web_page_1_0_0": ""}
    convert_atomic_events([row], tmp_path, page_view_ids={row["event_id"]: "page_view_1.1"})
    (line,) = all_lines(tmp_path)
    assert line["properties"]["page_view_id"] == "page_view_1.1"


@pytest.mark.parametrize(
    ("changes", "offset"),
    [
        ({"os_timezone": "Europe/Berlin"}, 60),  # winter time on 2021-03-01
        (
            {
                "os_timezone": "Europe/Berlin",
                "dvce_created_tstamp": "2021-07-01 12:00:00.000",
                "dvce_sent_tstamp": "2021-07-01 12:00:00.000",
            },
            120,
        ),
        ({"os_timezone": "America/New_York"}, -300),
        ({"os_timezone": "Asia/Kolkata"}, 330),
        ({"os_timezone": "UTC"}, 0),
        ({"os_timezone": "", "geo_timezone": "Australia/Sydney"}, 660),  # geo fallback
        ({"os_timezone": "Not/AZone", "geo_timezone": "NULL"}, None),
    ],
)
def test_snowplow_timezone_offset(tmp_path, changes, offset):
    line = convert_one(tmp_path, **changes)
    assert line["context"].get("timezone_offset_minutes") == offset


def test_snowplow_csv_wrapper_reads_literal_nulls(tmp_path):
    rows = [
        {**SNOWPLOW_ROW, "event_id": "x1"},
        {**SNOWPLOW_ROW, "event_id": "x2", "user_id": "NULL", "page_referrer": "NULL"},
    ]
    path = tmp_path / "atomic.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(SNOWPLOW_ROW))
        writer.writeheader()
        writer.writerows(rows)
    from_csv = convert_atomic_events_csv(path, tmp_path / "from_csv")
    from_rows = convert_atomic_events(rows, tmp_path / "from_rows")
    assert from_csv["rows_read"] == from_rows["rows_read"] == 2
    assert all_lines(tmp_path / "from_csv") == all_lines(tmp_path / "from_rows")
    second = all_lines(tmp_path / "from_csv")[1]
    assert "user_id" not in second and "referrer" not in second["properties"]


# --------------------------------------------------------------------------- GA4


def test_ga4_mapping(tmp_path):
    rows = [
        {"client_key": "a1", "user_id": "", "event_timestamp": "100"},
        {"client_key": "a1", "user_id": "A", "event_timestamp": 101},
        {"client_key": "b1", "user_id": "NULL", "event_timestamp": "1700000000123456"},
    ]
    summary = convert_ga4_events(rows, tmp_path)
    files = read_lines(tmp_path)
    assert list(files) == [
        "received_date=1970-01-01/ga4-0001.jsonl",
        "received_date=2023-11-14/ga4-0001.jsonl",
    ]
    first, second = files["received_date=1970-01-01/ga4-0001.jsonl"]
    (third,) = files["received_date=2023-11-14/ga4-0001.jsonl"]
    assert first == {
        "event_id": ga4_event_id("a1", "100", 1),
        "event_name": "page_view",
        "event_ts": "1970-01-01T00:00:00.000100Z",
        "received_at": "1970-01-01T00:00:00.000100Z",
        "anonymous_id": "a1",
        "platform": "web",
    }
    assert second["user_id"] == "A"
    assert second["event_ts"] == second["received_at"] == "1970-01-01T00:00:00.000101Z"
    assert "user_id" not in third
    assert third["event_ts"] == "2023-11-14T22:13:20.123456Z"
    assert summary["rows_read"] == summary["lines_written"] == 3
    assert summary["files"] == [str(tmp_path / name) for name in files]
    assert_contract(tmp_path)


def test_ga4_event_ids_are_deterministic_and_distinct(tmp_path):
    rows = [
        {"client_key": "a1", "user_id": "A", "event_timestamp": "101"},
        {"client_key": "a1", "user_id": "A", "event_timestamp": "101"},  # same row again
        {"client_key": "a2", "user_id": "A", "event_timestamp": "101"},
    ]
    convert_ga4_events(rows, tmp_path / "one")
    convert_ga4_events(rows, tmp_path / "two")
    ids = [line["event_id"] for line in all_lines(tmp_path / "one")]
    assert ids == [line["event_id"] for line in all_lines(tmp_path / "two")]
    assert len(set(ids)) == 3


def test_ga4_optional_columns(tmp_path):
    rows = [
        {"user_pseudo_id": "p1", "event_timestamp": "5", "event_name": "Add To Cart"},
        {"client_key": "c1", "event_timestamp": "6", "platform": "IOS"},
        {"client_key": "c1", "event_timestamp": "7", "platform": "something"},
    ]
    convert_ga4_events(rows, tmp_path)
    first, second, third = all_lines(tmp_path)
    assert first["anonymous_id"] == "p1" and first["event_name"] == "add_to_cart"
    assert second["platform"] == "ios"
    assert third["platform"] == "web"


@pytest.mark.parametrize("bad", ["", "NULL", "1.5", "2021-01-01", None, True])
def test_ga4_rejects_non_integer_timestamps(tmp_path, bad):
    with pytest.raises(ValueError, match="row 1: event_timestamp"):
        convert_ga4_events([{"client_key": "a", "event_timestamp": bad}], tmp_path)


# --------------------------------------------------------------------------- peer fixtures


def test_snowplow_web_fixture_converts_to_valid_lines(tmp_path):
    source = peer_fixture(SNOWPLOW_WEB / "source" / "snowplow_web_events.csv")
    summary = convert_atomic_events_csv(source, tmp_path)
    lines = assert_contract(tmp_path)
    assert summary["rows_read"] == summary["lines_written"] == len(lines) == 160
    assert summary["platforms"] == {"web → web": 160}
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # the fixture's user_id column is its edge-case label
    by_label: dict[str, list[dict]] = {}
    for line in lines:
        by_label.setdefault(line.get("user_id"), []).append(line)
    assert sorted(by_label) == sorted({row["user_id"] for row in rows})
    # the row without domain_userid keeps its user_id
    (no_cookie,) = by_label["NULL domain_userid"]
    assert "anonymous_id" not in no_cookie
    # every row has a web page context id except the edge case's page view ({"id": null})
    missing = [line["event_id"] for line in lines if "page_view_id" not in line["properties"]]
    assert missing == [
        line["event_id"]
        for line in by_label["NULL page_view_id"]
        if line["event_name"] == "page_view"
    ]
    # the folders are the collector dates
    assert {Path(name).parent.name for name in summary["files"]} == {
        f"received_date={row['collector_tstamp'][:10]}" for row in rows
    }


def test_snowplow_web_derived_core_events_agree_with_the_source(tmp_path):
    source = peer_fixture(SNOWPLOW_WEB / "source" / "snowplow_web_events.csv")
    derived = peer_fixture(SNOWPLOW_WEB / "derived_core_events.csv")
    convert_atomic_events_csv(source, tmp_path / "source")
    convert_atomic_events_csv(derived, tmp_path / "derived")
    assert_contract(tmp_path / "derived")

    def core(line: dict) -> tuple:
        return (
            *(line.get(field) for field in (*REQUIRED_FIELDS, "sent_at", "anonymous_id")),
            line.get("user_id"),
            line.get("properties", {}).get("page_path"),
        )

    source_lines = all_lines(tmp_path / "source")
    derived_lines = all_lines(tmp_path / "derived")
    assert sorted(map(core, source_lines)) == sorted(map(core, derived_lines))

    # derived_core_events.csv has no page_view_id where the source's web page context is
    # doubly nested ('[[{"id": ...}]]', the 65 consent_accel rows); the adapter reads both
    with source.open(encoding="utf-8", newline="") as handle:
        doubly_nested = {
            row["event_id"]
            for row in csv.DictReader(handle)
            if row["contexts_com_snowplowanalytics_snowplow_web_page_1_0_0"].startswith("[[")
        }
    assert len(doubly_nested) == 65

    def page_view_ids(lines: list[dict]) -> dict[str, str | None]:
        return {line["event_id"]: line["properties"].get("page_view_id") for line in lines}

    from_source, from_derived = page_view_ids(source_lines), page_view_ids(derived_lines)
    differing = {key for key in from_source if from_source[key] != from_derived[key]}
    assert differing == doubly_nested
    assert all(from_source[key] and from_derived[key] is None for key in differing)


def test_dbt_labs_snowplow_fixture_converts_with_literal_nulls(tmp_path):
    folder = peer_fixture(DBT_LABS_SNOWPLOW)
    for batch, (events, pages) in enumerate(
        [("sp_event.csv", "sp_web_page.csv"), ("sp_event_update.csv", "sp_web_page_update.csv")],
        start=1,
    ):
        with (folder / pages).open(encoding="utf-8", newline="") as handle:
            page_view_ids = {row["root_id"]: row["id"] for row in csv.DictReader(handle)}
        summary = convert_atomic_events_csv(
            folder / events, tmp_path, batch=batch, page_view_ids=page_view_ids
        )
        assert summary["files"] == [
            str(tmp_path / "received_date=2018-01-01" / f"snowplow-{batch:04d}.jsonl")
        ]
    lines = assert_contract(tmp_path)
    assert len(lines) == 9
    text = json.dumps(lines)
    assert "NULL" not in text
    by_id = {line["event_id"]: line for line in lines}
    anonymous = by_id["0dffe9e5-6865-4a43-b50f-e3c64becdf49"]
    assert "user_id" not in anonymous and anonymous["anonymous_id"] == "domain_userid_2"
    assert anonymous["properties"]["referrer"] == "https://facebook.com"
    assert anonymous["properties"]["page_view_id"] == "page_view_2.1"
    assert "referrer" not in by_id["e817ceed-0d68-4e9e-ab28-ce540f7d09cf"]["properties"]
    late = by_id["update002-85f3-4f06-a3d2-541b0b0e5d36"]
    assert (late["event_ts"], late["sent_at"], late["received_at"]) == (
        "2018-01-01T12:40:00.000Z",
        "2018-01-01T12:00:40.000Z",
        "2018-01-01T12:00:40.000Z",
    )
    assert late["context"]["timezone_offset_minutes"] == -300  # America/New_York, winter


def test_velir_ga4_fixture_converts(tmp_path):
    source = peer_fixture(VELIR_GA4 / "user_id_mapping__input_stg_ga4__events.csv")
    summary = convert_ga4_events_csv(source, tmp_path)
    lines = assert_contract(tmp_path)
    assert summary["rows_read"] == summary["lines_written"] == len(lines) == 7
    assert [(line["anonymous_id"], line.get("user_id")) for line in lines] == [
        ("a1", None),
        ("a1", "A"),
        ("b1", "B"),
        ("c1", "C"),
        ("c2", "C"),
        ("c2", None),
        ("d1", None),
    ]
    assert len({line["event_id"] for line in lines}) == 7
