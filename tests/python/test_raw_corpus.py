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
import pytest

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
