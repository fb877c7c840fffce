"""`behavior docs`: the dbt docs and the data docs, built without the PII salt, served on
loopback and looked at in headless Chromium; every mart column has a description."""

from __future__ import annotations

import html
import json
import re
import urllib.request
from pathlib import Path

import pytest

from behavioral_analytics import browser, docs_site
from behavioral_analytics.quality import gx_suites

pytestmark = pytest.mark.e2e

SUITES = ["marts_sessions", "marts_events"]
MART_PATHS = ("models/marts/", "python_models/")


@pytest.fixture(scope="module")
def site(built_jsonl, tmp_path_factory):
    """Both docs of the test warehouse, built with no PII salt in the environment."""
    root = tmp_path_factory.mktemp("docs_site")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("BEHAVIOR_PII_SALT", raising=False)
        patch.setenv("DBT_LOG_PATH", str(built_jsonl.warehouse.parent / "logs"))
        # Great Expectations' runtime folder in the test's tmp, not the project's target/
        patch.setattr(gx_suites, "RUNTIME_ROOT", root / "gx_runtime")
        built = docs_site.build_site(
            built_jsonl.warehouse,
            site_root=root / "site",
            # the build's target: its partial parse is reused
            target_path=built_jsonl.warehouse.parent / "target",
            events_path=built_jsonl.events,
            suites=SUITES,
            quiet=True,
        )
    return built


@pytest.fixture(scope="module")
def url(site):
    server, address = docs_site.serve(site.root, port=0)
    yield address
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def chromium():
    try:
        return browser.chromium_path()
    except browser.BrowserMissing as missing:
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("docs_screenshots")


def _manifest(site) -> dict:
    return json.loads((site.root / "dbt" / "manifest.json").read_text(encoding="utf-8"))


def _marts(manifest: dict) -> dict:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith(MART_PATHS)
    }


def _text(dom: str) -> str:
    """The page's visible text, on one line."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", dom).split()))


def _shot(url: str, path: Path) -> Path:
    browser.screenshot(url, path)
    assert path.stat().st_size > 10_000, f"{path} looks blank"
    print(f"screenshot: {path}")
    return path


def test_every_mart_column_has_a_description(site):
    manifest = _manifest(site)
    marts = _marts(manifest)
    assert {"fct_events", "fct_sessions", "dim_persons", "dim_devices", "person_features"} <= set(
        marts
    )
    undocumented = [
        f"{name}.{column}"
        for name, node in sorted(marts.items())
        for column, spec in node["columns"].items()
        if not spec["description"].strip()
    ]
    assert not undocumented, f"mart columns without a description: {undocumented}"
    # doc blocks are rendered into the descriptions
    assert not [name for name, node in marts.items() if "{{" in json.dumps(node["columns"])]
    # and every column the warehouse has (the catalog) is one the YAML documents
    catalog = json.loads((site.root / "dbt" / "catalog.json").read_text(encoding="utf-8"))
    missing = [
        f"{catalog['nodes'][node['unique_id']]['metadata']['name']}.{column.lower()}"
        for node in marts.values()
        if node["unique_id"] in catalog["nodes"]
        for column in catalog["nodes"][node["unique_id"]]["columns"]
        if column.lower() not in node["columns"]
    ]
    assert not missing, f"columns in the warehouse but not in the YAML: {missing}"


def test_index_links_both_docs(site, url):
    with urllib.request.urlopen(f"{url}/", timeout=10) as response:
        index = response.read().decode()
    assert 'href="dbt/"' in index and 'href="gx/"' in index
    assert "dbt/#!/model/model.behavioral_analytics.fct_sessions" in index
    for path in ("dbt/", "dbt/manifest.json", "dbt/catalog.json", "gx/"):
        with urllib.request.urlopen(f"{url}/{path}", timeout=10) as response:
            assert response.status == 200, path
    assert [summary.suite for summary in site.suites] == sorted(SUITES)


def test_dbt_docs_show_a_mart_its_columns_and_lineage(site, url, chromium, artifacts):
    page = f"{url}/dbt/#!/model/model.behavioral_analytics.fct_sessions"
    text = _text(browser.render_dom(page))
    node = _marts(_manifest(site))["fct_sessions"]
    assert "fct_sessions" in text and "One row per session" in text
    missing = [column for column in node["columns"] if column not in text]
    assert not missing, f"columns not on the page: {missing}"
    # a description from a doc block (models/docs/_shared_columns.md), rendered
    assert "the same whether the data was loaded" in text
    # lineage: the page lists what the model is built from
    depends_on = text[text.index("Depends On Models") :][:300]
    assert "int_devices_stitched" in depends_on and "fct_events" in depends_on, depends_on
    _shot(page, artifacts / "dbt_fct_sessions.png")
    _shot(f"{page}?g_v=1&g_i=%2Bfct_sessions%2B", artifacts / "dbt_fct_sessions_lineage.png")


def test_gx_data_docs_show_a_suite_and_its_results(site, url, chromium, artifacts):
    summary = next(summary for summary in site.suites if summary.suite == "marts_sessions")
    # every script and style of the data docs is served from the site (web_assets)
    for html_page in (site.root / "gx").rglob("*.html"):
        loaded = re.findall(r'(?:src|href)="(https://[^"]+\.(?:js|css))"', html_page.read_text())
        assert not loaded, (html_page, loaded)
    # the data docs' own home page builds its table of results with those scripts
    home = _text(browser.render_dom(f"{url}/gx/index.html"))
    assert "marts_sessions" in home
    # the index links the suite's latest validation page
    index = (site.root / "index.html").read_text(encoding="utf-8")
    (link,) = re.findall(r'class=suite href="(gx/validations/marts_sessions/[^"]+\.html)"', index)
    page = f"{url}/{link}"
    text = _text(browser.render_dom(page))
    assert "Expectation Suite: marts_sessions" in text
    assert ("Status: Succeeded" if not summary.failed else "Status: Failed") in text
    assert f"Evaluated Expectations {summary.evaluated}" in text
    assert f"Successful Expectations {summary.evaluated - summary.failed}" in text
    assert f"Unsuccessful Expectations {summary.failed}" in text
    assert "duration_seconds" in text
    _shot(page, artifacts / "gx_marts_sessions.png")
    _shot(f"{url}/", artifacts / "index.png")
