"""dbt-duckdb plugin: what DuckDB needs from Python for this project.

DuckDB's ``read_text`` cannot decompress, so ``.jsonl.gz`` files are read
with ``read_blob`` and decompressed by ``behavior_gunzip``, which names the
file when it is not a readable gzip stream of UTF-8 text.

The PII salt (environment variable ``BEHAVIOR_PII_SALT``) is put in the session
variable ``behavior_pii_salt`` of every connection and cursor, so the salted
hash macro reads it with ``getvariable`` and the secret never appears in
compiled SQL or dbt's logs. A missing salt is reported by the macro, naming
the model that needs it.
"""

from __future__ import annotations

import gzip
import os
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


PII_SALT_ENV = "BEHAVIOR_PII_SALT"


def set_pii_salt(conn: DuckDBPyConnection) -> None:
    """Expose the salt from the environment as the session variable behavior_pii_salt."""
    salt = os.environ.get(PII_SALT_ENV, "").strip()
    if salt:
        conn.execute("set variable behavior_pii_salt = " + "'" + salt.replace("'", "''") + "'")


class Plugin(BasePlugin):
    def configure_cursor(self, cursor) -> None:
        set_pii_salt(cursor)

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        set_pii_salt(conn)
        conn.create_function(
            "behavior_gunzip",
            gunzip_text,
            ["BLOB", "VARCHAR"],
            "VARCHAR",
            null_handling="special",
            side_effects=False,
        )
