"""Profile the slowest models of a build: DuckDB's query profile of each.

The scale benchmark calls ``profile_slowest`` right after the full build: the
compiled SQL of the slowest SQL models (as dbt ran them, from
run_results.json) runs again into a temporary table of the built warehouse
with DuckDB's JSON profiling on, and the operators that took the most time
are kept in the results file, so that where a model spends its time is read
from the run, not guessed.

Operator times are DuckDB's own (summed over its threads, so they can add
up to more than the wall time). The staging model reads the files staging
has not loaded yet (``raw.event_lines_pending``): the full build's
on-run-start hook made that view every file (Parquet and CSV rows typed),
and it stays so until the next dbt run's hook, so the profile runs first.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import duckdb

from behavioral_analytics.duckdb_plugin import Plugin

PENDING_RELATION = '"raw"."event_lines_pending"'
TOP_OPERATORS = 6
# extra_info keys worth keeping, in this order, cut to EXTRA_CHARS
EXTRA_KEYS = ("Table", "Function", "Projections", "Aggregates", "Groups", "Conditions", "Join Type")
EXTRA_CHARS = 160


def slowest_models(results: dict, count: int) -> list[dict]:
    """The `count` slowest SQL models of a run (by dbt's execution time)."""
    models = [
        result
        for result in results.get("results", [])
        if result["unique_id"].startswith("model.")
        and result.get("status") == "success"
        and result.get("compiled_code")
    ]
    models.sort(key=lambda result: -result["execution_time"])
    return models[:count]


def _columns(node: dict) -> list[str]:
    projections = (node.get("extra_info") or {}).get("Projections")
    if isinstance(projections, list):
        return [str(column) for column in projections]
    return [] if projections is None else [str(projections)]


def _detail(node: dict) -> str:
    """What an operator did: for a projection, the columns it adds to its input."""
    extra = node.get("extra_info") or {}
    name = (node.get("operator_name") or node.get("operator_type") or "").strip()
    if name == "PROJECTION" and node.get("children"):
        known = set(_columns(node["children"][0]))
        added = [column for column in _columns(node) if column not in known]
        text = "adds: " + ", ".join(added) if added else "passes columns through"
    else:
        text = "; ".join(
            f"{key}: {' '.join(str(extra[key]).split())}" for key in EXTRA_KEYS if key in extra
        )
    return text[:EXTRA_CHARS]


def _operators(node: dict, found: list[dict]) -> list[dict]:
    name = node.get("operator_name") or node.get("operator_type")
    if name:
        found.append(
            {
                "operator": name.strip(),
                "seconds": round(node.get("operator_timing") or 0.0, 3),
                "rows": node.get("operator_cardinality"),
                "detail": _detail(node),
            }
        )
    for child in node.get("children", []):
        _operators(child, found)
    return found


def profile_sql(connection: duckdb.DuckDBPyConnection, sql: str) -> dict:
    """Run ``sql`` into a temporary table with profiling on; its slowest operators."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "profile.json"
        connection.execute("set enable_profiling = 'json'")
        connection.execute(f"set profiling_output = '{output}'")
        try:
            connection.execute(f"create or replace temp table behavior_profiled as {sql}")
        finally:
            connection.execute("pragma disable_profiling")
        profile = json.loads(output.read_text())
    connection.execute("drop table if exists behavior_profiled")
    operators = sorted(_operators(profile, []), key=lambda row: -row["seconds"])
    return {
        "latency_seconds": round(profile.get("latency") or 0.0, 3),
        "cpu_seconds": round(profile.get("cpu_time") or 0.0, 3),
        "operators_total_seconds": round(sum(row["seconds"] for row in operators), 3),
        "top_operators": operators[:TOP_OPERATORS],
    }


def profile_slowest(
    warehouse: Path, results: dict, pii_salt: str, threads: int, memory_limit: str, count: int = 3
) -> dict:
    """Profile the ``count`` slowest models of ``results`` (a full build of ``warehouse``)."""
    connection = duckdb.connect(str(warehouse))
    try:
        # the raw views' file readers (gunzip, undecodable lines), as dbt registers
        # them; the plugin keeps no state of its own, so no instance is needed
        Plugin.configure_connection(None, connection)
        salt = pii_salt.replace("'", "''")
        connection.execute(f"set variable behavior_pii_salt = '{salt}'")
        connection.execute("set TimeZone = 'UTC'")  # as the dbt profile
        connection.execute(f"set threads = {int(threads)}")
        connection.execute(f"set memory_limit = '{memory_limit}'")
        profiles = {}
        for result in slowest_models(results, count):
            name = result["unique_id"].split(".")[-1]
            sql = result["compiled_code"]
            note = ""
            if PENDING_RELATION in sql:
                note = "read every file (raw.event_lines_pending as the full build left it)"
            profiles[name] = {
                "dbt_seconds": round(result["execution_time"], 2),
                **profile_sql(connection, sql),
                "note": note,
            }
        return profiles
    finally:
        connection.close()
