"""Where things are: the dbt project, the warehouse file and the events folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_DIR_ENV = "BEHAVIOR_PROJECT_DIR"


def set_project_root(root: Path | str) -> Path:
    """Make ``root`` the project every default path and dbt run resolves against.

    ``$BEHAVIOR_PROJECT_DIR`` (or ``behavior --project-dir``) points at a checkout; by
    default it is the one this package was installed from. Raises ValueError when the
    folder holds no dbt_project.yml.
    """
    global PROJECT_ROOT, DEFAULT_EVENTS_PATH, DEFAULT_SAMPLE_PATH, DEFAULT_DUCKDB_PATH
    root = Path(root).expanduser().resolve()
    if not (root / "dbt_project.yml").is_file():
        raise ValueError(f"{root} is not the project: it has no dbt_project.yml")
    PROJECT_ROOT = root
    DEFAULT_EVENTS_PATH = root / "data" / "events"
    DEFAULT_SAMPLE_PATH = root / "data" / "sample"
    DEFAULT_DUCKDB_PATH = root / "warehouse" / "behavior.duckdb"
    os.environ[PROJECT_DIR_ENV] = str(root)
    return root


PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EVENTS_PATH = PROJECT_ROOT / "data" / "events"
DEFAULT_SAMPLE_PATH = PROJECT_ROOT / "data" / "sample"
DEFAULT_DUCKDB_PATH = PROJECT_ROOT / "warehouse" / "behavior.duckdb"
# A wrong BEHAVIOR_PROJECT_DIR is reported by the command that runs (the CLI
# checks it again as --project-dir), not as a traceback at import.
PROJECT_DIR_ERROR: str | None = None
if os.environ.get(PROJECT_DIR_ENV):
    try:
        set_project_root(os.environ[PROJECT_DIR_ENV])
    except ValueError as error:
        PROJECT_DIR_ERROR = f"{PROJECT_DIR_ENV}: {error}"


def duckdb_path() -> Path:
    """The warehouse file dbt writes (BEHAVIOR_DUCKDB_PATH, else the default); a relative
    path is relative to the project."""
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
    env.setdefault("DBT_PROJECT_DIR", str(PROJECT_ROOT))
    return env


PII_SALT_ENV = "BEHAVIOR_PII_SALT"
PII_SALT_FILE_ENV = "BEHAVIOR_PII_SALT_FILE"
DEFAULT_PII_SALT_FILE = Path("~/.config/behavioral-analytics/pii_salt")


def pii_salt_file() -> Path:
    """The secrets file of the salt: $BEHAVIOR_PII_SALT_FILE, else the default path."""
    return Path(os.environ.get(PII_SALT_FILE_ENV) or DEFAULT_PII_SALT_FILE).expanduser()


def read_pii_salt(env: dict | None = None) -> tuple[str | None, str | None]:
    """(salt, where it came from): $BEHAVIOR_PII_SALT, else the secrets file; else None."""
    env = os.environ if env is None else env
    salt = env.get(PII_SALT_ENV, "").strip()
    if salt:
        return salt, f"${PII_SALT_ENV}"
    path = Path(env.get(PII_SALT_FILE_ENV) or DEFAULT_PII_SALT_FILE).expanduser()
    if path.is_file():
        salt = path.read_text(encoding="utf-8").strip()
        if salt:
            return salt, str(path)
    return None, None


def ensure_pii_salt(env: dict, warehouse: Path) -> str:
    """Put the salt in ``env`` for a demo build, creating the secrets file if needed.

    Production sets BEHAVIOR_PII_SALT from its secret store (or points
    BEHAVIOR_PII_SALT_FILE at a file it mounts). For the demo, a random salt is
    written once to the secrets file (``~/.config/behavioral-analytics/pii_salt``,
    mode 600, outside the repository and outside the warehouse folder, so a copied
    warehouse keeps its salt) and reused. A salt file beside the warehouse from an
    earlier version (``.pii_salt``) is still read. Returns where the salt came from.
    """
    salt, source = read_pii_salt(env)
    legacy = warehouse.parent / ".pii_salt"
    if salt is None and legacy.is_file():
        salt, source = legacy.read_text(encoding="utf-8").strip(), str(legacy)
    if salt is None:
        path = Path(env.get(PII_SALT_FILE_ENV) or DEFAULT_PII_SALT_FILE).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        path.chmod(0o600)
        salt, source = path.read_text(encoding="utf-8").strip(), f"{path} (created)"
    env[PII_SALT_ENV] = salt
    return source
