"""Adapters: other trackers' event tables → the raw event contract (JSON Lines).

Each adapter writes ``<out_dir>/received_date=YYYY-MM-DD/<tracker>-NNNN.jsonl`` files
that the warehouse reads unchanged (point ``BEHAVIOR_EVENTS_PATH`` at ``out_dir``).

* :mod:`.snowplow`: Snowplow atomic events (``convert_atomic_events``,
  ``convert_atomic_events_csv``).
* :mod:`.ga4`: GA4 events as staged by dbt-ga4 (``convert_ga4_events``,
  ``convert_ga4_events_csv``).

The module docstrings document every mapping decision.
"""

from __future__ import annotations

from .ga4 import convert_ga4_events, convert_ga4_events_csv
from .snowplow import convert_atomic_events, convert_atomic_events_csv

__all__ = [
    "convert_atomic_events",
    "convert_atomic_events_csv",
    "convert_ga4_events",
    "convert_ga4_events_csv",
]
