"""PostgreSQL's ``RawWriter``: COPY each file's lines in one transaction.

Tables (in the raw schema, ``behavior__raw_schema``): ``event_lines`` (the
columns of the DuckDB path's view), ``loaded_files`` (one row per file
loaded: name, size, SHA-256, lines, when) and ``unreadable_files``. A file's
lines and its ``loaded_files`` row are committed together, so a load killed
midway leaves the file unloaded and the rerun loads it once.

PostgreSQL text cannot hold a NUL character: a line with a NUL byte is
written with U+FFFD in its place and an ``encoding_error`` naming it (on
DuckDB the same line is ``invalid_json``; here ``invalid_encoding``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import psycopg2

from behavioral_analytics.load.files import RawFile
from behavioral_analytics.load.lines import Line
from behavioral_analytics.load.writer import LoadedFile, UnreadableFile
from behavioral_analytics.postgres_env import connect_from_env

__all__ = ["PostgresWriter", "connect_from_env"]

LINE_COLUMNS = (
    "file_path",
    "file_name",
    "file_format",
    "received_date",
    "line_number",
    "raw_line",
    "encoding_error",
)
_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _field(value) -> str:
    if value is None:
        return "\\N"
    return str(value).translate(_TEXT_ESCAPES)


def without_nul(line: Line) -> Line:
    """The line as PostgreSQL can store it (see the module's docstring)."""
    if "\x00" not in line.raw_line:
        return line
    offset = line.raw_line.index("\x00")
    detail = (
        f"a NUL character at offset {offset} (PostgreSQL text cannot hold it; replaced by "
        f"U+FFFD); the line's original bytes in hex: {line.raw_line.encode('utf-8').hex()}"
    )
    return Line(line.line_number, line.raw_line.replace("\x00", "\ufffd"), detail)


class _CopyStream(io.RawIOBase):
    """A file-like object over COPY text rows made on demand (bounded memory)."""

    def __init__(self, rows: Iterator[str]):
        self._rows = rows
        self._buffer = b""
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            try:
                self._buffer += next(self._rows).encode("utf-8")
            except StopIteration:
                break
            except BaseException as error:  # COPY reports it as its own; kept for the caller
                self.error = error
                raise
        if size < 0:
            size = len(self._buffer)
        chunk, self._buffer = self._buffer[:size], self._buffer[size:]
        return chunk


class PostgresWriter:
    def __init__(self, connection, schema: str = "raw"):
        self.connection = connection
        self.schema = schema

    def prepare(self) -> None:
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(f"create schema if not exists {self.schema}")
            cursor.execute(
                f"create table if not exists {self.schema}.event_lines ("
                " file_path text, file_name text, file_format text, received_date date,"
                " line_number bigint, raw_line text, encoding_error text)"
            )
            cursor.execute(
                f"create index if not exists event_lines_file_name"
                f" on {self.schema}.event_lines (file_name)"
            )
            cursor.execute(
                f"create table if not exists {self.schema}.loaded_files ("
                " file_name text primary key, file_path text, received_date date,"
                " size_bytes bigint, sha256 text, line_count bigint,"
                " loaded_at timestamptz default now())"
            )
            cursor.execute(
                f"create table if not exists {self.schema}.unreadable_files ("
                " file_path text, file_name text, file_format text, received_date date,"
                " file_size_bytes bigint, file_error text)"
            )

    def loaded_files(self) -> dict[str, LoadedFile]:
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(f"select file_name, size_bytes, sha256 from {self.schema}.loaded_files")
            return {row[0]: LoadedFile(*row) for row in cursor.fetchall()}

    def write_file(self, raw: RawFile, sha256: str, lines: Iterable[Line]) -> int:
        count = 0

        def rows() -> Iterator[str]:
            nonlocal count
            prefix = "\t".join(
                _field(value)
                for value in (raw.file_path, raw.file_name, raw.file_format, raw.received_date)
            )
            for line in lines:
                line = without_nul(line)
                count += 1
                yield (
                    f"{prefix}\t{line.line_number}\t{_field(line.raw_line)}"
                    f"\t{_field(line.encoding_error)}\n"
                )

        # one transaction: the lines and the loaded mark, or neither
        stream = _CopyStream(rows())
        with self.connection, self.connection.cursor() as cursor:
            try:
                cursor.copy_expert(
                    f"copy {self.schema}.event_lines ({', '.join(LINE_COLUMNS)}) from stdin",
                    stream,
                    size=1 << 16,
                )
            except psycopg2.Error:
                if stream.error is not None:  # the reader failed: say why, not "COPY failed"
                    raise stream.error from None
                raise
            cursor.execute(
                f"insert into {self.schema}.loaded_files"
                " (file_name, file_path, received_date, size_bytes, sha256, line_count, loaded_at)"
                " values (%s, %s, %s, %s, %s, %s, now())",
                (raw.file_name, raw.file_path, raw.received_date, raw.size_bytes, sha256, count),
            )
        return count

    def replace_unreadable(self, files: list[UnreadableFile]) -> None:
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(f"delete from {self.schema}.unreadable_files")
            for unreadable in files:
                raw = unreadable.raw
                cursor.execute(
                    f"insert into {self.schema}.unreadable_files values (%s, %s, %s, %s, %s, %s)",
                    (
                        raw.file_path,
                        raw.file_name,
                        raw.file_format,
                        raw.received_date,
                        raw.size_bytes,
                        unreadable.error,
                    ),
                )

    def close(self) -> None:
        self.connection.close()
