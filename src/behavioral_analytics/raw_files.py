"""Reading raw event files so that nothing stops a load.

DuckDB reads the files in place (macros/raw/create_raw_event_relations.sql);
these functions are what it needs from Python, registered as SQL functions by
the project's dbt-duckdb plugin (``duckdb_plugin.py``):

- ``probe_raw_file``: why a file cannot be read at all (empty, broken gzip,
  not Parquet, a CSV that does not parse), or None. Such a file is
  quarantined as a file (``stg_tracker__files_quarantine``) and every other
  file loads.
- ``gunzip_bytes``: a ``.jsonl.gz`` file's decompressed bytes (DuckDB's
  ``read_text`` cannot decompress).
- ``split_undecodable``: the lines of a file that is not valid UTF-8 as a
  whole, each decoded on its own, so one bad byte makes one bad line
  (``invalid_encoding``) and the rest of the file loads.
"""

from __future__ import annotations

import gzip
import os
import zlib

import duckdb

BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20


def probe_raw_file(path: str | None) -> str | None:
    """The reason this raw events file cannot be read, or None when it can."""
    if path is None:
        return None
    try:
        size = os.path.getsize(path)
    except OSError as error:
        return f"cannot be opened: {error.strerror or error}"
    if size == 0:
        return "the file is empty (0 bytes)"
    try:
        if path.endswith(".jsonl.gz"):
            _check_gzip(path)
        elif path.endswith(".parquet"):
            _check_with_duckdb("select count(*) from read_parquet(?)", path)
        elif path.endswith(".csv"):
            _check_with_duckdb(
                "select count(*) from read_csv(?, header = true, all_varchar = true)", path
            )
        else:
            with open(path, "rb") as handle:
                handle.read(1)
    except (OSError, EOFError, zlib.error) as error:
        return f"not a readable gzip stream: {error}" if path.endswith(".gz") else str(error)
    except duckdb.Error as error:
        kind = "Parquet" if path.endswith(".parquet") else "CSV"
        return f"not a readable {kind} file: {_first_line(str(error))}"
    return None


def file_size(path: str | None) -> int | None:
    """The file's size in bytes, or None when it cannot be seen."""
    try:
        return os.path.getsize(path) if path is not None else None
    except OSError:
        return None


def _check_gzip(path: str) -> None:
    """Decompress the whole stream without keeping it (a truncated one raises)."""
    with gzip.open(path, "rb") as stream:
        while stream.read(_CHUNK):
            pass


def _check_with_duckdb(sql: str, path: str) -> None:
    """Read the file with a separate in-memory DuckDB (the build's own connection
    must not fail on it)."""
    with duckdb.connect(":memory:") as connection:
        connection.execute(sql, [path]).fetchall()


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def gunzip_bytes(content: bytes | None) -> bytes | None:
    """A gzip file's decompressed bytes; None when it is not a readable stream
    (the probe has quarantined such a file before the read)."""
    if content is None:
        return None
    try:
        return gzip.decompress(content)
    except (OSError, EOFError, zlib.error):
        return None


def split_undecodable(content: bytes | None) -> dict | None:
    """Split bytes that are not valid UTF-8 as a whole into lines (on LF, as the
    SQL path does), each decoded on its own. A line that is not UTF-8 comes out
    with its bad bytes replaced by U+FFFD and, in ``bad_bytes``, a description
    with the original bytes in hex; the other lines' ``bad_bytes`` is None."""
    if content is None:
        return None
    if content.startswith(BOM):
        content = content[len(BOM) :]
    lines: list[str] = []
    bad_bytes: list[str | None] = []
    for raw in content.split(b"\n"):
        text, bad = decode_line(raw)
        lines.append(text)
        bad_bytes.append(bad)
    return {"lines": lines, "bad_bytes": bad_bytes}


def decode_line(raw: bytes) -> tuple[str, str | None]:
    """One line's text and, when it is not UTF-8, the description of its bad bytes
    (the text then has them replaced by U+FFFD). `behavior load` decodes each line
    with this too, so its lines equal the DuckDB path's."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return raw.decode("utf-8", errors="replace"), (
            f"byte 0x{raw[error.start]:02x} at offset {error.start} is not UTF-8 "
            f"({error.reason}); "
            f"the line's original bytes in hex: {raw.hex()}"
        )


def undecodable_type() -> duckdb.typing.DuckDBPyType:
    """The SQL type ``split_undecodable`` returns."""
    return duckdb.struct_type(
        {"lines": duckdb.list_type("VARCHAR"), "bad_bytes": duckdb.list_type("VARCHAR")}
    )
