"""GA4 events (as staged by ``Velir/dbt-ga4``) → raw event contract (version 1) JSON Lines.

Reads rows with ``client_key``, ``user_id`` and ``event_timestamp`` (the columns of
dbt-ga4's ``stg_ga4__events`` used by its user-id mapping test) and writes one contract
object per row to ``<out_dir>/received_date=YYYY-MM-DD/ga4-0001.jsonl``.

Mapping:

* ``anonymous_id`` ← ``client_key`` (dbt-ga4's device key; a raw BigQuery export's
  ``user_pseudo_id`` is used when there is no ``client_key``).
* ``user_id`` ← ``user_id`` (omitted when null, empty or ``NULL``).
* ``event_ts`` and ``received_at`` ← ``event_timestamp``, read as microseconds since
  1970-01-01 UTC (GA4's unit; the dbt-ga4 fixture's small integers 100, 101, ... are
  therefore instants a few microseconds after the epoch), written with microseconds and
  ``Z``. GA4 keeps a single time per event, so there is no ``sent_at`` and no skew to
  correct: ``event_at`` is ``event_timestamp``.
* ``event_name`` ← ``event_name`` when the rows have one (made to match
  ``^[a-z][a-z0-9_]*$`` like the Snowplow adapter), else ``page_view``.
* ``event_id``: GA4 has none, so one is invented, deterministically: a UUID-5 of
  ``client_key``, ``event_timestamp`` and the row's 1-based position in the input. The
  same input always gives the same ids; two identical rows stay two events.
* ``platform`` ← ``platform`` (``WEB``/``IOS``/``ANDROID``, any case) when present and one
  of those, else ``web``.

No ``properties`` or ``context`` are written (the fixture has none).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .snowplow import JsonlWriter, clean_text, contract_event_name, read_rows

__all__ = [
    "GA4_EVENT_ID_NAMESPACE",
    "convert_ga4_events",
    "convert_ga4_events_csv",
    "ga4_event_id",
    "ga4_timestamp",
]

GA4_EVENT_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "behavioral-analytics:adapters:ga4")
DEFAULT_EVENT_NAME = "page_view"
_PLATFORMS = {"web": "web", "ios": "ios", "android": "android"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INTEGER = re.compile(r"^[+-]?\d+$")


def ga4_timestamp(event_timestamp: Any) -> datetime:
    """The UTC instant of a GA4 ``event_timestamp`` (integer microseconds since the epoch)."""
    if isinstance(event_timestamp, bool):
        raise ValueError(f"event_timestamp {event_timestamp!r} is not an integer")
    if isinstance(event_timestamp, int):
        microseconds = event_timestamp
    else:
        text = clean_text(event_timestamp)
        if text is None or not _INTEGER.match(text):
            raise ValueError(
                f"event_timestamp {event_timestamp!r} is not an integer number of microseconds"
            )
        microseconds = int(text)
    return _EPOCH + timedelta(microseconds=microseconds)


def _iso_microseconds(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def ga4_event_id(client_key: str | None, event_timestamp: Any, row_number: int) -> str:
    """The invented, deterministic event id of a GA4 row."""
    key = f"{client_key or ''}\x1f{clean_text(event_timestamp) or ''}\x1f{row_number}"
    return str(uuid.uuid5(GA4_EVENT_ID_NAMESPACE, key))


def ga4_event_to_contract(row: Mapping[str, Any], row_number: int) -> tuple[dict, datetime]:
    """(contract object, event time as UTC datetime) of one GA4 row."""
    client_key = clean_text(row.get("client_key")) or clean_text(row.get("user_pseudo_id"))
    try:
        moment = ga4_timestamp(row.get("event_timestamp"))
    except ValueError as error:
        raise ValueError(f"row {row_number}: {error}") from None
    timestamp = _iso_microseconds(moment)
    platform = _PLATFORMS.get((clean_text(row.get("platform")) or "web").lower(), "web")
    event: dict[str, Any] = {
        "event_id": ga4_event_id(client_key, row.get("event_timestamp"), row_number),
        "event_name": contract_event_name(row.get("event_name")) or DEFAULT_EVENT_NAME,
        "event_ts": timestamp,
        "received_at": timestamp,
    }
    if client_key is not None:
        event["anonymous_id"] = client_key
    user_id = clean_text(row.get("user_id"))
    if user_id is not None:
        event["user_id"] = user_id
    event["platform"] = platform
    return event, moment


def convert_ga4_events(
    rows: Iterable[Mapping[str, Any]] | str | os.PathLike[str],
    out_dir: Path | str,
    *,
    batch: int = 1,
) -> dict[str, Any]:
    """Write GA4 rows (mappings, or the path of a CSV file) as contract JSON Lines.

    Returns ``rows_read``, ``lines_written``, ``files`` (sorted paths) and
    ``lines_per_file``. Raises ``ValueError`` naming the row when an ``event_timestamp``
    is not an integer (the line could not be placed in a received_date folder).
    """
    rows_read = 0
    with JsonlWriter(out_dir, "ga4", batch) as writer:
        for row_number, row in enumerate(read_rows(rows), start=1):
            rows_read += 1
            event, moment = ga4_event_to_contract(row, row_number)
            writer.write(moment.date(), event)
    return {
        "rows_read": rows_read,
        "lines_written": sum(writer.lines_per_file.values()),
        "files": writer.files,
        "lines_per_file": dict(sorted(writer.lines_per_file.items())),
    }


def convert_ga4_events_csv(
    path: str | os.PathLike[str], out_dir: Path | str, **options: Any
) -> dict[str, Any]:
    """:func:`convert_ga4_events` on a CSV file."""
    return convert_ga4_events(Path(path), out_dir, **options)
