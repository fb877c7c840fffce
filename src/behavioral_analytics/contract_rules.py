"""The raw event contract's rules (``EVENT_CONTRACT.md``, version 1) as plain Python.

One job: say what the contract says, as constants and small functions, so that the
generator's truth and the tests that check the generator and the warehouse read the
same rules instead of each keeping a copy. Written from the contract text, never from
the generator's internals or the SQL models; where the contract leaves room, the reading
taken is stated (it is the strict one: the warehouse may extend the contract, see
README "Raw event contract", and these functions do not follow its extensions).

- Bad lines: :data:`BAD_LINE_REASONS` in contract order; :func:`classify` gives a
  parsed line its reason (the first in that order), ``None`` for a valid event.
- Timestamps: :func:`parse_timestamp` (ISO-8601 with an offset) and :func:`event_at`
  (``received_at - (sent_at - event_ts)`` when ``sent_at`` is present, else
  ``event_ts``; in UTC).
- Duplicates: the same ``event_id`` is one event, the first received copy wins;
  :data:`FIRST_COPY_ORDER` orders copies (ties on ``received_at``: earlier file path,
  then earlier line, this project's reading).
- Sessions: per device (:func:`device_id`), ordered by :data:`SESSION_ORDER`; the
  defaults of the rule's parameters (``sessionize`` implements it).
- Identity: :func:`linked_user_ids`, :func:`stitched_user_id`,
  :func:`is_shared_device`.
- Consent: :func:`analytics_consent`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "BAD_LINE_REASONS",
    "CONSENT_DEFAULT",
    "CONTRACT_VERSION",
    "EVENT_NAME_PATTERN",
    "FIRST_COPY_ORDER",
    "FUTURE_TIMESTAMP",
    "FUTURE_TOLERANCE",
    "FUTURE_TOLERANCE_HOURS",
    "INVALID_EVENT_NAME",
    "INVALID_JSON",
    "INVALID_PLATFORM",
    "INVALID_REVENUE",
    "INVALID_TIMESTAMP",
    "MAX_SESSION_MINUTES",
    "MISSING_EVENT_ID",
    "MISSING_EVENT_NAME",
    "MISSING_IDENTITY",
    "PLATFORMS",
    "SESSION_ENDING_EVENT",
    "SESSION_ORDER",
    "SESSION_TIMEOUT_MINUTES",
    "analytics_consent",
    "classify",
    "device_id",
    "event_at",
    "first_copy_key",
    "is_shared_device",
    "linked_user_ids",
    "parse_line",
    "parse_timestamp",
    "stitched_user_id",
]

CONTRACT_VERSION = 1

# --------------------------------------------------------------------------- fields

# event_name: object_action style.
EVENT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
PLATFORMS = ("web", "ios", "android", "server", "offline")

# --------------------------------------------------------------------------- bad lines

INVALID_JSON = "invalid_json"  # not a JSON object
MISSING_EVENT_ID = "missing_event_id"
MISSING_EVENT_NAME = "missing_event_name"
INVALID_EVENT_NAME = "invalid_event_name"
# event_ts or received_at missing or unparseable, or sent_at present and unparseable
INVALID_TIMESTAMP = "invalid_timestamp"
MISSING_IDENTITY = "missing_identity"  # both ids null or empty
INVALID_PLATFORM = "invalid_platform"  # missing or not in PLATFORMS
FUTURE_TIMESTAMP = "future_timestamp"  # event_at more than FUTURE_TOLERANCE after received_at
INVALID_REVENUE = "invalid_revenue"  # properties.revenue present but not a number

# Contract order: a line with several faults gets the first of these.
BAD_LINE_REASONS = (
    INVALID_JSON,
    MISSING_EVENT_ID,
    MISSING_EVENT_NAME,
    INVALID_EVENT_NAME,
    INVALID_TIMESTAMP,
    MISSING_IDENTITY,
    INVALID_PLATFORM,
    FUTURE_TIMESTAMP,
    INVALID_REVENUE,
)

FUTURE_TOLERANCE_HOURS = 24
FUTURE_TOLERANCE = timedelta(hours=FUTURE_TOLERANCE_HOURS)

# --------------------------------------------------------------------------- rules' parameters

# A copy of an event_id is a duplicate unless it comes first in this order.
FIRST_COPY_ORDER = ("received_at", "file", "line_number")
# Within a device, events are ordered by these for sessions.
SESSION_ORDER = ("event_at", "event_id")
# A gap strictly greater than this starts a new session (the contract's default).
SESSION_TIMEOUT_MINUTES = 30
# The previous event being this one starts a new session.
SESSION_ENDING_EVENT = "logout"
# Not in the contract: this project also cuts a session into windows of this length
# (the var ``behavior__session_max_length_minutes``; None disables the cut).
MAX_SESSION_MINUTES = 1440
# Absent consent means consent given (configurable: ``behavior__consent_default``).
CONSENT_DEFAULT = True


# --------------------------------------------------------------------------- lines


def parse_line(text: str) -> Any:
    """A raw JSON line decoded, or ``None`` when it is not JSON (then ``invalid_json``)."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 timestamp with an offset (``Z`` included), or ``None``.

    ``None`` for a value that is not a string, does not parse (as
    ``datetime.fromisoformat`` reads ISO-8601), or has no offset.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def event_at(line: Mapping[str, Any]) -> datetime:
    """The contract's event time of a line with valid timestamps, in UTC.

    ``received_at - (sent_at - event_ts)`` when ``sent_at`` is present (corrects the
    device's clock skew), otherwise ``event_ts``.
    """
    event_ts = parse_timestamp(line["event_ts"])
    if line.get("sent_at") is not None:
        received_at = parse_timestamp(line["received_at"])
        moment = received_at - (parse_timestamp(line["sent_at"]) - event_ts)
    else:
        moment = event_ts
    return moment.astimezone(UTC)


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def classify(line: Any) -> str | None:
    """The contract's reason code for a parsed line; ``None`` when it is a valid event.

    ``line`` is what :func:`parse_line` gives for a JSON line (``None`` when it does not
    parse), or a Parquet / CSV row as a dict with nulls left out. A line with several
    faults gets the first reason in :data:`BAD_LINE_REASONS` order. Readings: an empty
    ``event_id`` is missing, an empty ``event_name`` is invalid (it does not match the
    pattern), a JSON ``null`` revenue is present and not a number.
    """
    if not isinstance(line, dict):
        return INVALID_JSON
    if _is_empty(line.get("event_id")):
        return MISSING_EVENT_ID
    name = line.get("event_name")
    if name is None:
        return MISSING_EVENT_NAME
    if not isinstance(name, str) or not EVENT_NAME_PATTERN.match(name):
        return INVALID_EVENT_NAME
    if (
        parse_timestamp(line.get("event_ts")) is None
        or parse_timestamp(line.get("received_at")) is None
        or (line.get("sent_at") is not None and parse_timestamp(line["sent_at"]) is None)
    ):
        return INVALID_TIMESTAMP
    if _is_empty(line.get("anonymous_id")) and _is_empty(line.get("user_id")):
        return MISSING_IDENTITY
    if line.get("platform") not in PLATFORMS:
        return INVALID_PLATFORM
    if event_at(line) - parse_timestamp(line["received_at"]) > FUTURE_TOLERANCE:
        return FUTURE_TIMESTAMP
    properties = line.get("properties")
    if isinstance(properties, dict) and "revenue" in properties:
        revenue = properties["revenue"]
        if isinstance(revenue, bool) or not isinstance(revenue, int | float):
            return INVALID_REVENUE
    return None


def first_copy_key(copy: Mapping[str, Any]) -> tuple:
    """Sort key of one received copy of an event: the smallest is the event, the rest
    are duplicates. ``copy`` holds the :data:`FIRST_COPY_ORDER` fields."""
    return tuple(copy[field] for field in FIRST_COPY_ORDER)


# --------------------------------------------------------------------------- devices, identity


def device_id(anonymous_id: str | None, user_id: str | None) -> str | None:
    """The device of an event for sessions: its ``anonymous_id``, else its ``user_id``."""
    return anonymous_id if anonymous_id else user_id


def linked_user_ids(pairs: Iterable[tuple[str | None, str | None]]) -> dict[str, set[str]]:
    """``anonymous_id`` -> the user_ids seen together with it, from (anonymous_id,
    user_id) pairs of events (pairs without both ids are no evidence)."""
    links: dict[str, set[str]] = defaultdict(set)
    for anonymous_id, user_id in pairs:
        if anonymous_id and user_id:
            links[anonymous_id].add(user_id)
    return dict(links)


def is_shared_device(user_ids: Collection[str]) -> bool:
    """A device seen with two or more user_ids is shared."""
    return len(user_ids) >= 2


def stitched_user_id(user_ids: Collection[str]) -> str | None:
    """The user_id an anonymous_id's events all belong to (before and after): the single
    one seen with it. ``None`` for a shared device or one never seen with a user_id."""
    if len(user_ids) != 1:
        return None
    return next(iter(user_ids))


# --------------------------------------------------------------------------- consent


def analytics_consent(line: Mapping[str, Any], default: bool = CONSENT_DEFAULT) -> bool:
    """``False`` when ``context.consent.analytics`` is ``false``; ``default`` when absent."""
    context = line.get("context")
    consent = context.get("consent") if isinstance(context, dict) else None
    analytics = consent.get("analytics") if isinstance(consent, dict) else None
    if analytics is None:
        return default
    return analytics is not False
