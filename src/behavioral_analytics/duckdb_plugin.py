"""dbt-duckdb plugin: Python scalar functions the raw-file reader needs.

DuckDB's ``read_text`` cannot decompress, so ``.jsonl.gz`` files are read
with ``read_blob`` and decompressed by ``behavior_gunzip``, which names the
file when it is not a readable gzip stream of UTF-8 text.
"""

from __future__ import annotations

import gzip
import zlib

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection


class UnreadableRawFileError(ValueError):
    """A raw events file that cannot be read at all."""


def gunzip_text(content: bytes | None, file_name: str) -> str | None:
    """Decompress one gzip file's bytes to text, naming the file on failure."""
    if content is None:
        return None
    try:
        return gzip.decompress(content).decode("utf-8")
    except (OSError, EOFError, zlib.error) as error:
        raise UnreadableRawFileError(
            f"raw events file {file_name!r} cannot be read: not a valid gzip stream ({error})"
        ) from error
    except UnicodeDecodeError as error:
        raise UnreadableRawFileError(
            f"raw events file {file_name!r} cannot be read: not UTF-8 text ({error})"
        ) from error


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        conn.create_function(
            "behavior_gunzip",
            gunzip_text,
            ["BLOB", "VARCHAR"],
            "VARCHAR",
            null_handling="special",
            side_effects=False,
        )
