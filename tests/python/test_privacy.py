"""PII minimisation: no raw IP, email or full user agent reaches a mart; the salt stays secret."""

from __future__ import annotations

import gzip
import hashlib

import pandas as pd
import pytest

from .conftest import TEST_PII_SALT, run_dbt

pytestmark = pytest.mark.e2e

IPV4 = r"(^|[^0-9.])[0-9]{1,3}(\.[0-9]{1,3}){3}([^0-9.]|$)"
EMAIL = r"[^@\s\"]+@[^@\s\"]+\.[a-z]{2,}"


def _text_columns(built, schema: str) -> list[tuple[str, str]]:
    columns = built.query(
        "select table_name, column_name from information_schema.columns"
        f" where table_schema = '{schema}'"
        " and (data_type like 'VARCHAR%' or data_type = 'JSON')"
    )
    return list(columns.itertuples(index=False, name=None))


def test_no_raw_ip_email_or_user_agent_in_any_mart_column(built_jsonl):
    devices = pd.read_csv(built_jsonl.truth / "devices.csv", keep_default_na=False, dtype=str)
    raw_ips = sorted({ip for ips in devices["ips"] for ip in ips.split("|")} - {""})
    raw_user_agents = sorted(set(devices["user_agent"]) - {""})
    assert raw_ips and raw_user_agents
    columns = _text_columns(built_jsonl, "main_marts")
    assert ("fct_events", "properties") in columns
    ip_list = ", ".join(f"'{ip}'" for ip in raw_ips)
    ua_list = ", ".join("'" + agent.replace("'", "''") + "'" for agent in raw_user_agents)
    offenders = []
    for table, column in columns:
        value = f'cast("{column}" as varchar)'
        found = built_jsonl.query(
            f"select count(*) as n from main_marts.{table} where {value} in ({ip_list})"
            f" or regexp_matches({value}, '{IPV4}')"
            f" or regexp_matches({value}, '{EMAIL}')"
            f" or {value} in ({ua_list}) or {value} like '%Mozilla/%'"
        )
        if int(found["n"][0]):
            offenders.append(f"{table}.{column}")
    assert not offenders, f"raw IP, email or user agent in: {offenders}"


def test_staging_keeps_only_the_salted_ip_hash_and_drops_pii_properties(built_jsonl):
    columns = {column for _, column in _text_columns(built_jsonl, "main_staging")}
    assert "ip_hash" in columns and "ip_address" not in columns and "context" not in columns
    leaked = built_jsonl.query(
        "select count(*) as n from main_staging.stg_tracker__events"
        " where json_exists(properties, '$.email') or json_exists(properties, '$.phone')"
    )
    assert int(leaked["n"][0]) == 0
    sent = (
        gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for path in built_jsonl.events.rglob("*.jsonl*")
    )
    assert any(b'"email":' in text for text in sent), "emails are sent, so the drop is tested"


def test_ip_hash_is_salted_sha256(built_jsonl):
    devices = pd.read_csv(built_jsonl.truth / "devices.csv", keep_default_na=False, dtype=str)
    device = devices[(devices["ips"] != "") & (devices["is_bot"] == "False")].iloc[0]
    hashes = built_jsonl.query(
        "select distinct ip_hash from main_marts.fct_events"
        f" where device_id = '{device['device_id']}'"
    )
    ips = device["ips"].split("|")
    expected = {hashlib.sha256(f"{TEST_PII_SALT}|{ip}".encode()).hexdigest() for ip in ips}
    unsalted = {hashlib.sha256(ip.encode()).hexdigest() for ip in ips}
    assert set(hashes["ip_hash"]) <= expected and len(hashes) >= 1
    assert unsalted.isdisjoint(hashes["ip_hash"])


def test_salt_never_written_to_compiled_sql_or_logs(built_jsonl):
    written = [
        path
        for folder in ("target", "logs")
        for path in (built_jsonl.warehouse.parent / folder).rglob("*")
        if path.is_file() and TEST_PII_SALT.encode() in path.read_bytes()
    ]
    assert not written


def test_missing_salt_is_a_clear_error(built_jsonl, tmp_path):
    code, output = run_dbt(
        ["run", "--target", "duckdb", "--select", "base_tracker__event_lines"],
        built_jsonl.events,
        tmp_path / "w.duckdb",
        check=False,
        env_overrides={"BEHAVIOR_PII_SALT": ""},
    )
    assert code != 0
    assert "BEHAVIOR_PII_SALT is not set" in output
    assert "base_tracker__event_lines" in output
