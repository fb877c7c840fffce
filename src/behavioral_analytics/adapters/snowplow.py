"""Snowplow atomic events → raw event contract (version 1) JSON Lines.

Reads rows shaped like Snowplow's ``atomic.events`` table (the columns of
``snowplow/dbt-snowplow-web`` 0.15.2 ``integration_tests/data/source/snowplow_web_events.csv``
and of ``dbt-labs/snowplow`` ``integration_tests/seeds/event/sp_event.csv``) and writes one
contract object per row to ``<out_dir>/received_date=YYYY-MM-DD/snowplow-0001.jsonl``, the
folder being the UTC date of ``collector_tstamp`` (the collector's receipt time).

Mapping (only these columns are read; every other Snowplow column is left out):

============================  ======================================================
contract                      Snowplow
============================  ======================================================
``event_id``                  ``event_id``
``event_name``                ``event_name``, else ``event`` (``page_view``,
                              ``page_ping``, ``link_click``, ``struct`` → ``event``
                              ...), lower-cased, every run of characters outside
                              ``[a-z0-9_]`` replaced by ``_``, ``e_`` prefixed when it
                              does not start with a letter; the summary records
                              every source name → contract name
``event_ts``                  ``dvce_created_tstamp`` (device clock); when absent
                              ``derived_tstamp``, else ``collector_tstamp``, and then
                              ``sent_at`` is left out (no skew to correct)
``sent_at``                   ``dvce_sent_tstamp`` (omitted when null)
``received_at``               ``collector_tstamp`` (required: a row without one is
                              not Snowplow atomic data and raises ``ValueError``)
``anonymous_id``              ``domain_userid`` (the first-party cookie Snowplow's
                              web model keys users on; ``network_userid`` is *not*
                              used as a fallback)
``user_id``                   ``user_id`` (omitted when null or empty)
``platform``                  ``platform`` code: ``web`` → ``web``; ``srv`` →
                              ``server``; ``mob``, ``app``, ``pc``, ``tv``, ``cnsl``,
                              ``iot`` → ``ios`` / ``android`` when the OS is
                              derivable from ``os_family``, ``os_name`` or
                              ``useragent``, else ``web`` (the contract has no
                              desktop/TV/console platform); missing → ``web``
``properties.page_path``      ``page_urlpath``
``properties.page_url``       ``page_url``
``properties.page_title``     ``page_title``
``properties.referrer``       ``page_referrer``
``properties.page_view_id``   a ``page_view_id`` column, else the ``id`` of the web
                              page context (``contexts_com_snowplowanalytics_
                              snowplow_web_page_1_0_0``, plain or doubly nested JSON
                              array), else the ``page_view_ids`` mapping (event_id →
                              id, e.g. from dbt-labs' ``sp_web_page.csv``)
``context.ip``                ``user_ipaddress``
``context.user_agent``        ``useragent``
``context.locale``            ``br_lang``
``context.timezone_offset_    UTC offset (minutes east of UTC) of ``os_timezone``,
minutes``                     else ``geo_timezone`` (IANA names), at the event's
                              device time; omitted when neither is a known zone
``context.consent``           never written (Snowplow consent events are ordinary
                              events here; absent consent means consent given)
============================  ======================================================

Nulls: ``None``, empty or blank strings and the literal string ``NULL`` (how
dbt-labs' seeds spell null) are null; a null field or property is left out.

Timestamps: Snowplow writes UTC without an offset (``2021-03-01 20:56:39.192``); they
are written as ISO-8601 with ``T`` and ``Z``, keeping the fractional digits exactly as
given (``.000`` stays ``.000``, no fraction stays none). A text that already carries an
offset keeps it. A text that does not parse is passed through unchanged so that the
warehouse quarantines the line (``invalid_timestamp``) rather than it being dropped here.

Every row becomes exactly one line, in input order, duplicates included (retries are
the warehouse's business). Output files are never overwritten (the contract's files
are immutable): pass another ``batch`` number to add a second file to the same days.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "NULL_STRINGS",
    "contract_event_name",
    "contract_platform",
    "convert_atomic_events",
    "convert_atomic_events_csv",
    "normalize_timestamp",
]

NULL_STRINGS = frozenset({"", "NULL"})
WEB_PAGE_CONTEXT_PREFIX = "contexts_com_snowplowanalytics_snowplow_web_page_1"

_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d+)?"
    r"\s*(?P<offset>Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
)
_INVALID_NAME_CHARACTERS = re.compile(r"[^a-z0-9_]+")
_APP_PLATFORMS = frozenset({"mob", "app", "pc", "tv", "cnsl", "iot"})
_DIRECT_PLATFORMS = {"web": "web", "srv": "server"}
_IOS = re.compile(r"\b(ios|iphone|ipad|ipod)\b", re.IGNORECASE)
_ANDROID = re.compile(r"android", re.IGNORECASE)


# --------------------------------------------------------------------------- values


def clean(value: Any) -> Any:
    """``None`` for SQL-ish nulls (None, blank text, the literal ``NULL``), else the value
    (text stripped)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return None if value in NULL_STRINGS else value
    if isinstance(value, float) and value != value:  # NaN from pandas
        return None
    return value


def clean_text(value: Any) -> str | None:
    """Like :func:`clean`, as text (ids that arrive as numbers become strings)."""
    value = clean(value)
    return None if value is None else str(value)


def contract_event_name(name: Any) -> str | None:
    """A source event name made to match ``^[a-z][a-z0-9_]*$`` (``None`` when empty).

    ``"Add To Cart"`` → ``add_to_cart``; ``"snowplow-link-click"`` →
    ``snowplow_link_click``; ``"404_seen"`` → ``e_404_seen``.
    """
    text = clean_text(name)
    if text is None:
        return None
    converted = _INVALID_NAME_CHARACTERS.sub("_", text.lower()).strip("_")
    if not converted:
        return None
    if not converted[0].isalpha():
        converted = f"e_{converted}"
    return converted


def normalize_timestamp(value: Any) -> tuple[str | None, datetime | None]:
    """(ISO-8601 text with an offset, aware UTC datetime) of a Snowplow timestamp.

    Text without an offset is UTC and gets ``Z``; the fractional digits are kept as
    given. Naive datetimes are UTC; they are written with milliseconds unless they carry
    sub-millisecond digits. Unparseable text comes back unchanged with ``None``.
    """
    value = clean(value)
    if value is None:
        return None, None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        spec = "milliseconds" if moment.microsecond % 1000 == 0 else "microseconds"
        text = moment.isoformat(timespec=spec)
        if moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0:
            text = text.removesuffix("+00:00") + "Z"
        return text, moment.astimezone(UTC)
    text = str(value)
    match = _TIMESTAMP.match(text)
    if match is None:
        return text, None
    offset = match["offset"]
    if offset is None or offset in ("z", "Z", "UTC"):
        offset = "Z"
    else:
        digits = offset[1:].replace(":", "")
        offset = f"{offset[0]}{digits[:2]}:{digits[2:4] or '00'}"
    normalized = f"{match['date']}T{match['time']}{match['fraction'] or ''}{offset}"
    try:
        # fromisoformat reads at most 6 fractional digits; more are rare and truncated
        parseable = normalized
        if match["fraction"] and len(match["fraction"]) > 7:
            parseable = normalized.replace(match["fraction"], match["fraction"][:7], 1)
        moment = datetime.fromisoformat(parseable)
    except ValueError:
        return text, None
    return normalized, moment.astimezone(UTC)


def timezone_offset_minutes(zone_name: Any, at: datetime | None) -> int | None:
    """Minutes east of UTC of an IANA zone at a moment (``None`` when unknown)."""
    name = clean_text(zone_name)
    if name is None or at is None:
        return None
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    offset = at.astimezone(zone).utcoffset()
    return None if offset is None else int(offset.total_seconds() // 60)


def contract_platform(row: Mapping[str, Any]) -> str:
    """The contract platform of a Snowplow row (see the module's mapping table)."""
    code = (clean_text(row.get("platform")) or "web").lower()
    if code in _DIRECT_PLATFORMS:
        return _DIRECT_PLATFORMS[code]
    if code in _APP_PLATFORMS:
        for column in ("os_family", "os_name", "useragent"):
            text = clean_text(row.get(column))
            if text is None:
                continue
            if _ANDROID.search(text):
                return "android"
            if _IOS.search(text):
                return "ios"
    return "web"


def page_view_id(row: Mapping[str, Any], page_view_ids: Mapping[str, str] | None) -> str | None:
    """The web page context id of a row (see the module's mapping table)."""
    direct = clean_text(row.get("page_view_id"))
    if direct is not None:
        return direct
    for column, raw in row.items():
        if not str(column).startswith(WEB_PAGE_CONTEXT_PREFIX):
            continue
        found = _context_id(clean(raw))
        if found is not None:
            return found
    if page_view_ids:
        event_id = clean_text(row.get("event_id"))
        if event_id is not None:
            return clean_text(page_view_ids.get(event_id))
    return None


def _context_id(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if isinstance(raw, Mapping):
        # {"id": ...}, or a self-describing {"schema": ..., "data": {"id": ...}}
        return clean_text(raw["id"]) if "id" in raw else _context_id(raw.get("data"))
    if isinstance(raw, list | tuple):
        for item in raw:
            found = _context_id(item)
            if found is not None:
                return found
    return None


# --------------------------------------------------------------------------- writing


# Called with the lines written so far, every PROGRESS_EVERY lines (behavior convert's
# progress bar); None: no progress reported.
WRITE_PROGRESS: ContextVar[Callable[[int], None] | None] = ContextVar(
    "write_progress", default=None
)
PROGRESS_EVERY = 1000


class JsonlWriter:
    """Contract lines into ``<out_dir>/received_date=YYYY-MM-DD/<prefix>-NNNN.jsonl``.

    All or nothing: lines go to ``.jsonl.partial`` files (which no build reads)
    renamed into place when the block ends without an error; a conversion that
    stops on a bad row leaves no file behind, so a corrected run adds each
    event once."""

    def __init__(self, out_dir: Path | str, prefix: str, batch: int = 1) -> None:
        if batch < 1:
            raise ValueError(f"batch must be 1 or more, got {batch!r}")
        self.out_dir = Path(out_dir)
        self.file_name = f"{prefix}-{batch:04d}.jsonl"
        self._handles: dict[date, IO[str]] = {}
        self._paths: dict[date, Path] = {}
        self._written = 0
        self.lines_per_file: Counter[str] = Counter()

    def write(self, received_date: date, event: Mapping[str, Any]) -> None:
        handle = self._handles.get(received_date)
        if handle is None:
            folder = self.out_dir / f"received_date={received_date.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / self.file_name
            try:
                if path.exists():
                    raise FileExistsError(path)
                handle = _partial(path).open("x", encoding="utf-8", newline="\n")
            except FileExistsError:
                raise FileExistsError(
                    f"{path} already exists; contract files are never rewritten "
                    "(write into an empty folder or use another batch number)"
                ) from None
            self._handles[received_date] = handle
            self._paths[received_date] = path
        handle.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.lines_per_file[str(self._paths[received_date])] += 1
        self._written += 1
        if self._written % PROGRESS_EVERY == 0 and (report := WRITE_PROGRESS.get()) is not None:
            report(self._written)

    def close(self, keep: bool = True) -> None:
        """Close the files: renamed into place (``keep``) or removed."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
        for path in self._paths.values():
            if keep and _partial(path).exists():
                _partial(path).rename(path)
            else:
                _partial(path).unlink(missing_ok=True)
        if not keep:
            self._paths.clear()
            self.lines_per_file.clear()

    @property
    def files(self) -> list[str]:
        return sorted(str(path) for path in self._paths.values())

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        self.close(keep=exc_type is None)


def _partial(path: Path) -> Path:
    """Where a contract file is written until its conversion has finished."""
    return path.with_name(path.name + ".partial")


def read_rows(rows: Iterable[Mapping[str, Any]] | str | os.PathLike[str]) -> Iterator[dict]:
    """Rows of a CSV file (path) or of an iterable of mappings."""
    if isinstance(rows, str | os.PathLike):
        with Path(rows).open(encoding="utf-8-sig", newline="") as handle:
            yield from csv.DictReader(handle)
    else:
        for row in rows:
            yield dict(row)


# --------------------------------------------------------------------------- conversion


def atomic_event_to_contract(
    row: Mapping[str, Any], page_view_ids: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], datetime | None, str | None]:
    """(contract object, received_at as UTC datetime, source event name) of one row."""
    source_name = clean_text(row.get("event_name")) or clean_text(row.get("event"))
    event_ts, event_moment = normalize_timestamp(row.get("dvce_created_tstamp"))
    sent_at, _ = normalize_timestamp(row.get("dvce_sent_tstamp"))
    received_at, received_moment = normalize_timestamp(row.get("collector_tstamp"))
    if event_ts is None:
        # no device time: the best Snowplow has, with nothing left to correct
        event_ts, event_moment = normalize_timestamp(row.get("derived_tstamp"))
        if event_ts is None:
            event_ts, event_moment = received_at, received_moment
        sent_at = None

    event: dict[str, Any] = {}
    for key, value in (
        ("event_id", clean_text(row.get("event_id"))),
        ("event_name", contract_event_name(source_name)),
        ("event_ts", event_ts),
        ("sent_at", sent_at),
        ("received_at", received_at),
        ("anonymous_id", clean_text(row.get("domain_userid"))),
        ("user_id", clean_text(row.get("user_id"))),
        ("platform", contract_platform(row)),
    ):
        if value is not None:
            event[key] = value

    properties = {
        key: value
        for key, value in (
            ("page_path", clean_text(row.get("page_urlpath"))),
            ("page_url", clean_text(row.get("page_url"))),
            ("page_title", clean_text(row.get("page_title"))),
            ("referrer", clean_text(row.get("page_referrer"))),
            ("page_view_id", page_view_id(row, page_view_ids)),
        )
        if value is not None
    }
    if properties:
        event["properties"] = properties

    offset = timezone_offset_minutes(row.get("os_timezone"), event_moment or received_moment)
    if offset is None:
        offset = timezone_offset_minutes(row.get("geo_timezone"), event_moment or received_moment)
    context = {
        key: value
        for key, value in (
            ("ip", clean_text(row.get("user_ipaddress"))),
            ("user_agent", clean_text(row.get("useragent"))),
            ("locale", clean_text(row.get("br_lang"))),
            ("timezone_offset_minutes", offset),
        )
        if value is not None
    }
    if context:
        event["context"] = context
    return event, received_moment, source_name


def convert_atomic_events(
    rows: Iterable[Mapping[str, Any]] | str | os.PathLike[str],
    out_dir: Path | str,
    *,
    batch: int = 1,
    page_view_ids: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Write Snowplow atomic events as contract JSON Lines under ``out_dir``.

    ``rows``: mappings with atomic.events columns, or the path of such a CSV file.
    ``batch``: the file number (``snowplow-0001.jsonl`` for 1). ``page_view_ids``:
    optional event_id → web page context id, for sources that keep it in another table.

    Returns a summary: ``rows_read``, ``lines_written``, ``files`` (sorted paths),
    ``lines_per_file``, ``event_names`` (source name → contract name, every one seen),
    ``platforms`` (``"source → contract"`` → rows) and ``rows_without_event_name``
    (written without ``event_name``: the warehouse quarantines them as
    ``missing_event_name``).
    """
    rows_read = 0
    event_names: dict[str, str | None] = {}
    platforms: Counter[str] = Counter()
    without_name = 0
    with JsonlWriter(out_dir, "snowplow", batch) as writer:
        for row_number, row in enumerate(read_rows(rows), start=1):
            rows_read += 1
            event, received_moment, source_name = atomic_event_to_contract(row, page_view_ids)
            if received_moment is None:
                raise ValueError(
                    f"row {row_number} (event_id {row.get('event_id')!r}): collector_tstamp "
                    f"{row.get('collector_tstamp')!r} is missing or not a timestamp; "
                    "it is required to place the line in its received_date folder"
                )
            if source_name is not None:
                event_names[source_name] = event.get("event_name")
            if "event_name" not in event:
                without_name += 1
            source_platform = (clean_text(row.get("platform")) or "").lower() or "(none)"
            platforms[f"{source_platform} → {event['platform']}"] += 1
            writer.write(received_moment.date(), event)
    return {
        "rows_read": rows_read,
        "lines_written": sum(writer.lines_per_file.values()),
        "files": writer.files,
        "lines_per_file": dict(sorted(writer.lines_per_file.items())),
        "event_names": dict(sorted(event_names.items())),
        "platforms": dict(sorted(platforms.items())),
        "rows_without_event_name": without_name,
    }


def convert_atomic_events_csv(
    path: str | os.PathLike[str], out_dir: Path | str, **options: Any
) -> dict[str, Any]:
    """:func:`convert_atomic_events` on a CSV file of atomic events."""
    return convert_atomic_events(Path(path), out_dir, **options)
