"""Reference implementation of the event contract's session rule, in pandas.

Rule (see ``EVENT_CONTRACT.md``, "Sessions"; the parameters' defaults and the
order come from ``contract_rules``): per device, events ordered by ``event_at``
then ``event_id``; a new session starts

* at the first event of the device,
* when the gap to the device's previous event is *strictly greater* than the
  inactivity timeout (a gap of exactly 30:00.000000 stays in the session,
  30:00.000001 splits),
* when the device's previous event was ``logout``.

Each such block is then cut into windows of ``max_session_minutes``:
``window = floor((event_at - block_start) / max_session)``, so an event exactly
``max_session`` after the block start opens a new session. All comparisons are
done on integer microseconds, never on floats.

:func:`sessionize` is the vectorised version used to compute truth;
:func:`sessionize_apply` is the naive per-device ``groupby().apply`` version an
analyst would write (same output; kept for benchmarks and cross-checks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from behavioral_analytics.contract_rules import (
    MAX_SESSION_MINUTES,
    SESSION_ENDING_EVENT,
    SESSION_ORDER,
    SESSION_TIMEOUT_MINUTES,
)

__all__ = ["sessionize", "sessionize_apply", "summarize_sessions"]

REQUIRED_COLUMNS = ("device_id", "event_id", "event_name", "event_at")
SORT_COLUMNS = ["device_id", *SESSION_ORDER]
_MICROSECONDS_PER_MINUTE = 60_000_000


def _minutes_to_microseconds(minutes: float, name: str) -> int:
    microseconds = round(minutes * _MICROSECONDS_PER_MINUTE)
    if microseconds < 0:
        raise ValueError(f"{name} must not be negative, got {minutes!r}")
    return int(microseconds)


def _check_input(events: pd.DataFrame) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in events.columns]
    if missing:
        raise KeyError(f"sessionize needs columns {missing}")
    if not isinstance(events["event_at"].dtype, pd.DatetimeTZDtype):
        raise TypeError("event_at must be a timezone-aware datetime column (UTC)")


def _max_session_microseconds(max_session_minutes: float | None) -> int | None:
    if max_session_minutes is None:
        return None
    microseconds = _minutes_to_microseconds(max_session_minutes, "max_session_minutes")
    if microseconds <= 0:
        raise ValueError("max_session_minutes must be positive (or None)")
    return microseconds


def _utc_microseconds(event_at: pd.Series) -> np.ndarray:
    """Integer microseconds since the epoch (UTC) of a tz-aware datetime Series."""
    return event_at.dt.tz_convert(None).dt.as_unit("us").to_numpy().view("int64")


def _sort_order(events: pd.DataFrame) -> np.ndarray:
    """Row order by (device_id, event_at, event_id), stable, without sorting every string.

    Sorting 10^6 string event_ids dominates a plain ``sort_values``; ties on
    (device_id, event_at) are rare, so only the tied rows are ordered by event_id.
    """
    device_codes = pd.factorize(events["device_id"], sort=True)[0]
    timestamps = _utc_microseconds(events["event_at"])
    order = np.lexsort((timestamps, device_codes))
    sorted_devices = device_codes[order]
    sorted_times = timestamps[order]
    same_as_previous = np.zeros(len(order), dtype=bool)
    same_as_previous[1:] = (sorted_devices[1:] == sorted_devices[:-1]) & (
        sorted_times[1:] == sorted_times[:-1]
    )
    if same_as_previous.any():
        in_tie = same_as_previous.copy()
        in_tie[:-1] |= same_as_previous[1:]
        run = np.cumsum(~same_as_previous)
        tied_positions = np.flatnonzero(in_tie)
        tied_rows = order[tied_positions]
        tied_ids = events["event_id"].to_numpy(dtype=object)[tied_rows]
        id_codes = pd.factorize(tied_ids, sort=True)[0]
        order[tied_positions] = tied_rows[np.lexsort((id_codes, run[tied_positions]))]
    return order


def sessionize(
    events: pd.DataFrame,
    timeout_minutes: float = SESSION_TIMEOUT_MINUTES,
    max_session_minutes: float | None = MAX_SESSION_MINUTES,
) -> pd.DataFrame:
    """Assign ``session_index`` (1-based per device) to every event, vectorised.

    Returns a copy of ``events`` sorted by device_id, event_at, event_id (with a
    fresh RangeIndex) plus the int64 column ``session_index``.
    """
    _check_input(events)
    timeout_us = _minutes_to_microseconds(timeout_minutes, "timeout_minutes")
    max_us = _max_session_microseconds(max_session_minutes)

    row_count = len(events)
    if row_count == 0:
        ordered = events.sort_values(SORT_COLUMNS).reset_index(drop=True)
        return ordered.assign(session_index=pd.Series([], dtype="int64"))

    order = _sort_order(events)
    ordered = events.take(order).reset_index(drop=True)
    timestamps = _utc_microseconds(events["event_at"])[order]
    device_codes = pd.factorize(events["device_id"])[0][order]
    positions = np.arange(row_count)

    first_of_device = np.ones(row_count, dtype=bool)
    first_of_device[1:] = device_codes[1:] != device_codes[:-1]

    gaps = np.zeros(row_count, dtype=np.int64)
    gaps[1:] = timestamps[1:] - timestamps[:-1]

    is_logout = ordered["event_name"].eq(SESSION_ENDING_EVENT).to_numpy(dtype=bool, na_value=False)
    previous_was_logout = np.zeros(row_count, dtype=bool)
    previous_was_logout[1:] = is_logout[:-1]

    new_block = first_of_device | (gaps > timeout_us) | previous_was_logout
    new_session = new_block.copy()
    if max_us is not None:
        block_start_position = np.maximum.accumulate(np.where(new_block, positions, 0))
        windows = (timestamps - timestamps[block_start_position]) // max_us
        new_session[1:] |= windows[1:] != windows[:-1]

    running = np.cumsum(new_session)
    device_start_position = np.maximum.accumulate(np.where(first_of_device, positions, 0))
    session_index = running - running[device_start_position] + 1
    ordered["session_index"] = session_index.astype(np.int64)
    return ordered


def sessionize_apply(
    events: pd.DataFrame,
    timeout_minutes: float = SESSION_TIMEOUT_MINUTES,
    max_session_minutes: float | None = MAX_SESSION_MINUTES,
) -> pd.DataFrame:
    """The naive per-device ``groupby().apply`` version of :func:`sessionize`.

    Same rule and same output; slower. Kept as the "what an analyst writes"
    baseline for the benchmark and as an independent cross-check.
    """
    _check_input(events)
    timeout = pd.Timedelta(
        microseconds=_minutes_to_microseconds(timeout_minutes, "timeout_minutes")
    )
    max_us = _max_session_microseconds(max_session_minutes)
    max_length = None if max_us is None else pd.Timedelta(microseconds=max_us)
    columns = list(events.columns)

    if events.empty:
        empty = events.sort_values(SORT_COLUMNS).reset_index(drop=True)
        return empty.assign(session_index=pd.Series([], dtype="int64"))

    def per_device(device_events: pd.DataFrame) -> pd.DataFrame:
        device_events = device_events.sort_values(list(SESSION_ORDER))
        gap = device_events["event_at"].diff()
        previous_name = device_events["event_name"].shift()
        new_block = gap.isna() | (gap > timeout) | previous_name.eq(SESSION_ENDING_EVENT)
        block = new_block.cumsum()
        new_session = new_block
        if max_length is not None:
            block_start = device_events.groupby(block)["event_at"].transform("first")
            window = (device_events["event_at"] - block_start) // max_length
            new_session = new_block | window.ne(window.shift())
        return device_events.assign(session_index=new_session.cumsum().astype("int64"))

    # Group by the values (not the column name) so that device_id stays in each group.
    device_keys = events["device_id"].to_numpy()
    result = events.groupby(device_keys, sort=True, group_keys=False).apply(per_device)
    result = result[columns + ["session_index"]]
    return result.sort_values(SORT_COLUMNS, kind="stable").reset_index(drop=True)


def summarize_sessions(sessionized: pd.DataFrame) -> pd.DataFrame:
    """One row per (device_id, session_index) of a :func:`sessionize` result.

    Columns: device_id, session_index, session_start_at, session_end_at,
    event_count, first_event_id, last_event_name.
    """
    ordered = sessionized.sort_values(SORT_COLUMNS, kind="stable")
    summary = (
        ordered.groupby(["device_id", "session_index"], sort=True)
        .agg(
            session_start_at=("event_at", "min"),
            session_end_at=("event_at", "max"),
            event_count=("event_id", "size"),
            first_event_id=("event_id", "first"),
            last_event_name=("event_name", "last"),
        )
        .reset_index()
    )
    summary["event_count"] = summary["event_count"].astype("int64")
    summary["session_index"] = summary["session_index"].astype("int64")
    return summary
