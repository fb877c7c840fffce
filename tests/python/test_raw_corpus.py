"""A corpus of bad raw input among good files (tests/fixtures/bad_raw_files, written by
its make_corpus.py): nothing stops the load. Each case ends as staged events, a
quarantined line or a quarantined file; every other file loads; the build exits
non-zero naming each unreadable file, with every model built; once a file is
replaced by a readable one, the next incremental build loads it."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from behavioral_analytics.duckdb_plugin import Plugin

from .conftest import run_dbt

CORPUS = Path(__file__).parents[1] / "fixtures" / "bad_raw_files" / "events"
DAY = "received_date=2026-01-05"
UNREADABLE = {
    "broken_header.csv": "not a readable CSV file",
    "not_parquet.parquet": "not a readable Parquet file",
    "truncated.jsonl.gz": "not a readable gzip stream",
    "zero_bytes.jsonl": "the file is empty (0 bytes)",
}
# file -> (lines read, events staged, {line: reason})
LOADED = {
    "good.jsonl": (5, 5, {}),
    "invalid_utf8.jsonl": (3, 2, {2: "invalid_encoding"}),
    "bom.jsonl": (2, 2, {}),
    "crlf.jsonl": (2, 2, {}),
    "nul_bytes.jsonl": (2, 1, {1: "invalid_json"}),
    "deep.jsonl": (2, 2, {}),
    "long_line.jsonl.gz": (2, 2, {}),
    "name with spaces and ünïcode.jsonl": (2, 2, {}),
    "missing_column.csv": (1, 0, {2: "missing_event_id"}),
}


def _query(warehouse: Path, sql: str):
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).df()


def _run_results(warehouse: Path) -> list[dict]:
    return json.loads((warehouse.parent / "target" / "run_results.json").read_text())["results"]


@pytest.fixture(scope="module")
def corpus_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    events = root / "events"
    shutil.copytree(CORPUS, events)
    warehouse = root / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir()
    code, output = run_dbt(["build"], events, warehouse, check=False)
    return events, warehouse, code, output, _run_results(warehouse)


def test_the_build_fails_naming_each_unreadable_file_and_builds_every_model(corpus_build):
    _, _, code, output, results = corpus_build
    assert code != 0
    for name, error in UNREADABLE.items():
        assert f"unreadable raw file {DAY}/{name}: {error}" in output
    results = [r for r in results if not r["unique_id"].startswith("exposure.")]
    failed = [r["unique_id"] for r in results if r["status"] not in ("success", "pass", "warn")]
    assert failed == ["test.behavioral_analytics.assert_raw_files_readable"]
    # the corpus' files of bad lines only are named as warnings, not failures
    warned = {r["unique_id"].split(".")[-1] for r in results if r["status"] == "warn"}
    assert "warn_files_and_days_without_good_events" in warned
    assert "lines are bad (see stg_tracker__events_quarantine)" in output
    assert not [r for r in results if r["status"] == "skipped"]


def test_every_file_is_reconciled_loaded_or_unreadable(corpus_build):
    _, warehouse, *_ = corpus_build
    reconciliation = _query(
        warehouse, "select * from main_marts.fct_raw_file_reconciliation"
    ).set_index("file_name")
    assert set(reconciliation.index) == {f"{DAY}/{n}" for n in [*UNREADABLE, *LOADED]}
    assert (reconciliation["lines_lost"] == 0).all()
    for name, error in UNREADABLE.items():
        row = reconciliation.loc[f"{DAY}/{name}"]
        assert row["status"] == "unreadable" and row["lines_read"] == 0
        assert row["file_error"].startswith(error)
    for name, (lines, staged, bad) in LOADED.items():
        row = reconciliation.loc[f"{DAY}/{name}"]
        assert (row["status"], row["lines_read"], row["events_staged"]) == (
            "loaded",
            lines,
            staged,
        ), name
        assert row["lines_quarantined"] == len(bad), name
    files = _query(warehouse, "select * from main_staging.stg_tracker__files_quarantine")
    assert sorted(files["file_name"]) == sorted(f"{DAY}/{n}" for n in UNREADABLE)
    assert files.set_index("file_name").loc[f"{DAY}/broken_header.csv", "file_size_bytes"] == 1024


def test_each_bad_line_keeps_its_reason_text_and_bytes(corpus_build):
    _, warehouse, *_ = corpus_build
    quarantine = _query(warehouse, "select * from main_staging.stg_tracker__events_quarantine")
    got = {(row.file_name, row.line_number): row.reason for row in quarantine.itertuples()}
    want = {
        (f"{DAY}/{name}", line): reason
        for name, (_, _, bad) in LOADED.items()
        for line, reason in bad.items()
    }
    assert got == want
    latin = quarantine.set_index("file_name").loc[f"{DAY}/invalid_utf8.jsonl"]
    assert "\ufffd" in latin["raw_line"]
    original = (CORPUS / DAY / "invalid_utf8.jsonl").read_bytes().split(b"\n")[1]
    assert original.hex() in latin["reason_detail"] and "0xe9" in latin["reason_detail"]


def test_bom_crlf_long_and_deep_lines_are_events(corpus_build):
    _, warehouse, *_ = corpus_build
    events = _query(warehouse, "select event_id, page_path from main_staging.stg_tracker__events")
    ids = set(events["event_id"])
    assert {"corpus-009", "corpus-011", "corpus-015", "corpus-017", "corpus-019"} <= ids


def test_replaced_files_load_on_the_next_incremental_build(corpus_build, tmp_path):
    events, warehouse, *_ = corpus_build
    day = events / DAY
    for name in UNREADABLE:
        (day / name).unlink()
    lines = [
        json.dumps(
            {
                "event_id": f"corpus-{n}",
                "event_name": "page_view",
                "event_ts": "2026-01-05T11:00:00Z",
                "received_at": "2026-01-05T11:00:01Z",
                "anonymous_id": "dev-gzip",
                "platform": "web",
            }
        )
        for n in (21, 22)
    ]
    (day / "truncated.jsonl.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    code, output = run_dbt(["build"], events, warehouse, check=False)
    assert code == 0, output[-3000:]
    reconciliation = _query(
        warehouse, "select * from main_marts.fct_raw_file_reconciliation"
    ).set_index("file_name")
    assert reconciliation.loc[f"{DAY}/truncated.jsonl.gz", "events_staged"] == 2
    assert (reconciliation["status"] == "loaded").all()
    assert (
        _query(warehouse, "select count(*) as n from main_staging.stg_tracker__files_quarantine")[
            "n"
        ][0]
        == 0
    )


def test_the_severity_var_turns_the_failure_into_a_warning(tmp_path):
    events = tmp_path / "events" / DAY
    events.mkdir(parents=True)
    shutil.copy(CORPUS / DAY / "good.jsonl", events)
    (events / "empty.jsonl").write_bytes(b"")
    warehouse = tmp_path / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir()
    code, output = run_dbt(
        ["build", "--vars", "{behavior__unreadable_files_severity: warn}"],
        tmp_path / "events",
        warehouse,
        check=False,
    )
    assert code == 0, output[-3000:]
    assert f"unreadable raw file {DAY}/empty.jsonl: the file is empty" in output


# ------------------------------------------------------------- one set of rows, three formats

# The same rows written as JSONL, Parquet and CSV (properties and context as JSON
# strings there), in the same four files per format: staging reads Parquet and CSV
# rows typed (never rendered to JSON text to be parsed again) and must quarantine
# exactly what it quarantines for the JSONL lines, with the same reason and detail,
# naming the file and its line (a CSV's header is line 1).
_T = "2026-01-05T10:00:00.000+01:00"
_R = "2026-01-05T09:00:05Z"
_ROWS = {
    # file -> rows (None: the field is absent from the row / null in a column)
    "main": [
        {
            "event_id": "1",
            "event_name": "page_view",
            "event_ts": _T,
            "received_at": _R,
            "anonymous_id": "dev-a",
            "platform": "web",
            "properties": {"page_path": "/home", "email": "x@example.com"},
            "context": {
                "ip": "203.0.113.9",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
                "consent": {"analytics": True, "marketing": False},
            },
        },
        {
            "event_id": "2",
            "event_name": "purchase",
            "event_ts": "2026-01-05T10:00:10.000+01:00",
            "sent_at": "2026-01-05T10:00:40.000+01:00",
            "received_at": "2026-01-05T09:00:20Z",
            "user_id": "user-1",
            "platform": "ios",
            "schema_version": 2,
            "properties": {"order_id": "o-1", "revenue": 12.5, "currency": "EUR"},
            "context": {"consent": {"analytics": False}},
        },
        {
            "event_id": "",
            "event_name": "page_view",
            "event_ts": _T,
            "received_at": _R,
            "anonymous_id": "dev-a",
            "platform": "web",
        },
        {
            "event_id": "4",
            "event_name": None,
            "event_ts": _T,
            "received_at": _R,
            "anonymous_id": "dev-a",
            "platform": "web",
        },
        {
            "event_id": "5",
            "event_name": "AddToCart",
            "event_ts": _T,
            "received_at": _R,
            "anonymous_id": "dev-a",
            "platform": "web",
        },
        {
            "event_id": "6",
            "event_name": "page_view",
            "event_ts": "nope",
            "received_at": _R,
            "anonymous_id": "dev-a",
            "platform": "web",
        },
        {
            "event_id": "7",
            "event_name": "page_view",
            "event_ts": _T,
            "received_at": _R,
            "anonymous_id": "",
            "user_id": None,
            "platform": "web",
        },
        {
            "event_id": "8",
            "event_name": "page_view",
            "event_ts": _T,
            "received_at": _R,
            "anonymous_id": "dev-a",
            "platform": "desktop",
        },
        {
            "event_id": "9",
            "event_name": "page_view",
            "event_ts": "2026-01-07T10:00:00Z",
            "received_at": _R,
            "anonymous_id": "dev-a",
            "platform": "web",
        },
        # text in a numeric field
        {
            "event_id": "10",
            "event_name": "purchase",
            "event_ts": _T,
            "received_at": _R,
            "anonymous_id": "dev-a",
            "platform": "web",
            "properties": {"revenue": "12.50"},
        },
        {
            "event_id": "11",
            "event_name": "page_view",
            "event_ts": _T,
            "sent_at": "yesterday",
            "received_at": _R,
            "anonymous_id": "dev-a",
            "platform": "web",
        },
    ],
    # a column of the wrong type: event_ts an integer (Parquet: an int64 column)
    "wrong_type": [
        {
            "event_id": "12",
            "event_name": "page_view",
            "event_ts": 1767603600,
            "received_at": _R,
            "anonymous_id": "dev-a",
            "platform": "web",
        },
    ],
    # a missing column: no event_id at all
    "missing_column": [
        {
            "event_name": "page_view",
            "event_ts": _T,
            "received_at": _R,
            "anonymous_id": "dev-b",
            "platform": "web",
        },
    ],
    # an extra column: kept, not a reason
    "extra_column": [
        {
            "event_id": "14",
            "event_name": "page_view",
            "event_ts": _T,
            "received_at": _R,
            "anonymous_id": "dev-b",
            "platform": "android",
            "sdk_build": 7,
        },
        {
            "event_id": "15",
            "event_name": "page_view",
            "event_ts": _T,
            "received_at": _R,
            "anonymous_id": "dev-b",
            "platform": "android",
            "sdk_build": None,
        },
    ],
}
_EXPECTED_BAD = {
    ("main", 3): "missing_event_id",
    ("main", 4): "missing_event_name",
    ("main", 5): "invalid_event_name",
    ("main", 6): "invalid_timestamp",
    ("main", 7): "missing_identity",
    ("main", 8): "invalid_platform",
    ("main", 9): "future_timestamp",
    ("main", 10): "invalid_revenue",
    ("main", 11): "invalid_timestamp",
    ("wrong_type", 1): "invalid_timestamp",
    ("missing_column", 1): "missing_event_id",
}


def _format_row(row: dict, prefix: str, as_text: bool) -> dict:
    """A row with its event_id prefixed per format; properties/context as JSON strings
    (Parquet, CSV); every value as text (CSV)."""
    out = {}
    for key, value in row.items():
        if key == "event_id" and value:
            value = f"{prefix}-{value}"
        if key in ("properties", "context") and value is not None and as_text:
            value = json.dumps(value, separators=(",", ":"))
        out[key] = value
    return out


def _write_three_formats(day: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    day.mkdir(parents=True)
    for stem, rows in _ROWS.items():
        jsonl = [
            json.dumps({k: v for k, v in _format_row(r, "j", False).items() if v is not None})
            for r in rows
        ]
        (day / f"{stem}.jsonl").write_text("\n".join(jsonl) + "\n", encoding="utf-8")
        columns: list[str] = []
        for row in rows:
            columns += [key for key in row if key not in columns]
        table = {c: [_format_row(r, "p", True).get(c) for r in rows] for c in columns}
        pq.write_table(pa.table(table), day / f"{stem}.parquet")
        text_rows = [_format_row(r, "c", True) for r in rows]
        lines = [",".join(columns)]
        for row in text_rows:
            cells = ["" if row.get(c) is None else str(row[c]) for c in columns]
            lines.append(
                ",".join('"' + cell.replace('"', '""') + '"' if cell else "" for cell in cells)
            )
        (day / f"{stem}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_same_bad_rows_quarantine_alike_in_jsonl_parquet_and_csv(tmp_path):
    events = tmp_path / "events"
    _write_three_formats(events / DAY)
    warehouse = tmp_path / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir()
    code, output = run_dbt(["build"], events, warehouse, check=False)
    # the file without event_id is drift (a required field vanished): the one failure
    failed = {
        result["unique_id"].split(".")[2]
        for result in _run_results(warehouse)
        if result["status"] in ("fail", "error")
    }
    assert code != 0 and failed == {
        "behavioral_analytics_no_schema_drift_int_schema_changes_vanished_required_field"
    }, output[-3000:]
    quarantine = _query(
        warehouse,
        "select file_name, file_format, line_number, reason, reason_detail, raw_line,"
        " coalesce(event_id, '') as event_id, coalesce(event_name, '') as event_name,"
        " coalesce(platform, '') as platform from main_staging.stg_tracker__events_quarantine",
    )
    assert len(quarantine) == 3 * len(_EXPECTED_BAD), output[-3000:]
    by_format = {}
    for file_format, first_line in (("jsonl", 1), ("parquet", 1), ("csv", 2)):
        rows = quarantine[quarantine["file_format"] == file_format]
        got = {
            (row.file_name.split("/")[-1].split(".")[0], row.line_number - first_line + 1): (
                row.reason,
                row.reason_detail,
                row.event_id[2:],
                row.event_name,
                row.platform,
            )
            for row in rows.itertuples()
        }
        assert {key: value[0] for key, value in got.items()} == _EXPECTED_BAD, file_format
        by_format[file_format] = got
    # the same reason, detail and readable fields in every format
    assert by_format["parquet"] == by_format["jsonl"]
    assert by_format["csv"] == by_format["jsonl"]
    # a bad Parquet or CSV row keeps its row as JSON text: the text the raw relation
    # (and `behavior load`) renders for it
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        Plugin.__new__(Plugin).configure_connection(connection)  # the view's Python functions
        rendered = connection.execute(
            "select file_name, line_number, raw_line from raw.event_lines"
            " where file_format in ('parquet', 'csv')"
        ).df()
    rendered = {(row.file_name, row.line_number): row.raw_line for row in rendered.itertuples()}
    typed = quarantine[quarantine["file_format"] != "jsonl"]
    assert len(typed) == 2 * len(_EXPECTED_BAD)
    for row in typed.itertuples():
        assert row.raw_line == rendered[(row.file_name, row.line_number)]
        assert (json.loads(row.raw_line)["event_name"] or "") == row.event_name
    # the good rows are the same events: event time, PII hash, properties, consent, shape
    events_staged = _query(
        warehouse,
        "select event_id, file_name, event_name, event_at, event_ts_utc_offset_minutes,"
        " device_id, platform, schema_version, ip_hash, ip_network, user_agent, properties,"
        " revenue, currency, has_analytics_consent, has_marketing_consent"
        " from main_staging.stg_tracker__events",
    )
    events_staged["event_id"] = events_staged["event_id"].str[2:]
    events_staged["file_format"] = events_staged.pop("file_name").str.rsplit(".", n=1).str[-1]
    events_staged["properties"] = events_staged["properties"].map(
        lambda text: None if text is None else json.dumps(json.loads(text), sort_keys=True)
    )
    staged = {
        file_format: frame.drop(columns="file_format")
        .sort_values("event_id")
        .reset_index(drop=True)
        for file_format, frame in events_staged.groupby("file_format")
    }
    assert sorted(staged["jsonl"]["event_id"]) == ["1", "14", "15", "2"]
    assert staged["jsonl"]["ip_hash"].notna().sum() == 1
    assert "email" not in staged["jsonl"].set_index("event_id").loc["1", "properties"]
    for file_format in ("parquet", "csv"):
        pd.testing.assert_frame_equal(staged[file_format], staged["jsonl"], obj=file_format)
    # the extra column shows in the rows' shape with a value, in every format (a
    # Parquet or CSV scan gives the other files' rows the column, null)
    fields = _query(
        warehouse,
        "select distinct file_name from main_intermediate.int_event_fields_observed"
        " where field_path = 'sdk_build' and json_type <> 'null'",
    )
    assert sorted(fields["file_name"]) == [
        f"{DAY}/extra_column.{extension}" for extension in ("csv", "jsonl", "parquet")
    ]
