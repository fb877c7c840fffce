"""What really happened, written to ``truth/``: events.parquet and sessions.csv one
device bucket at a time (``truth_events``), then the small tables and the summary
(``truth_tables``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from behavioral_analytics.contract_rules import FIRST_COPY_ORDER
from behavioral_analytics.generator.files import FileLayout
from behavioral_analytics.generator.sink import _Sink
from behavioral_analytics.generator.truth_events import FirstCopies, _write_events_and_sessions
from behavioral_analytics.generator.truth_tables import _write_tables
from behavioral_analytics.generator.world import _World


def _first_copies(copies: dict[str, np.ndarray], layout: FileLayout, event_count: int):
    """Per event its first received copy (contract order: received_at, file path, line;
    file numbers follow the paths), and the copies that are not first."""
    copy_event = copies["event"]
    copy_keys = {
        "received_at": copies["received"],
        "file": layout.copy_file,
        "line_number": layout.copy_line,
    }
    # np.lexsort sorts by its last key first: event, then FIRST_COPY_ORDER.
    sort_keys = [copy_keys[field] for field in reversed(FIRST_COPY_ORDER)]
    order = np.lexsort((*sort_keys, copy_event))
    ordered_events = copy_event[order]
    is_first = np.ones(len(order), dtype=bool)
    is_first[1:] = ordered_events[1:] != ordered_events[:-1]
    del ordered_events
    first_copy = np.empty(event_count, dtype=np.int64)
    first_copy[copy_event[order[is_first]]] = order[is_first]
    duplicate_copies = np.sort(order[~is_first])
    return first_copy, duplicate_copies


def _write_truth(
    world: _World,
    sink: _Sink,
    layout: FileLayout,
    truth_dir: Path,
    timeout_minutes: float,
    max_session_minutes: float | None,
) -> dict[str, Any]:
    copies = sink.copy_columns()
    first_copy, duplicate_copies = _first_copies(copies, layout, sink.event_count)
    first = FirstCopies(
        event_at_ms=copies["event_at"][first_copy],
        received_ms=copies["received"][first_copy],
        file=layout.copy_file[first_copy],
        line=layout.copy_line[first_copy],
    )
    del first_copy
    duplicate_events = copies["event"][duplicate_copies]
    duplicates = (
        layout.copy_file[duplicate_copies],
        layout.copy_line[duplicate_copies].astype(np.int64),
        duplicate_events,
    )
    # What the truth needs of the copies is taken: let the per-copy arrays go.
    del copies, duplicate_copies
    sink.release_copies()
    layout.copy_file = layout.copy_line = None
    wanted_ids = set(np.unique(duplicate_events).tolist()) | set(sink.orders)
    counts = _write_events_and_sessions(
        sink, first, layout.paths, truth_dir, wanted_ids, timeout_minutes, max_session_minutes
    )
    return _write_tables(world, sink, layout, first, duplicates, counts, truth_dir)
