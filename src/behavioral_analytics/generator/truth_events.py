"""The truth's events (events.parquet) and sessions (sessions.csv), written one device
bucket at a time: buckets hold devices by the first characters of device_id, so in
sorted order they append rows already in the files' order (device_id, event_at,
event_id); sessions never cross devices. What crosses buckets (identity links,
opt-outs) comes from the sink's small sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from behavioral_analytics.contract_rules import (
    is_shared_device,
    linked_user_ids,
    stitched_user_id,
)
from behavioral_analytics.generator.common import _fmt_us_utc
from behavioral_analytics.generator.files import TRUTH_EVENTS_SCHEMA, _timestamps_us
from behavioral_analytics.generator.sink import _Sink
from behavioral_analytics.sessionize import _sort_order, sessionize

# pyarrow's default for ``pq.write_table``: the row groups a single write would make.
ROW_GROUP_SIZE = 1024 * 1024

_NEVER = np.iinfo(np.int64).max

# Event rows sessionized and written at a time (whole device buckets).
_BATCH_ROWS = 250_000

_SESSION_COLUMNS = [
    "device_id",
    "session_index",
    "session_start_at",
    "session_end_at",
    "event_count",
    "first_event_id",
    "is_bot",
]


class FirstCopies(NamedTuple):
    """Per event (by index): its first received copy's event time, receipt, file, line."""

    event_at_ms: np.ndarray
    received_ms: np.ndarray
    file: np.ndarray
    line: np.ndarray


class _ParquetRows:
    """Appends tables to one Parquet file in row groups of ``ROW_GROUP_SIZE`` rows, as
    ``pq.write_table`` of their concatenation would write them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending: list[pa.Table] = []
        self.count = 0
        self.writer: pq.ParquetWriter | None = None

    def add(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.count += table.num_rows
        while self.count >= ROW_GROUP_SIZE:
            self._write(ROW_GROUP_SIZE)

    def _write(self, rows: int) -> None:
        table = pa.concat_tables(self.pending)
        head = table.slice(0, rows).combine_chunks()
        rest = table.slice(rows)
        self.pending = [rest] if rest.num_rows else []
        self.count -= rows
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, head.schema, compression="snappy")
        self.writer.write_table(head)

    def close(self) -> None:
        if self.count or self.writer is None:
            self._write(self.count)
        assert self.writer is not None
        self.writer.close()


class _Identity:
    """The contract's identity rule over every event's ids (from the sink's identities)."""

    def __init__(self, sink: _Sink, event_at_ms: np.ndarray) -> None:
        # From consented events: an anonymous_id seen with exactly one user_id belongs
        # to it (before and after); with two or more it is shared.
        self.links = linked_user_ids(
            (anonymous_id, user_id)
            for _, anonymous_id, user_id, _, _, consent in sink.identities
            if consent
        )
        self.single_user = {
            anonymous_id: stitched_user_id(users)
            for anonymous_id, users in self.links.items()
            if not is_shared_device(users)
        }
        # Opt-out propagation: a person's first consent=false event ends everything of
        # that person from that moment on, on every device.
        self.opt_out_at: dict[str, int] = {}
        for index, anonymous_id, user_id, device_id, _ in sink.withdrawn:
            key = self.person_key(anonymous_id, user_id, device_id)
            at_us = int(event_at_ms[index]) * 1000
            if key is not None and at_us < self.opt_out_at.get(key, _NEVER):
                self.opt_out_at[key] = at_us
        # (anonymous_id, user_id) -> the opt-out of the person they resolve to, if any
        self.opt_out_by_ids: dict[tuple[str | None, str | None], int] = {}
        for device_id, anonymous_id, user_id, _, _, _ in sink.identities:
            key = self.person_key(anonymous_id, user_id, device_id)
            if key in self.opt_out_at:
                self.opt_out_by_ids[(anonymous_id, user_id)] = self.opt_out_at[key]

    def person_key(self, anonymous_id: str | None, user_id: str | None, device_id: str):
        """The person the identity rule can know: the event's own user_id, else the
        device's single user_id, else the device itself when nobody ever identified on
        it (an anonymous event on a shared device belongs to nobody)."""
        if user_id is not None:
            return f"user|{user_id}"
        if anonymous_id in self.single_user:
            return f"user|{self.single_user[anonymous_id]}"
        return None if anonymous_id in self.links else f"device|{device_id}"


def _bucket_events(
    rows: list[tuple], first: FirstCopies, paths: np.ndarray, identity: _Identity
) -> tuple[pd.DataFrame, np.ndarray]:
    (index, event_id, event_name, device_id, anonymous_id, user_id, person_id, platform) = (
        list(column) for column in list(zip(*rows, strict=True))[:8]
    )
    positions = np.asarray(index, dtype=np.int64)
    event_at_us = first.event_at_ms[positions] * 1000
    events = pd.DataFrame(
        {
            "event_id": pd.Series(event_id, dtype=object),
            "event_name": pd.Series(event_name, dtype=object),
            "device_id": pd.Series(device_id, dtype=object),
            "anonymous_id": pd.Series(anonymous_id, dtype=object),
            "user_id": pd.Series(user_id, dtype=object),
            "person_id": pd.Series(person_id, dtype=object),
            "platform": pd.Series(platform, dtype=object),
            "event_at": _timestamps_us(event_at_us),
            "received_at": _timestamps_us(first.received_ms[positions] * 1000),
            "file": pd.Series(paths[first.file[positions]], dtype=object),
            "line_number": first.line[positions].astype(np.int64),
            "is_bot": np.asarray([row[8] for row in rows], dtype=bool),
            "consent_analytics": np.asarray([row[9] for row in rows], dtype=bool),
        }
    )
    single_user = identity.single_user
    events["resolved_user_id"] = pd.Series(
        [
            user if user is not None else single_user.get(anonymous)
            for anonymous, user in zip(anonymous_id, user_id, strict=True)
        ],
        dtype=object,
    )
    opt_out_at = identity.opt_out_by_ids.get
    events["is_after_opt_out"] = event_at_us >= np.fromiter(
        (opt_out_at(ids, _NEVER) for ids in zip(anonymous_id, user_id, strict=True)),
        dtype=np.int64,
        count=len(rows),
    )
    events["is_analysed"] = events["consent_analytics"] & ~events["is_after_opt_out"]
    return events, positions


def _sessionized(
    events: pd.DataFrame, timeout_minutes: float, max_session_minutes: float | None
) -> pd.DataFrame:
    """``events`` in the truth's order (device_id, event_at, event_id) with session_index
    (null for an event that is not analysed)."""
    order = _sort_order(events)
    events = events.take(order).reset_index(drop=True)
    analysed = events["is_analysed"].to_numpy()
    # The contract: an event without analytics consent is not used by any analysis,
    # sessions included; nor is anything after its person's opt-out. Those keep a null
    # session_index. Bots are sessionized (their behaviour is how they are found).
    sessions = sessionize(
        events[analysed], timeout_minutes=timeout_minutes, max_session_minutes=max_session_minutes
    )
    # sessionize returns its rows in the same order: the analysed rows, as sorted.
    if not np.array_equal(sessions["event_id"].to_numpy(), events["event_id"].to_numpy()[analysed]):
        raise AssertionError("sessionize returned the events in another order")
    session_index = np.zeros(len(events), dtype=np.int64)
    session_index[analysed] = sessions["session_index"].to_numpy()
    events["session_index"] = pd.arrays.IntegerArray(session_index, ~analysed)
    return events[TRUTH_EVENTS_SCHEMA.names]


def _sessions(sessionized: pd.DataFrame) -> pd.DataFrame:
    """One row per session of ``sessionized`` (in its order: a session's events are
    consecutive rows, in event time)."""
    rows = sessionized[sessionized["session_index"].notna().to_numpy()]
    device = rows["device_id"].to_numpy()
    session = rows["session_index"].to_numpy(dtype=np.int64)
    event_us = rows["event_at"].dt.tz_convert(None).dt.as_unit("us").to_numpy().view("int64")
    is_start = np.ones(len(rows), dtype=bool)
    is_start[1:] = (device[1:] != device[:-1]) | (session[1:] != session[:-1])
    starts = np.flatnonzero(is_start)
    ends = np.append(starts[1:], len(rows)) - 1
    return pd.DataFrame(
        {
            "device_id": device[starts],
            "session_index": session[starts],
            "session_start_at": [_fmt_us_utc(v) for v in event_us[starts].tolist()],
            "session_end_at": [_fmt_us_utc(v) for v in event_us[ends].tolist()],
            "event_count": ends - starts + 1,
            "first_event_id": rows["event_id"].to_numpy()[starts],
            "is_bot": rows["is_bot"].to_numpy()[starts],
        }
    )


def _write_events_and_sessions(
    sink: _Sink,
    first: FirstCopies,
    paths: list[str],
    truth_dir: Path,
    wanted: set[int],
    timeout_minutes: float,
    max_session_minutes: float | None,
) -> dict[str, Any]:
    """Write events.parquet and sessions.csv; return counts and the ids of ``wanted``
    events (index -> (event_id, person_id, user_id))."""
    identity = _Identity(sink, first.event_at_ms)
    path_array = np.asarray(paths, dtype=object)
    wanted_array = np.fromiter(wanted, dtype=np.int64, count=len(wanted))
    counts: dict[str, Any] = {
        "after_opt_out_events": 0,
        "bot_events": 0,
        "sessions": 0,
        "bot_sessions": 0,
        "ids": {},
    }
    parquet = _ParquetRows(truth_dir / "events.parquet")
    with (truth_dir / "sessions.csv").open("w", encoding="utf-8", newline="") as sessions_file:
        sessions_file.write(",".join(_SESSION_COLUMNS) + "\n")
        for buckets in sink.bucket_batches(_BATCH_ROWS):
            rows = [row for bucket in buckets for row in sink.bucket_rows(bucket)]
            events, positions = _bucket_events(rows, first, path_array, identity)
            for row in np.flatnonzero(np.isin(positions, wanted_array)).tolist():
                counts["ids"][rows[row][0]] = (rows[row][1], rows[row][6], rows[row][5])
            del rows
            sessionized = _sessionized(events, timeout_minutes, max_session_minutes)
            del events
            parquet.add(
                pa.Table.from_pandas(sessionized, schema=TRUTH_EVENTS_SCHEMA, preserve_index=False)
            )
            counts["after_opt_out_events"] += int(sessionized["is_after_opt_out"].sum())
            counts["bot_events"] += int(sessionized["is_bot"].sum())
            sessions = _sessions(sessionized)
            if sessions.empty:
                continue
            counts["sessions"] += int((~sessions["is_bot"]).sum())  # people's, as in fct_sessions
            counts["bot_sessions"] += int(sessions["is_bot"].sum())
            sessions.to_csv(sessions_file, index=False, header=False, lineterminator="\n")
    parquet.close()
    return counts
