"""The local Spark session of the spark target, for `behavior load` and the tests.

The same settings as the ``spark`` target of profiles.yml (dbt-spark's
``method: session``): tables under ``$BEHAVIOR_SPARK_WAREHOUSE/tables`` and
the Derby metastore in ``$BEHAVIOR_SPARK_WAREHOUSE/metastore_db`` (default
``warehouse/spark`` in the project), UTC, few shuffle partitions (the data of
one machine), the PII salt as the setting ``behavior.pii_salt``. Keep both in
step. Derby admits one process at a time: a load and a build run one after
the other. Import only in .venv-spark (pyspark).
"""

from __future__ import annotations

import os
from pathlib import Path

from behavioral_analytics import project

WAREHOUSE_ENV = "BEHAVIOR_SPARK_WAREHOUSE"


def warehouse_dir() -> Path:
    """$BEHAVIOR_SPARK_WAREHOUSE (relative: to the project), else warehouse/spark."""
    path = Path(os.environ.get(WAREHOUSE_ENV) or "warehouse/spark")
    return path if path.is_absolute() else project.PROJECT_ROOT / path


def settings() -> dict[str, str]:
    """The session's configuration (profiles.yml's server_side_parameters)."""
    folder = warehouse_dir()
    settings = {
        "spark.sql.warehouse.dir": f"{folder}/tables",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={folder}/metastore_db;create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={folder}",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": os.environ.get("BEHAVIOR_SPARK_SHUFFLE_PARTITIONS", "4"),
        "spark.driver.memory": os.environ.get("BEHAVIOR_SPARK_DRIVER_MEMORY", "2g"),
        "spark.ui.enabled": "false",
        # local mode needs no network name (the host's resolves to loopback anyway)
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.showConsoleProgress": "false",
        # string literals without backslash escapes, as on DuckDB and PostgreSQL
        # (the models' regular expressions, unit tests' JSON text)
        "spark.sql.parser.escapedStringLiterals": "true",
        # JSON with a key twice is valid on DuckDB (the last one wins)
        "spark.sql.variant.allowDuplicateKeys": "true",
        # Spark's default minus `secret` (profiles.yml says why)
        "spark.redaction.regex": "(?i)password|token|access[.]?key",
        # dbt-spark sets it too: casts that fail give null
        "spark.sql.ansi.enabled": "false",
    }
    # the profile's too: a dbt run in this process takes this session as it is
    salt = os.environ.get("BEHAVIOR_PII_SALT", "").strip()
    if salt:
        settings["spark.behavior.pii_salt"] = salt
    return settings


def session():
    """The Spark session (created on first use, Hive catalog on the metastore above)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("behavioral_analytics").enableHiveSupport()
    for key, value in settings().items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
