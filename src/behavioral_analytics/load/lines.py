"""A raw file's rows exactly as the DuckDB path renders them, streamed.

JSONL (and .jsonl.gz): split on LF, a UTF-8 byte-order mark at the start of
the file dropped, trailing CRs trimmed, the text after the final LF not a
line; each line decoded on its own (``raw_files.decode_line``: a bad byte
makes one bad line). Decoding per line gives what the DuckDB path's
whole-file decode gives, since LF never occurs inside a UTF-8 sequence.
Parquet and CSV rows are rendered to JSON text by DuckDB itself with the
expression of ``duckdb__rendered_row`` (the raw relation ``event_lines`` and
staging's quarantine render with it), one file at a time, in Arrow batches.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import NamedTuple

import duckdb

from behavioral_analytics.load.files import RawFile
from behavioral_analytics.raw_files import BOM, decode_line

BATCH_ROWS = 10_000

# the same expressions as macros/raw/create_raw_event_relations.sql, on one file
_PARQUET_SQL = """
select
    parquet_rows.file_row_number + 1 as line_number,
    json_merge_patch(
        to_json(parquet_rows), '{"filename": null, "file_row_number": null}'
    )::varchar as raw_line
from read_parquet(
    ?, filename = true, file_row_number = true, union_by_name = true, hive_partitioning = false
) as parquet_rows
"""
_CSV_SQL = """
select
    row_number() over (partition by csv_rows.filename order by csv_rows.ordinality) + 1
        as line_number,
    json_merge_patch(to_json(csv_rows), '{"filename": null, "ordinality": null}')::varchar
        as raw_line
from (
    select *
    from read_csv(
        ?, header = true, all_varchar = true, filename = true, union_by_name = true,
        hive_partitioning = false
    ) with ordinality
) as csv_rows
"""


class Line(NamedTuple):
    line_number: int
    raw_line: str
    encoding_error: str | None


def read_lines(raw: RawFile) -> Iterator[Line]:
    """The file's lines (JSONL) or rows (Parquet, CSV) in order."""
    if raw.file_format == "jsonl":
        return _jsonl_lines(raw.file_path)
    return _rendered_rows(_PARQUET_SQL if raw.file_format == "parquet" else _CSV_SQL, raw)


def _jsonl_lines(path: str) -> Iterator[Line]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.endswith(b"\n"):
                raw = raw[:-1]
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            text, bad = decode_line(raw)
            yield Line(number, text.rstrip("\r"), bad)


def _rendered_rows(sql: str, raw: RawFile) -> Iterator[Line]:
    with duckdb.connect(":memory:") as connection:
        # timestamps render in UTC, as in the build (profiles.yml)
        connection.execute("set TimeZone = 'UTC'")
        reader = connection.execute(sql, [raw.file_path]).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            numbers = batch.column("line_number").to_pylist()
            texts = batch.column("raw_line").to_pylist()
            for number, text in zip(numbers, texts, strict=True):
                yield Line(number, text, None)
