"""Constants and small helpers every part of the generator shares: time units and
formatting, seeded random draws, the compact JSON encoder.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from datetime import date, datetime

GENERATOR_VERSION = 1

FILE_FORMATS = ("jsonl", "parquet", "csv")

# A copy as a row of the Parquet/CSV event files: ``ROW_COLUMNS`` tab-separated, absent
# or null values as ROW_NULL (neither can be in a value: JSON escapes control characters).
ROW_COLUMNS = (
    "event_id",
    "event_name",
    "event_ts",
    "sent_at",
    "received_at",
    "anonymous_id",
    "user_id",
    "platform",
    "properties",
    "context",
    "schema_version",
    "sdk",
)
ROW_NULL = "\x00"

MS_PER_SECOND = 1_000
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# --------------------------------------------------------------------------- helpers

_day_strings: dict[int, str] = {}
_encode = json.JSONEncoder(separators=(",", ":")).encode


def _day_string(day: int) -> str:
    text = _day_strings.get(day)
    if text is None:
        text = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
        _day_strings[day] = text
    return text


_minute_prefixes: dict[int, str] = {}
# "SS.mmm" for every millisecond of a minute.
_SECOND_MILLIS = [f"{second:02d}.{milli:03d}" for second in range(60) for milli in range(1000)]


def _fmt_ms(epoch_ms: int, offset_minutes: int, suffix: str) -> str:
    """ISO-8601 with millisecond precision in a fixed offset, e.g. ``...T10:15:30.123+01:00``."""
    minute, rest = divmod(epoch_ms + offset_minutes * MS_PER_MINUTE, MS_PER_MINUTE)
    prefix = _minute_prefixes.get(minute)
    if prefix is None:
        day, minute_of_day = divmod(minute, 1440)
        hours, minutes = divmod(minute_of_day, 60)
        prefix = f"{_day_string(day)}T{hours:02d}:{minutes:02d}:"
        _minute_prefixes[minute] = prefix
    return prefix + _SECOND_MILLIS[rest] + suffix


def _fmt_us_utc(epoch_us: int) -> str:
    """ISO-8601 UTC with microseconds and ``+00:00`` (the truth files' format)."""
    day, rest = divmod(epoch_us, MS_PER_DAY * 1000)
    hours, rest = divmod(rest, MS_PER_HOUR * 1000)
    minutes, rest = divmod(rest, MS_PER_MINUTE * 1000)
    seconds, micros = divmod(rest, 1_000_000)
    return f"{_day_string(day)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{micros:06d}+00:00"


def _parse_ms(text: str) -> int:
    """Epoch milliseconds of a timestamp this module wrote (used for bad-line recipes)."""
    moment = datetime.fromisoformat(text)
    return round(moment.timestamp() * 1000)


def _randint(rng: random.Random, low: int, high: int) -> int:
    """Uniform integer in [low, high]; much faster than ``Random.randint`` and as deterministic."""
    return low + int(rng.random() * (high - low + 1))


def _randrange(rng: random.Random, stop: int) -> int:
    return int(rng.random() * stop)


def _random_ip(rng: random.Random) -> str:
    octets = [_randint(rng, 11, 223), _randint(rng, 0, 255), _randint(rng, 0, 255)]
    octets.append(_randint(rng, 1, 254))
    return ".".join(str(octet) for octet in octets)


def _uuid(rng: random.Random) -> str:
    value = f"{rng.getrandbits(128):032x}"
    return f"{value[:8]}-{value[8:12]}-4{value[13:16]}-{value[16:20]}-{value[20:]}"


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit = math.exp(-lam)
    count = 0
    product = rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _weighted_index(rng: random.Random, cumulative: list[float]) -> int:
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


def _cumulative(weights: tuple[float, ...] | list[float]) -> list[float]:
    total = 0.0
    result = []
    for weight in weights:
        total += weight
        result.append(total)
    return result
