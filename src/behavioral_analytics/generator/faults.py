"""Bad lines: the contract-breaking recipes and where they are inserted."""

from __future__ import annotations

import json
import random
from typing import Any

from behavioral_analytics.contract_rules import (
    FUTURE_TIMESTAMP,
    FUTURE_TOLERANCE_HOURS,
    INVALID_EVENT_NAME,
    INVALID_JSON,
    INVALID_PLATFORM,
    INVALID_REVENUE,
    INVALID_TIMESTAMP,
    MISSING_EVENT_ID,
    MISSING_EVENT_NAME,
    MISSING_IDENTITY,
)
from behavioral_analytics.generator.common import (
    MS_PER_HOUR,
    _cumulative,
    _encode,
    _fmt_ms,
    _parse_ms,
    _randint,
    _randrange,
    _uuid,
    _weighted_index,
)
from behavioral_analytics.generator.emission import _Sink
from behavioral_analytics.generator.world import _STREAM_INDEX

# Field-level and JSON-level bad line recipes: (kind, reason).
_BAD_KINDS = (
    ("truncated_json", INVALID_JSON),
    ("json_array", INVALID_JSON),
    ("bare_string", INVALID_JSON),
    ("empty_line", INVALID_JSON),
    ("event_id_absent", MISSING_EVENT_ID),
    ("event_id_null", MISSING_EVENT_ID),
    ("event_name_absent", MISSING_EVENT_NAME),
    ("event_name_null", MISSING_EVENT_NAME),
    ("event_name_camel", INVALID_EVENT_NAME),
    ("event_name_dash", INVALID_EVENT_NAME),
    ("event_name_space", INVALID_EVENT_NAME),
    ("event_name_digit", INVALID_EVENT_NAME),
    ("event_ts_garbage", INVALID_TIMESTAMP),
    ("event_ts_impossible", INVALID_TIMESTAMP),
    ("event_ts_absent", INVALID_TIMESTAMP),
    ("received_at_absent", INVALID_TIMESTAMP),
    ("sent_at_garbage", INVALID_TIMESTAMP),
    ("identity_null", MISSING_IDENTITY),
    ("identity_empty", MISSING_IDENTITY),
    ("identity_absent", MISSING_IDENTITY),
    ("platform_desktop", INVALID_PLATFORM),
    ("platform_absent", INVALID_PLATFORM),
    ("platform_tv", INVALID_PLATFORM),
    ("future_no_sent_at", FUTURE_TIMESTAMP),
    ("future_with_sent_at", FUTURE_TIMESTAMP),
    ("revenue_string_number", INVALID_REVENUE),
    ("revenue_string_word", INVALID_REVENUE),
    ("multi_id_name_identity", MISSING_EVENT_ID),
    ("multi_name_platform", MISSING_EVENT_NAME),
    ("multi_badname_timestamp", INVALID_EVENT_NAME),
    ("multi_timestamp_identity_revenue", INVALID_TIMESTAMP),
    ("multi_identity_platform", MISSING_IDENTITY),
    ("multi_platform_future_revenue", INVALID_PLATFORM),
    ("multi_future_revenue", FUTURE_TIMESTAMP),
)
_JSON_ONLY_KINDS = frozenset(kind for kind, reason in _BAD_KINDS if reason == INVALID_JSON)
_BAD_LINE_SHARE = 0.0075

# --------------------------------------------------------------------------- bad lines


def _bad_object(kind: str, template: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A copy of a valid event object with the faults of ``kind`` (field-level kinds only)."""
    obj = dict(template)
    obj["event_id"] = _uuid(rng)
    if isinstance(obj.get("properties"), dict):
        obj["properties"] = dict(obj["properties"])
    else:
        obj["properties"] = {}
    received_ms = _parse_ms(obj["received_at"])
    # 1 to 48 hours past the contract's tolerance
    tolerance_ms = FUTURE_TOLERANCE_HOURS * MS_PER_HOUR
    future_ms = received_ms + _randint(
        rng, tolerance_ms + MS_PER_HOUR, tolerance_ms + 48 * MS_PER_HOUR
    )

    def set_future(with_sent_at: bool) -> None:
        obj["event_ts"] = _fmt_ms(future_ms, 60, "+01:00")
        if with_sent_at:
            # event_at = received - (sent - ts) = received + (ts - sent): far in the future.
            obj["sent_at"] = _fmt_ms(received_ms, 60, "+01:00")
        else:
            obj.pop("sent_at", None)

    def set_identity(value: Any) -> None:
        if value is _ABSENT:
            obj.pop("anonymous_id", None)
            obj.pop("user_id", None)
        else:
            obj["anonymous_id"] = value
            obj["user_id"] = value

    if kind == "event_id_absent":
        del obj["event_id"]
    elif kind == "event_id_null":
        obj["event_id"] = None
    elif kind == "event_name_absent":
        del obj["event_name"]
    elif kind == "event_name_null":
        obj["event_name"] = None
    elif kind == "event_name_camel":
        obj["event_name"] = "AddToCart"
    elif kind == "event_name_dash":
        obj["event_name"] = "page-view"
    elif kind == "event_name_space":
        obj["event_name"] = "checkout started"
    elif kind == "event_name_digit":
        obj["event_name"] = "1st_visit"
    elif kind == "event_ts_garbage":
        obj["event_ts"] = "not-a-timestamp"
    elif kind == "event_ts_impossible":
        obj["event_ts"] = "2026-02-30T25:61:00.000+01:00"
    elif kind == "event_ts_absent":
        del obj["event_ts"]
    elif kind == "received_at_absent":
        del obj["received_at"]
    elif kind == "sent_at_garbage":
        obj["sent_at"] = "yesterday"
    elif kind == "identity_null":
        set_identity(None)
    elif kind == "identity_empty":
        set_identity("")
    elif kind == "identity_absent":
        set_identity(_ABSENT)
    elif kind == "platform_desktop":
        obj["platform"] = "desktop"
    elif kind == "platform_absent":
        del obj["platform"]
    elif kind == "platform_tv":
        obj["platform"] = "tv"
    elif kind == "future_no_sent_at":
        set_future(False)
    elif kind == "future_with_sent_at":
        set_future(True)
    elif kind == "revenue_string_number":
        obj["properties"]["revenue"] = "12.50"
    elif kind == "revenue_string_word":
        obj["properties"]["revenue"] = "abc"
    elif kind == "multi_id_name_identity":
        del obj["event_id"]
        obj["event_name"] = "AddToCart"
        set_identity(None)
    elif kind == "multi_name_platform":
        del obj["event_name"]
        obj["platform"] = "desktop"
    elif kind == "multi_badname_timestamp":
        obj["event_name"] = "page-view"
        obj["event_ts"] = "31/01/2026 10:00"
    elif kind == "multi_timestamp_identity_revenue":
        del obj["received_at"]
        set_identity("")
        obj["properties"]["revenue"] = "9,99"
    elif kind == "multi_identity_platform":
        set_identity(_ABSENT)
        del obj["platform"]
    elif kind == "multi_platform_future_revenue":
        obj["platform"] = "desktop"
        set_future(False)
        obj["properties"]["revenue"] = "abc"
    elif kind == "multi_future_revenue":
        set_future(True)
        obj["properties"]["revenue"] = "12.50"
    else:  # pragma: no cover - programming error
        raise ValueError(kind)
    return obj


_ABSENT = object()


def _bad_json_line(kind: str, template_line: str, rng: random.Random) -> str:
    if kind == "empty_line":
        return ""
    if kind == "json_array":
        return f"[{template_line}]"
    if kind == "bare_string":
        return json.dumps(("page_view", "ping", "hello world")[_randrange(rng, 3)])
    # truncated_json: cut inside the object so it can never parse
    cut = _randint(rng, 10, max(11, len(template_line) - 5))
    return template_line[:cut]


def _insert_bad_lines(
    sink: _Sink, files: list[tuple[str, str, list[int]]], file_format: str, seed: int
) -> None:
    rng = random.Random(f"{seed}/bad_lines")
    kinds = [
        kind for kind, _ in _BAD_KINDS if file_format == "jsonl" or kind not in _JSON_ONLY_KINDS
    ]
    total_lines = sum(len(indices) for _, _, indices in files)
    wanted = max(len(kinds), round(total_lines * _BAD_LINE_SHARE))
    plan = list(kinds) + [kinds[_randrange(rng, len(kinds))] for _ in range(wanted - len(kinds))]
    sizes = _cumulative([len(indices) for _, _, indices in files])
    multi_line_files = [i for i, (_, _, indices) in enumerate(files) if len(indices) >= 2]
    reasons = dict(_BAD_KINDS)
    for kind in plan:
        if kind == "empty_line" and multi_line_files:
            file_number = multi_line_files[_randrange(rng, len(multi_line_files))]
        else:
            file_number = _weighted_index(rng, sizes)
        _, stream, indices = files[file_number]
        while True:  # a valid event line of that file (bad lines are rare)
            template_index = indices[_randrange(rng, len(indices))]
            if sink.copy_event[template_index] >= 0:
                break
        template_line = sink.copy_line[template_index]
        if reasons[kind] == INVALID_JSON:
            line = _bad_json_line(kind, template_line, rng)
        else:
            line = _encode(_bad_object(kind, json.loads(template_line), rng))
        if kind == "empty_line":
            position = _randint(rng, 1, len(indices) - 1)  # strictly inside the file
        else:
            position = _randint(rng, 0, len(indices))
        new_index = len(sink.copy_line)
        sink.copy_event.append(-1)
        sink.copy_stream.append(_STREAM_INDEX[stream])
        sink.copy_received.append(sink.copy_received[template_index])
        sink.copy_event_at.append(0)
        sink.copy_line.append(line)
        sink.bad_reason[new_index] = reasons[kind]
        indices.insert(position, new_index)
