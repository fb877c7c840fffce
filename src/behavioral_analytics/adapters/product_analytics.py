"""dbt_product_analytics order rows → raw event contract (version 1) JSON Lines.

Reads the order rows that ``mjirv/dbt_product_analytics`` feeds its ``event_stream()``
macro in its integration tests (``raw_orders.csv``: ``id``, ``user_id``, ``order_date``,
``status``; ``raw_orders_simple.csv``: the same with ``customer_id``) and writes one
contract object per row, in input order, to
``<out_dir>/received_date=YYYY-MM-DD/dbt-product-analytics-0001.jsonl``, the folder being
``order_date``. The package reads each row as one event of its user (``status`` as the
event type, ``order_date`` as the event date), and so does this adapter.

Mapping:

=============================  =========================================================
contract                       dbt_product_analytics row
=============================  =========================================================
``event_id``                   ``dpa-<id>``
``event_name``                 ``status`` (``placed``, ``shipped``, ``completed``,
                               ``return_pending``, ``returned``), made to match
                               ``^[a-z][a-z0-9_]*$`` like the Snowplow adapter
``event_ts``, ``received_at``  ``order_date`` at 00:00:00 UTC (``2018-01-02T00:00:00Z``).
                               The package works on dates, so every event of a day
                               gets the same instant; no tie-break is invented (equal
                               timestamps are legal, and the funnel marts count a step
                               at the same instant as reached). No ``sent_at``.
``user_id``                    ``customer_id``, else ``user_id`` (omitted when null:
                               the warehouse then quarantines the line as
                               ``missing_identity``)
``platform``                   ``server`` (order records of a back end)
``properties.order_id``        ``id``
=============================  =========================================================

Raises ``ValueError`` naming the row when ``order_date`` is not ``YYYY-MM-DD`` (the line
could not be placed in a received_date folder) or ``id`` is missing (no event id).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from .snowplow import JsonlWriter, clean_text, contract_event_name, read_rows

__all__ = ["convert_product_analytics_orders", "order_row_to_contract"]

EVENT_ID_PREFIX = "dpa-"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _order_date(value: Any) -> date | None:
    """The date of ``YYYY-MM-DD`` text (a time after it is ignored), else None."""
    text = (clean_text(value) or "")[:10]
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2018-02-30
        return None


def order_row_to_contract(row: Mapping[str, Any], row_number: int) -> tuple[dict, date]:
    """(contract object, order date) of one order row."""
    order_id = clean_text(row.get("id"))
    if order_id is None:
        raise ValueError(f"row {row_number}: id is missing")
    order_date = _order_date(row.get("order_date"))
    if order_date is None:
        raise ValueError(
            f"row {row_number} (id {order_id}): order_date {row.get('order_date')!r} "
            "is not a date (YYYY-MM-DD)"
        )
    timestamp = f"{order_date.isoformat()}T00:00:00Z"
    event: dict[str, Any] = {"event_id": f"{EVENT_ID_PREFIX}{order_id}"}
    event_name = contract_event_name(row.get("status"))
    if event_name is not None:
        event["event_name"] = event_name
    event.update(event_ts=timestamp, received_at=timestamp)
    user_id = clean_text(row.get("customer_id")) or clean_text(row.get("user_id"))
    if user_id is not None:
        event["user_id"] = user_id
    event["platform"] = "server"
    event["properties"] = {"order_id": order_id}
    return event, order_date


def convert_product_analytics_orders(
    rows: Iterable[Mapping[str, Any]] | str | os.PathLike[str],
    out_dir: Path | str,
    *,
    batch: int = 1,
) -> dict[str, Any]:
    """Write order rows (mappings, or the path of a CSV file) as contract JSON Lines.

    Returns ``rows_read``, ``lines_written``, ``files`` (sorted paths), ``lines_per_file``
    and ``event_names`` (event name → rows).
    """
    rows_read = 0
    event_names: dict[str, int] = {}
    with JsonlWriter(out_dir, "dbt-product-analytics", batch) as writer:
        for row_number, row in enumerate(read_rows(rows), start=1):
            rows_read += 1
            event, order_date = order_row_to_contract(row, row_number)
            name = event.get("event_name", "(none)")
            event_names[name] = event_names.get(name, 0) + 1
            writer.write(order_date, event)
    return {
        "rows_read": rows_read,
        "lines_written": sum(writer.lines_per_file.values()),
        "files": writer.files,
        "lines_per_file": dict(sorted(writer.lines_per_file.items())),
        "event_names": dict(sorted(event_names.items())),
    }
