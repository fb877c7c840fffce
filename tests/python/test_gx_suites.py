"""The Great Expectations suites pass on a good build and name what breaks."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from behavioral_analytics.quality.gx_suites import data_docs_index, load_suites, validate_warehouse

pytestmark = pytest.mark.e2e


def test_committed_suites_name_their_relation():
    suites = load_suites()
    assert {suite.name for suite in suites} >= {
        "raw_contract",
        "staging_quarantine",
        "marts_sessions",
        "marts_reconciliation",
        "marts_events",
    }
    assert all(suite.meta.get("relation") for suite in suites)


def test_suites_pass_on_a_good_build(built_jsonl):
    # the Python models' suites run on their own build (test_python_models.py)
    names = [suite.name for suite in load_suites() if not suite.name.startswith("models_")]
    results = validate_warehouse(built_jsonl.warehouse, suites=names, build_docs=False)
    assert results and all(result.success for result in results), [
        failure.describe() for result in results for failure in result.failures
    ]


def test_views_read_from_a_copy_under_another_name(built_jsonl, tmp_path):
    # DuckDB keeps a view's SQL as written: a catalog-qualified ref
    # ("jsonl".main_staging...) broke every view of a renamed or re-attached
    # copy (macros/cross_db/ref.sql leaves the warehouse's own catalog out).
    copy = tmp_path / "renamed.duckdb"
    shutil.copy(built_jsonl.warehouse, copy)
    with duckdb.connect(str(copy), read_only=True) as connection:
        views = connection.execute(
            "select schema_name, view_name from duckdb_views()"
            " where not internal and schema_name like 'main_%'"
        ).fetchall()
        assert ("main_staging", "stg_tracker__events") in views
        for schema, view in views:
            connection.execute(f"select count(*) from {schema}.{view}").fetchone()
    with duckdb.connect() as connection:
        connection.execute(f"attach '{copy}' as other (read_only)")
        for schema, view in views:
            connection.execute(f"select count(*) from other.{schema}.{view}").fetchone()


def test_broken_mart_fails_naming_suite_column_expectation(built_jsonl, tmp_path):
    broken = tmp_path / "broken.duckdb"
    shutil.copy(built_jsonl.warehouse, broken)
    with duckdb.connect(str(broken)) as connection:
        connection.execute(
            """
            update main_marts.fct_sessions set duration_seconds = -5
            where session_id in (select session_id from main_marts.fct_sessions limit 3)
            """
        )
    results = validate_warehouse(broken, suites=["marts_sessions"], build_docs=True)
    failures = [failure for result in results for failure in result.failures]
    assert len(failures) == 1
    failure = failures[0]
    assert failure.suite == "marts_sessions"
    assert failure.column == "duration_seconds"
    assert failure.expectation == "expect_column_values_to_be_between"
    assert failure.unexpected_count == 3
    assert failure.sample == [-5.0, -5.0, -5.0]
    assert "marts_sessions" in failure.describe() and "duration_seconds" in failure.describe()

    # the HTML data docs show the failed validation with its values
    assert data_docs_index().exists()
    pages = list((data_docs_index().parent / "validations" / "marts_sessions").rglob("*.html"))
    assert pages, "no validation page in the data docs"
    page = max(pages, key=lambda path: path.stat().st_mtime).read_text()
    assert "Failed" in page and "duration_seconds" in page and "-5.0" in page


def test_leaked_email_fails_the_events_suite(built_jsonl, tmp_path):
    # same file name: views inside the warehouse name its catalog
    leaked = tmp_path / built_jsonl.warehouse.name
    shutil.copy(built_jsonl.warehouse, leaked)
    with duckdb.connect(str(leaked)) as connection:
        connection.execute(
            """
            update main_marts.fct_events set properties = '{"email": "ann@example.com"}'
            where event_id in (select event_id from main_marts.fct_events limit 2)
            """
        )
    (result,) = validate_warehouse(leaked, suites=["marts_events"], build_docs=False)
    assert not result.success
    described = [failure.describe() for failure in result.failures]
    assert any("properties" in text and "not_match_regex" in text for text in described)


def test_broken_behaviour_marts_fail_their_suites(built_jsonl, tmp_path):
    """Period 0 below 100 % and a funnel step with more persons than the one
    before are each caught, by name."""
    broken = tmp_path / built_jsonl.warehouse.name
    shutil.copy(built_jsonl.warehouse, broken)
    with duckdb.connect(str(broken)) as connection:
        connection.execute(
            "update main_marts.fct_retention_cohorts set retention_rate = 0.5"
            " where period_number = 0 and period_unit = 'week'"
        )
        connection.execute(
            "update main_marts.fct_funnel_steps set conversion_from_previous = 1.25"
            " where step_number = 2 and breakdown = 'all'"
        )
    results = validate_warehouse(
        broken, suites=["marts_retention", "marts_funnels"], build_docs=False
    )
    failed = {
        (failure.suite, failure.column, failure.expectation)
        for result in results
        for failure in result.failures
    }
    assert failed == {
        ("marts_retention", "retention_rate", "expect_column_values_to_be_between"),
        ("marts_funnels", "conversion_from_previous", "expect_column_values_to_be_between"),
    }
