"""Incremental builds equal a full rebuild: every table, row for row, every column."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from behavioral_analytics.equivalence import RUN_STATE_TABLES, compare

from .conftest import run_dbt

pytestmark = pytest.mark.e2e

# every table the project builds (marts, and the incremental staging and
# intermediate tables they are made of)
SCHEMAS = ("main_marts", "main_intermediate", "main_staging")
# the absolute path of a file differs between two events folders by construction
SAME_FILES_ELSEWHERE = frozenset({"file_path"})
# the models of the last run's increment (int_devices_touched, stg_tracker__files)
# differ between an incremental and a full build by design: left out of every
# comparison, and checked against the delivered batch (test_touched_devices_...,
# test_file_statuses_...)
STATE_TABLES = RUN_STATE_TABLES
# person_features keeps the snapshot of every build's as-of date: a daily
# load has one per day, a full build only the last; the shared ones must equal
SNAPSHOTS = {"main_marts.person_features": "as_of_date"}
# seeds and models, as a scheduled run does (the data tests run once, below)
BUILD = [
    "build",
    "--target",
    "duckdb",
    "--exclude",
    "resource_type:test",
    "resource_type:unit_test",
]
# the load and the staged events only, for tests of which files a build loads
LOAD = [*BUILD, "--select", "+stg_tracker__files", "+stg_tracker__events"]


def deliveries(events: Path) -> list[list[Path]]:
    """The files in daily batches, in received order; every day's mobile files
    (late app batches already) arrive one batch later still."""
    days = sorted(path for path in events.iterdir() if path.is_dir())
    batches: list[list[Path]] = [[] for _ in range(len(days) + 1)]
    for number, day in enumerate(days):
        for file in sorted(day.iterdir()):
            batches[number + (1 if file.name.startswith("mobile") else 0)].append(file)
    return [batch for batch in batches if batch]


def deliver(batch: list[Path], events: Path) -> None:
    for file in batch:
        target = events / file.parent.name / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, target)


# the columns whose change makes int_devices_touched list a device (its signature)
SIGNATURE_COLUMNS = (
    "device_id, event_id, event_at, received_at, person_id, person_user_id, event_name"
)


def sessionized_rows(warehouse: Path) -> pd.DataFrame:
    """int_events_sessionized's signature columns, as text."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return (
            connection.execute(
                f"select {SIGNATURE_COLUMNS} from main_intermediate.int_events_sessionized"
            )
            .df()
            .astype(str)
        )


def attributed_rows(warehouse: Path) -> pd.DataFrame:
    """Every row of int_events_attributed, every column but the run's bookkeeping
    (_loaded_at differs between two builds by construction) as text, with its UTC
    day."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return (
            connection.execute(
                "select * exclude (_loaded_at),"
                " strftime(event_at at time zone 'UTC', '%Y-%m-%d') as utc_day"
                " from main_intermediate.int_events_attributed"
            )
            .df()
            .astype(str)
        )


def session_positions(warehouse: Path) -> pd.DataFrame:
    """int_events_sessionized's order and session columns, typed."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            "select device_id, event_id, event_at, event_name, session_index"
            " from main_intermediate.int_events_sessionized"
        ).df()


def mart_rows(warehouse: Path) -> dict[str, pd.DataFrame]:
    """Every row of the per-device incremental marts, every column as text."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {
            mart: connection.execute(f"select * from main_marts.{mart}").df().astype(str)
            for mart in ("fct_events", "fct_sessions", "dim_devices", "dim_persons")
        }


def devices_that_differ(before: pd.DataFrame, after: pd.DataFrame) -> set[str]:
    """The devices whose set of rows differs between two versions of a table."""

    def by_device(frame: pd.DataFrame) -> dict[str, set[tuple]]:
        return {
            device: set(rows.itertuples(index=False, name=None))
            for device, rows in frame.groupby("device_id")
        }

    old, new = by_device(before), by_device(after)
    return {device for device in set(old) | set(new) if old.get(device) != new.get(device)}


def rows_differ(merged: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Rows of an outer merge (indicator on) on one side only, or with a column that
    differs between the sides (two missing values are the same)."""
    differs = merged["_merge"] != "both"
    for column in columns:
        left, right = merged[f"{column}_x"], merged[f"{column}_y"]
        same = (left == right).fillna(False) | (left.isna() & right.isna())
        differs |= ~same
    return differs.astype(bool)


def batch_event_ids(batch: list[Path]) -> set[str]:
    """The event ids of a batch's files, read with pandas' help (JSONL, gzipped or not)."""
    ids: set[str] = set()
    for file in batch:
        opener = gzip.open if file.name.endswith(".gz") else open
        with opener(file, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("event_id"), str):
                    ids.add(record["event_id"].strip())
    return ids


@pytest.fixture(scope="module")
def daily(built_jsonl, tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    events = root / "events"
    warehouse = root / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    outputs = []
    batches = deliveries(built_jsonl.events)
    assert len(batches) >= 10
    # the first seven received dates in one build (a backfill), then one build a day:
    # each daily load has the day's files and the previous day's late mobile files (the
    # last one only those), so every load holds a late file of a device built before
    batches = [[file for batch in batches[:7] for file in batch], *batches[7:]]
    for batch in batches:
        deliver(batch, events)
        if batch is batches[-1]:
            before = sessionized_rows(warehouse)
            sessions_before = session_positions(warehouse)
            marts_before = mart_rows(warehouse)
            attributed_before = attributed_rows(warehouse)
        _, output = run_dbt(BUILD, events, warehouse)
        outputs.append(output)
    # the last daily build's increment, read before any test builds again
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        touched = connection.execute("select * from main_intermediate.int_devices_touched").df()
        attributed_touched = connection.execute(
            "select *, strftime(recompute_from_at at time zone 'UTC', '%Y-%m-%d') as utc_day"
            " from main_intermediate.int_attributed_devices_touched"
        ).df()
        mart_touched = connection.execute(
            "select * from main_intermediate.int_mart_devices_touched"
        ).df()
        person_touched = connection.execute(
            "select * from main_intermediate.int_mart_persons_touched"
        ).df()
        files = connection.execute("select * from main_staging.stg_tracker__files").df()
    last = {
        "batch": batches[-1],
        "before": before,
        "sessions_before": sessions_before,
        "touched": touched,
        "files": files,
        "marts_before": marts_before,
        "mart_touched": mart_touched,
        "person_touched": person_touched,
        "attributed_before": attributed_before,
        "attributed_touched": attributed_touched,
    }
    return events, warehouse, outputs, last


def test_daily_batches_with_late_mobile_files_equal_a_full_build(built_jsonl, daily):
    _, warehouse, outputs, _ = daily
    assert "incremental load of" in outputs[-1]
    differences = compare(
        built_jsonl.warehouse, warehouse, SCHEMAS, SAME_FILES_ELSEWHERE, SNAPSHOTS, STATE_TABLES
    )
    assert not differences, "\n".join(map(str, differences))
    kept = {}
    for name, built in (("daily", warehouse), ("full", built_jsonl.warehouse)):
        with duckdb.connect(str(built), read_only=True) as connection:
            kept[name] = connection.execute(
                "select count(distinct as_of_date) from main_marts.person_features"
            ).fetchone()[0]
    # each daily build adds the snapshot of its own as-of date, which a full build
    # of the last day does not hold
    assert kept["daily"] > kept["full"], "each daily build adds its own as-of date's snapshot"


def test_attributed_devices_touched_are_where_the_last_batch_changed(built_jsonl, daily):
    """int_attributed_devices_touched after the last daily build lists exactly the
    devices whose attributed events (every column) differ between the table built
    before that batch and a full build of every file (pandas), each from the UTC day
    of its first differing row (a row new, gone or not the same, at the earlier of its
    two days), with its reason and row counts; and most of those devices' rows are
    kept, not attributed again."""
    _, _, _, last = daily
    before, touched = last["attributed_before"], last["attributed_touched"]
    full = attributed_rows(built_jsonl.warehouse)
    merged = before.merge(full, how="outer", on=["device_id", "event_id"], indicator=True)
    columns = [c for c in before.columns if c not in ("device_id", "event_id")]
    differing = merged[rows_differ(merged, columns)]
    day = [
        min(side for side in sides if isinstance(side, str))
        for sides in zip(differing["utc_day_x"], differing["utc_day_y"], strict=True)
    ]
    first_day = pd.Series(day, index=differing.index).groupby(differing["device_id"]).min()
    built_counts = before.groupby("device_id").size()
    now_counts = full.groupby("device_id").size()
    expected = {
        device: (
            "new"
            if device not in built_counts
            else "removed"
            if device not in now_counts
            else "changed",
            day,
            int(now_counts.get(device, 0)),
            int(built_counts.get(device, 0)),
        )
        for device, day in first_day.items()
    }
    listed = {
        row.device_id: (row.change_reason, row.utc_day, row.current_row_count, row.built_row_count)
        for row in touched.itertuples()
    }
    assert expected, "the last batch changed no attributed event: the check would prove nothing"
    assert listed == expected
    assert touched["run_started_at"].nunique() == 1
    # what was attributed again: the touched devices' rows from their day on
    touched_rows = before[before["device_id"].isin(touched["device_id"])]
    redone = touched_rows["utc_day"] >= touched_rows["device_id"].map(first_day)
    assert 0 < redone.sum() < len(touched_rows) / 2, (redone.sum(), len(touched_rows))


def test_touched_devices_are_what_the_last_batch_changed(built_jsonl, daily):
    """int_devices_touched after the last daily build lists exactly the devices whose
    analysed events differ between the sessions built before that batch and a full
    build of every file (pandas), each with its reason and row counts; the devices
    of every analysed event that arrived in the batch's files are among them."""
    _, _, _, last = daily
    before, touched = last["before"], last["touched"]
    full = sessionized_rows(built_jsonl.warehouse)

    def device_rows(frame: pd.DataFrame) -> dict[str, set[tuple]]:
        return {
            device: set(rows.drop(columns="device_id").itertuples(index=False, name=None))
            for device, rows in frame.groupby("device_id")
        }

    built, now = device_rows(before), device_rows(full)
    expected = {
        device: (
            "new" if device not in built else "removed" if device not in now else "changed",
            len(now.get(device, ())),
            len(built.get(device, ())),
        )
        for device in set(built) | set(now)
        if built.get(device) != now.get(device)
    }
    listed = {
        row.device_id: (row.change_reason, row.current_row_count, row.built_row_count)
        for row in touched.itertuples()
    }
    assert expected, "the last batch changed no device: the check would prove nothing"
    assert listed == expected
    assert touched["run_started_at"].nunique() == 1
    # every device with an analysed event that arrived in the batch's files
    arrived_ids = batch_event_ids(last["batch"]) - set(before["event_id"])
    arrived = set(full.loc[full["event_id"].isin(arrived_ids), "device_id"])
    assert arrived and arrived <= set(listed)


def test_changed_devices_are_recomputed_from_their_last_block_before_the_change(built_jsonl, daily):
    """Each changed device is recomputed from the last activity block of its built
    rows that starts before its first difference (pandas: the start of the UTC day of
    the earliest event_at of a row new, gone or different between the sessions built
    before the last batch and a full build; blocks by the contract's rule, a gap over
    30 minutes or a logout before), keeping the sessions before it; and most of the
    touched devices' rows are kept, not sessionized again."""
    _, _, _, last = daily
    before, touched, positions = last["before"], last["touched"], last["sessions_before"]
    full = sessionized_rows(built_jsonl.warehouse)
    merged = before.merge(full, how="outer", on=["device_id", "event_id"], indicator=True)
    columns = [c for c in SIGNATURE_COLUMNS.split(", ") if c not in ("device_id", "event_id")]
    differs = rows_differ(merged, columns)
    differing = merged[differs].copy()
    # a changed row counts at the earlier of its two times
    differing["at"] = pd.concat(
        [pd.to_datetime(differing[f"event_at_{side}"], utc=True) for side in ("x", "y")], axis=1
    ).min(axis=1)
    # found per day: the start (UTC) of the first day with a differing row
    first_difference = differing.groupby("device_id")["at"].min().dt.floor("D")

    positions = positions.sort_values(["device_id", "event_at", "event_id"]).copy()
    positions["event_at"] = pd.to_datetime(positions["event_at"], utc=True)
    previous_at = positions.groupby("device_id")["event_at"].shift()
    previous_name = positions.groupby("device_id")["event_name"].shift()
    positions["starts_block"] = (
        previous_at.isna()
        | (previous_name == "logout")
        | (positions["event_at"] - previous_at > pd.Timedelta(minutes=30))
    )
    expected = {}
    for device, row in touched.set_index("device_id").iterrows():
        if row.change_reason != "changed":
            continue
        starts = positions[
            (positions["device_id"] == device)
            & positions["starts_block"]
            & (positions["event_at"] < first_difference[device])
        ]
        if starts.empty:
            expected[device] = (None, None, 0)
        else:
            start = starts.iloc[-1]
            expected[device] = (start.event_at, start.event_id, int(start.session_index) - 1)
    listed = {
        row.device_id: (
            None if pd.isna(row.recompute_from_at) else pd.Timestamp(row.recompute_from_at),
            None if pd.isna(row.recompute_from_event_id) else row.recompute_from_event_id,
            int(row.kept_session_count),
        )
        for row in touched.itertuples()
        if row.change_reason == "changed"
    }
    assert listed == expected
    from_a_block = [device for device, point in listed.items() if point[0] is not None]
    assert from_a_block, "no device was recomputed from a block: the lookback is not exercised"
    assert (touched.loc[touched["change_reason"] != "changed", "recompute_from_at"]).isna().all()
    # the rows of the touched devices at or after their starting point: what was redone
    touched_rows = positions[positions["device_id"].isin(touched["device_id"])]
    start = touched_rows["device_id"].map(
        {device: (point[0], point[1]) for device, point in listed.items()}
    )
    redone = [
        point is None or point != point or point[0] is None or (at, event_id) >= point
        for at, event_id, point in zip(
            touched_rows["event_at"], touched_rows["event_id"], start, strict=True
        )
    ]
    assert sum(redone) < len(touched_rows) / 2, (sum(redone), len(touched_rows))


def test_mart_devices_touched_are_what_the_last_batch_changed(built_jsonl, daily):
    """int_mart_devices_touched after the last daily build lists exactly the devices
    whose rows in fct_events, fct_sessions or dim_devices differ between the marts
    built before that batch and a full build (every column), with the reason; they
    include every device the sessions model recomputed."""
    _, _, _, last = daily
    before, listed = last["marts_before"], last["mart_touched"]
    full = mart_rows(built_jsonl.warehouse)
    device_marts = ("fct_events", "fct_sessions", "dim_devices")
    changed = {mart: devices_that_differ(before[mart], full[mart]) for mart in device_marts}
    assert changed["fct_events"], "the last batch changed no mart row: it would prove nothing"
    assert set(listed["device_id"]) == set().union(*changed.values())
    built = set(before["fct_events"]["device_id"])
    now = set(full["fct_events"]["device_id"])
    reasons = dict(zip(listed["device_id"], listed["change_reason"], strict=True))
    for device, reason in reasons.items():
        if device not in changed["fct_events"] | changed["fct_sessions"]:
            assert reason == "device_changed", device
        elif device not in built:
            assert reason == "new", device
        elif device not in now:
            assert reason == "removed", device
        else:
            assert reason == "events_changed", device
    assert set(last["touched"]["device_id"]) <= set(reasons)
    assert listed["run_started_at"].nunique() == 1


def test_mart_devices_are_recomputed_from_their_last_session_before_the_change(built_jsonl, daily):
    """Each device whose fct_events rows changed is recomputed in fct_events and
    fct_sessions from its last session (as built) that starts before its first
    difference (pandas: the start of the UTC day of the earliest event_at of a
    fct_events row new, gone or different in any column between the mart built before
    the last batch and a full build), keeping the sessions before it; most of those
    devices' rows are kept."""
    _, _, _, last = daily
    before, listed = last["marts_before"]["fct_events"], last["mart_touched"]
    full = mart_rows(built_jsonl.warehouse)["fct_events"]
    merged = before.merge(full, how="outer", on=["device_id", "event_id"], indicator=True)
    columns = [c for c in before.columns if c not in ("device_id", "event_id")]
    differs = rows_differ(merged, columns)
    differing = merged[differs]
    at = pd.concat(
        [pd.to_datetime(differing[f"event_at_{side}"], utc=True) for side in ("x", "y")], axis=1
    ).min(axis=1)
    first_difference = at.groupby(differing["device_id"]).min().dt.floor("D")
    starts = before[before["event_index_in_session"] == "1"].assign(
        at=lambda frame: pd.to_datetime(frame["event_at"], utc=True),
        index=lambda frame: frame["session_index"].astype(int),
    )
    changed = listed[listed["change_reason"] == "events_changed"]
    expected = {}
    for device in changed["device_id"]:
        earlier = starts[
            (starts["device_id"] == device) & (starts["at"] < first_difference[device])
        ]
        expected[device] = None if earlier.empty else int(earlier["index"].max())
    got = {
        row.device_id: None
        if pd.isna(row.recompute_from_session_index)
        else int(row.recompute_from_session_index)
        for row in changed.itertuples()
    }
    assert got == expected
    assert any(index is not None for index in got.values()), "no device recomputed from a session"
    assert (
        listed.loc[listed["change_reason"] != "events_changed", "recompute_from_session_index"]
        .isna()
        .all()
    )
    rows = before[before["device_id"].isin(changed["device_id"])]
    start = rows["device_id"].map(got)
    redone = start.isna() | (rows["session_index"].astype(int) >= start.fillna(0))
    assert redone.sum() < len(rows) / 2, (redone.sum(), len(rows))


def test_mart_persons_touched_hold_every_person_the_last_batch_changed(built_jsonl, daily):
    """int_mart_persons_touched after the last daily build lists every person whose
    row of dim_persons differs between the mart built before that batch and a full
    build (it may list more: a recomputed device's person whose row stays the same),
    and only persons of the marts before or after."""
    _, _, _, last = daily
    before, listed = last["marts_before"]["dim_persons"], last["person_touched"]
    full = mart_rows(built_jsonl.warehouse)["dim_persons"]
    old = {row[0]: row for row in before.itertuples(index=False, name=None)}
    new = {row[0]: row for row in full.itertuples(index=False, name=None)}
    changed = {person for person in set(old) | set(new) if old.get(person) != new.get(person)}
    assert changed, "the last batch changed no person: the check would prove nothing"
    assert changed <= set(listed["person_id"])
    assert set(listed["person_id"]) <= set(old) | set(new) | set(
        last["marts_before"]["fct_events"]["person_id"]
    )
    reasons = {"devices_changed", "activity_changed", "opt_out_changed", "links_changed"}
    assert set(listed["change_reason"]) <= reasons


def file_statuses(files: pd.DataFrame) -> dict[str, str]:
    return dict(zip(files["file_name"], files["load_status"], strict=True))


def test_file_statuses_name_the_last_batch_pending(daily):
    """stg_tracker__files after the last daily build: the batch's files pending, every
    file delivered before it staged, nothing else."""
    events, _, _, last = daily
    delivered = {path.relative_to(events).as_posix() for path in events.rglob("*.jsonl*")}
    batch = {f"{file.parent.name}/{file.name}" for file in last["batch"]}
    assert batch and batch < delivered
    expected = {name: "pending" if name in batch else "staged" for name in delivered}
    assert file_statuses(last["files"]) == expected


def test_running_the_same_build_again_changes_nothing(daily, tmp_path):
    events, warehouse, _, _ = daily
    before = tmp_path / warehouse.name
    shutil.copy(warehouse, before)
    _, output = run_dbt(BUILD, events, warehouse)
    assert "incremental load of 0 new file(s)" in output
    differences = compare(before, warehouse, SCHEMAS, ignore_tables=STATE_TABLES)
    assert not differences, "\n".join(map(str, differences))
    # nothing new: the sessions model recomputes no device
    touched = "select count(*) from main_intermediate.int_devices_touched"
    assert run_dbt_query(warehouse, touched) == 0
    # nor do the event and session marts
    for state in ("int_mart_devices_touched", "int_mart_persons_touched"):
        assert run_dbt_query(warehouse, f"select count(*) from main_intermediate.{state}") == 0
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        files = connection.execute("select * from main_staging.stg_tracker__files").df()
    assert set(file_statuses(files).values()) == {"staged"}


def test_tests_pass_on_the_incremental_warehouse(daily):
    events, warehouse, _, _ = daily
    run_dbt(["test", "--target", "duckdb"], events, warehouse)


def test_future_folder_does_not_stall_and_old_files_are_named(built_jsonl, tmp_path):
    days = sorted(path for path in built_jsonl.events.iterdir() if path.is_dir())
    events = tmp_path / "events"
    warehouse = tmp_path / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    first_file = sorted(days[0].glob("server-*"))[0]
    deliver([first_file], events)
    # a folder dated far in the future (a collector with a broken clock)
    future = events / "received_date=2099-01-01"
    future.mkdir()
    shutil.copy(sorted(days[1].glob("server-*"))[0], future / "server-0009.jsonl")
    run_dbt(LOAD, events, warehouse)
    # the next day still loads: the watermark ignores received dates after today
    next_day = sorted(days[1].glob("web-*"))[0]
    deliver([next_day], events)
    _, output = run_dbt(LOAD, events, warehouse)
    assert "incremental load of 1 new file(s)" in output
    # a file far older than the lookback is not loaded, and is named
    deliver([sorted(days[5].glob("web-*"))[0]], events)
    run_dbt(LOAD, events, warehouse)
    old = sorted(days[0].glob("web-*"))[0]
    deliver([old], events)
    _, output = run_dbt(LOAD, events, warehouse)
    assert "incremental load of 0 new file(s)" in output
    assert old.name in output and "--full-refresh" in output
    # and stg_tracker__files says so
    status = run_dbt_query(
        warehouse,
        "select load_status from main_staging.stg_tracker__files"
        f" where file_name = '{old.parent.name}/{old.name}'",
    )
    assert status == "outside_lookback"
    # --full-refresh takes it in
    _, output = run_dbt([*LOAD, "--full-refresh"], events, warehouse)
    loaded = run_dbt_query(
        warehouse, "select count(distinct file_name) from main_staging.base_tracker__event_lines"
    )
    assert loaded == 5


def run_dbt_query(warehouse: Path, sql: str):
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchone()[0]


def _line(event_id, device, user, at, consent=True, name="page_view", platform="web"):
    context = {} if consent else {"consent": {"analytics": False, "marketing": False}}
    record = {
        "event_id": event_id,
        "event_name": name,
        "event_ts": at,
        "received_at": at,
        "anonymous_id": device,
        "user_id": user,
        "platform": platform,
        "properties": {"page_path": "/"},
        "context": context,
    }
    return json.dumps(record)


def test_a_late_opt_out_reaches_sessions_built_before(tmp_path):
    """Person u1's laptop is stitched and sessionized first; their phone's batch with
    the opt-out (earlier in time) arrives a day later: the laptop's events after the
    opt-out leave fct_events and its session is cut, exactly as a full build says."""
    laptop = [
        _line("l1", "laptop", None, "2026-03-02T10:00:00Z"),
        _line("l2", "laptop", "u1", "2026-03-02T10:10:00Z", name="login"),
        _line("l3", "laptop", "u1", "2026-03-02T10:20:00Z"),
        _line("l4", "laptop", "u1", "2026-03-02T10:40:00Z"),
    ]
    phone = [
        _line("p1", "phone", "u1", "2026-03-02T09:50:00Z", platform="ios"),
        _line("p2", "phone", "u1", "2026-03-02T10:15:00Z", consent=False, platform="ios"),
    ]
    incremental_events = tmp_path / "incremental" / "events"
    full_events = tmp_path / "full" / "events"
    batches = [("received_date=2026-03-02", "web-0001.jsonl", laptop)]
    batches.append(("received_date=2026-03-03", "mobile-0001.jsonl", phone))
    warehouse = tmp_path / "incremental" / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    for folder, name, lines in batches:
        for events in (incremental_events, full_events):
            (events / folder).mkdir(parents=True, exist_ok=True)
            (events / folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        if events is full_events:
            run_dbt(BUILD, incremental_events, warehouse)
    full = tmp_path / "full" / "warehouse" / "behavior.duckdb"
    full.parent.mkdir(parents=True)
    run_dbt(BUILD, full_events, full)
    analysed = run_dbt_query(
        warehouse, "select string_agg(event_id, ',' order by event_id) from main_marts.fct_events"
    )
    assert analysed == "l1,l2,p1"
    # the phone's batch touched the laptop too (no new event there: its person opted out)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        touched = connection.execute(
            "select device_id, change_reason, current_row_count, built_row_count"
            " from main_intermediate.int_devices_touched order by device_id"
        ).fetchall()
    assert touched == [("laptop", "changed", 2, 4), ("phone", "new", 1, 0)]
    differences = compare(
        full, warehouse, SCHEMAS, SAME_FILES_ELSEWHERE, ignore_tables=STATE_TABLES
    )
    assert not differences, "\n".join(map(str, differences))


def test_a_new_model_is_backfilled_alone(daily, tmp_path):
    """A model added later (here: fct_sessions dropped, as if new) is built from
    the incremental tables' full history, nothing else rebuilt."""
    events, warehouse, _, _ = daily
    copy = tmp_path / warehouse.name
    shutil.copy(warehouse, copy)
    import duckdb

    with duckdb.connect(str(copy)) as connection:
        connection.execute("drop table main_marts.fct_sessions")
    _, output = run_dbt(["run", "--target", "duckdb", "--select", "fct_sessions"], events, copy)
    assert "1 of 1 OK" in output
    differences = compare(warehouse, copy, SCHEMAS)
    assert not differences, "\n".join(map(str, differences))


def _copy_of_daily(daily, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the daily fixture's events and warehouse to change freely."""
    events_source, warehouse_source, _, _ = daily
    events = tmp_path / "events"
    shutil.copytree(events_source, events)
    warehouse = tmp_path / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True)
    shutil.copy(warehouse_source, warehouse)
    return events, warehouse


def _late_event_for_a_device(warehouse: Path, events: Path) -> str:
    """Deliver one new web event of an anonymous device of a person who never opted
    out, two hours after its last event (a new session); return the device."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        device, last_at = connection.execute(
            "select fct_events.device_id, max(fct_events.event_at)"
            " from main_marts.fct_events"
            " inner join main_marts.dim_devices on fct_events.device_id = dim_devices.device_id"
            " inner join main_marts.dim_persons on dim_devices.person_id = dim_persons.person_id"
            " where fct_events.anonymous_id is not null and fct_events.platform = 'web'"
            " and not dim_devices.is_shared and not dim_persons.has_opted_out"
            " group by 1 order by 1 limit 1"
        ).fetchone()
    at = (pd.Timestamp(last_at).tz_convert("UTC") + pd.Timedelta(hours=2)).isoformat()
    latest = sorted(path.name for path in events.iterdir() if path.is_dir())[-1]
    (events / latest / "web-9999.jsonl").write_text(
        _line("late-scope-check", device, None, at) + "\n", encoding="utf-8"
    )
    return device


def test_marts_rewrite_and_test_only_the_touched_devices(daily, tmp_path):
    """The event and session marts are incremental per device, and so are their
    data tests on an incremental build, which still catch a bad row in the increment.

    Every row of both marts is marked first in a column no signature reads
    (fct_events.app_version, fct_sessions.duration_seconds = -1, which breaks a
    data test of fct_sessions). A new event of one device arrives. A build of
    fct_events without fct_sessions leaves that device's new session out of
    fct_sessions: the scoped relationships test of fct_events fails on it. The
    next build recomputes it in fct_sessions (sessions_changed); the marks stay
    exactly on the devices int_mart_devices_touched did not list, so their rows
    were not rewritten, and the build's scoped tests pass although every other
    session still breaks a test; a lone `dbt test` reads every row and fails."""
    events, warehouse = _copy_of_daily(daily, tmp_path)
    device = _late_event_for_a_device(warehouse, events)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("update main_marts.fct_events set app_version = 'not-rewritten'")
        connection.execute("update main_marts.fct_sessions set duration_seconds = -1")

    # the increment of fct_events holds a row whose session fct_sessions lacks
    build = ["build", "--target", "duckdb"]
    # (the file reconciliation too: its singular test reads staging, selected here)
    selection = ["--select", "+fct_events", "fct_raw_file_reconciliation"]
    code, output = run_dbt([*build, *selection], events, warehouse, check=False)
    assert code != 0
    failed = [line for line in output.splitlines() if " FAIL " in line]
    assert len(failed) == 1 and "relationships_fct_events_session_id" in failed[0], output
    assert "FAIL 1 " in failed[0], failed[0]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        first = connection.execute(
            "select device_id, change_reason from main_intermediate.int_mart_devices_touched"
        ).fetchall()
        kept = {
            row[0]
            for row in connection.execute(
                "select distinct device_id from main_marts.fct_events"
                " where app_version is distinct from 'not-rewritten'"
            ).fetchall()
        }
    assert (device, "events_changed") in first
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        present = {
            row[0]
            for row in connection.execute(
                "select distinct device_id from main_marts.fct_events"
            ).fetchall()
        }
    assert kept == {row[0] for row in first} & present

    # the next build repairs fct_sessions for that device; its tests read the increment
    _, output = run_dbt(build, events, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        second = dict(
            connection.execute(
                "select device_id, change_reason from main_intermediate.int_mart_devices_touched"
            ).fetchall()
        )
        marked = dict(
            connection.execute(
                "select device_id, bool_and(duration_seconds = -1) from main_marts.fct_sessions"
                " group by 1"
            ).fetchall()
        )
        untouched_events = connection.execute(
            "select count(distinct device_id) from main_marts.fct_events"
            " where app_version = 'not-rewritten'"
        ).fetchone()[0]
    assert second.get(device) == "sessions_changed"
    assert {key for key, is_marked in marked.items() if not is_marked} == set(second) & set(marked)
    assert any(marked.values()) and untouched_events > 0

    # a test run that builds nothing reads every row
    code, output = run_dbt(
        ["test", "--target", "duckdb", "--select", "fct_sessions"], events, warehouse, check=False
    )
    assert code != 0
    assert "expression_is_true_fct_sessions_session_end_at" in output


def test_funnel_persons_are_measured_again_for_the_touched_persons_only(daily, tmp_path):
    """int_funnel_persons_measured is incremental per person: every row is marked
    first (entry_platform, which nothing compares), a new event of one device
    arrives, and the build rewrites exactly the rows of the persons
    int_funnel_persons_touched lists (the device's person among them, their
    events changed), not the others. A build with another week start (a setting
    the rows depend on) lists every person (full_build) and measures them all
    again; fct_funnel_persons keeps equal to a full build either way
    (test_daily_batches_with_late_mobile_files_equal_a_full_build)."""
    events, warehouse = _copy_of_daily(daily, tmp_path)
    device = _late_event_for_a_device(warehouse, events)
    measured = "main_intermediate.int_funnel_persons_measured"

    def mark() -> None:
        with duckdb.connect(str(warehouse)) as connection:
            connection.execute(f"update {measured} set entry_platform = 'not-rewritten'")

    def persons(where: str) -> set[str]:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            return {
                row[0]
                for row in connection.execute(
                    f"select person_id from {measured} where {where}"
                ).fetchall()
            }

    mark()
    run_dbt(BUILD, events, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        touched = dict(
            connection.execute(
                "select person_id, change_reason from main_intermediate.int_funnel_persons_touched"
            ).fetchall()
        )
        (device_person,) = connection.execute(
            "select person_id from main_marts.dim_devices where device_id = ?", [device]
        ).fetchone()
    rewritten = persons("entry_platform is distinct from 'not-rewritten'")
    kept = persons("entry_platform = 'not-rewritten'")
    assert touched.get(device_person) == "events_changed"
    assert "full_build" not in touched.values()
    assert rewritten and kept, "an increment rewrites some persons, not all"
    assert rewritten <= set(touched) and not kept & set(touched)

    mark()
    run_dbt([*BUILD, "--vars", "{behavior__week_start: sunday}"], events, warehouse)
    assert not persons("entry_platform = 'not-rewritten'"), "a new setting measures every person"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (signatures,) = connection.execute(
            f"select count(distinct settings_signature) from {measured}"
        ).fetchone()
        reasons = connection.execute(
            "select distinct change_reason from main_intermediate.int_funnel_persons_touched"
        ).fetchall()
    assert signatures == 1 and reasons == [("full_build",)]
