"""Where things are: the dbt project, the warehouse file and the events folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EVENTS_PATH = PROJECT_ROOT / "data" / "events"
DEFAULT_SAMPLE_PATH = PROJECT_ROOT / "data" / "sample"
DEFAULT_DUCKDB_PATH = PROJECT_ROOT / "warehouse" / "behavior.duckdb"


def duckdb_path() -> Path:
    """The warehouse file dbt writes (BEHAVIOR_DUCKDB_PATH, else the default)."""
    configured = os.environ.get("BEHAVIOR_DUCKDB_PATH")
    if not configured:
        return DEFAULT_DUCKDB_PATH
    path = Path(configured)
    return path if path.is_absolute() else PROJECT_ROOT / path


def dbt_environment(events_path: Path | None = None, warehouse: Path | None = None) -> dict:
    """Environment variables for a dbt run of this project."""
    env = dict(os.environ)
    if events_path is not None:
        env["BEHAVIOR_EVENTS_PATH"] = str(events_path)
    if warehouse is not None:
        env["BEHAVIOR_DUCKDB_PATH"] = str(warehouse)
    env.setdefault("BEHAVIOR_THREADS", str(os.cpu_count() or 1))
    env.setdefault("DBT_PROFILES_DIR", str(PROJECT_ROOT))
    return env


PII_SALT_ENV = "BEHAVIOR_PII_SALT"


def ensure_pii_salt(env: dict, warehouse: Path) -> str:
    """Give a local demo warehouse a salt of its own when none is configured.

    Production sets BEHAVIOR_PII_SALT from its secret store. For the demo, a
    random salt is created once beside the warehouse file (``.pii_salt``,
    never committed) and reused, so rebuilding gives the same pseudonyms.
    Returns where the salt came from.
    """
    if env.get(PII_SALT_ENV, "").strip():
        return f"${PII_SALT_ENV}"
    salt_file = warehouse.parent / ".pii_salt"
    if not salt_file.exists():
        salt_file.parent.mkdir(parents=True, exist_ok=True)
        salt_file.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        salt_file.chmod(0o600)
    env[PII_SALT_ENV] = salt_file.read_text(encoding="utf-8").strip()
    return str(salt_file)
