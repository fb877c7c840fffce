"""Shared fixtures: a generated data set built with dbt into a throwaway warehouse."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from behavioral_analytics import project
from behavioral_analytics.generator import generate

DBT = str(Path(sys.executable).with_name("dbt"))
# A throwaway salt for test warehouses (production reads its own from a secret store).
TEST_PII_SALT = "pytest-salt-not-a-secret"
# Never the user's own secrets file (~/.config/behavioral-analytics/pii_salt): a
# test that leaves the salt out must find none, a demo run writes its own here.
os.environ[project.PII_SALT_FILE_ENV] = str(Path(tempfile.mkdtemp(prefix="pii-salt-")) / "salt")


# The slowest files first (seconds of one worker, measured with --durations on 2
# cores): pytest-xdist (--dist loadfile --no-loadscope-reorder, scripts/test.sh)
# hands files out in this order, so the last files a worker takes are short ones
# and the two workers end together.
SLOWEST_FIRST = (
    "test_spark_equivalence.py",  # ~350 alone, more beside the other worker
    "test_incremental.py",  # ~350
    "test_python_models.py",  # 245
    "test_postgres_equivalence.py",  # 180
    "test_first_hour.py",  # 156
    "test_peer_fixtures.py",  # 152
    "test_bench_scale.py",  # 147
    "test_end_to_end.py",  # 130
    "test_behavior_marts.py",  # 128
    "test_serving.py",  # 109
)


@pytest.fixture(scope="session", autouse=True)
def _own_gx_runtime(tmp_path_factory):
    """Each pytest worker validates in a Great Expectations context of its own:
    the default one (<project>/target/gx) is wiped and written again by every
    validation, so two workers validating at once removed each other's
    validation definitions."""
    from behavioral_analytics.quality import gx_suites

    gx_suites.RUNTIME_ROOT = tmp_path_factory.mktemp("gx_runtime")
    yield
    gx_suites.RUNTIME_ROOT = None


def pytest_collection_modifyitems(items):
    rank = {name: index for index, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@dataclass
class BuiltWarehouse:
    root: Path
    events: Path
    truth: Path
    warehouse: Path
    summary: dict
    dbt_output: str

    def query(self, sql: str):
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql).df()


# The dbt Python models (segments, churn) fit models: builds that test the SQL
# layers leave them out; test_python_models.py builds them on enough history.
WITHOUT_PYTHON_MODELS = ["--exclude", "tag:python_models"]


def python_model_names() -> set[str]:
    """The dbt Python models' names (the files under python_models/)."""
    return {path.stem for path in (project.PROJECT_ROOT / "python_models").rglob("*.py")}


def relations_in(cursor, schemas: tuple[str, ...]) -> list[str]:
    """schema.name of every table and view of the schemas, sorted (DuckDB, PostgreSQL)."""
    names = ", ".join(f"'{schema}'" for schema in schemas)
    cursor.execute(
        "select table_schema || '.' || table_name from information_schema.tables"
        f" where table_schema in ({names}) order by 1"
    )
    return [row[0] for row in cursor.fetchall()]


# dbt parses the whole project (about 9 s of a test's build) unless it finds its
# saved parse (target/partial_parse.msgpack) made with the same profile, vars and
# dbt_project.yml env vars; the DuckDB path is part of the profile. So each worker
# reaches every warehouse through one folder name of its own (a symlink to the
# warehouse's folder, re-pointed before each run: a worker runs one dbt at a time)
# and keeps the last saved parse per warehouse file name, target and vars. dbt
# still checks the saved parse against the project files and parses what changed.
_PARSE_CACHE = Path(tempfile.mkdtemp(prefix="dbt-parse-cache-"))
# (a test that starts dbt itself passes linked_warehouse(path) to share the parse)


def linked_warehouse(warehouse: Path) -> Path:
    """The warehouse file as this worker's fixed folder name shows it."""
    link, new = _PARSE_CACHE / "warehouse", _PARSE_CACHE / "warehouse.new"
    new.unlink(missing_ok=True)
    new.symlink_to(warehouse.parent.resolve(), target_is_directory=True)
    os.replace(new, link)
    return link / warehouse.name


def _parse_key(warehouse: Path, args: list[str], env_overrides: dict[str, str] | None) -> str:
    def after(flag: str) -> str:
        return args[args.index(flag) + 1] if flag in args else ""

    overrides = sorted((env_overrides or {}).items())
    key = [warehouse.name, after("--target"), after("--vars"), *overrides]
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16] + ".msgpack"


def _excluding(args: list[str], selector: str) -> list[str]:
    """These dbt arguments with ``selector`` added to their ``--exclude`` (once)."""
    if selector in args:
        return args
    if "--exclude" in args:
        at = args.index("--exclude") + 1
        return [*args[:at], selector, *args[at:]]
    return [*args, "--exclude", selector]


def run_dbt(
    args: list[str],
    events: Path,
    warehouse: Path,
    check: bool = True,
    env_overrides: dict[str, str] | None = None,
    python_models: bool = False,
    unit_tests: bool = False,
):
    """Run dbt on these events into this warehouse. A ``build``, ``run`` or ``test`` leaves the
    Python models out unless ``python_models`` is set (a ``--select`` is kept as is).

    A ``build`` or ``test`` leaves dbt's unit tests out unless ``unit_tests`` is set: they
    test the models' SQL on fixed inputs, not the data, so the same result comes from every
    warehouse; README command 2 (scripts/test.sh) runs them once in its own ``dbt build``."""
    if not python_models and args[:1] in (["build"], ["run"], ["test"]) and "--select" not in args:
        args = _excluding(args, WITHOUT_PYTHON_MODELS[1])
    if not unit_tests and args[:1] in (["build"], ["test"]):
        args = _excluding(args, "resource_type:unit_test")
    env = project.dbt_environment(events_path=events, warehouse=linked_warehouse(warehouse))
    env[project.PII_SALT_ENV] = TEST_PII_SALT  # test warehouses use the known test salt
    env.update(env_overrides or {})
    env["DBT_LOG_PATH"] = str(warehouse.parent / "logs")
    target = warehouse.parent / "target"
    env["DBT_TARGET_PATH"] = str(target)
    cached = _PARSE_CACHE / _parse_key(warehouse, args, env_overrides)
    saved = target / "partial_parse.msgpack"
    if cached.exists() and not saved.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, saved)
    completed = subprocess.run(
        [DBT, *args],
        cwd=project.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if saved.exists():
        shutil.copyfile(saved, cached)
    output = completed.stdout + completed.stderr
    if check and completed.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{output[-6000:]}")
    return completed.returncode, output


def build(tmp: Path, file_format: str = "jsonl", **generate_args) -> BuiltWarehouse:
    summary = generate(out_dir=tmp, file_format=file_format, progress=False, **generate_args)
    warehouse = tmp / "warehouse" / "behavior.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    _, output = run_dbt(["build", "--target", "duckdb"], tmp / "events", warehouse)
    return BuiltWarehouse(tmp, tmp / "events", tmp / "truth", warehouse, summary, output)


@pytest.fixture(scope="session")
def built_jsonl(tmp_path_factory) -> BuiltWarehouse:
    """A generated JSONL data set (every bad-line reason) built end to end."""
    persons = int(os.environ.get("BEHAVIOR_TEST_PERSONS", "120"))
    return build(tmp_path_factory.mktemp("jsonl"), persons=persons, days=10, seed=7)
