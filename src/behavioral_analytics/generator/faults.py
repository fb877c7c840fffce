"""Bad lines: the contract-breaking recipes, where they are inserted (planned from the
files' sizes alone) and their text (written with the file)."""

from __future__ import annotations

import bisect
import json
import random
from typing import Any, NamedTuple

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


class _Replay:
    """Stands in for the bad-line random stream when a line is written: returns the draws
    the plan took for that line, in the order it took them."""

    def __init__(self, draws: tuple) -> None:
        self._draws = list(draws)

    def random(self) -> float:
        return self._draws.pop(0)

    def getrandbits(self, bits: int) -> int:
        return self._draws.pop(0)

    def exhausted(self) -> bool:
        return not self._draws


def _draws(kind: str, rng: random.Random) -> tuple:
    """Take from ``rng`` what ``_bad_json_line`` / ``_bad_object`` take for ``kind``.

    Their draws never depend on the template line (only their values are used with it),
    so the plan takes them in order and the line is written later from a ``_Replay``.
    """
    if kind in ("empty_line", "json_array"):
        return ()
    if kind in ("bare_string", "truncated_json"):
        return (rng.random(),)
    return (rng.getrandbits(128), rng.random())  # _uuid, then the future timestamp


class BadLine(NamedTuple):
    file_number: int
    template: int  # position of the template among the file's received copies
    kind: str
    draws: tuple


def _bad_line_text(bad: BadLine, template_line: str) -> str:
    replay = _Replay(bad.draws)
    if dict(_BAD_KINDS)[bad.kind] == INVALID_JSON:
        line = _bad_json_line(bad.kind, template_line, replay)  # type: ignore[arg-type]
    else:
        line = _encode(_bad_object(bad.kind, json.loads(template_line), replay))  # type: ignore[arg-type]
    assert replay.exhausted(), bad.kind
    return line


def _plan_bad_lines(
    file_sizes: list[int], file_format: str, seed: int
) -> tuple[list[BadLine], list[list[tuple[int, int]]]]:
    """Choose every bad line: its recipe, file, template and position.

    ``file_sizes`` are the received copies per file, files in path order. Returns the
    bad lines (in the order drawn: their numbers) and per file the (position in the
    final file, bad line number) of its bad lines, by position.
    """
    rng = random.Random(f"{seed}/bad_lines")
    kinds = [
        kind for kind, _ in _BAD_KINDS if file_format == "jsonl" or kind not in _JSON_ONLY_KINDS
    ]
    total_lines = sum(file_sizes)
    wanted = max(len(kinds), round(total_lines * _BAD_LINE_SHARE))
    plan = list(kinds) + [kinds[_randrange(rng, len(kinds))] for _ in range(wanted - len(kinds))]
    sizes = _cumulative(file_sizes)
    multi_line_files = [i for i, size in enumerate(file_sizes) if size >= 2]
    # per file, ascending: positions of its bad lines in the file as it grows, and their numbers
    positions: list[list[int]] = [[] for _ in file_sizes]
    numbers: list[list[int]] = [[] for _ in file_sizes]
    bad_lines: list[BadLine] = []
    for kind in plan:
        if kind == "empty_line" and multi_line_files:
            file_number = multi_line_files[_randrange(rng, len(multi_line_files))]
        else:
            file_number = _weighted_index(rng, sizes)
        inserted = positions[file_number]
        length = file_sizes[file_number] + len(inserted)
        while True:  # a valid event line of that file (bad lines are rare)
            pick = _randrange(rng, length)
            before = bisect.bisect_left(inserted, pick)
            if before == len(inserted) or inserted[before] != pick:
                break
        draws = _draws(kind, rng)
        if kind == "empty_line":
            position = _randint(rng, 1, length - 1)  # strictly inside the file
        else:
            position = _randint(rng, 0, length)
        at = bisect.bisect_left(inserted, position)
        for later in range(at, len(inserted)):
            inserted[later] += 1
        inserted.insert(at, position)
        numbers[file_number].insert(at, len(bad_lines))
        bad_lines.append(BadLine(file_number, pick - before, kind, draws))
    placed = [list(zip(p, n, strict=True)) for p, n in zip(positions, numbers, strict=True)]
    return bad_lines, placed
