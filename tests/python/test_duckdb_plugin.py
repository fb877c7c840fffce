import gzip
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
import yaml
from dbt.adapters.duckdb.environments import Environment

from behavioral_analytics.raw_files import (
    gunzip_bytes,
    probe_raw_file,
    split_undecodable,
)


def test_gunzip_bytes_round_trips_and_gives_none_for_a_broken_stream():
    assert gunzip_bytes(gzip.compress(b"a\nb\n")) == b"a\nb\n"
    assert gunzip_bytes(None) is None
    assert gunzip_bytes(b"not gzip") is None


def test_probe_names_why_a_file_cannot_be_read(tmp_path):
    good = tmp_path / "good.jsonl.gz"
    good.write_bytes(gzip.compress(b'{"a": 1}\n' * 100))
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(good.read_bytes()[:-12])
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    not_parquet = tmp_path / "x.parquet"
    not_parquet.write_bytes(b"PAR1 but not really")
    parquet = tmp_path / "ok.parquet"
    duckdb.sql(f"copy (select 1 as a) to '{parquet}' (format parquet)")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"a": "\xe9"}\n')
    assert probe_raw_file(str(good)) is None
    assert probe_raw_file(str(parquet)) is None
    assert probe_raw_file(str(latin)) is None  # bad bytes are bad lines, not a bad file
    assert "gzip" in probe_raw_file(str(truncated))
    assert probe_raw_file(str(empty)) == "the file is empty (0 bytes)"
    assert "not a readable Parquet file" in probe_raw_file(str(not_parquet))
    assert "cannot be opened" in probe_raw_file(str(tmp_path / "gone.jsonl"))


def test_split_undecodable_keeps_every_line_and_names_the_bad_bytes():
    split = split_undecodable(b'\xef\xbb\xbf{"a": 1}\n{"b": "\xff"}\r\n{"c": 3}\n')
    assert split["lines"] == ['{"a": 1}', '{"b": "\ufffd"}\r', '{"c": 3}', ""]
    assert split["bad_bytes"][0] is None and split["bad_bytes"][2] is None
    assert "0xff at offset 7" in split["bad_bytes"][1]
    assert "7b2262223a2022ff227d0d" in split["bad_bytes"][1]
    assert split_undecodable(None) is None


def test_spill_settings_are_given_once_when_duckdb_opens_the_file(tmp_path):
    """A build that spills must not fail on its next cursor (it did at 10M events).

    dbt-duckdb SETs the profile's `settings` again on every new cursor, and
    DuckDB refuses to set the temporary directory once a query has used it: the
    memory limit and the spill folder are `config_options`, given to
    duckdb.connect once.
    """
    profiles = Path(__file__).resolve().parents[2] / "profiles.yml"
    outputs = yaml.safe_load(profiles.read_text())["behavioral_analytics"]["outputs"]
    duckdb_output = outputs["duckdb"]
    spill_options = {"memory_limit", "temp_directory"}
    assert spill_options <= set(duckdb_output["config_options"])
    assert not spill_options & set(duckdb_output.get("settings") or {})

    spill = tmp_path / "spill"
    connection = duckdb.connect(
        str(tmp_path / "w.duckdb"), config={"memory_limit": "64MB", "temp_directory": str(spill)}
    )
    connection.execute(
        "create table sorted as select repeat('x', 50) || i::varchar as s from range(2000000) t(i)"
        " order by s desc"
    )
    cursor = connection.cursor()
    creds = SimpleNamespace(settings=duckdb_output["settings"], retries=None)
    Environment.initialize_cursor(creds, cursor)  # what dbt-duckdb does for each cursor
    assert cursor.execute("select count(*) from sorted").fetchone() == (2_000_000,)
    with pytest.raises(duckdb.NotImplementedException, match="temporary directory"):
        cursor.execute(f"set temp_directory = '{spill}'")
