"""CDNOW master file → raw event contract (version 1) JSON Lines: one purchase per row.

The CDNOW data set (Fader & Hardie; the ``CDNOW_master.txt`` that ``lifetimes`` 0.11.3
ships in ``lifetimes/datasets/``) holds 69,659 purchase records of the 23,570 customers
who first bought at CDNOW in the first quarter of 1997, up to the end of June 1998. Each
line is ``customer_id date number_of_cds dollar_value`` separated by blanks, with a
header line. It is the benchmark of the BTYD models (Pareto/NBD, BG/NBD), and its shape is
what an e-commerce export gives: purchases only, a customer id, no device.

Mapping of line ``n`` (the header is line 1):

=============================  =========================================================
contract                       CDNOW
=============================  =========================================================
``event_id``                   ``cdnow-<n>`` (records have no id; two records of one
                               customer and day are two purchases)
``event_name``                 ``purchase``
``event_ts``, ``received_at``  ``date`` at 12:00:00 UTC: the data set has dates only,
                               and noon keeps the calendar day in every time zone a
                               report may use. Records of one customer and day get the
                               same instant (no order is invented). No ``sent_at``.
``user_id``                    ``customer_id`` without its leading zeros (``00002`` →
                               ``2``)
``platform``                   ``offline`` (order records, not a tracker)
``properties.order_id``        ``cdnow-<n>`` (the contract requires one for a purchase)
``properties.revenue``         ``dollar_value`` (2 decimals as given; the 80 records
                               of $0.00 are kept as purchases: they are in the data set)
``properties.items``           ``number_of_cds``
``properties.currency``        ``USD``
=============================  =========================================================

Files: one per purchase day, ``<out_dir>/received_date=YYYY-MM-DD/cdnow-NNNN.jsonl``.
``before`` (a date) writes only records dated before it, the as-of date of a churn
evaluation (the rest is the held-back outcome). Raises ``ValueError`` naming the line
when a line does not have four fields, a date ``YYYYMMDD``, an integer count and a number.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

from .snowplow import JsonlWriter

__all__ = ["CdnowRecord", "convert_cdnow", "read_cdnow"]

EVENT_ID_PREFIX = "cdnow-"


class CdnowRecord(NamedTuple):
    """One record of the master file."""

    line: int
    customer: str
    day: date
    cds: int
    value: Decimal


def _parse(line_number: int, text: str, path: str) -> CdnowRecord:
    fields = text.split()
    if len(fields) != 4:
        raise ValueError(
            f"{path}:{line_number}: expected 4 fields (customer_id date number_of_cds "
            f"dollar_value), got {len(fields)}: {text.strip()!r}"
        )
    customer, day, cds, value = fields
    try:
        parsed_day = datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"{path}:{line_number}: date {day!r} is not YYYYMMDD") from None
    if not cds.isdigit():
        raise ValueError(f"{path}:{line_number}: number_of_cds {cds!r} is not an integer")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{path}:{line_number}: dollar_value {value!r} is not a number") from None
    user = customer.lstrip("0") or "0"
    return CdnowRecord(line_number, user, parsed_day, int(cds), amount)


def read_cdnow(path: str | os.PathLike[str]):
    """The records of a CDNOW master file, in file order (see the module rules)."""
    with open(path, encoding="ascii") as handle:
        for line_number, text in enumerate(handle, start=1):
            if line_number == 1 and text.split()[:1] == ["customer_id"]:
                continue
            if text.strip():
                yield _parse(line_number, text, str(path))


def record_to_contract(record: CdnowRecord) -> dict[str, Any]:
    """The contract object of one record (see the module rules)."""
    timestamp = f"{record.day.isoformat()}T12:00:00Z"
    return {
        "event_id": f"{EVENT_ID_PREFIX}{record.line}",
        "event_name": "purchase",
        "event_ts": timestamp,
        "received_at": timestamp,
        "user_id": record.customer,
        "platform": "offline",
        "properties": {
            "order_id": f"{EVENT_ID_PREFIX}{record.line}",
            "revenue": float(record.value),
            "items": record.cds,
            "currency": "USD",
        },
    }


def convert_cdnow(
    path: str | os.PathLike[str],
    out_dir: Path | str,
    *,
    before: date | None = None,
    batch: int = 1,
) -> dict[str, Any]:
    """Write the records (dated before ``before`` when given) as contract JSON Lines.

    Returns ``records_read``, ``lines_written``, ``held_back`` (records on or after
    ``before``), ``customers`` (written) and ``files``.
    """
    read = held_back = 0
    customers: set[str] = set()
    with JsonlWriter(out_dir, "cdnow", batch) as writer:
        for record in read_cdnow(path):
            read += 1
            if before is not None and record.day >= before:
                held_back += 1
                continue
            customers.add(record.customer)
            writer.write(record.day, record_to_contract(record))
    return {
        "records_read": read,
        "lines_written": sum(writer.lines_per_file.values()),
        "held_back": held_back,
        "customers": len(customers),
        "files": writer.files,
    }
