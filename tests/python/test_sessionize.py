"""The contract's session rule: vectorised and naive implementations on the edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behavioral_analytics.sessionize import sessionize, sessionize_apply, summarize_sessions

IMPLEMENTATIONS = [sessionize, sessionize_apply]
BASE = pd.Timestamp("2026-01-05T10:00:00", tz="UTC")


def frame(rows: list[tuple[str, str, str, pd.Timedelta]]) -> pd.DataFrame:
    """rows: (device_id, event_id, event_name, offset from BASE)."""
    return pd.DataFrame(
        {
            "device_id": [row[0] for row in rows],
            "event_id": [row[1] for row in rows],
            "event_name": [row[2] for row in rows],
            "event_at": pd.Series([BASE + row[3] for row in rows], dtype="datetime64[us, UTC]"),
        }
    )


def sessions_by_event(result: pd.DataFrame) -> dict[str, int]:
    return dict(zip(result["event_id"], result["session_index"], strict=True))


MINUTE = pd.Timedelta(minutes=1)
MICRO = pd.Timedelta(microseconds=1)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_gap_of_exactly_the_timeout_stays_in_the_session(implementation):
    events = frame(
        [
            ("d1", "e1", "page_view", pd.Timedelta(0)),
            ("d1", "e2", "page_view", 30 * MINUTE),
            ("d1", "e3", "page_view", 60 * MINUTE + MICRO),
        ]
    )
    result = implementation(events)
    assert sessions_by_event(result) == {"e1": 1, "e2": 1, "e3": 2}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_one_microsecond_over_the_timeout_splits(implementation):
    events = frame(
        [
            ("d1", "e1", "page_view", pd.Timedelta(0)),
            ("d1", "e2", "page_view", 30 * MINUTE + MICRO),
        ]
    )
    assert sessions_by_event(implementation(events)) == {"e1": 1, "e2": 2}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_logout_then_quick_return_starts_a_new_session(implementation):
    events = frame(
        [
            ("d1", "e1", "login", pd.Timedelta(0)),
            ("d1", "e2", "logout", MINUTE),
            ("d1", "e3", "page_view", 2 * MINUTE),
            ("d1", "e4", "page_view", 3 * MINUTE),
        ]
    )
    assert sessions_by_event(implementation(events)) == {"e1": 1, "e2": 1, "e3": 2, "e4": 2}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_logout_as_last_event_of_device_is_harmless(implementation):
    events = frame([("d1", "e1", "page_view", pd.Timedelta(0)), ("d1", "e2", "logout", MINUTE)])
    assert sessions_by_event(implementation(events)) == {"e1": 1, "e2": 1}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_max_session_length_cuts_at_exact_multiples_of_block_start(implementation):
    # One event every 10 minutes for 50 hours: a single inactivity block.
    rows = [("bot", f"e{i:04d}", "page_view", i * 10 * MINUTE) for i in range(301)]
    result = implementation(frame(rows))
    by_event = sessions_by_event(result)
    # 24 h = 144 steps of 10 minutes: event 144 is exactly 24 h after block start.
    assert by_event["e0143"] == 1
    assert by_event["e0144"] == 2
    assert by_event["e0287"] == 2
    assert by_event["e0288"] == 3
    unlimited = implementation(frame(rows), max_session_minutes=None)
    assert set(unlimited["session_index"]) == {1}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_windows_are_measured_from_the_block_start_not_from_the_cut(implementation):
    rows = [
        ("d1", "a0", "page_view", pd.Timedelta(0)),
        ("d1", "a1", "page_view", 25 * MINUTE),
        ("d1", "a2", "page_view", 50 * MINUTE),
        ("d1", "a3", "page_view", 60 * MINUTE),
        ("d1", "a4", "page_view", 80 * MINUTE),
    ]
    result = implementation(frame(rows), max_session_minutes=60)
    assert sessions_by_event(result) == {"a0": 1, "a1": 1, "a2": 1, "a3": 2, "a4": 2}
    # A new inactivity block restarts the windows.
    rows.append(("d1", "a5", "page_view", 120 * MINUTE))
    rows.append(("d1", "a6", "page_view", 145 * MINUTE))
    rows.append(("d1", "a7", "page_view", 170 * MINUTE))
    rows.append(("d1", "a8", "page_view", 180 * MINUTE))
    result = sessions_by_event(implementation(frame(rows), max_session_minutes=60))
    assert [result[key] for key in ("a5", "a6", "a7", "a8")] == [3, 3, 3, 4]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_ties_on_event_at_are_broken_by_event_id(implementation):
    same_time = 5 * MINUTE
    logout_first = frame(
        [
            ("d1", "e0", "page_view", pd.Timedelta(0)),
            ("d1", "e2", "page_view", same_time),
            ("d1", "e1", "logout", same_time),
        ]
    )
    result = implementation(logout_first)
    assert list(result["event_id"]) == ["e0", "e1", "e2"]
    assert sessions_by_event(result) == {"e0": 1, "e1": 1, "e2": 2}

    logout_second = frame(
        [
            ("d1", "e0", "page_view", pd.Timedelta(0)),
            ("d1", "e1", "page_view", same_time),
            ("d1", "e2", "logout", same_time),
        ]
    )
    assert sessions_by_event(implementation(logout_second)) == {"e0": 1, "e1": 1, "e2": 1}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_devices_are_independent_and_output_is_sorted(implementation):
    events = frame(
        [
            ("b", "x2", "page_view", 40 * MINUTE),
            ("a", "y1", "logout", pd.Timedelta(0)),
            ("b", "x1", "page_view", pd.Timedelta(0)),
            ("a", "y2", "page_view", MINUTE),
        ]
    )
    events["extra"] = ["p", "q", "r", "s"]
    result = implementation(events)
    assert list(result["device_id"]) == ["a", "a", "b", "b"]
    assert list(result["event_id"]) == ["y1", "y2", "x1", "x2"]
    assert list(result["session_index"]) == [1, 2, 1, 2]
    assert list(result["extra"]) == ["q", "s", "r", "p"]
    assert result["session_index"].dtype == np.int64
    assert list(result.index) == [0, 1, 2, 3]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_timeout_is_configurable(implementation):
    events = frame(
        [("d1", "e1", "page_view", pd.Timedelta(0)), ("d1", "e2", "page_view", 11 * MINUTE)]
    )
    assert sessions_by_event(implementation(events, timeout_minutes=10)) == {"e1": 1, "e2": 2}
    assert sessions_by_event(implementation(events, timeout_minutes=11)) == {"e1": 1, "e2": 1}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_empty_input(implementation):
    events = frame([])
    result = implementation(events)
    assert result.empty
    assert "session_index" in result.columns


def test_naive_datetimes_are_refused():
    events = frame([("d1", "e1", "page_view", pd.Timedelta(0))])
    events["event_at"] = events["event_at"].dt.tz_localize(None)
    with pytest.raises(TypeError):
        sessionize(events)


def random_events(seed: int, rows: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    devices = rng.integers(0, 40, rows)
    # Gaps concentrated around the timeout, including exact and +1 µs hits.
    gap_choices = np.array([0, 1, 1_799_999_999, 1_800_000_000, 1_800_000_001, 60_000_000])
    steps = np.where(
        rng.random(rows) < 0.5,
        rng.choice(gap_choices, rows),
        rng.integers(0, 4 * 3_600_000_000, rows),
    )
    # Per-device running offsets, so that consecutive events of a device are exactly one step apart.
    offsets = pd.Series(steps).groupby(devices).cumsum().to_numpy()
    names = rng.choice(
        ["page_view", "logout", "login", "product_view"], rows, p=[0.6, 0.1, 0.1, 0.2]
    )
    return pd.DataFrame(
        {
            "device_id": [f"dev{value:02d}" for value in devices],
            "event_id": [f"ev{value:05d}" for value in rng.permutation(rows)],
            "event_name": names,
            "event_at": pd.Series(
                pd.to_datetime(1_767_600_000_000_000 + offsets, unit="us", utc=True)
            ).dt.as_unit("us"),
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("max_session_minutes", [1440, 90, None])
def test_vectorised_and_apply_agree_on_random_data(seed, max_session_minutes):
    events = random_events(seed)
    fast = sessionize(events, max_session_minutes=max_session_minutes)
    slow = sessionize_apply(events, max_session_minutes=max_session_minutes)
    pd.testing.assert_frame_equal(fast, slow)


def test_summarize_sessions():
    events = frame(
        [
            ("d1", "e1", "page_view", pd.Timedelta(0)),
            ("d1", "e2", "logout", 5 * MINUTE),
            ("d1", "e3", "page_view", 6 * MINUTE),
            ("d2", "f1", "screen_view", MINUTE),
        ]
    )
    summary = summarize_sessions(sessionize(events))
    assert list(summary.columns) == [
        "device_id",
        "session_index",
        "session_start_at",
        "session_end_at",
        "event_count",
        "first_event_id",
        "last_event_name",
    ]
    assert summary.to_dict("records") == [
        {
            "device_id": "d1",
            "session_index": 1,
            "session_start_at": BASE,
            "session_end_at": BASE + 5 * MINUTE,
            "event_count": 2,
            "first_event_id": "e1",
            "last_event_name": "logout",
        },
        {
            "device_id": "d1",
            "session_index": 2,
            "session_start_at": BASE + 6 * MINUTE,
            "session_end_at": BASE + 6 * MINUTE,
            "event_count": 1,
            "first_event_id": "e3",
            "last_event_name": "page_view",
        },
        {
            "device_id": "d2",
            "session_index": 1,
            "session_start_at": BASE + MINUTE,
            "session_end_at": BASE + MINUTE,
            "event_count": 1,
            "first_event_id": "f1",
            "last_event_name": "screen_view",
        },
    ]
