"""Where emitted events and their received copies go while the simulation runs: to disk.

In memory there stay a few numbers per copy and small records for the few events
the truth needs by index (orders, events sent without consent):

- every copy's line (for Parquet/CSV files: its row) is appended to a spool file
  of its UTC received date (``lines-<day>.txt``, in order of emission), and its
  event, stream, received time and event time to compact arrays;
- every event's row (ids, name, platform, flags) is pickled in batches to a
  spool of its device bucket (the first two characters of its device_id, so
  that buckets in sorted order are devices in sorted order: the truth is
  sessionized and written one batch of buckets at a time);
- what the truth needs across devices is kept in small sets: the distinct
  identities (device, anonymous_id, user_id, person, platform, consent) and the
  events sent without consent.
"""

from __future__ import annotations

import pickle
from array import array
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from behavioral_analytics.generator.common import MS_PER_DAY

# An event row: (event index, event_id, event_name, device_id, anonymous_id, user_id,
# person_id, platform, is_bot, consent_analytics).
EventRow = tuple[int, str, str, str, "str | None", "str | None", "str | None", str, bool, bool]

_FLUSH_EVENTS = 100_000
_BUFFER = 1 << 16  # bytes per open spool file (two per received date)


class _Sink:
    """Collects events (what happened) and copies (lines as received) into spool files."""

    def __init__(self, spool_dir: Path) -> None:
        self.spool_dir = spool_dir
        self.event_count = 0
        self.orders: dict[int, tuple[str, float, str]] = {}
        # per copy (line), in order of emission
        self.copy_event = array("q")
        self.copy_stream = array("b")
        self.copy_received = array("q")
        self.copy_event_at = array("q")
        # (device_id, anonymous_id, user_id, person_id, platform, consent) seen on events
        self.identities: set[tuple] = set()
        # events sent without consent: (event index, anonymous_id, user_id, device_id, person_id)
        self.withdrawn: list[tuple[int, str | None, str | None, str, str | None]] = []
        self._line_files: dict[int, IO[str]] = {}
        self._event_files: dict[str, IO[bytes]] = {}
        self._pending: dict[str, list[EventRow]] = defaultdict(list)
        self._pending_count = 0
        self._bucket_sizes: dict[str, int] = defaultdict(int)

    # while simulating ---------------------------------------------------------

    def event(
        self,
        event_id: str,
        name: str,
        device_id: str,
        anonymous_id: str | None,
        user_id: str | None,
        person_id: str | None,
        platform: str,
        is_bot: bool,
        consent: bool,
    ) -> int:
        """Record one event; returns its index."""
        index = self.event_count
        self.event_count = index + 1
        self._pending[device_id[:2]].append(
            (
                index,
                event_id,
                name,
                device_id,
                anonymous_id,
                user_id,
                person_id,
                platform,
                is_bot,
                consent,
            )
        )
        self.identities.add((device_id, anonymous_id, user_id, person_id, platform, consent))
        if not consent:
            self.withdrawn.append((index, anonymous_id, user_id, device_id, person_id))
        self._pending_count += 1
        if self._pending_count >= _FLUSH_EVENTS:
            self._flush_events()
        return index

    def copy(
        self,
        event_index: int,
        stream_code: int,
        received_ms: int,
        event_at_ms: int,
        line: str,
        row: str | None = None,
    ) -> None:
        """Record one received copy of an event: its line, or for Parquet/CSV files its row."""
        self.copy_event.append(event_index)
        self.copy_stream.append(stream_code)
        self.copy_received.append(received_ms)
        self.copy_event_at.append(event_at_ms)
        day = received_ms // MS_PER_DAY
        handle = self._line_files.get(day)
        if handle is None:
            path = self.spool_dir / f"lines-{day}.txt"
            handle = path.open("w", encoding="utf-8", newline="", buffering=_BUFFER)
            self._line_files[day] = handle
        # Parquet/CSV files need the row only (a bad line's template line is rebuilt from it).
        handle.write((line if row is None else row) + "\n")

    def _flush_events(self) -> None:
        for bucket, rows in self._pending.items():
            handle = self._event_files.get(bucket)
            if handle is None:
                handle = (self.spool_dir / f"events-{bucket}.pickle").open("wb")
                self._event_files[bucket] = handle
            pickle.dump(rows, handle, protocol=pickle.HIGHEST_PROTOCOL)
            self._bucket_sizes[bucket] += len(rows)
        self._pending = defaultdict(list)
        self._pending_count = 0

    def close(self) -> None:
        """Flush and close the spools (after the simulation)."""
        self._flush_events()
        for handle in (*self._line_files.values(), *self._event_files.values()):
            handle.close()

    # after simulating ---------------------------------------------------------

    def copy_columns(self) -> dict[str, np.ndarray]:
        """The per-copy arrays as numpy views (no copy)."""
        return {
            "event": np.frombuffer(self.copy_event, dtype=np.int64),
            "stream": np.frombuffer(self.copy_stream, dtype=np.int8),
            "received": np.frombuffer(self.copy_received, dtype=np.int64),
            "event_at": np.frombuffer(self.copy_event_at, dtype=np.int64),
        }

    def release_copies(self) -> None:
        """Drop the per-copy arrays (the truth has taken what it needs)."""
        self.copy_event = array("q")
        self.copy_stream = array("b")
        self.copy_received = array("q")
        self.copy_event_at = array("q")

    def spool_path(self, day: int) -> Path:
        """The spool of the lines (Parquet/CSV: rows) received on ``day``."""
        return self.spool_dir / f"lines-{day}.txt"

    def day_lines(self, day: int) -> list[str]:
        """The lines (Parquet/CSV: rows) received on ``day``, in order of emission."""
        path = self.spool_path(day)
        text = path.read_text(encoding="utf-8")
        path.unlink()
        return text.split("\n")[:-1]

    def bucket_batches(self, rows: int) -> Iterator[list[str]]:
        """Consecutive device buckets in sorted order, about ``rows`` event rows a batch
        (devices in sorted order within a batch's rows sorted are sorted overall)."""
        batch: list[str] = []
        count = 0
        for bucket in sorted(self._bucket_sizes):
            batch.append(bucket)
            count += self._bucket_sizes[bucket]
            if count >= rows:
                yield batch
                batch, count = [], 0
        if batch:
            yield batch

    def bucket_rows(self, bucket: str) -> Iterator[EventRow]:
        """The event rows of one device bucket."""
        with (self.spool_dir / f"events-{bucket}.pickle").open("rb") as handle:
            while True:
                try:
                    rows = pickle.load(handle)
                except EOFError:
                    return
                yield from rows
