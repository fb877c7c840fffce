"""Deterministic synthetic product events, written in the raw event contract, with truth.

``generate()`` simulates persons (with personas, devices, logins, churn and
consent), server-side and offline events, and bots; serialises every event the
way real trackers do (device clocks that are wrong, apps that batch and arrive
hours late, retries, lines that break the contract) into
``<out_dir>/events/received_date=YYYY-MM-DD/<stream>-<nnnn>.<ext>``, and writes
what really happened to ``<out_dir>/truth/``.

Everything comes from ``random.Random`` instances seeded from ``seed`` (one per
person / bot / purpose, seeded with a string so that the result does not depend
on ``PYTHONHASHSEED``); no wall clock is read. Timestamps are handled as integer
milliseconds (UTC epoch) and formatted by hand, so the truth ``event_at`` is
exactly what a consumer computes from the serialised strings with the contract
formula ``received_at - (sent_at - event_ts)``.

Event files: one folder per UTC received date; per day and stream several files
(``web-nnnn`` every 6 h, ``mobile-nnnn`` every 12 h, ``server-0001``,
``offline-0001``), lines in order of receipt. ``file_format="jsonl"`` writes
``.jsonl`` (mobile: ``.jsonl.gz``); ``"parquet"`` / ``"csv"`` write the same rows
with one column per top-level field (``properties`` and ``context`` as JSON
strings, timestamps as the same ISO strings, absent fields as null / empty).
Bad lines are extra lines (about 0.75 %); in parquet/csv mode only field-level
faults are generated (no ``invalid_json``) and ``raw_line`` holds the row as JSON.

Line numbers are 1-based file lines, as a person reads the file: for CSV files
the header is line 1 and the first row line 2; for JSONL every physical line
counts, empty ones included. File paths in truth are relative to ``events/``
with forward slashes.

Truth files (``<out_dir>/truth/``):

- ``events.parquet``: one row per valid event, first received copy (earliest
  ``received_at``; ties: earlier file path, then line): event_id, event_name,
  device_id (anonymous_id, else user_id), anonymous_id, user_id, person_id (the
  person who really did it; null for bots), resolved_user_id (the user_id the
  contract's identity rule gives: own user_id, else the single user_id seen with
  the anonymous_id on consented events; null for anonymous events of shared,
  bot and never-logged-in devices), platform, event_at, received_at (UTC, us),
  file, line_number, is_bot, consent_analytics, is_after_opt_out (at or after
  the first consent=false event of its person, as the identity rule resolves the
  person: own user_id, else the device's single user_id, else the device when
  nobody identified on it; nobody for anonymous events of shared devices),
  is_analysed (consent and not after the opt-out), session_index (null for an
  event that is not analysed).
- ``sessions.csv``: device_id, session_index, session_start_at, session_end_at,
  event_count, first_event_id, is_bot: ``sessionize.sessionize`` over the
  analysed events of events.parquet (the contract: an event without consent is
  not used by any analysis; bots are sessionized and flagged, marts drop them).
- ``devices.csv``: device_id, anonymous_id, person_id (empty when several
  persons or a bot), user_ids_seen (pipe-joined, sorted), is_shared (two or more
  user_ids seen), is_bot, bot_kind (ua / behaviour / empty), platform (pipe-joined
  when a user_id device has server and offline events), user_agent, ips (every
  IP its events carried, pipe-joined: home, office, cafe or carrier NAT; a
  household shares its home IP, and some persons live together).
- ``persons.csv``: person_id, user_id, persona, signup_date, churn_date,
  opted_out_at (event_at of the first consent=false event), device_count
  (anonymous devices used), is_identified (its user_id is on some event).
- ``bad_lines.csv``: file, line_number, reason, raw_line.
- ``duplicates.csv``: file, line_number, event_id (copies that are not the first).
- ``orders.csv``: order_id, event_id, person_id, user_id, order_at, revenue,
  currency (``purchase`` events, web/app and offline).
- ``summary.json``: counts, per-file line counts and the parameters.

Truth timestamps in CSV files are ISO-8601 UTC with microseconds and ``+00:00``.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
import json
import math
import random
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from behavioral_analytics.sessionize import sessionize

__all__ = [
    "BAD_LINE_REASONS",
    "GENERATOR_VERSION",
    "PERSONAS",
    "generate",
]

GENERATOR_VERSION = 1

# Contract order: a line with several faults gets the first of these.
BAD_LINE_REASONS = (
    "invalid_json",
    "missing_event_id",
    "missing_event_name",
    "invalid_event_name",
    "invalid_timestamp",
    "missing_identity",
    "invalid_platform",
    "future_timestamp",
    "invalid_revenue",
)
FILE_FORMATS = ("jsonl", "parquet", "csv")

MS_PER_SECOND = 1_000
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


# --------------------------------------------------------------------------- personas


@dataclass(frozen=True)
class Persona:
    weight: float
    sessions_per_day: float
    events_per_session: float
    conversion_rate: float  # probability that a session ends in a purchase
    churn_hazard: float  # daily probability of stopping for good
    order_value: tuple[float, float]  # per item, in EUR-equivalent
    action_weights: tuple[float, ...]  # over ACTIONS
    offline_purchase_rate: float  # per active day


ACTIONS = (
    "view",
    "product_view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "feature_used",
    "promo_banner_click",
    "chat_opened",
)

PERSONAS: dict[str, Persona] = {
    "power_user": Persona(
        0.10, 2.4, 22, 0.10, 0.002, (30, 120), (40, 26, 10, 9, 3, 9, 2, 1), 0.010
    ),
    "regular": Persona(0.30, 1.0, 12, 0.05, 0.008, (20, 90), (44, 27, 9, 7, 3, 6, 3, 1), 0.006),
    "casual": Persona(0.30, 0.35, 7, 0.02, 0.020, (15, 70), (50, 26, 9, 5, 2, 4, 3, 1), 0.002),
    "bargain_hunter": Persona(
        0.15, 0.8, 16, 0.06, 0.012, (5, 35), (30, 30, 22, 8, 5, 2, 3, 0), 0.015
    ),
    "window_shopper": Persona(
        0.15, 0.6, 10, 0.004, 0.025, (10, 60), (46, 36, 10, 4, 2, 1, 1, 0), 0.0
    ),
}
_PERSONA_NAMES = tuple(PERSONAS)

# (offset minutes, suffix as written in event_ts, locale, currency, weight)
TIMEZONES = (
    (60, "+01:00", "de-DE", "EUR", 22),
    (60, "+01:00", "fr-FR", "EUR", 10),
    (0, "Z", "en-GB", "GBP", 14),
    (0, "+00:00", "en-IE", "EUR", 5),
    (-300, "-05:00", "en-US", "USD", 20),
    (-480, "-08:00", "en-US", "USD", 8),
    (330, "+05:30", "en-IN", "INR", 11),
    (540, "+09:00", "ja-JP", "JPY", 5),
    (120, "+02:00", "fi-FI", "EUR", 5),
)
_CURRENCY_RATE = {"EUR": 1.0, "USD": 1.1, "GBP": 0.85, "INR": 90.0, "JPY": 160.0}

# Share of sessions starting in each local hour.
HOUR_WEIGHTS = (1, 1, 0, 0, 0, 1, 2, 4, 6, 6, 6, 6, 7, 7, 6, 6, 6, 7, 9, 10, 10, 8, 5, 2)

WEB_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
)
BOT_USER_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.6099.109 Safari/537.36",
    "python-requests/2.31.0",
    "curl/8.5.0",
)
IOS_MODELS = ("iPhone15,2", "iPhone16,1", "iPhone14,5", "iPad13,18")
ANDROID_MODELS = ("Pixel 8", "SM-S918B", "SM-A546B", "moto g84 5G")
APP_VERSIONS = ("4.1.0", "4.2.0", "4.2.1", "4.3.0", "3.9.2")

PAGE_PATHS = ("/", "/products", "/deals", "/account", "/help", "/cart", "/search", "/wishlist")
SCREEN_NAMES = ("home", "catalog", "deals", "account", "cart", "search", "wishlist", "settings")
SEARCH_QUERIES = (
    "running shoes",
    "rain jacket",
    "headphones",
    "coffee grinder",
    "desk lamp",
    "yoga mat",
    "backpack",
    "phone case",
    "sale",
    "gift card",
)
FEATURES = ("wishlist", "compare", "dark_mode", "filters", "reviews", "size_guide", "share")
PRODUCT_COUNT = 400

STREAMS = ("web", "mobile", "server", "offline")
_STREAM_CHUNK_MS = {
    "web": 6 * MS_PER_HOUR,
    "mobile": 12 * MS_PER_HOUR,
    "server": MS_PER_DAY,
    "offline": MS_PER_DAY,
}
_STREAM_INDEX = {name: index for index, name in enumerate(STREAMS)}

# Field-level and JSON-level bad line recipes: (kind, reason).
_BAD_KINDS = (
    ("truncated_json", "invalid_json"),
    ("json_array", "invalid_json"),
    ("bare_string", "invalid_json"),
    ("empty_line", "invalid_json"),
    ("event_id_absent", "missing_event_id"),
    ("event_id_null", "missing_event_id"),
    ("event_name_absent", "missing_event_name"),
    ("event_name_null", "missing_event_name"),
    ("event_name_camel", "invalid_event_name"),
    ("event_name_dash", "invalid_event_name"),
    ("event_name_space", "invalid_event_name"),
    ("event_name_digit", "invalid_event_name"),
    ("event_ts_garbage", "invalid_timestamp"),
    ("event_ts_impossible", "invalid_timestamp"),
    ("event_ts_absent", "invalid_timestamp"),
    ("received_at_absent", "invalid_timestamp"),
    ("sent_at_garbage", "invalid_timestamp"),
    ("identity_null", "missing_identity"),
    ("identity_empty", "missing_identity"),
    ("identity_absent", "missing_identity"),
    ("platform_desktop", "invalid_platform"),
    ("platform_absent", "invalid_platform"),
    ("platform_tv", "invalid_platform"),
    ("future_no_sent_at", "future_timestamp"),
    ("future_with_sent_at", "future_timestamp"),
    ("revenue_string_number", "invalid_revenue"),
    ("revenue_string_word", "invalid_revenue"),
    ("multi_id_name_identity", "missing_event_id"),
    ("multi_name_platform", "missing_event_name"),
    ("multi_badname_timestamp", "invalid_event_name"),
    ("multi_timestamp_identity_revenue", "invalid_timestamp"),
    ("multi_identity_platform", "missing_identity"),
    ("multi_platform_future_revenue", "invalid_platform"),
    ("multi_future_revenue", "future_timestamp"),
)
_JSON_ONLY_KINDS = frozenset(kind for kind, reason in _BAD_KINDS if reason == "invalid_json")
_BAD_LINE_SHARE = 0.0075


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


_HOUR_CUMULATIVE = _cumulative(HOUR_WEIGHTS)
_TZ_CUMULATIVE = _cumulative([tz[4] for tz in TIMEZONES])
_PERSONA_CUMULATIVE = _cumulative([PERSONAS[name].weight for name in _PERSONA_NAMES])
_ACTION_CUMULATIVE = {
    name: _cumulative(persona.action_weights) for name, persona in PERSONAS.items()
}


# --------------------------------------------------------------------------- model


@dataclass(eq=False)
class Device:
    device_id: str  # the anonymous_id
    platform: str  # web / ios / android
    user_agent: str
    ip: str
    offset_minutes: int
    suffix: str
    locale: str
    skew_ms: int = 0
    app_version: str | None = None
    sends_consent: bool = True
    logs_in: bool = True
    is_bot: bool = False
    bot_kind: str = ""
    is_shared: bool = False
    batch_ms: int = 120_000
    fixed_latency_ms: int | None = None
    allow_retries: bool = True
    force_late_first_batch: bool = False
    logged_in_user: str | None = None  # persistent app/browser login (not on shared devices)
    ip_assigned: bool = False
    ips_used: set[str] = field(default_factory=set)  # truth: every IP its events carried
    context_cache: dict[str, str] = field(default_factory=dict)  # encoded context JSON


@dataclass(eq=False)
class PersonSpec:
    index: int
    person_id: str
    persona: str
    user_id: str | None  # account id, None for persons who never have an account
    signup_day: int | None  # day index relative to start (negative = before the period)
    first_active_day: int
    churn_day: int | None
    opt_out_ms: int | None
    offset_minutes: int
    suffix: str
    locale: str
    currency: str
    marketing_consent: bool
    devices: list[Device] = field(default_factory=list)
    device_weights: list[float] = field(default_factory=list)
    subscription_day: int | None = None
    boundary_scenario: bool = False
    shared_device: Device | None = None
    home_ip: str = ""  # the household's public IP (NAT: every home device shows it)
    work_ip: str | None = None  # the office network, for some persons
    # devices that send consent=false after the opt-out (the others never learn of it)
    opt_out_devices: set[str] = field(default_factory=set)


class _Sink:
    """Collects events (what happened) and copies (lines as received)."""

    def __init__(self) -> None:
        # per event: (event_id, event_name, device_id, anonymous_id, user_id, person_id,
        #             platform, is_bot, consent_analytics)
        self.events: list[tuple] = []
        self.orders: dict[int, tuple[str, float, str]] = {}
        # per copy (line): (event index or -1 for a bad line, stream code, received ms,
        #                   event_at ms, line text)
        self.copies: list[tuple[int, int, int, int, str]] = []
        self.bad_reason: dict[int, str] = {}

    def event(
        self,
        event_id: str,
        name: str,
        anonymous_id: str | None,
        user_id: str | None,
        person_id: str | None,
        platform: str,
        is_bot: bool,
        consent: bool,
    ) -> int:
        device_id = anonymous_id if anonymous_id else user_id
        self.events.append(
            (event_id, name, device_id, anonymous_id, user_id, person_id, platform, is_bot, consent)
        )
        return len(self.events) - 1

    def copy(self, event_index: int, stream: str, received_ms: int, event_at_ms: int, line: str):
        self.copies.append((event_index, _STREAM_INDEX[stream], received_ms, event_at_ms, line))

    def to_columns(self) -> None:
        """Unzip the collected tuples into column lists (after the simulation)."""
        event_columns = list(zip(*self.events, strict=True)) or [()] * 9
        (
            self.event_id,
            self.event_name,
            self.device_id,
            self.anonymous_id,
            self.user_id,
            self.person_id,
            self.platform,
            self.is_bot,
            self.consent,
        ) = (list(column) for column in event_columns)
        copy_columns = list(zip(*self.copies, strict=True)) or [()] * 5
        (
            self.copy_event,
            self.copy_stream,
            self.copy_received,
            self.copy_event_at,
            self.copy_line,
        ) = (list(column) for column in copy_columns)
        self.events = []
        self.copies = []


# --------------------------------------------------------------------------- world setup


class _World:
    def __init__(
        self,
        persons: int,
        days: int,
        seed: int,
        start_date: date,
    ) -> None:
        self.seed = seed
        self.days = days
        self.start_ms = (start_date.toordinal() - _EPOCH_ORDINAL) * MS_PER_DAY
        self.end_ms = self.start_ms + days * MS_PER_DAY
        rng = random.Random(f"{seed}/world")
        self.prices = [round(rng.uniform(4, 120), 2) for _ in range(PRODUCT_COUNT)]
        self.persons: list[PersonSpec] = []
        self.bots: list[Device] = []
        used_user_ids: set[str] = set()
        for index in range(persons):
            self.persons.append(self._make_person(rng, index, used_user_ids))
        self._assign_shared_devices(rng)
        self._assign_households(rng)
        bot_count = max(2, round(persons * 0.015))
        for index in range(bot_count):
            self.bots.append(self._make_bot(rng, index))

    # persons -----------------------------------------------------------------

    def _make_person(self, rng: random.Random, index: int, used: set[str]) -> PersonSpec:
        days = self.days
        persona_name = _PERSONA_NAMES[_weighted_index(rng, _PERSONA_CUMULATIVE)]
        persona = PERSONAS[persona_name]
        offset, suffix, locale, currency, _ = TIMEZONES[_weighted_index(rng, _TZ_CUMULATIVE)]
        # Scenario persons (boundary gaps, late batch) must be active the whole period.
        scenario = index < 2
        has_account = scenario or rng.random() < (0.55 if persona_name == "window_shopper" else 0.8)
        user_id = None
        signup_day = None
        first_active_day = 0
        if has_account:
            while True:
                user_id = f"usr_{rng.getrandbits(40):010x}"
                if user_id not in used:
                    used.add(user_id)
                    break
            signup_day = (
                -_randint(rng, 1, 400) if rng.random() < 0.7 else _randint(rng, 0, days - 1)
            )
            if scenario:
                signup_day = -30
            if signup_day >= 0:
                # Some new users browse anonymously before they sign up (retroactive stitching).
                first_active_day = (
                    _randint(rng, 0, signup_day) if rng.random() < 0.5 else signup_day
                )
        else:
            first_active_day = 0 if rng.random() < 0.6 else _randint(rng, 0, days - 1)
        churn_day = None
        churn_from = max(first_active_day, signup_day or 0) + 1
        if not scenario:
            for day in range(churn_from, days):
                if rng.random() < persona.churn_hazard:
                    churn_day = day
                    break
        active_end_day = churn_day if churn_day is not None else days
        opt_out_ms = None
        if not scenario and rng.random() < 0.06:
            low = self.start_ms + first_active_day * MS_PER_DAY
            high = self.start_ms + active_end_day * MS_PER_DAY
            opt_out_ms = _randint(rng, low, max(low, high - 1))
        person = PersonSpec(
            index=index,
            person_id=f"person_{index + 1:05d}",
            persona=persona_name,
            user_id=user_id,
            signup_day=signup_day,
            first_active_day=first_active_day,
            churn_day=churn_day,
            opt_out_ms=opt_out_ms,
            offset_minutes=offset,
            suffix=suffix,
            locale=locale,
            currency=currency,
            marketing_consent=rng.random() < 0.6,
            boundary_scenario=index == 0,
        )
        device_count = 1 + _weighted_index(rng, [55, 88, 100])
        for device_number in range(device_count):
            if index == 1 and device_number == 0:
                platform = "ios"  # the late-batch scenario needs an app
            else:
                platform = ("web", "ios", "android")[_weighted_index(rng, [50, 75, 100])]
            device = self._make_device(rng, platform, offset, suffix, locale)
            device.logs_in = has_account and (device_number == 0 or rng.random() < 0.55)
            if index == 1 and device_number == 0:
                # Scenario device: a clock hours ahead, and a batch that arrives the next day.
                device.force_late_first_batch = True
                device.skew_ms = _randint(rng, 2 * MS_PER_HOUR, 5 * MS_PER_HOUR)
            person.devices.append(device)
            person.device_weights.append(0.6 if device_number == 0 else 0.4 / device_count)
        if has_account and rng.random() < 0.12:
            person.subscription_day = _randint(rng, 0, 29)
        if person.boundary_scenario:
            laptop = self._make_device(rng, "web", offset, suffix, locale)
            laptop.skew_ms = 0
            laptop.fixed_latency_ms = 120
            laptop.allow_retries = False
            laptop.sends_consent = True
            person.devices.append(laptop)
            person.device_weights.append(0.0)  # used only by the boundary scenario
        return person

    def _make_device(
        self, rng: random.Random, platform: str, offset: int, suffix: str, locale: str
    ) -> Device:
        device_id = _uuid(rng)
        ip = _random_ip(rng)
        app_version = None
        if platform == "web":
            user_agent = WEB_USER_AGENTS[_randrange(rng, len(WEB_USER_AGENTS))]
        else:
            app_version = APP_VERSIONS[_randrange(rng, len(APP_VERSIONS))]
            if platform == "ios":
                model = IOS_MODELS[_randrange(rng, len(IOS_MODELS))]
                user_agent = f"ShopApp/{app_version} ({model}; iOS 17.{_randint(rng, 0, 3)})"
            else:
                model = ANDROID_MODELS[_randrange(rng, len(ANDROID_MODELS))]
                user_agent = (
                    f"ShopApp/{app_version} (Linux; Android {_randint(rng, 12, 14)}; {model})"
                )
        skew = 0
        if rng.random() < 0.12:
            roll = rng.random()
            if roll < 0.5:
                magnitude = _randint(rng, MS_PER_MINUTE, 15 * MS_PER_MINUTE)
            elif roll < 0.85:
                magnitude = _randint(rng, 15 * MS_PER_MINUTE, 5 * MS_PER_HOUR)
            else:
                magnitude = _randint(rng, 5 * MS_PER_HOUR, 40 * MS_PER_HOUR)
            skew = magnitude if rng.random() < 0.5 else -magnitude
        return Device(
            device_id=device_id,
            platform=platform,
            user_agent=user_agent,
            ip=ip,
            offset_minutes=offset,
            suffix=suffix,
            locale=locale,
            skew_ms=skew,
            app_version=app_version,
            sends_consent=rng.random() < 0.85,
            batch_ms=(60_000, 120_000, 180_000, 300_000)[_randrange(rng, 4)],
        )

    def _assign_shared_devices(self, rng: random.Random) -> None:
        candidates = [
            person
            for person in self.persons
            if person.user_id is not None and not person.boundary_scenario and person.index != 1
        ]
        pair_count = min(max(1, len(self.persons) // 40), len(candidates) // 2)
        chosen = rng.sample(candidates, pair_count * 2) if pair_count else []
        for pair_number in range(pair_count):
            first, second = chosen[2 * pair_number], chosen[2 * pair_number + 1]
            platform = ("web", "android", "ios")[pair_number % 3]
            device = self._make_device(
                rng, platform, first.offset_minutes, first.suffix, first.locale
            )
            device.is_shared = True
            device.logs_in = True
            for person in (first, second):
                # Both users of a shared device stay active so that both user_ids are seen.
                person.churn_day = None
                if person.signup_day is not None and person.signup_day >= 0:
                    person.signup_day = -10
                    person.first_active_day = 0
                person.devices.insert(0, device)
                person.device_weights.insert(0, 0.5)
                person.shared_device = device

    def _assign_households(self, rng: random.Random) -> None:
        """Networks: a household shares one public IP (NAT), some persons have an office.

        Some persons live together: same home IP and locale, so home evidence alone
        cannot tell them apart. Each session picks its network (``session_ip``):
        home, the office, a cafe (web) or the mobile carrier, whose NAT puts many
        devices behind few IPs. Each person's opt-out is sent by their first device
        and, for each other device, only sometimes.
        """
        self.carrier_ips = [_random_ip(rng) for _ in range(max(5, len(self.persons) // 20))]
        previous: PersonSpec | None = None
        for person in self.persons:
            if previous is not None and rng.random() < 0.08:
                person.home_ip = previous.home_ip  # lives with the previous person
                person.locale = previous.locale
                for device in person.devices:
                    if not device.is_shared:
                        device.locale = previous.locale
            else:
                person.home_ip = _random_ip(rng)
            if rng.random() < 0.5:
                person.work_ip = _random_ip(rng)
            previous = person
        for person in self.persons:
            for number, device in enumerate(person.devices):
                if device.is_shared and not device.ip_assigned:
                    device.ip = person.home_ip  # the family computer stays at home
                    device.ip_assigned = True
                if person.opt_out_ms is not None and (number == 0 or rng.random() < 0.5):
                    person.opt_out_devices.add(device.device_id)

    def session_ip(self, rng: random.Random, person: PersonSpec | None, device: Device) -> str:
        """The public IP one session of a device is seen from."""
        if person is None or device.is_shared:
            ip = device.ip
        else:
            roll = rng.random()
            at_home = 0.7 if device.platform == "web" else 0.45
            if roll < at_home:
                ip = person.home_ip
            elif roll < at_home + 0.2 and person.work_ip is not None:
                ip = person.work_ip
            elif device.platform == "web":
                ip = _random_ip(rng)  # a cafe, a hotel, a friend's
            else:
                ip = self.carrier_ips[_randrange(rng, len(self.carrier_ips))]
        device.ips_used.add(ip)
        return ip

    # bots --------------------------------------------------------------------

    def _make_bot(self, rng: random.Random, index: int) -> Device:
        kind = "ua" if index % 2 == 0 else "behaviour"
        device = self._make_device(rng, "web", 0, "Z", "en-US")
        device.skew_ms = 0
        device.is_bot = True
        device.bot_kind = kind
        device.logs_in = False
        device.sends_consent = rng.random() < 0.3
        if kind == "ua":
            device.user_agent = BOT_USER_AGENTS[(index // 2) % len(BOT_USER_AGENTS)]
        return device


# --------------------------------------------------------------------------- emission


class _Emitter:
    """Turns simulated client/server events into serialised lines (copies).

    Client lines are assembled from pre-serialised pieces (one JSON encoding of
    ``properties`` per event, ``context`` once per device and consent state); all
    other values are generated ids, names and timestamps that need no escaping.
    Retries of an event only swap ``sent_at`` and ``received_at``.
    """

    def __init__(self, world: _World, sink: _Sink) -> None:
        self.world = world
        self.sink = sink

    # context -----------------------------------------------------------------

    @staticmethod
    def _context_json(device: Device, ip: str, consent: str, marketing: bool) -> str:
        key = f"{ip}/{consent}/{marketing}"
        encoded = device.context_cache.get(key)
        if encoded is None:
            context: dict[str, Any] = {
                "ip": ip,
                "user_agent": device.user_agent,
                "locale": device.locale,
                "timezone_offset_minutes": device.offset_minutes,
            }
            if device.app_version is not None:
                context["app_version"] = device.app_version
            if consent == "given":
                context["consent"] = {"analytics": True, "marketing": marketing}
            elif consent == "false":
                context["consent"] = {"analytics": False, "marketing": False}
            encoded = _encode(context)
            device.context_cache[key] = encoded
        return encoded

    # client events -----------------------------------------------------------

    def emit_client(
        self,
        rng: random.Random,
        person: PersonSpec | None,
        device: Device,
        events: list[tuple[int, str, str | dict[str, Any], str | None]],
    ) -> None:
        """Emit one session's client events: (true_ms, name, properties, user_id)."""
        if not events:
            return
        marketing = person.marketing_consent if person is not None else False
        person_id = person.person_id if person is not None else None
        opt_out_ms = None
        if person is not None and device.device_id in person.opt_out_devices:
            opt_out_ms = person.opt_out_ms
        default_consent = "given" if device.sends_consent else "absent"
        ip = self.world.session_ip(rng, person, device)
        platform = device.platform
        is_app = platform != "web"
        device_id = device.device_id
        skew = device.skew_ms
        offset = device.offset_minutes
        suffix = device.suffix
        sdk = ""
        if platform == "ios" and device.app_version >= "4.2":  # type: ignore[operator]
            sdk = f'"sdk":"analytics-ios/{device.app_version}",'
        sink = self.sink
        sink_events = sink.events
        is_bot = device.is_bot
        built = []
        for true_ms, name, properties, user_id in events:
            consent = (
                "false" if opt_out_ms is not None and true_ms >= opt_out_ms else default_consent
            )
            event_id = _uuid(rng)
            ts_text = _fmt_ms(true_ms + skew, offset, suffix)
            properties_json = properties if type(properties) is str else _encode(properties)
            context_json = self._context_json(device, ip, consent, marketing)
            if is_app:
                head = (
                    f'{{"event_id":"{event_id}","event_name":"{name}",'
                    f'"event_ts":"{ts_text}","sent_at":"'
                )
                user_part = "" if user_id is None else f'"user_id":"{user_id}",'
                tail = (
                    f'","anonymous_id":"{device_id}",{user_part}"platform":"{platform}",'
                    f'"schema_version":1,{sdk}"properties":{properties_json},'
                    f'"context":{context_json}}}'
                )
            else:
                user_part = "null" if user_id is None else f'"{user_id}"'
                head = (
                    f'{{"event_id":"{event_id}","event_name":"{name}","platform":"web",'
                    f'"anonymous_id":"{device_id}","user_id":{user_part},'
                    f'"event_ts":"{ts_text}","sent_at":"'
                )
                tail = f'","properties":{properties_json},"context":{context_json}}}'
            index = len(sink_events)
            sink_events.append(
                (
                    event_id,
                    name,
                    device_id,
                    device_id,
                    user_id,
                    person_id,
                    platform,
                    is_bot,
                    consent != "false",
                )
            )
            if name == "purchase":
                sink.orders[index] = (
                    properties["order_id"],
                    properties["revenue"],
                    properties["currency"],
                )
            built.append((true_ms, index, head, tail))
        if is_app:
            self._emit_app_batches(rng, device, built)
        else:
            self._emit_web(rng, device, built)

    def _write_copy(
        self,
        rng: random.Random,
        index: int,
        head: str,
        tail: str,
        stream: str,
        ts_ms: int,
        sent_ms: int,
        received_ms: int,
        offset_minutes: int,
        suffix: str,
        received_suffix: str,
    ) -> None:
        sent_text = _fmt_ms(sent_ms, offset_minutes, suffix)
        received_text = _fmt_ms(received_ms, 0, received_suffix)
        copy = (
            index,
            _STREAM_INDEX[stream],
            received_ms,
            received_ms - (sent_ms - ts_ms),  # event_at, exactly as a consumer computes it
            f'{head}{sent_text}","received_at":"{received_text}{tail}',
        )
        copies = self.sink.copies
        copies.append(copy)
        if rng.random() < 0.002:  # collector wrote the same line twice
            copies.append(copy)

    def _emit_web(self, rng: random.Random, device: Device, built: list) -> None:
        skew = device.skew_ms
        offset = device.offset_minutes
        suffix = device.suffix
        fixed_latency = device.fixed_latency_ms
        for true_ms, index, head, tail in built:
            if fixed_latency is not None:
                sent_true = true_ms
                latency = fixed_latency
            else:
                sent_true = true_ms + _randint(rng, 0, 40)
                latency = _randint(rng, 25, 900)
            ts_ms = true_ms + skew
            self._write_copy(
                rng,
                index,
                head,
                tail,
                "web",
                ts_ms,
                sent_true + skew,
                sent_true + latency,
                offset,
                suffix,
                "Z",
            )
            if device.allow_retries and rng.random() < 0.015:
                if rng.random() < 0.7:
                    retry_sent = sent_true + _randint(rng, MS_PER_SECOND, 30 * MS_PER_SECOND)
                else:
                    retry_sent = sent_true + _randint(rng, MS_PER_HOUR, 30 * MS_PER_HOUR)
                self._write_copy(
                    rng,
                    index,
                    head,
                    tail,
                    "web",
                    ts_ms,
                    retry_sent + skew,
                    retry_sent + _randint(rng, 25, 900),
                    offset,
                    suffix,
                    "Z",
                )

    def _emit_app_batches(self, rng: random.Random, device: Device, built: list) -> None:
        session_start = built[0][0]
        session_last = built[-1][0]
        batches: list[list] = []
        window_end = session_start + device.batch_ms
        current: list = []
        flush_times: list[int] = []
        for item in built:
            true_ms = item[0]
            if true_ms >= window_end:
                batches.append(current)
                flush_times.append(window_end)
                current = []
                while true_ms >= window_end:
                    window_end += device.batch_ms
            current.append(item)
        batches.append(current)
        flush_times.append(min(window_end, session_last + _randint(rng, 1_000, 5_000)))
        skew = device.skew_ms
        for batch, sent_true in zip(batches, flush_times, strict=True):
            if not batch:
                continue
            if device.force_late_first_batch:
                # Scenario: the phone stayed offline past midnight UTC.
                device.force_late_first_batch = False
                next_midnight = (sent_true // MS_PER_DAY + 1) * MS_PER_DAY
                sent_true = next_midnight + _randint(rng, 20 * MS_PER_MINUTE, 4 * MS_PER_HOUR)
            elif rng.random() < 0.04:
                sent_true += _randint(rng, MS_PER_HOUR, 20 * MS_PER_HOUR)
            copies = [(sent_true, _randint(rng, 80, 2_500))]
            if device.allow_retries and rng.random() < 0.012:
                retry_sent = sent_true + _randint(rng, 20 * MS_PER_SECOND, 3 * MS_PER_HOUR)
                copies.append((retry_sent, _randint(rng, 80, 2_500)))
            for copy_sent, latency in copies:
                for true_ms, index, head, tail in batch:
                    self._write_copy(
                        rng,
                        index,
                        head,
                        tail,
                        "mobile",
                        true_ms + skew,
                        copy_sent + skew,
                        copy_sent + latency,
                        device.offset_minutes,
                        device.suffix,
                        "+00:00",
                    )

    # server and offline events ------------------------------------------------

    def emit_server(
        self,
        rng: random.Random,
        person: PersonSpec,
        true_ms: int,
        name: str,
        properties: dict[str, Any],
        platform: str = "server",
    ) -> None:
        user_id = person.user_id
        assert user_id is not None
        event_id = _uuid(rng)
        consent_false = person.opt_out_ms is not None and true_ms >= person.opt_out_ms
        if platform == "server":
            ts_text = _fmt_ms(true_ms, 0, "Z")
            received = true_ms + _randint(rng, 5, 500)
        else:
            ts_text = _fmt_ms(true_ms, person.offset_minutes, person.suffix)
            # Store systems upload nightly (02:00-04:00 UTC the next day).
            received = (true_ms // MS_PER_DAY + 1) * MS_PER_DAY + _randint(
                rng, 2 * MS_PER_HOUR, 4 * MS_PER_HOUR
            )
        obj: dict[str, Any] = {
            "event_id": event_id,
            "event_name": name,
            "platform": platform,
            "user_id": user_id,
            "event_ts": ts_text,
            "received_at": None,
            "properties": properties,
        }
        if consent_false:
            obj["context"] = {"consent": {"analytics": False, "marketing": False}}
        index = self.sink.event(
            event_id, name, None, user_id, person.person_id, platform, False, not consent_false
        )
        if name == "purchase":
            self.sink.orders[index] = (
                properties["order_id"],
                properties["revenue"],
                properties["currency"],
            )
        receipts = [received]
        if rng.random() < 0.005:
            receipts.append(received + _randint(rng, MS_PER_SECOND, 120 * MS_PER_SECOND))
        for received_ms in receipts:
            obj["received_at"] = _fmt_ms(received_ms, 0, "Z")
            line = _encode(obj)
            self.sink.copy(index, platform, received_ms, true_ms, line)
            if rng.random() < 0.002:
                self.sink.copy(index, platform, received_ms, true_ms, line)


# --------------------------------------------------------------------------- simulation


class _Simulator:
    def __init__(self, world: _World, emitter: _Emitter) -> None:
        self.world = world
        self.emitter = emitter
        # Properties of the frequent events come from small vocabularies: encode them once.
        products = [f"prd_{number + 1:04d}" for number in range(PRODUCT_COUNT)]
        prices = world.prices
        self.product_page_json = [_encode({"page_path": f"/products/{p}"}) for p in products]
        self.product_view_json = [
            _encode({"product_id": p, "price": price})
            for p, price in zip(products, prices, strict=True)
        ]
        self.add_to_cart_json = [
            _encode({"product_id": p, "quantity": 1, "price": price})
            for p, price in zip(products, prices, strict=True)
        ]
        self.remove_from_cart_json = [_encode({"product_id": p, "quantity": 1}) for p in products]
        self.page_json = [_encode({"page_path": path}) for path in PAGE_PATHS]
        self.screen_json = [_encode({"screen_name": name}) for name in SCREEN_NAMES]
        self.search_json = [
            [_encode({"query": query, "results": results}) for results in range(81)]
            for query in SEARCH_QUERIES
        ]
        self.feature_json = [_encode({"feature": feature}) for feature in FEATURES]
        self.banner_json = [_encode({"banner_id": f"bnr_{n:02d}"}) for n in range(1, 13)]
        self.chat_json = [_encode({"topic": t}) for t in ("delivery", "returns", "payment")]

    # properties (pre-encoded JSON strings) ---------------------------------------

    def _view(self, rng: random.Random, platform: str) -> tuple[str, str]:
        if platform == "web":
            if rng.random() < 0.35:
                return "page_view", self.product_page_json[_randrange(rng, PRODUCT_COUNT)]
            return "page_view", self.page_json[_randrange(rng, len(PAGE_PATHS))]
        return "screen_view", self.screen_json[_randrange(rng, len(SCREEN_NAMES))]

    def _action(self, rng: random.Random, action: str, platform: str, cart: list[int]):
        if action == "view":
            return self._view(rng, platform)
        if action == "product_view":
            return "product_view", self.product_view_json[_randrange(rng, PRODUCT_COUNT)]
        if action == "search":
            queries = self.search_json[_randrange(rng, len(SEARCH_QUERIES))]
            return "search", queries[_randint(rng, 0, 80)]
        if action == "add_to_cart":
            number = _randrange(rng, PRODUCT_COUNT)
            cart.append(number)
            return "add_to_cart", self.add_to_cart_json[number]
        if action == "remove_from_cart":
            if not cart:
                return self._view(rng, platform)
            number = cart.pop(_randrange(rng, len(cart)))
            return "remove_from_cart", self.remove_from_cart_json[number]
        if action == "feature_used":
            return "feature_used", self.feature_json[_randrange(rng, len(FEATURES))]
        if action == "promo_banner_click":
            return "promo_banner_click", self.banner_json[_randint(rng, 1, 12) - 1]
        return "chat_opened", self.chat_json[_randrange(rng, 3)]

    def _revenue(self, rng: random.Random, person: PersonSpec, items: int) -> float:
        persona = PERSONAS[person.persona]
        value = rng.uniform(*persona.order_value) * items * _CURRENCY_RATE[person.currency]
        return float(round(value)) if person.currency == "JPY" else round(value, 2)

    def _order_id(self, rng: random.Random) -> str:
        return f"ord_{rng.getrandbits(48):012x}"

    def _email(self, rng: random.Random, person: PersonSpec) -> str:
        return f"{person.person_id.replace('_', '.')}@example.com"

    @staticmethod
    def _gap(rng: random.Random) -> int:
        if rng.random() < 0.008:  # the user went away for a while and came back
            return _randint(rng, 31 * MS_PER_MINUTE, 90 * MS_PER_MINUTE)
        return min(int(rng.expovariate(1 / 20_000)) + 1_500, 15 * MS_PER_MINUTE)

    # sessions ----------------------------------------------------------------

    def human_session(
        self,
        rng: random.Random,
        person: PersonSpec,
        device: Device,
        start_ms: int,
        signed_up: bool,
        signup_now: bool,
    ) -> tuple[int, bool]:
        """Simulate one visit. Returns (last event ms, ended with logout)."""
        persona = PERSONAS[person.persona]
        platform = device.platform
        user_id = person.user_id
        can_login = signed_up and device.logs_in and user_id is not None
        if device.is_shared:
            current = None
            will_login = can_login
        else:
            current = device.logged_in_user
            will_login = can_login and current is None and rng.random() < 0.6
        converting = user_id is not None and signed_up and rng.random() < persona.conversion_rate
        if converting and current is None and not can_login:
            converting = False
        purchase_ms = 0
        order_id = ""
        length = 1 + min(int(rng.expovariate(1 / max(persona.events_per_session - 1, 1))), 150)
        if device.is_shared:
            length = max(length, 3)  # room for the login
        login_step = -1
        if will_login:
            length = max(length, 2)
            login_step = _randint(rng, 1, min(3, length - 1))
        events: list[tuple[int, str, str | dict[str, Any], str | None]] = []
        cart: list[int] = []
        t = start_ms
        action_cumulative = _ACTION_CUMULATIVE[person.persona]
        first_name, first_props = self._view(rng, platform)
        events.append((t, first_name, first_props, current))
        if signup_now and user_id is not None:
            t += self._gap(rng) // 3 + 2_000
            props: dict[str, Any] = {"method": ("email", "google", "apple")[_randrange(rng, 3)]}
            if rng.random() < 0.4:
                props["email"] = self._email(rng, person)
            if rng.random() < 0.25:
                props["phone"] = f"+1555{person.index:07d}"
                props["first_name"] = f"Name{person.index}"
            current = user_id
            events.append((t, "signup", props, current))
            will_login = False
        for step in range(1, length):
            t += self._gap(rng)
            if step == login_step and current is None:
                props = {"method": ("password", "google", "apple")[_randrange(rng, 3)]}
                if rng.random() < 0.2:
                    props["email"] = self._email(rng, person)
                current = user_id
                events.append((t, "login", props, current))
                continue
            action = ACTIONS[_weighted_index(rng, action_cumulative)]
            name, props = self._action(rng, action, platform, cart)
            events.append((t, name, props, current))
        if converting:
            if current is None:
                t += self._gap(rng)
                current = user_id
                events.append((t, "login", {"method": "password"}, current))
            if not cart:
                t += self._gap(rng)
                number = _randrange(rng, PRODUCT_COUNT)
                cart.append(number)
                events.append((t, "add_to_cart", self.add_to_cart_json[number], current))
            items = len(cart)
            revenue = self._revenue(rng, person, items)
            t += self._gap(rng)
            events.append((t, "checkout_started", {"items": items}, current))
            t += self._gap(rng)
            order_id = self._order_id(rng)
            props = {
                "order_id": order_id,
                "revenue": revenue,
                "currency": person.currency,
                "items": items,
            }
            if rng.random() < 0.1:
                props["email"] = self._email(rng, person)
            events.append((t, "purchase", props, current))
            purchase_ms = t
        logout_chance = 0.95 if device.is_shared else (0.12 if platform == "web" else 0.04)
        logged_out = current is not None and rng.random() < logout_chance
        if device.is_shared and current is not None:
            logged_out = True  # shared devices: every user signs out
        if logged_out:
            t += self._gap(rng)
            events.append((t, "logout", {}, current))
            current = None
        if not device.is_shared:
            device.logged_in_user = current
        self.emitter.emit_client(rng, person, device, events)
        if converting:
            self.emitter.emit_server(
                rng,
                person,
                purchase_ms + _randint(rng, 2_000, 30_000),
                "order_completed",
                {
                    "order_id": order_id,
                    "payment_method": ("card", "paypal", "klarna")[_randrange(rng, 3)],
                },
            )
        return t, logged_out

    def boundary_scenario(self, rng: random.Random, person: PersonSpec, day: int) -> None:
        """Exact-timeout gaps on a clean device (no skew, identical latency)."""
        device = person.devices[-1]
        local_midnight = (
            self.world.start_ms + day * MS_PER_DAY - person.offset_minutes * MS_PER_MINUTE
        )
        t0 = local_midnight + 9 * MS_PER_HOUR + _randint(rng, 0, 3_599) * MS_PER_SECOND
        user_id = person.user_id
        thirty = 30 * MS_PER_MINUTE
        plan = [
            (t0, "page_view", {"page_path": "/"}, None),
            (t0 + 10_000, "product_view", {"product_id": "prd_0001", "price": 9.99}, None),
            # exactly 30:00.000 later: same session
            (t0 + 10_000 + thirty, "page_view", {"page_path": "/deals"}, None),
            # 30:00.001 later: a new session
            (t0 + 10_000 + 2 * thirty + 1, "page_view", {"page_path": "/"}, None),
            (t0 + 30_000 + 2 * thirty + 1, "login", {"method": "password"}, user_id),
            (t0 + 50_000 + 2 * thirty + 1, "logout", {}, user_id),
            # back after two minutes: new session because the previous event was logout
            (t0 + 170_000 + 2 * thirty + 1, "page_view", {"page_path": "/account"}, None),
            (t0 + 180_000 + 2 * thirty + 1, "search", {"query": "gift card", "results": 3}, None),
        ]
        self.emitter.emit_client(rng, person, device, plan)

    def person(self, person: PersonSpec) -> None:
        world = self.world
        rng = random.Random(f"{world.seed}/person/{person.index}")
        persona = PERSONAS[person.persona]
        end_day = person.churn_day if person.churn_day is not None else world.days
        cursor = world.start_ms + person.first_active_day * MS_PER_DAY - MS_PER_HOUR
        weights = _cumulative(person.device_weights)
        boundary_day = min(1, world.days - 1)
        for day in range(person.first_active_day, end_day):
            signed_up = person.signup_day is not None and person.signup_day <= day
            signup_today = person.signup_day == day
            count = _poisson(rng, persona.sessions_per_day * (1.2 if day % 7 >= 5 else 1.0))
            first_day = day == person.first_active_day
            if signup_today or (first_day and (person.index < 2 or person.shared_device)):
                count = max(count, 1)
            local_midnight = (
                world.start_ms + day * MS_PER_DAY - person.offset_minutes * MS_PER_MINUTE
            )
            starts = sorted(
                local_midnight
                + _weighted_index(rng, _HOUR_CUMULATIVE) * MS_PER_HOUR
                + _randrange(rng, MS_PER_HOUR)
                for _ in range(count)
            )
            for number, planned in enumerate(starts):
                start = max(planned, cursor + _randint(rng, MS_PER_MINUTE, 10 * MS_PER_MINUTE))
                if start >= world.end_ms:
                    break
                if start < world.start_ms:
                    continue  # local day 0 begins before the period in UTC+ time zones
                signup_now = signup_today and number == 0
                if number == 0 and first_day and person.shared_device is not None:
                    device = person.shared_device  # both users of a shared device do use it
                elif signup_now or (person.index == 1 and first_day):
                    device = person.devices[0]
                else:
                    device = person.devices[_weighted_index(rng, weights)]
                last, logged_out = self.human_session(
                    rng, person, device, start, signed_up, signup_now
                )
                cursor = last
                if logged_out and rng.random() < 0.35:
                    # Quick return after logout: must be a new session per the rule.
                    start = last + _randint(rng, 30 * MS_PER_SECOND, 8 * MS_PER_MINUTE)
                    cursor, _ = self.human_session(rng, person, device, start, signed_up, False)
            if person.user_id is not None and signed_up:
                if rng.random() < persona.offline_purchase_rate:
                    true_ms = local_midnight + _randint(rng, 9 * MS_PER_HOUR, 20 * MS_PER_HOUR)
                    items = _randint(rng, 1, 4)
                    self.emitter.emit_server(
                        rng,
                        person,
                        true_ms,
                        "purchase",
                        {
                            "order_id": self._order_id(rng),
                            "revenue": self._revenue(rng, person, items),
                            "currency": person.currency,
                            "items": items,
                            "store_id": f"store_{_randint(rng, 1, 25):03d}",
                        },
                        platform="offline",
                    )
                if person.subscription_day is not None and day % 30 == person.subscription_day:
                    self.emitter.emit_server(
                        rng,
                        person,
                        world.start_ms + day * MS_PER_DAY + _randint(rng, 0, 4 * MS_PER_HOUR),
                        "subscription_renewed",
                        {"plan": "plus_monthly", "period": "month"},
                    )
            if person.boundary_scenario and day == boundary_day:
                self.boundary_scenario(rng, person, day)

    def bot(self, index: int, device: Device) -> None:
        world = self.world
        rng = random.Random(f"{world.seed}/bot/{index}")
        plans: list[tuple[int, int, int, bool]] = []  # (start, count, interval, fixed)
        for day in range(world.days):
            day_start = world.start_ms + day * MS_PER_DAY
            if device.bot_kind == "ua":
                if rng.random() < 0.7:
                    for _ in range(_randint(rng, 1, 3)):
                        start = day_start + _randrange(rng, MS_PER_DAY - MS_PER_HOUR)
                        plans.append((start, _randint(rng, 10, 150), 8_000, False))
            elif index == 1 and day == 0 and world.days >= 2:
                # A long steady run (26 h) that the max session length has to cut.
                plans.append((day_start + 6 * MS_PER_HOUR, 26 * 60, 60_000, True))
            elif rng.random() < 0.25:
                interval = (3_000, 4_000, 6_000)[_randrange(rng, 3)]
                duration = _randint(rng, 20 * MS_PER_MINUTE, 2 * MS_PER_HOUR)
                start = day_start + _randrange(rng, MS_PER_DAY - 3 * MS_PER_HOUR)
                plans.append((start, duration // interval, interval, True))
        plans.sort()
        cursor = world.start_ms - MS_PER_DAY
        for start, count, interval, fixed in plans:
            t = max(start, cursor + 40 * MS_PER_MINUTE)
            events = []
            for number in range(count):
                product = _randrange(rng, PRODUCT_COUNT)
                if number % 3 == 2:
                    events.append((t, "product_view", self.product_view_json[product], None))
                elif number % 2:
                    page = self.page_json[number % len(PAGE_PATHS)]
                    events.append((t, "page_view", page, None))
                else:
                    events.append((t, "page_view", self.product_page_json[product], None))
                t += interval if fixed else _randint(rng, 500, 2 * interval)
            self.emitter.emit_client(rng, None, device, events)
            cursor = t


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
    future_ms = received_ms + _randint(rng, 25 * MS_PER_HOUR, 72 * MS_PER_HOUR)

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


# --------------------------------------------------------------------------- writing


TRUTH_EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_name", pa.string()),
        ("device_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("user_id", pa.string()),
        ("person_id", pa.string()),
        ("resolved_user_id", pa.string()),
        ("platform", pa.string()),
        ("event_at", pa.timestamp("us", tz="UTC")),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("file", pa.string()),
        ("line_number", pa.int64()),
        ("is_bot", pa.bool_()),
        ("consent_analytics", pa.bool_()),
        ("is_after_opt_out", pa.bool_()),
        ("is_analysed", pa.bool_()),
        ("session_index", pa.int64()),
    ]
)

_OUTPUT_COLUMNS = (
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
_JSON_COLUMNS = ("properties", "context")


def _row_values(line: str) -> list[Any]:
    obj = json.loads(line)
    values = []
    for column in _OUTPUT_COLUMNS:
        value = obj.get(column)
        if column in _JSON_COLUMNS and value is not None:
            value = _encode(value)
        values.append(value)
    return values


def _write_event_file(path: Path, lines: list[str], file_format: str, stream: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if file_format == "jsonl":
        payload = ("\n".join(lines) + "\n").encode("utf-8")
        if stream == "mobile":
            payload = gzip.compress(payload, compresslevel=1, mtime=0)
        path.write_bytes(payload)
        return
    rows = [_row_values(line) for line in lines]
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(_OUTPUT_COLUMNS)
        writer.writerows(["" if value is None else value for value in row] for row in rows)
        path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        return
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in _OUTPUT_COLUMNS]
    schema = pa.schema(
        [
            (name, pa.int64() if name == "schema_version" else pa.string())
            for name in _OUTPUT_COLUMNS
        ]
    )
    table = pa.Table.from_arrays(
        [pa.array(list(values), type=schema.field(i).type) for i, values in enumerate(columns)],
        schema=schema,
    )
    pq.write_table(table, path, compression="snappy")


def _file_name(stream: str, number: int, file_format: str) -> str:
    if file_format == "jsonl":
        extension = "jsonl.gz" if stream == "mobile" else "jsonl"
    else:
        extension = file_format
    return f"{stream}-{number:04d}.{extension}"


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def _timestamps_us(values: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(values, unit="us", utc=True)).dt.as_unit("us")


# --------------------------------------------------------------------------- main entry


def generate(
    out_dir: Path,
    persons: int = 200,
    days: int = 14,
    seed: int = 42,
    start_date: date = date(2026, 1, 5),
    file_format: str = "jsonl",
    progress: bool = True,
    timeout_minutes: float = 30,
    max_session_minutes: float | None = 1440,
) -> dict[str, Any]:
    """Write synthetic raw events to ``out_dir/events`` and their truth to ``out_dir/truth``.

    Deterministic for a given ``seed`` (and parameters). Existing ``events/`` and
    ``truth/`` folders under ``out_dir`` are replaced. Returns the summary that is
    also written to ``truth/summary.json``.
    """
    if persons < 1 or days < 1:
        raise ValueError("persons and days must be at least 1")
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {FILE_FORMATS}, got {file_format!r}")
    out_dir = Path(out_dir)
    events_dir = out_dir / "events"
    truth_dir = out_dir / "truth"
    for folder in (events_dir, truth_dir):
        if folder.exists():
            shutil.rmtree(folder)
    events_dir.mkdir(parents=True)
    truth_dir.mkdir(parents=True)

    world = _World(persons, days, seed, start_date)
    sink = _Sink()
    simulator = _Simulator(world, _Emitter(world, sink))
    _simulate_all(world, simulator, progress)
    sink.to_columns()

    files = _assemble_files(sink, file_format, seed)
    file_paths = [path for path, _, _ in files]
    for path, stream, indices in files:
        _write_event_file(
            events_dir / path, [sink.copy_line[i] for i in indices], file_format, stream
        )
    summary = _write_truth(
        world, sink, files, truth_dir, file_paths, file_format, timeout_minutes, max_session_minutes
    )
    summary["parameters"] = {
        "persons": persons,
        "days": days,
        "seed": seed,
        "start_date": start_date.isoformat(),
        "file_format": file_format,
        "timeout_minutes": timeout_minutes,
        "max_session_minutes": max_session_minutes,
        "generator_version": GENERATOR_VERSION,
    }
    (truth_dir / "summary.json").write_text(
        json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    return summary


def _simulate_all(world: _World, simulator: _Simulator, progress: bool) -> None:
    actors = len(world.persons) + len(world.bots)
    if not progress:
        for person in world.persons:
            simulator.person(person)
        for index, bot in enumerate(world.bots):
            simulator.bot(index, bot)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ) as bar:
        task = bar.add_task("Simulating persons and bots", total=actors)
        for person in world.persons:
            simulator.person(person)
            bar.advance(task)
        for index, bot in enumerate(world.bots):
            simulator.bot(index, bot)
            bar.advance(task)


def _assemble_files(sink: _Sink, file_format: str, seed: int) -> list[tuple[str, str, list[int]]]:
    """Group copies into files (by received date, stream, time chunk) and add bad lines.

    Returns (path relative to events/, stream, copy indices in line order), sorted by path.
    """
    received = np.asarray(sink.copy_received, dtype=np.int64)
    stream_codes = np.asarray(sink.copy_stream, dtype=np.int64)
    chunk_ms = np.asarray([_STREAM_CHUNK_MS[name] for name in STREAMS], dtype=np.int64)
    days = received // MS_PER_DAY
    chunks = (received % MS_PER_DAY) // chunk_ms[stream_codes]
    sequence = np.arange(len(received))
    order = np.lexsort((sequence, received, chunks, stream_codes, days))
    sorted_keys = np.stack([days[order], stream_codes[order], chunks[order]])
    starts = np.flatnonzero(np.any(sorted_keys[:, 1:] != sorted_keys[:, :-1], axis=0)) + 1
    groups: dict[tuple[int, int], list[list[int]]] = defaultdict(list)
    for start, block in zip(
        [0, *starts.tolist()], np.split(order, starts) if len(order) else [], strict=False
    ):
        key = (int(sorted_keys[0, start]), int(sorted_keys[1, start]))
        groups[key].append(block.tolist())
    files: list[tuple[str, str, list[int]]] = []
    for (day, stream_code), chunk_lists in groups.items():
        stream = STREAMS[stream_code]
        folder = f"received_date={_day_string(day)}"
        for number, indices in enumerate(chunk_lists, start=1):
            files.append((f"{folder}/{_file_name(stream, number, file_format)}", stream, indices))
    files.sort(key=lambda item: item[0])
    _insert_bad_lines(sink, files, file_format, seed)
    return files


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
        if reasons[kind] == "invalid_json":
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


def _write_truth(
    world: _World,
    sink: _Sink,
    files: list[tuple[str, str, list[int]]],
    truth_dir: Path,
    file_paths: list[str],
    file_format: str,
    timeout_minutes: float,
    max_session_minutes: float | None,
) -> dict[str, Any]:
    copy_count = len(sink.copy_line)
    copy_file = np.zeros(copy_count, dtype=np.int64)
    copy_line_number = np.zeros(copy_count, dtype=np.int64)
    # Line numbers as a person reads the file: a CSV's header is line 1.
    first_line = 2 if file_format == "csv" else 1
    for file_number, (_, _, indices) in enumerate(files):
        copy_file[indices] = file_number
        copy_line_number[indices] = np.arange(first_line, len(indices) + first_line)
    copy_event = np.asarray(sink.copy_event, dtype=np.int64)
    copy_received = np.asarray(sink.copy_received, dtype=np.int64)
    copy_event_at = np.asarray(sink.copy_event_at, dtype=np.int64)

    # First received copy wins; ties: earlier file path (files are sorted by path), then line.
    valid = np.flatnonzero(copy_event >= 0)
    order = valid[
        np.lexsort(
            (
                copy_line_number[valid],
                copy_file[valid],
                copy_received[valid],
                copy_event[valid],
            )
        )
    ]
    ordered_events = copy_event[order]
    is_first = np.ones(len(order), dtype=bool)
    is_first[1:] = ordered_events[1:] != ordered_events[:-1]
    first_copy = np.empty(len(sink.event_id), dtype=np.int64)
    first_copy[ordered_events[is_first]] = order[is_first]
    duplicate_copies = np.sort(order[~is_first])

    # ---------------------------------------------------------------- events.parquet
    file_path_array = np.asarray(file_paths, dtype=object)
    events = pd.DataFrame(
        {
            "event_id": pd.Series(sink.event_id, dtype=object),
            "event_name": pd.Series(sink.event_name, dtype=object),
            "device_id": pd.Series(sink.device_id, dtype=object),
            "anonymous_id": pd.Series(sink.anonymous_id, dtype=object),
            "user_id": pd.Series(sink.user_id, dtype=object),
            "person_id": pd.Series(sink.person_id, dtype=object),
            "platform": pd.Series(sink.platform, dtype=object),
            "event_at": _timestamps_us(copy_event_at[first_copy] * 1000),
            "received_at": _timestamps_us(copy_received[first_copy] * 1000),
            "file": pd.Series(file_path_array[copy_file[first_copy]], dtype=object),
            "line_number": copy_line_number[first_copy],
            "is_bot": np.asarray(sink.is_bot, dtype=bool),
            "consent_analytics": np.asarray(sink.consent, dtype=bool),
        }
    )
    # Identity per the contract, from consented events: an anonymous_id seen with exactly
    # one user_id belongs to it (before and after); with two or more it is shared.
    links: dict[str, set[str]] = defaultdict(set)
    for anonymous_id, user_id, consent in set(
        zip(sink.anonymous_id, sink.user_id, sink.consent, strict=True)
    ):
        if consent and anonymous_id is not None and user_id is not None:
            links[anonymous_id].add(user_id)
    single_user = {
        anonymous_id: next(iter(users)) for anonymous_id, users in links.items() if len(users) == 1
    }
    events["resolved_user_id"] = pd.Series(
        [
            user_id if user_id is not None else single_user.get(anonymous_id)
            for anonymous_id, user_id in zip(sink.anonymous_id, sink.user_id, strict=True)
        ],
        dtype=object,
    )
    # Opt-out propagation: a person's first consent=false event ends everything of
    # that person from that moment on, on every device. The person is what the
    # identity rule can know: the event's own user_id, else the device's single
    # user_id, else the device itself when nobody ever identified on it (an
    # anonymous event on a shared device belongs to nobody).
    person_keys = [
        f"user|{user_id}"
        if user_id is not None
        else (
            f"user|{single_user[anonymous_id]}"
            if anonymous_id in single_user
            else (None if anonymous_id in links else f"device|{device_id}")
        )
        for anonymous_id, user_id, device_id in zip(
            sink.anonymous_id, sink.user_id, sink.device_id, strict=True
        )
    ]
    event_at_us = copy_event_at[first_copy] * 1000
    consent = events["consent_analytics"].to_numpy()
    opt_out_at: dict[str, int] = {}
    for key, at_us, given in zip(person_keys, event_at_us, consent, strict=True):
        if key is not None and not given and at_us < opt_out_at.get(key, np.iinfo(np.int64).max):
            opt_out_at[key] = int(at_us)
    events["is_after_opt_out"] = np.fromiter(
        (
            key is not None and key in opt_out_at and at_us >= opt_out_at[key]
            for key, at_us in zip(person_keys, event_at_us, strict=True)
        ),
        dtype=bool,
        count=len(person_keys),
    )
    events["is_analysed"] = events["consent_analytics"] & ~events["is_after_opt_out"]
    # The contract: an event without analytics consent is not used by any analysis,
    # sessions included; nor is anything after its person's opt-out. Those keep a
    # null session_index. Bots are sessionized (their behaviour is how they are found).
    consented_sessions = sessionize(
        events[events["is_analysed"]],
        timeout_minutes=timeout_minutes,
        max_session_minutes=max_session_minutes,
    )[["event_id", "session_index"]]
    sessionized = events.merge(consented_sessions, on="event_id", how="left", validate="1:1")
    sessionized["session_index"] = sessionized["session_index"].astype("Int64")
    sessionized = sessionized.sort_values(
        ["device_id", "event_at", "event_id"], kind="stable"
    ).reset_index(drop=True)[TRUTH_EVENTS_SCHEMA.names]
    pq.write_table(
        pa.Table.from_pandas(sessionized, schema=TRUTH_EVENTS_SCHEMA, preserve_index=False),
        truth_dir / "events.parquet",
        compression="snappy",
    )

    # ---------------------------------------------------------------- sessions.csv
    event_us = sessionized["event_at"].dt.tz_convert(None).dt.as_unit("us").to_numpy().view("int64")
    sessions = (
        sessionized.assign(_us=event_us)
        .dropna(subset=["session_index"])
        .groupby(["device_id", "session_index"], sort=True)
        .agg(
            session_start_us=("_us", "min"),
            session_end_us=("_us", "max"),
            event_count=("event_id", "size"),
            first_event_id=("event_id", "first"),
            is_bot=("is_bot", "first"),
        )
        .reset_index()
    )
    sessions_out = pd.DataFrame(
        {
            "device_id": sessions["device_id"],
            "session_index": sessions["session_index"],
            "session_start_at": [_fmt_us_utc(int(v)) for v in sessions["session_start_us"]],
            "session_end_at": [_fmt_us_utc(int(v)) for v in sessions["session_end_us"]],
            "event_count": sessions["event_count"],
            "first_event_id": sessions["first_event_id"],
            "is_bot": sessions["is_bot"],
        }
    )
    _write_csv(truth_dir / "sessions.csv", sessions_out)

    # ---------------------------------------------------------------- devices.csv
    device_registry: dict[str, Device] = {}
    for person in world.persons:
        for device in person.devices:
            device_registry[device.device_id] = device
    for bot in world.bots:
        device_registry[bot.device_id] = bot
    user_ids_seen: dict[str, set[str]] = defaultdict(set)
    persons_seen: dict[str, set[str]] = defaultdict(set)
    platforms_seen: dict[str, set[str]] = defaultdict(set)
    for device_id, user_id in set(zip(sink.device_id, sink.user_id, strict=True)):
        if user_id is not None:
            user_ids_seen[device_id].add(user_id)
    for device_id, person_id in set(zip(sink.device_id, sink.person_id, strict=True)):
        if person_id is not None:
            persons_seen[device_id].add(person_id)
    for device_id, platform in set(zip(sink.device_id, sink.platform, strict=True)):
        platforms_seen[device_id].add(platform)
    device_rows = []
    for device_id in sorted(platforms_seen):
        device = device_registry.get(device_id)
        users = sorted(user_ids_seen[device_id])
        owners = sorted(persons_seen[device_id])
        device_rows.append(
            {
                "device_id": device_id,
                "anonymous_id": device_id if device is not None else "",
                "person_id": owners[0] if len(owners) == 1 else "",
                "user_ids_seen": "|".join(users),
                "is_shared": len(users) >= 2,
                "is_bot": device.is_bot if device is not None else False,
                "bot_kind": device.bot_kind if device is not None else "",
                "platform": "|".join(sorted(platforms_seen[device_id])),
                "user_agent": device.user_agent if device is not None else "",
                "ips": "|".join(sorted(device.ips_used)) if device is not None else "",
            }
        )
    devices_frame = pd.DataFrame(
        device_rows,
        columns=[
            "device_id",
            "anonymous_id",
            "person_id",
            "user_ids_seen",
            "is_shared",
            "is_bot",
            "bot_kind",
            "platform",
            "user_agent",
            "ips",
        ],
    )
    _write_csv(truth_dir / "devices.csv", devices_frame)

    # ---------------------------------------------------------------- persons.csv
    physical_devices: dict[str, set[str]] = defaultdict(set)
    for person_id, anonymous_id in set(zip(sink.person_id, sink.anonymous_id, strict=True)):
        if person_id is not None and anonymous_id is not None:
            physical_devices[person_id].add(anonymous_id)
    identified_users = set(sink.user_id) - {None}
    opted_out = (
        sessionized.loc[~sessionized["consent_analytics"] & sessionized["person_id"].notna()]
        .assign(
            _us=event_us[
                ~sessionized["consent_analytics"].to_numpy()
                & sessionized["person_id"].notna().to_numpy()
            ]
        )
        .groupby("person_id")["_us"]
        .min()
    )
    start = date.fromordinal(_EPOCH_ORDINAL + world.start_ms // MS_PER_DAY)
    person_rows = []
    for person in world.persons:
        signup_date = ""
        if person.signup_day is not None:
            signup_date = (start + timedelta(days=person.signup_day)).isoformat()
        churn_date = ""
        if person.churn_day is not None:
            churn_date = (start + timedelta(days=person.churn_day)).isoformat()
        opted_out_at = ""
        if person.person_id in opted_out.index:
            opted_out_at = _fmt_us_utc(int(opted_out[person.person_id]))
        person_rows.append(
            {
                "person_id": person.person_id,
                "user_id": person.user_id or "",
                "persona": person.persona,
                "signup_date": signup_date,
                "churn_date": churn_date,
                "opted_out_at": opted_out_at,
                "device_count": len(physical_devices[person.person_id]),
                "is_identified": person.user_id is not None and person.user_id in identified_users,
            }
        )
    _write_csv(truth_dir / "persons.csv", pd.DataFrame(person_rows))

    # ---------------------------------------------------------------- bad lines, duplicates
    bad_reason = sink.bad_reason
    bad_rows = [
        {
            "file": file_paths[copy_file[index]],
            "line_number": int(copy_line_number[index]),
            "reason": reason,
            "raw_line": sink.copy_line[index],
        }
        for index, reason in bad_reason.items()
    ]
    bad_frame = pd.DataFrame(bad_rows, columns=["file", "line_number", "reason", "raw_line"])
    bad_frame = bad_frame.sort_values(["file", "line_number"], kind="stable")
    _write_csv(truth_dir / "bad_lines.csv", bad_frame)

    duplicates_frame = pd.DataFrame(
        {
            "file": [file_paths[copy_file[i]] for i in duplicate_copies],
            "line_number": copy_line_number[duplicate_copies],
            "event_id": [sink.event_id[copy_event[i]] for i in duplicate_copies],
        }
    ).sort_values(["file", "line_number"], kind="stable")
    _write_csv(truth_dir / "duplicates.csv", duplicates_frame)

    # ---------------------------------------------------------------- orders.csv
    event_at_ms = copy_event_at[first_copy]
    order_rows = []
    for index in sorted(sink.orders, key=lambda i: (event_at_ms[i], sink.event_id[i])):
        order_id, revenue, currency = sink.orders[index]
        order_rows.append(
            {
                "order_id": order_id,
                "event_id": sink.event_id[index],
                "person_id": sink.person_id[index],
                "user_id": sink.user_id[index],
                "order_at": _fmt_us_utc(int(event_at_ms[index]) * 1000),
                "revenue": revenue,
                "currency": currency,
            }
        )
    orders_frame = pd.DataFrame(
        order_rows,
        columns=["order_id", "event_id", "person_id", "user_id", "order_at", "revenue", "currency"],
    )
    _write_csv(truth_dir / "orders.csv", orders_frame)

    # ---------------------------------------------------------------- summary
    per_file: dict[str, dict[str, int]] = {}
    first_copy_set = np.zeros(copy_count, dtype=bool)
    first_copy_set[first_copy] = True
    duplicate_set = np.zeros(copy_count, dtype=bool)
    duplicate_set[duplicate_copies] = True
    for path, _, indices in files:
        index_array = np.asarray(indices, dtype=np.int64)
        per_file[path] = {
            "lines": len(indices),
            "valid_first_copies": int(first_copy_set[index_array].sum()),
            "duplicates": int(duplicate_set[index_array].sum()),
            "bad_lines": int((copy_event[index_array] < 0).sum()),
        }
    reasons = Counter(bad_reason.values())
    revenue_by_currency: dict[str, float] = defaultdict(float)
    for _, revenue, currency in sink.orders.values():
        revenue_by_currency[currency] += revenue
    bot_devices = sum(1 for bot in world.bots if bot.device_id in platforms_seen)
    return {
        "lines": copy_count,
        "valid_events": len(sink.event_id),
        "duplicates": int(len(duplicate_copies)),
        "bad_lines": len(bad_reason),
        "bad_lines_by_reason": {reason: reasons.get(reason, 0) for reason in BAD_LINE_REASONS},
        "consent_false_events": int((~events["consent_analytics"]).sum()),
        "after_opt_out_events": int(events["is_after_opt_out"].sum()),
        "bot_events": int(events["is_bot"].sum()),
        "sessions": int((~sessions_out["is_bot"]).sum()),  # people's, as in fct_sessions
        "bot_sessions": int(sessions_out["is_bot"].sum()),
        "devices": len(devices_frame),
        "shared_devices": int(devices_frame["is_shared"].sum()),
        "persons": len(world.persons),
        "identified_persons": int(sum(row["is_identified"] for row in person_rows)),
        "churned_persons": sum(1 for p in world.persons if p.churn_day is not None),
        "bots": bot_devices,
        "orders": len(order_rows),
        "revenue": round(sum(revenue for _, revenue, _ in sink.orders.values()), 2),
        "revenue_by_currency": {
            currency: round(total, 2) for currency, total in sorted(revenue_by_currency.items())
        },
        "received_dates": sorted({path.split("/")[0].split("=")[1] for path in file_paths}),
        "line_number_basis": "1-based file lines (a csv header is line 1)",
        "lines_per_file": {path: counts["lines"] for path, counts in per_file.items()},
        "files": per_file,
    }
