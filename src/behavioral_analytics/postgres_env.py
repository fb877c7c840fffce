"""The PostgreSQL warehouse from the environment, as the profile's postgres target reads it:
BEHAVIOR_PG_HOST, BEHAVIOR_PG_PORT, BEHAVIOR_PG_USER, BEHAVIOR_PG_PASSWORD,
BEHAVIOR_PG_DATABASE (never a file in the repository)."""

from __future__ import annotations

import os
from urllib.parse import quote


def settings() -> dict:
    return {
        "host": os.environ.get("BEHAVIOR_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("BEHAVIOR_PG_PORT", "5432")),
        "user": os.environ.get("BEHAVIOR_PG_USER", "postgres"),
        "password": os.environ.get("BEHAVIOR_PG_PASSWORD", ""),
        "dbname": os.environ.get("BEHAVIOR_PG_DATABASE", "behavior"),
    }


def connect_from_env():
    """A psycopg2 connection."""
    import psycopg2

    return psycopg2.connect(**settings())


def sqlalchemy_url() -> str:
    """The same connection as a SQLAlchemy URL (Great Expectations' SQL route)."""
    values = settings()
    password = f":{quote(values['password'], safe='')}" if values["password"] else ""
    return (
        f"postgresql+psycopg2://{quote(values['user'], safe='')}{password}"
        f"@{values['host']}:{values['port']}/{quote(values['dbname'], safe='')}"
    )
