"""UCI Online Retail invoice lines → raw event contract (version 1) JSON Lines.

Reads the invoice lines of the UCI Online Retail data set (Chen, Sain & Guo 2012; columns
``InvoiceNo``, ``StockCode``, ``Description``, ``Quantity``, ``InvoiceDate``, ``UnitPrice``,
``CustomerID``, ``Country``) from a Parquet file, a CSV file or an iterable of mappings,
groups them by ``InvoiceNo`` and writes one contract object per invoice to
``<out_dir>/received_date=YYYY-MM-DD/online-retail-0001.jsonl``.

Invoices, in this order of rules (each invoice lands in exactly one bucket of the summary):

1. ``adjustments``: an ``InvoiceNo`` that is neither digits nor ``C`` + digits (the data
   set's three ``A5631xx`` "Adjust bad debt" lines, stock code ``B``) is bookkeeping, not an
   order: not written.
2. Cancellations: an ``InvoiceNo`` starting with ``C`` (3,836 in the data set) becomes an
   ``order_cancelled`` event whatever its amount.
3. ``non_positive_orders``: any other invoice whose revenue (below) is ≤ 0 is not written.
   In the data set these are 2,102 invoices of exactly 0: 2,098 stock corrections without
   a customer ("damaged", "lost", "?": lines at price 0) and 4 customers' invoices of
   free items only; none is a sale, and a purchase of 0 would count as an order in the
   marts (order_count, RFM frequency).
4. Every other invoice is a ``purchase``.
5. A purchase or cancellation without ``CustomerID`` (an invoice's customer is the first
   one among its lines; in the data set an invoice has one on every line or on none) is
   left out (``purchases_without_customer``,
   ``cancellations_without_customer``) unless ``keep_anonymous=True``, which writes it with
   ``anonymous_id`` = ``online-retail-guest-<InvoiceNo>`` and no ``user_id``: one anonymous
   person per guest invoice. Left out by default because the usual analyses of this data
   set (RFM, cohorts) drop them and each guest invoice would be a one-off person that
   never returns, weighing down every retention figure.

The data set as delivered (541,909 lines, 25,900 invoices, 135,080 lines without a
customer) gives: 18,532 purchases and 3,654 cancellations written (22,186 events, 305
received dates); left out 1,427 purchases and 182 cancellations without a customer,
2,102 non-positive orders and 3 adjustments; revenue written £8,911,407.90, refunds
−£611,342.09. With ``keep_anonymous=True``: 23,795 events, and purchases (£10,655,622.48)
plus cancellations (−£896,812.49) plus adjustments (−£11,062.06) give back the data set's
Σ Quantity × UnitPrice, £9,747,747.93 (the non-positive orders are all exactly 0).

Mapping of a written invoice:

=============================  =========================================================
contract                       Online Retail
=============================  =========================================================
``event_id``                   ``online-retail-<InvoiceNo>`` (the cancellation's number
                               keeps its ``C``, so ids never collide)
``event_name``                 ``purchase``, or ``order_cancelled`` for a ``C`` invoice
                               (to be registered in ``seeds/event_taxonomy.csv``)
``event_ts``, ``received_at``  the earliest ``InvoiceDate`` of the invoice's lines (43
                               invoices span two minutes), read as **Europe/London**
                               wall time and written with its offset: ``+00:00`` in
                               winter, ``+01:00`` in summer time. The shop is in the UK
                               and the hours of its invoices are the same in winter and
                               summer (first sales at 7-8 h, last at 20 h), so the clock
                               is local time, not UTC. No line falls in the hour the
                               clocks skip or repeat; such a time would get the offset
                               before the change (``fold=0``). There is no separate
                               receipt time, so ``received_at`` = ``event_ts`` and no
                               ``sent_at``. The folder is the UTC date.
``user_id``                    ``CustomerID`` as text without a trailing ``.0``
                               (``17850.0`` → ``17850``)
``anonymous_id``               only with ``keep_anonymous`` (see 5. above)
``platform``                   ``offline``: the records come from the shop's order
                               system, not from a tracker on a device
``properties.order_id``        ``InvoiceNo``
``properties.revenue``         Σ ``Quantity`` × ``UnitPrice`` of the invoice's lines, in
                               exact decimals, rounded half up to 2 decimals. For a
                               cancellation this is the (negative) refunded amount: the
                               marts count revenue of ``behavior__purchase_events`` only
                               (default ``[purchase]``), so it is ignored there, and
                               adding ``order_cancelled`` to that var gives net revenue
``properties.refund_amount``   cancellations only: the same negative amount
``properties.currency``        ``GBP`` (prices are in sterling)
``properties.items``           number of lines of the invoice
``properties.quantity``        Σ ``Quantity`` (negative for a cancellation)
``properties.country``         ``Country``
=============================  =========================================================

Lines are written ordered by (event time, ``InvoiceNo``), so the same input always gives
the same files, byte for byte. Output files are never overwritten (pass another
``batch`` to add a second file to the same days).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .snowplow import JsonlWriter, clean, clean_text, read_rows

__all__ = [
    "SHOP_TIMEZONE",
    "convert_online_retail",
    "customer_user_id",
    "invoice_moment",
]

SHOP_TIMEZONE = ZoneInfo("Europe/London")
CURRENCY = "GBP"
EVENT_ID_PREFIX = "online-retail-"
GUEST_PREFIX = "online-retail-guest-"
COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)

_ORDER_NUMBER = re.compile(r"^\d+$")
_CANCELLATION_NUMBER = re.compile(r"^[Cc]\d+$")
_ISO_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2})?$")
_UCI_LOCAL = re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}(:\d{2})?$")
_WHOLE_NUMBER = re.compile(r"^(\d+)(\.0*)?$")
_CENT = Decimal("0.01")


# --------------------------------------------------------------------------- values


def invoice_moment(value: Any) -> datetime:
    """The aware Europe/London datetime of an ``InvoiceDate`` (shop wall time).

    Accepts a naive datetime (or pandas Timestamp), ``YYYY-MM-DD HH:MM[:SS]`` and the UCI
    spreadsheet's ``M/D/YYYY H:MM``. An aware datetime is converted to London time.
    """
    value = clean(value)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and (_ISO_LOCAL.match(value) or _UCI_LOCAL.match(value)):
        text = value.replace("T", " ")
        day = "%Y-%m-%d" if "-" in text else "%m/%d/%Y"
        time = "%H:%M:%S" if text.count(":") == 2 else "%H:%M"
        try:
            moment = datetime.strptime(text, f"{day} {time}")
        except ValueError:  # 2011-02-30
            raise ValueError(f"InvoiceDate {value!r} is not a date and time") from None
    else:
        raise ValueError(f"InvoiceDate {value!r} is not a date and time")
    if moment.tzinfo is not None:
        return moment.astimezone(SHOP_TIMEZONE)
    return moment.replace(tzinfo=SHOP_TIMEZONE, fold=0)


def customer_user_id(value: Any) -> str | None:
    """``CustomerID`` as text, without the ``.0`` a float column gives it (None when null)."""
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    match = _WHOLE_NUMBER.match(text)
    return match.group(1) if match else text


def _decimal(value: Any, column: str, invoice: str) -> Decimal:
    value = clean(value)
    try:
        # str() of a float is its shortest repr: 2.55 stays 2.55, not 2.5499999...
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"invoice {invoice}: {column} {value!r} is not a number") from None


def _timestamp_text(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# --------------------------------------------------------------------------- invoices


@dataclass
class Invoice:
    """The lines of one invoice, accumulated."""

    number: str
    moment: datetime
    customer: str | None
    country: str | None
    items: int = 0
    quantity: int = 0
    amount: Decimal = field(default_factory=Decimal)

    @property
    def is_cancellation(self) -> bool:
        return bool(_CANCELLATION_NUMBER.match(self.number))

    @property
    def is_adjustment(self) -> bool:
        return not (self.is_cancellation or _ORDER_NUMBER.match(self.number))

    @property
    def revenue(self) -> Decimal:
        return self.amount.quantize(_CENT, rounding=ROUND_HALF_UP)

    def add(self, row: Mapping[str, Any]) -> None:
        quantity = _decimal(row.get("Quantity"), "Quantity", self.number)
        price = _decimal(row.get("UnitPrice"), "UnitPrice", self.number)
        self.items += 1
        self.quantity += int(quantity)
        self.amount += quantity * price
        self.moment = min(self.moment, invoice_moment(row.get("InvoiceDate")))
        self.customer = self.customer or customer_user_id(row.get("CustomerID"))
        self.country = self.country or clean_text(row.get("Country"))


def read_invoice_lines(
    rows: Iterable[Mapping[str, Any]] | str | os.PathLike[str],
) -> Iterator[Mapping[str, Any]]:
    """Lines of a Parquet file, a CSV file (paths) or an iterable of mappings."""
    if isinstance(rows, str | os.PathLike) and Path(rows).suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        for record_batch in pq.ParquetFile(rows).iter_batches(columns=list(COLUMNS)):
            yield from record_batch.to_pylist()
    else:
        yield from read_rows(rows)


def group_invoices(lines: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Invoice], dict]:
    """(invoices by number, line counts) of invoice lines."""
    invoices: dict[str, Invoice] = {}
    counts = {"lines_read": 0, "lines_without_customer": 0}
    for line in lines:
        counts["lines_read"] += 1
        number = clean_text(line.get("InvoiceNo"))
        if number is None:
            raise ValueError(f"line {counts['lines_read']}: InvoiceNo is missing")
        if customer_user_id(line.get("CustomerID")) is None:
            counts["lines_without_customer"] += 1
        invoice = invoices.get(number)
        if invoice is None:
            try:
                moment = invoice_moment(line.get("InvoiceDate"))
            except ValueError as error:
                raise ValueError(f"invoice {number}: {error}") from None
            invoice = invoices[number] = Invoice(number, moment, None, None)
        invoice.add(line)
    return invoices, counts


def invoice_bucket(invoice: Invoice, keep_anonymous: bool) -> str:
    """The summary bucket of an invoice (see the module's rules 1-5)."""
    if invoice.is_adjustment:
        return "adjustments"
    kind = "cancellations" if invoice.is_cancellation else "purchases"
    if kind == "purchases" and invoice.revenue <= 0:
        return "non_positive_orders"
    if invoice.customer is None and not keep_anonymous:
        return f"{kind}_without_customer"
    return f"{kind}_written"


def invoice_to_contract(invoice: Invoice) -> dict[str, Any]:
    """The contract object of a purchase or cancellation invoice."""
    timestamp = _timestamp_text(invoice.moment)
    revenue = float(invoice.revenue)
    event: dict[str, Any] = {
        "event_id": f"{EVENT_ID_PREFIX}{invoice.number}",
        "event_name": "order_cancelled" if invoice.is_cancellation else "purchase",
        "event_ts": timestamp,
        "received_at": timestamp,
    }
    if invoice.customer is None:
        event["anonymous_id"] = f"{GUEST_PREFIX}{invoice.number}"
    else:
        event["user_id"] = invoice.customer
    event["platform"] = "offline"
    properties: dict[str, Any] = {"order_id": invoice.number, "revenue": revenue}
    if invoice.is_cancellation:
        properties["refund_amount"] = revenue
    properties.update(currency=CURRENCY, items=invoice.items, quantity=invoice.quantity)
    if invoice.country is not None:
        properties["country"] = invoice.country
    event["properties"] = properties
    return event


# --------------------------------------------------------------------------- conversion


def convert_online_retail(
    rows: Iterable[Mapping[str, Any]] | str | os.PathLike[str],
    out_dir: Path | str,
    *,
    keep_anonymous: bool = False,
    batch: int = 1,
) -> dict[str, Any]:
    """Write Online Retail invoices as contract JSON Lines under ``out_dir``.

    ``rows``: invoice lines as mappings, or the path of a ``.parquet`` or CSV file.
    ``keep_anonymous``: write invoices without a customer as anonymous (module rule 5).

    Returns ``lines_read``, ``lines_without_customer``, ``invoices``, one count per bucket
    (``purchases_written``, ``cancellations_written``, ``purchases_without_customer``,
    ``cancellations_without_customer``, ``non_positive_orders``, ``adjustments``; they sum
    to ``invoices``), ``cancellations`` (all ``C`` invoices), ``revenue_written`` and
    ``refunds_written`` (sums, 2 decimals), ``lines_written``, ``files`` (sorted paths) and
    ``lines_per_file``.
    """
    invoices, counts = group_invoices(read_invoice_lines(rows))
    buckets = dict.fromkeys(
        (
            "purchases_written",
            "cancellations_written",
            "purchases_without_customer",
            "cancellations_without_customer",
            "non_positive_orders",
            "adjustments",
        ),
        0,
    )
    revenue = {"purchases_written": Decimal(0), "cancellations_written": Decimal(0)}
    ordered = sorted(invoices.values(), key=lambda invoice: (invoice.moment, invoice.number))
    with JsonlWriter(out_dir, "online-retail", batch) as writer:
        for invoice in ordered:
            bucket = invoice_bucket(invoice, keep_anonymous)
            buckets[bucket] += 1
            if bucket in revenue:
                revenue[bucket] += invoice.revenue
                writer.write(invoice.moment.astimezone(UTC).date(), invoice_to_contract(invoice))
    return {
        **counts,
        "invoices": len(invoices),
        **buckets,
        "cancellations": sum(invoice.is_cancellation for invoice in invoices.values()),
        "revenue_written": float(revenue["purchases_written"]),
        "refunds_written": float(revenue["cancellations_written"]),
        "lines_written": sum(writer.lines_per_file.values()),
        "files": writer.files,
        "lines_per_file": dict(sorted(writer.lines_per_file.items())),
    }
