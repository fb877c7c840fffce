"""``contract_rules`` against the contract's text and on its edge cases.

The module is what the generator's truth and the other tests read the contract
with, so it is checked here on its own: its lists against EVENT_CONTRACT.md
itself, each rule on hand-made lines at its boundaries.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from behavioral_analytics.contract_rules import (
    BAD_LINE_REASONS,
    EVENT_NAME_PATTERN,
    FIRST_COPY_ORDER,
    FUTURE_TOLERANCE_HOURS,
    PLATFORMS,
    SESSION_ENDING_EVENT,
    SESSION_ORDER,
    SESSION_TIMEOUT_MINUTES,
    analytics_consent,
    classify,
    device_id,
    event_at,
    first_copy_key,
    is_shared_device,
    linked_user_ids,
    parse_line,
    parse_timestamp,
    stitched_user_id,
)

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "EVENT_CONTRACT.md"


@pytest.fixture(scope="module")
def contract_text() -> str:
    if not CONTRACT.exists():
        pytest.skip(f"{CONTRACT} is absent: the contract lives beside the repository")
    return CONTRACT.read_text(encoding="utf-8")


def valid(**changes) -> dict:
    line = {
        "event_id": "e1",
        "event_name": "add_to_cart",
        "event_ts": "2026-01-05T10:00:00.000+01:00",
        "received_at": "2026-01-05T09:00:01.000Z",
        "anonymous_id": "a1",
        "user_id": None,
        "platform": "web",
        "properties": {"revenue": 12.5},
    }
    line.update(changes)
    return {key: value for key, value in line.items() if value is not ABSENT}


ABSENT = object()


# --------------------------------------------------------------------------- the text


def test_reason_codes_are_the_contracts_in_its_order(contract_text):
    bad_lines = contract_text.split("**Bad lines**", 1)[1].split("A line with several", 1)[0]
    assert tuple(re.findall(r"`([a-z_]+)`", bad_lines)) == BAD_LINE_REASONS


def test_fields_and_defaults_are_the_contracts(contract_text):
    platform_row = next(row for row in contract_text.splitlines() if row.startswith("| platform"))
    assert tuple(re.findall(r"`([a-z]+)`", platform_row)) == PLATFORMS
    name_row = next(row for row in contract_text.splitlines() if row.startswith("| event_name"))
    assert f"`{EVENT_NAME_PATTERN.pattern}`" in name_row
    assert f"more than {FUTURE_TOLERANCE_HOURS} hours" in contract_text
    assert f"default {SESSION_TIMEOUT_MINUTES} minutes" in contract_text
    assert f"previous event was `{SESSION_ENDING_EVENT}`" in contract_text
    assert "ordered by `event_at` then `event_id`" in contract_text
    assert SESSION_ORDER == ("event_at", "event_id")


# --------------------------------------------------------------------------- bad lines


def test_a_valid_line_has_no_reason():
    assert classify(valid()) is None
    assert classify(valid(anonymous_id=None, user_id="u1", platform="offline")) is None
    assert classify(valid(properties={"revenue": 3})) is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (None, "invalid_json"),
        ([valid()], "invalid_json"),
        ("page_view", "invalid_json"),
        (valid(event_id=ABSENT), "missing_event_id"),
        (valid(event_id=""), "missing_event_id"),
        (valid(event_name=None), "missing_event_name"),
        (valid(event_name="AddToCart"), "invalid_event_name"),
        (valid(event_name="1st_visit"), "invalid_event_name"),
        (valid(event_name="page-view"), "invalid_event_name"),
        (valid(event_ts="2026-02-30T10:00:00Z"), "invalid_timestamp"),
        (valid(event_ts="2026-01-05T10:00:00"), "invalid_timestamp"),  # no offset
        (valid(received_at=ABSENT), "invalid_timestamp"),
        (valid(sent_at="yesterday"), "invalid_timestamp"),
        (valid(anonymous_id="", user_id=None), "missing_identity"),
        (valid(anonymous_id=ABSENT), "missing_identity"),
        (valid(platform="desktop"), "invalid_platform"),
        (valid(platform=ABSENT), "invalid_platform"),
        (valid(event_ts="2026-01-06T10:00:01.001+01:00"), "future_timestamp"),
        (valid(properties={"revenue": "12.50"}), "invalid_revenue"),
        (valid(properties={"revenue": True}), "invalid_revenue"),
    ],
)
def test_each_fault_has_its_reason(line, reason):
    assert classify(line) == reason


def test_several_faults_give_the_first_reason_in_contract_order():
    line = valid(event_id=None, event_name="AddToCart", anonymous_id=None, platform="tv")
    assert classify(line) == "missing_event_id"
    assert classify(valid(anonymous_id=None, platform="tv")) == "missing_identity"
    assert classify(valid(event_name="x-y", event_ts="today")) == "invalid_event_name"
    line = valid(platform="tv", properties={"revenue": "x"}, event_ts="2026-01-08T10:00:00Z")
    assert classify(line) == "invalid_platform"
    assert classify(valid(event_ts="2026-01-08T10:00:00Z", properties={"revenue": "x"})) == (
        "future_timestamp"
    )


def test_future_tolerance_boundary_is_inclusive():
    # event_at exactly 24 h after received_at is valid; a millisecond more is not
    assert classify(valid(event_ts="2026-01-06T09:00:01.000Z")) is None
    assert classify(valid(event_ts="2026-01-06T09:00:01.001Z")) == "future_timestamp"
    # with sent_at the corrected time counts: a clock a week ahead is not in the future
    skewed = valid(event_ts="2026-01-12T09:00:00.000Z", sent_at="2026-01-12T09:00:00.500Z")
    assert classify(skewed) is None


def test_parse_line():
    assert parse_line('{"a": 1}') == {"a": 1}
    assert parse_line('{"a": 1') is None
    assert parse_line("") is None
    assert classify(parse_line("[]")) == "invalid_json"


# --------------------------------------------------------------------------- event time


def test_event_at_corrects_the_device_clock_and_is_in_utc():
    line = valid(
        event_ts="2026-01-05T12:00:00.000+01:00",  # device clock 2 h ahead
        sent_at="2026-01-05T12:00:05.000+01:00",
        received_at="2026-01-05T09:00:06.250Z",
    )
    moment = event_at(line)
    assert moment == datetime(2026, 1, 5, 9, 0, 1, 250000, tzinfo=UTC)
    assert moment.utcoffset().total_seconds() == 0
    # without sent_at (or with a null one) event_ts is the event time
    assert event_at(valid(sent_at=None)) == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert event_at(valid()) == parse_timestamp("2026-01-05T10:00:00.000+01:00")
    assert event_at(valid()).utcoffset() == timedelta(0)  # stored in UTC


def test_parse_timestamp_needs_an_offset():
    assert parse_timestamp("2026-01-05T10:00:00Z") == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert parse_timestamp("2026-01-05T10:00:00") is None
    assert parse_timestamp("not-a-timestamp") is None
    assert parse_timestamp(1736071200) is None


# --------------------------------------------------------------------------- copies, devices


def test_the_first_received_copy_wins_then_file_then_line():
    at = datetime(2026, 1, 5, 10, tzinfo=UTC)
    later = datetime(2026, 1, 5, 11, tzinfo=UTC)
    copies = [
        {"received_at": later, "file": "a.jsonl", "line_number": 1},
        {"received_at": at, "file": "b.jsonl", "line_number": 1},
        {"received_at": at, "file": "a.jsonl", "line_number": 9},
        {"received_at": at, "file": "a.jsonl", "line_number": 2},
    ]
    ordered = sorted(copies, key=first_copy_key)
    assert [(copy["file"], copy["line_number"]) for copy in ordered] == [
        ("a.jsonl", 2),
        ("a.jsonl", 9),
        ("b.jsonl", 1),
        ("a.jsonl", 1),
    ]
    assert FIRST_COPY_ORDER[0] == "received_at"


def test_device_identity_and_consent():
    assert device_id("a1", "u1") == "a1"
    assert device_id(None, "u1") == device_id("", "u1") == "u1"
    links = linked_user_ids([("a1", "u1"), ("a1", None), ("a2", "u1"), ("a2", "u2"), (None, "u3")])
    assert links == {"a1": {"u1"}, "a2": {"u1", "u2"}}
    assert stitched_user_id(links["a1"]) == "u1" and not is_shared_device(links["a1"])
    assert stitched_user_id(links["a2"]) is None and is_shared_device(links["a2"])
    assert stitched_user_id(set()) is None
    assert analytics_consent(valid()) is True
    assert analytics_consent(valid(), default=False) is False
    assert analytics_consent(valid(context={"consent": {"analytics": False}})) is False
    assert analytics_consent(valid(context={"consent": {"analytics": True}}), default=False)
