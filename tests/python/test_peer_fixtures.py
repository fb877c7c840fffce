"""Compatibility with other dbt packages' own test fixtures (an outside oracle).

Each fixture under ../shared/data/peer_fixtures (see its README.md; never copied into this
repository) is converted to contract JSON Lines by the adapters, built with
``dbt build --vars '{behavior__stitching_mode: latest_user}'`` (every event of a device gets
the latest user_id seen on that device, the rule Segment, Snowplow and GA4 packages use)
and compared with the user id the fixture's own expected output gives each device.

The expectation is always read from the fixture's expected file, never recomputed. Every
difference is listed in ``KNOWN_DIFFERENCES`` with its reason; the tests assert that all
other devices match exactly and that every listed difference really differs, so the list
cannot go stale.

Keys of ``KNOWN_DIFFERENCES`` (per expected file): a device id (anonymous_id), a unique
prefix of one (Snowplow's domain_userids are 64 hex characters), or ``label:<text>`` for
every domain_userid of the Snowplow web fixture whose rows carry that edge-case label (the
fixture's ``user_id`` column doubles as the label).
"""

from __future__ import annotations

import csv
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from behavioral_analytics.adapters import convert_atomic_events_csv, convert_ga4_events_csv
from behavioral_analytics.equivalence import RUN_STATE_TABLES, compare

from .conftest import run_dbt

pytestmark = pytest.mark.e2e


PEER_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "peer_fixtures"
SNOWPLOW_WEB = PEER_FIXTURES / "snowplow_dbt-snowplow-web@0.15.2"
SNOWPLOW_WEB_SOURCE = SNOWPLOW_WEB / "source" / "snowplow_web_events.csv"
SNOWPLOW_WEB_USERS = SNOWPLOW_WEB / "expected" / "snowplow_web_users_expected.csv"
SNOWPLOW_WEB_SESSIONS = SNOWPLOW_WEB / "expected" / "snowplow_web_sessions_expected__default.csv"
VELIR_GA4 = PEER_FIXTURES / "Velir_dbt-ga4"
GA4_INPUT = VELIR_GA4 / "user_id_mapping__input_stg_ga4__events.csv"
GA4_EXPECTED = VELIR_GA4 / "user_id_mapping__expected.csv"
DBT_LABS_SNOWPLOW = PEER_FIXTURES / "dbt-labs_snowplow"
DBT_LABS_SESSIONS = DBT_LABS_SNOWPLOW / "snowplow_sessions_expected.csv"
# the fixture's two incremental batches: (events, their web page context table)
DBT_LABS_BATCHES = [
    ("sp_event.csv", "sp_web_page.csv"),
    ("sp_event_update.csv", "sp_web_page_update.csv"),
]

LATEST_USER_VARS = "{behavior__stitching_mode: latest_user}"
BUILD_ARGS = [
    "build",
    "--target",
    "duckdb",
    "--vars",
    LATEST_USER_VARS,
    "--exclude",
    "tag:schema_drift,resource_type:test",
]
ABSENT = "<no row>"
NULL_STRINGS = {"", "NULL"}

# ----------------------------------------------------------------------- known differences

_NO_PAGE_VIEW_CONSENT_ONLY = (
    "only consent_preferences / cmp_visible events, no page_view or page_ping: "
    "snowplow_web 0.15.2 builds sessions (and so users) from page views and page pings "
    "that carry a page_view_id, so the device has no row; dim_devices keeps every device"
)
_ROTATED_DEVICE = (
    "'Rotating domain_userid per session': one tracker session (domain_sessionid 540b6c4f...) "
    "spans three domain_userids; Snowplow files the session under the first one (0e9ab97b) "
    "and gives these later cookies no row; the contract's device is the anonymous_id, so "
    "dim_devices has a row per cookie"
)
_NO_SESSION_ID = (
    "'NULL domain_sessionid': the device's only event (an object_click) has no "
    "domain_sessionid, so Snowplow drops it; the contract does not need a tracker session id"
)
_NULL_PAGE_VIEW_ID = (
    "'NULL page_view_id': the device's only page view has a web page context with a null "
    "id, and Snowplow only builds page views (hence sessions, users) from non-null "
    "page_view_ids; the contract keeps the events"
)
_LATE_ARRIVING = (
    "'late arriving: device created/sent >3 days': dvce_sent_tstamp is more than "
    "snowplow__days_late_allowed (3) after dvce_created_tstamp, so Snowplow filters the "
    "events out; the contract only corrects the clock (event_at = received_at - "
    "(sent_at - event_ts)) and keeps them"
)
_USERS_TAKE_FIRST_SESSION_USER = (
    "'user stitch': the device logs in as '...1st id: 1' first and '...2nd id: 10' last; "
    "snowplow_web_users.user_id is the user_id of the device's *first* session (it joins "
    "on first_domain_sessionid), not a stitched id, while latest_user gives the latest "
    "user_id, which is what the fixture's own sessions file shows as stitched_user_id"
)
_NO_DOMAIN_USERID = (
    "'NULL domain_userid': Snowplow stitches on domain_userid, so the session of a cookie-"
    "less event gets a null stitched_user_id under an empty domain_userid; the contract "
    "keys that device by its user_id instead (checked separately below)"
)

KNOWN_DIFFERENCES: dict[str, dict[str, str]] = {
    SNOWPLOW_WEB_USERS.name: {
        "434dff58": _USERS_TAKE_FIRST_SESSION_USER,
        "1f72f389": _ROTATED_DEVICE,
        "2e340eb6": _ROTATED_DEVICE,
        "4f1b6638": _NO_SESSION_ID,
        "ff747617": _NULL_PAGE_VIEW_ID,
        "9341fb4f": _LATE_ARRIVING,
        "label:consent_accel": _NO_PAGE_VIEW_CONSENT_ONLY,
    },
    SNOWPLOW_WEB_SESSIONS.name: {
        "1f72f389": _ROTATED_DEVICE,
        "2e340eb6": _ROTATED_DEVICE,
        "4f1b6638": _NO_SESSION_ID,
        "ff747617": _NULL_PAGE_VIEW_ID,
        "9341fb4f": _LATE_ARRIVING,
        "label:consent_accel": _NO_PAGE_VIEW_CONSENT_ONLY,
        "label:NULL domain_userid": _NO_DOMAIN_USERID,
    },
    GA4_EXPECTED.name: {
        "d1": (
            "d1 never has a user_id: dbt-ga4's mapping only has rows for devices with one, "
            "dim_devices keeps d1 with a null stitched_user_id"
        ),
    },
    DBT_LABS_SESSIONS.name: {
        "domain_userid_4": (
            "never identified: dbt-labs/snowplow's inferred_user_id falls back to the "
            "domain_userid (coalesce(id_map.user_id, user_snowplow_domain_id)); the "
            "contract leaves stitched_user_id null for an anonymous device"
        ),
    },
}

# Sessions of the Snowplow web fixture per domain_userid: the tracker's session ids against
# the contract's 30-minute inactivity rule. Compared: number of sessions and, per session
# (in start order), start, end, events and page views. Only devices the fixture's sessions
# file has are compared (the devices it has no row for are listed above).
_PAGE_PING_ONLY_SESSION = (
    "a session made of a single page_ping: Snowplow counts its page_view_id as a page view "
    "and starts the session min_visit_length (5 s) before the ping; the contract counts "
    "page_view events only and starts at the ping; sessions agree in number"
)
SESSION_KNOWN_DIFFERENCES: dict[str, str] = {
    "0691aaf0": "'No edge cases': " + _PAGE_PING_ONLY_SESSION + " (2 of its 3 sessions)",
    "b3c88384": "'stray page ping': " + _PAGE_PING_ONLY_SESSION,
    "f897c486": (
        "'dupe: page_view_id different derived_tstamp': two page_view events (different "
        "event_ids) share a page_view_id; Snowplow counts distinct page_view_ids (7), the "
        "contract deduplicates on event_id only (8 page views)"
    ),
    "066d5a7e": (
        "'Multiple first sessions per user': the tracker gave overlapping events two "
        "session ids within seconds; the 30-minute rule makes one session"
    ),
    "24837eb2": (
        "'Multiple last sessions per user': two tracker session ids within seconds; the "
        "30-minute rule makes one session"
    ),
    "4f011c92": (
        "'long session': one tracker session over ~2 weeks, quarantined by Snowplow past "
        "its maximum session length and cut to 2 page views; events a day apart are "
        "separate sessions under the 30-minute rule (11)"
    ),
    "12c98e1f": (
        "'Unexpired session': the tracker kept one session id from 2020-07-03 to 2021-03-04; "
        "Snowplow keeps the first page view only, the 30-minute rule makes two sessions"
    ),
    "0e9ab97b": (
        "'Rotating domain_userid per session': Snowplow's one session spans three "
        "domain_userids (3 page views under the first); under the contract each cookie is "
        "its own device, so this one has 1 page view"
    ),
    "label:NULL domain_userid": _NO_DOMAIN_USERID,
}


# ----------------------------------------------------------------------- building


@dataclass
class BuiltFixture:
    events: Path
    warehouse: Path
    labels: dict[str, set[str]]  # domain_userid → edge-case labels (Snowplow web only)

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql).df()


def require(*paths: Path) -> None:
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        pytest.skip(
            "peer fixtures absent (they are read from ../shared/data/peer_fixtures beside the "
            f"repository, never copied into it): {', '.join(missing)}"
        )


def build(tmp: Path, convert: Callable[[Path], object]) -> tuple[Path, Path]:
    events = tmp / "events"
    convert(events)
    warehouse = tmp / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    # A peer's fixture is not our tracker: it does not follow our registered
    # schema (GA4's page views carry no page_path), and schema drift is not
    # what these tests compare, so the drift tests are left out here.
    run_dbt(BUILD_ARGS, events, warehouse)
    return events, warehouse


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def null(value: str | None) -> str | None:
    return None if value is None or value.strip() in NULL_STRINGS else value


@pytest.fixture(scope="module")
def snowplow_web(tmp_path_factory) -> BuiltFixture:
    require(SNOWPLOW_WEB_SOURCE, SNOWPLOW_WEB_USERS, SNOWPLOW_WEB_SESSIONS)
    events, warehouse = build(
        tmp_path_factory.mktemp("snowplow_web"),
        lambda out: convert_atomic_events_csv(SNOWPLOW_WEB_SOURCE, out),
    )
    labels: dict[str, set[str]] = defaultdict(set)
    for row in read_csv(SNOWPLOW_WEB_SOURCE):
        labels[row["domain_userid"]].add(row["user_id"])
    return BuiltFixture(events, warehouse, dict(labels))


@pytest.fixture(scope="module")
def ga4(tmp_path_factory) -> BuiltFixture:
    require(GA4_INPUT, GA4_EXPECTED)
    events, warehouse = build(
        tmp_path_factory.mktemp("ga4"), lambda out: convert_ga4_events_csv(GA4_INPUT, out)
    )
    return BuiltFixture(events, warehouse, {})


@pytest.fixture(scope="module")
def dbt_labs_snowplow(tmp_path_factory) -> BuiltFixture:
    require(
        DBT_LABS_SESSIONS, *(DBT_LABS_SNOWPLOW / name for pair in DBT_LABS_BATCHES for name in pair)
    )

    def convert(out: Path) -> None:
        for batch in range(1, len(DBT_LABS_BATCHES) + 1):
            convert_dbt_labs_batch(batch, out)

    events, warehouse = build(tmp_path_factory.mktemp("dbt_labs_snowplow"), convert)
    return BuiltFixture(events, warehouse, {})


def convert_dbt_labs_batch(batch: int, out: Path) -> None:
    events_file, pages_file = DBT_LABS_BATCHES[batch - 1]
    pages = {row["root_id"]: row["id"] for row in read_csv(DBT_LABS_SNOWPLOW / pages_file)}
    convert_atomic_events_csv(
        DBT_LABS_SNOWPLOW / events_file, out, batch=batch, page_view_ids=pages
    )


# ----------------------------------------------------------------------- comparing


def stitched_by_anonymous_id(built: BuiltFixture) -> dict[str, str | None]:
    """dim_devices.stitched_user_id per anonymous_id (devices that have one)."""
    devices = built.query(
        "select anonymous_id, stitched_user_id from main_marts.dim_devices "
        "where anonymous_id is not null"
    )
    duplicated = devices[devices["anonymous_id"].duplicated(keep=False)]
    assert duplicated.empty, f"dim_devices has several rows per anonymous_id:\n{duplicated}"
    return {
        row.anonymous_id: None if pd.isna(row.stitched_user_id) else row.stitched_user_id
        for row in devices.itertuples()
    }


def resolve(key: str, candidates: set[str], labels: dict[str, set[str]]) -> set[str]:
    """The device ids a KNOWN_DIFFERENCES key names (see the module docstring)."""
    if key.startswith("label:"):
        label = key.removeprefix("label:")
        devices = {device for device, seen in labels.items() if label in seen}
        assert devices, f"no device of the fixture carries the label {label!r}"
        return devices
    if key in candidates:
        return {key}
    matches = {device for device in candidates if key and device.startswith(key)}
    assert len(matches) == 1, f"known-difference key {key!r} matches {sorted(matches)}"
    return matches


def assert_matches_except_known(
    expected: dict[str, object],
    actual: dict[str, object],
    known: dict[str, str],
    labels: dict[str, set[str]],
    what: str,
) -> None:
    """Equal everywhere but the known differences, which must really differ."""
    candidates = set(expected) | set(actual)
    listed: dict[str, str] = {}
    for key in known:
        for device in resolve(key, candidates, labels):
            assert device not in listed, f"{device} is listed twice ({listed[device]}, {key})"
            listed[device] = key
    unexpected = {
        device: {"expected": expected.get(device, ABSENT), "actual": actual.get(device, ABSENT)}
        for device in sorted(candidates - set(listed))
        if expected.get(device, ABSENT) != actual.get(device, ABSENT)
    }
    stale = {
        f"{key} ({device})": expected.get(device, ABSENT)
        for device, key in listed.items()
        if expected.get(device, ABSENT) == actual.get(device, ABSENT)
    }
    matched = [device for device in candidates - set(listed) if device in expected]
    assert not unexpected, f"{what}: differences not in the known list: {unexpected}"
    assert not stale, f"{what}: listed as known differences but equal, remove them: {stale}"
    assert matched, f"{what}: no device compared equal outside the known differences"


# ----------------------------------------------------------------------- Snowplow web 0.15.2


def test_snowplow_web_users_stitching(snowplow_web):
    """snowplow_web_users_expected.csv: user_id per domain_userid."""
    rows = read_csv(SNOWPLOW_WEB_USERS)
    expected = {row["domain_userid"]: null(row["user_id"]) for row in rows}
    assert len(expected) == len(rows), "the users file has several rows for one domain_userid"
    assert_matches_except_known(
        expected,
        stitched_by_anonymous_id(snowplow_web),
        KNOWN_DIFFERENCES[SNOWPLOW_WEB_USERS.name],
        snowplow_web.labels,
        SNOWPLOW_WEB_USERS.name,
    )


def test_snowplow_web_sessions_stitching(snowplow_web):
    """snowplow_web_sessions_expected__default.csv: stitched_user_id per domain_userid."""
    per_device: dict[str, set[str | None]] = defaultdict(set)
    for row in read_csv(SNOWPLOW_WEB_SESSIONS):
        per_device[row["domain_userid"]].add(null(row["stitched_user_id"]))
    inconsistent = {device: ids for device, ids in per_device.items() if len(ids) != 1}
    assert not inconsistent, f"the fixture gives a device several stitched ids: {inconsistent}"
    expected = {device: next(iter(ids)) for device, ids in per_device.items()}
    assert_matches_except_known(
        expected,
        stitched_by_anonymous_id(snowplow_web),
        KNOWN_DIFFERENCES[SNOWPLOW_WEB_SESSIONS.name],
        snowplow_web.labels,
        SNOWPLOW_WEB_SESSIONS.name,
    )
    # the cookie-less device the fixture cannot stitch is the contract's user_id device
    cookieless = snowplow_web.query(
        "select device_id, stitched_user_id from main_marts.dim_devices where anonymous_id is null"
    )
    assert cookieless.to_dict("records") == [
        {"device_id": "NULL domain_userid", "stitched_user_id": "NULL domain_userid"}
    ]


def _session_signature(sessions: pd.DataFrame) -> tuple:
    """(number of sessions, ((start, end, events, page views), ...) in start order)."""
    ordered = sessions.sort_values(["start_at", "end_at"])
    return (
        len(ordered),
        tuple(
            (
                f"{row.start_at:%Y-%m-%d %H:%M:%S.%f}"[:-3],
                f"{row.end_at:%Y-%m-%d %H:%M:%S.%f}"[:-3],
                int(row.events),
                int(row.page_views),
            )
            for row in ordered.itertuples()
        ),
    )


def test_snowplow_web_sessions_where_the_rules_agree(snowplow_web):
    """Sessions per domain_userid: tracker session ids against the 30-minute rule."""
    fixture = pd.read_csv(SNOWPLOW_WEB_SESSIONS, dtype=str, keep_default_na=False)
    fixture = pd.DataFrame(
        {
            "device": fixture["domain_userid"],
            "start_at": pd.to_datetime(fixture["start_tstamp"], utc=True),
            "end_at": pd.to_datetime(fixture["end_tstamp"], utc=True),
            "events": fixture["total_events"].astype(int),
            "page_views": fixture["page_views"].astype(int),
        }
    )
    built = snowplow_web.query(
        "select anonymous_id as device, session_start_at as start_at, "
        "session_end_at as end_at, "
        "event_count as events, page_view_count as page_views "
        "from main_marts.fct_sessions where anonymous_id is not null"
    )
    built["start_at"] = pd.to_datetime(built["start_at"], utc=True)
    built["end_at"] = pd.to_datetime(built["end_at"], utc=True)

    # fct_sessions leaves bot devices out; they cannot be compared here (the stitching
    # tests above compare them on dim_devices, which keeps every device)
    bots = set(
        snowplow_web.query(
            "select anonymous_id from main_marts.dim_devices "
            "where is_bot and anonymous_id is not null"
        )["anonymous_id"]
    )
    compared = set(fixture["device"]) - bots
    if bots & set(fixture["device"]):
        warnings.warn(
            f"Snowplow fixture devices flagged as bots, left out of the session comparison: "
            f"{sorted(bots & set(fixture['device']))}",
            stacklevel=1,
        )
    expected = {
        device: _session_signature(group)
        for device, group in fixture.groupby("device")
        if device in compared
    }
    actual = {
        device: _session_signature(group)
        for device, group in built.groupby("device")
        if device in compared
    }
    known = {
        key: reason
        for key, reason in SESSION_KNOWN_DIFFERENCES.items()
        if not resolve(key, set(fixture["device"]), snowplow_web.labels) <= bots
    }
    assert_matches_except_known(
        expected, actual, known, snowplow_web.labels, "sessions per domain_userid"
    )


# ----------------------------------------------------------------------- GA4 and dbt-labs


def test_ga4_user_id_mapping(ga4):
    """dbt-ga4 user_id_mapping__expected.csv: last_seen_user_id per client_key."""
    rows = read_csv(GA4_EXPECTED)
    expected = {row["client_key"]: null(row["last_seen_user_id"]) for row in rows}
    assert len(expected) == len(rows)
    assert_matches_except_known(
        expected, stitched_by_anonymous_id(ga4), KNOWN_DIFFERENCES[GA4_EXPECTED.name], {}, "ga4"
    )


def test_dbt_labs_snowplow_inferred_user_id(dbt_labs_snowplow):
    """dbt-labs/snowplow snowplow_sessions_expected.csv: inferred_user_id per domain_userid,
    after its second (incremental) batch."""
    per_device: dict[str, set[str | None]] = defaultdict(set)
    for row in read_csv(DBT_LABS_SESSIONS):
        per_device[row["user_snowplow_domain_id"]].add(null(row["inferred_user_id"]))
    assert all(len(ids) == 1 for ids in per_device.values()), per_device
    expected = {device: next(iter(ids)) for device, ids in per_device.items()}
    assert_matches_except_known(
        expected,
        stitched_by_anonymous_id(dbt_labs_snowplow),
        KNOWN_DIFFERENCES[DBT_LABS_SESSIONS.name],
        {},
        DBT_LABS_SESSIONS.name,
    )


def test_dbt_labs_snowplow_second_batch_incremental_equals_full_build(dbt_labs_snowplow, tmp_path):
    """The fixture's own incremental scenario: batch 1 built, then batch 2 added
    and built incrementally, equals both batches built at once, every table."""
    events = tmp_path / "events"
    warehouse = tmp_path / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    for batch in range(1, len(DBT_LABS_BATCHES) + 1):
        convert_dbt_labs_batch(batch, events)
        _, output = run_dbt(BUILD_ARGS, events, warehouse)
    assert "incremental load of" in output and "incremental load of 0 " not in output
    # the last run's increment (int_devices_touched) differs from a full build's by design
    differences = compare(
        dbt_labs_snowplow.warehouse,
        warehouse,
        ("main_marts", "main_intermediate", "main_staging"),
        frozenset({"file_path"}),
        ignore_tables=RUN_STATE_TABLES,
    )
    assert not differences, "\n".join(map(str, differences))
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        sessions = connection.execute("select count(*) from main_marts.fct_sessions").fetchone()[0]
    assert sessions > 0
