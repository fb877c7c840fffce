"""Spark's ``RawWriter``: each file's lines into its own partition of a Parquet table.

Tables (in the raw schema, ``behavior__raw_schema``, Parquet data source
tables in the session's catalog): ``event_lines`` (the columns of the DuckDB
path's view) partitioned by ``received_date`` and then ``file_name``,
``loaded_files`` (one row per file loaded: name, size, SHA-256, lines, when)
and ``unreadable_files``.

Plain Parquet tables have no transactions, so a file is made idempotent by
its partition instead: its lines are written as one local Parquet file
(pyarrow, streamed in batches) and inserted with a dynamic partition
overwrite of the file's own partition, then its ``loaded_files`` row is
appended. A load killed between the two leaves the lines without the mark;
the rerun loads the file again and overwrites the same partition, so no
line is twice.

A Spark write costs about a second whatever its size, so complete files
wait in the scratch folder and go in together (``FLUSH_FILES`` files or
``FLUSH_BYTES`` of Parquet, and at ``close``): ``write_file`` returns once
the file's lines are complete locally, and a file is loaded (lines, then
mark) at the next flush. A file whose lines are not complete never reaches
Spark. The scratch folder is local: with a cluster it must be storage the
executors read (a change not made here).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from behavioral_analytics.load.files import RawFile
from behavioral_analytics.load.lines import BATCH_ROWS, Line
from behavioral_analytics.load.writer import LoadedFile, UnreadableFile

FLUSH_FILES = 64
FLUSH_BYTES = 256 << 20
_LINES_SCHEMA = pa.schema(
    [
        ("file_path", pa.string()),
        ("file_format", pa.string()),
        ("line_number", pa.int64()),
        ("raw_line", pa.string()),
        ("encoding_error", pa.string()),
        ("received_date", pa.date32()),
        ("file_name", pa.string()),
    ]
)
_SPARK_LINES_SCHEMA = (
    "file_path string, file_format string, line_number bigint, raw_line string,"
    " encoding_error string, received_date date, file_name string"
)
_UNREADABLE_COLUMNS = (
    "file_path string, file_name string, file_format string, received_date date,"
    " file_size_bytes bigint, file_error string"
)
_LOADED_COLUMNS = (
    "file_name string, file_path string, received_date date, size_bytes bigint,"
    " sha256 string, line_count bigint, loaded_at timestamp"
)


class SparkWriter:
    def __init__(self, spark, schema: str = "raw"):
        self.spark = spark
        self.schema = schema
        # a file's lines wait here as Parquet until Spark inserts them
        self.scratch = Path(tempfile.mkdtemp(prefix="behavior-load-"))
        self.pending: list[tuple] = []  # loaded_files rows of the files in scratch
        self.pending_bytes = 0

    def prepare(self) -> None:
        self.spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
        self.spark.sql(f"create database if not exists {self.schema}")
        # partition columns come last in a Spark table: the same columns, another order
        self.spark.sql(
            f"create table if not exists {self.schema}.event_lines (file_path string,"
            " file_format string, line_number bigint, raw_line string, encoding_error string,"
            " received_date date, file_name string)"
            " using parquet partitioned by (received_date, file_name)"
        )
        self.spark.sql(
            f"create table if not exists {self.schema}.loaded_files ({_LOADED_COLUMNS})"
            " using parquet"
        )
        self.spark.sql(
            f"create table if not exists {self.schema}.unreadable_files ({_UNREADABLE_COLUMNS})"
            " using parquet"
        )

    def loaded_files(self) -> dict[str, LoadedFile]:
        rows = self.spark.sql(
            f"select file_name, size_bytes, sha256 from {self.schema}.loaded_files"
        ).collect()
        return {row[0]: LoadedFile(row[0], row[1], row[2]) for row in rows}

    def write_file(self, raw: RawFile, sha256: str, lines: Iterable[Line]) -> int:
        partial = self.scratch / f"{len(self.pending)}.parquet.partial"
        count = 0
        with pq.ParquetWriter(partial, _LINES_SCHEMA) as parquet:
            batch: list[Line] = []
            for line in lines:
                batch.append(line)
                if len(batch) == BATCH_ROWS:
                    parquet.write_table(_lines_table(raw, batch))
                    count += len(batch)
                    batch = []
            parquet.write_table(_lines_table(raw, batch))  # an empty file: a schema only
            count += len(batch)
        partial.rename(partial.with_suffix(""))  # complete: the next flush takes it
        self.pending_bytes += partial.with_suffix("").stat().st_size
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        self.pending.append(
            (
                raw.file_name,
                raw.file_path,
                raw.received_date,
                raw.size_bytes,
                sha256,
                count,
                loaded_at,
            )
        )
        if len(self.pending) >= FLUSH_FILES or self.pending_bytes >= FLUSH_BYTES:
            self.flush()
        return count

    def flush(self) -> None:
        """Insert the complete files waiting in scratch: lines, then their marks."""
        if not self.pending:
            return
        complete = sorted(str(path) for path in self.scratch.glob("*.parquet"))
        # overwrites these files' partitions only (dynamic partition overwrite)
        self.spark.read.schema(_SPARK_LINES_SCHEMA).parquet(*complete).write.insertInto(
            f"{self.schema}.event_lines", overwrite=True
        )
        self.spark.createDataFrame(self.pending, _LOADED_COLUMNS).write.insertInto(
            f"{self.schema}.loaded_files"
        )
        for path in complete:
            Path(path).unlink()
        self.pending = []
        self.pending_bytes = 0

    def replace_unreadable(self, files: list[UnreadableFile]) -> None:
        rows = [
            (
                unreadable.raw.file_path,
                unreadable.raw.file_name,
                unreadable.raw.file_format,
                unreadable.raw.received_date,
                unreadable.raw.size_bytes,
                unreadable.error,
            )
            for unreadable in files
        ]
        self.spark.createDataFrame(rows, _UNREADABLE_COLUMNS).write.insertInto(
            f"{self.schema}.unreadable_files", overwrite=True
        )

    def close(self) -> None:
        try:
            self.flush()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _lines_table(raw: RawFile, lines: list[Line]) -> pa.Table:
    return pa.table(
        {
            "file_path": [raw.file_path] * len(lines),
            "file_format": [raw.file_format] * len(lines),
            "line_number": [line.line_number for line in lines],
            "raw_line": [line.raw_line for line in lines],
            "encoding_error": [line.encoding_error for line in lines],
            "received_date": [raw.received_date] * len(lines),
            "file_name": [raw.file_name] * len(lines),
        },
        schema=_LINES_SCHEMA,
    )
