"""dbt-duckdb plugin: what DuckDB needs from Python for this project.

Raw files are read so that nothing stops a load (``raw_files.py``):
``behavior_probe_raw_file`` says why a file cannot be read at all,
``behavior_gunzip`` decompresses ``.jsonl.gz`` files (``read_text`` cannot) and
``behavior_split_undecodable`` splits a file that is not valid UTF-8 into
lines decoded one by one; ``behavior_path_exists`` tells a missing events
folder from an empty one in the build's error. The serving layer (``serving.py``) uses
``behavior_served_path``, ``behavior_make_dirs`` and ``behavior_switch_serving``.

The PII salt (environment variable ``BEHAVIOR_PII_SALT``, else the secrets file
``$BEHAVIOR_PII_SALT_FILE`` or ``~/.config/behavioral-analytics/pii_salt``) is put in the session
variable ``behavior_pii_salt`` of every connection and cursor, so the salted
hash macro reads it with ``getvariable`` and the secret never appears in
compiled SQL or dbt's logs. A missing salt is reported by the macro, naming
the model that needs it.
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from behavioral_analytics.project import read_pii_salt
from behavioral_analytics.raw_files import (
    file_size,
    gunzip_bytes,
    probe_raw_file,
    split_undecodable,
    undecodable_type,
)
from behavioral_analytics.serving import served_path_for, switch_serving

PII_SALT_ENV = "BEHAVIOR_PII_SALT"


def set_pii_salt(conn: DuckDBPyConnection) -> None:
    """Expose the salt ($BEHAVIOR_PII_SALT, else its secrets file) as behavior_pii_salt."""
    salt, _ = read_pii_salt()
    if salt:
        conn.execute("set variable behavior_pii_salt = " + "'" + salt.replace("'", "''") + "'")


class Plugin(BasePlugin):
    def configure_cursor(self, cursor) -> None:
        set_pii_salt(cursor)

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        set_pii_salt(conn)
        conn.create_function(
            "behavior_probe_raw_file",
            probe_raw_file,
            ["VARCHAR"],
            "VARCHAR",
            null_handling="special",
            side_effects=True,  # reads the file system
        )
        conn.create_function(
            "behavior_file_size",
            file_size,
            ["VARCHAR"],
            "BIGINT",
            null_handling="special",
            side_effects=True,
        )
        conn.create_function(
            "behavior_gunzip",
            gunzip_bytes,
            ["BLOB"],
            "BLOB",
            null_handling="special",
            side_effects=False,
        )
        conn.create_function(
            "behavior_split_undecodable",
            split_undecodable,
            ["BLOB"],
            undecodable_type(),
            null_handling="special",
            side_effects=False,
        )
        conn.create_function(
            "behavior_path_exists", os.path.exists, ["VARCHAR"], "BOOLEAN", side_effects=True
        )
        conn.create_function(
            "behavior_served_path", served_path_for, ["VARCHAR"], "VARCHAR", side_effects=True
        )
        conn.create_function(
            "behavior_make_dirs", make_dirs, ["VARCHAR"], "VARCHAR", side_effects=True
        )
        conn.create_function(
            "behavior_switch_serving",
            switch_serving,
            ["VARCHAR", "VARCHAR", "VARCHAR", "BIGINT"],
            "VARCHAR",
            side_effects=True,
        )


def make_dirs(path: str) -> str:
    """Create a folder (and its parents) for COPY ... TO, which does not."""
    os.makedirs(path, exist_ok=True)
    return path
