"""`behavior docs`: the dbt docs and the Great Expectations data docs, served together.

A newcomer opens one address and finds both: the dbt docs (every model, column,
test and the lineage graph, with the warehouse's catalog) at ``/dbt/`` and the
Great Expectations data docs (each suite's latest results) at ``/gx/``, under an
index page that links both and the marts.

- ``generate_dbt_docs`` runs ``dbt docs generate`` for the DuckDB target. It needs
  no PII salt (compiling runs no hash; ``require_pii_salt`` only fails commands that
  run SQL) and loads nothing: when no events folder is configured it passes
  ``behavior__allow_no_event_files`` so the on-run-start hook compiles without files.
- ``build_gx_docs`` validates the suites whose relation the warehouse holds (the
  Python models' suites need a build with them) and builds the data docs.
- ``build_site`` copies both into one folder (``target/docs_site`` by default) and
  writes the index; ``serve`` serves that folder on 127.0.0.1 from a thread.
"""

from __future__ import annotations

import errno
import html
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
import duckdb
from rich.console import Console

from behavioral_analytics import project, web_assets
from behavioral_analytics.cli_options import warehouse_option

console = Console()


def default_site_root() -> Path:
    """<project>/target/docs_site."""
    return project.PROJECT_ROOT / "target" / "docs_site"


DBT_DOCS_FILES = ("index.html", "manifest.json", "catalog.json")
EVENT_FILE_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet", ".csv")
PROJECT_NAME = "behavioral_analytics"


@dataclass
class SuiteSummary:
    suite: str
    relation: str
    rows: int
    evaluated: int
    failed: int


@dataclass
class DocsSite:
    root: Path
    dbt_index: Path
    gx_index: Path
    suites: list[SuiteSummary] = field(default_factory=list)
    skipped_suites: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.root / "index.html"


def dbt_target_path(env: dict | None = None) -> Path:
    """Where dbt writes its artifacts: $DBT_TARGET_PATH, else the project's target/."""
    configured = (env if env is not None else os.environ).get("DBT_TARGET_PATH")
    if not configured:
        return project.PROJECT_ROOT / "target"
    path = Path(configured)
    return path if path.is_absolute() else project.PROJECT_ROOT / path


def _has_event_files(env: dict) -> bool:
    configured = env.get("BEHAVIOR_EVENTS_PATH") or str(project.DEFAULT_EVENTS_PATH)
    root = Path(configured)
    root = root if root.is_absolute() else project.PROJECT_ROOT / root
    if not root.is_dir():
        return False
    return any(
        path.is_file() and path.name.endswith(EVENT_FILE_SUFFIXES) for path in root.rglob("*")
    )


def generate_dbt_docs(
    warehouse: Path,
    target_path: Path | None = None,
    events_path: Path | None = None,
    quiet: bool = False,
) -> Path:
    """Run ``dbt docs generate`` on this warehouse; return the folder with its index.html.

    The catalog is read from the warehouse, so it should be built. The PII salt is not
    needed (and not set here). ``target_path`` defaults to $DBT_TARGET_PATH or target/.
    """
    env = project.dbt_environment(events_path=events_path, warehouse=Path(warehouse))
    if target_path is not None:
        env["DBT_TARGET_PATH"] = str(target_path)
    args = ["docs", "generate", "--target", "duckdb"]
    if not _has_event_files(env):
        # the on-run-start hook compiles (it creates nothing here) and would
        # otherwise fail on a missing events folder
        args += ["--vars", "{behavior__allow_no_event_files: true}"]
    command = [str(Path(sys.executable).with_name("dbt")), *args]
    if not quiet:
        console.print(f"[dim]$ dbt {' '.join(args)}[/]")
    completed = subprocess.run(
        command,
        cwd=project.PROJECT_ROOT,
        env=env,
        check=False,
        capture_output=quiet,
        text=True,
    )
    if completed.returncode != 0:
        output = ((completed.stdout or "") + (completed.stderr or ""))[-4000:] if quiet else ""
        detail = f": {output}" if output else ""
        raise click.ClickException(
            f"dbt {' '.join(args)} failed (exit {completed.returncode}){detail}"
        )
    target = dbt_target_path(env)
    missing = [name for name in DBT_DOCS_FILES if not (target / name).exists()]
    if missing:
        raise click.ClickException(f"dbt docs generate wrote no {', '.join(missing)} in {target}")
    return target


def _relations(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    return {row[0] for row in rows}


def build_gx_docs(
    warehouse: Path, suites: list[str] | None = None
) -> tuple[Path, list[SuiteSummary], list[str]]:
    """Validate the suites (the named ones, else every suite whose relation exists) and
    build the data docs. Returns the data docs index, the results and the suites skipped."""
    from behavioral_analytics.quality.gx_suites import (
        data_docs_index,
        load_suites,
        validate_warehouse,
    )

    skipped: list[str] = []
    if suites is None:
        present = _relations(Path(warehouse))
        suites = []
        for suite in load_suites():
            relation = (suite.meta or {}).get("relation")
            (suites if relation in present else skipped).append(suite.name)
    results = validate_warehouse(Path(warehouse), suites, build_docs=True)
    summaries = [
        SuiteSummary(
            result.suite, result.relation, result.rows, result.evaluated, len(result.failures)
        )
        for result in results
    ]
    index = data_docs_index()
    if not index.exists():
        raise RuntimeError(f"Great Expectations built no data docs at {index}")
    return index, summaries, skipped


def _marts(manifest_path: Path) -> list[tuple[str, str, str]]:
    """(name, unique_id, first line of description) of every mart, by name."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    marts = []
    for unique_id, node in manifest["nodes"].items():
        path = node.get("original_file_path", "")
        if node.get("resource_type") != "model" or node.get("package_name") != PROJECT_NAME:
            continue
        if path.startswith("models/marts/") or path.startswith("python_models/"):
            marts.append((node["name"], unique_id, _grain(node.get("description") or "")))
    return sorted(marts)


def _grain(description: str, limit: int = 180) -> str:
    """The description's first clause, up to a '.' or ':' outside brackets (its grain:
    "One row per ...")."""
    text = " ".join(description.split())
    depth, head = 0, text
    for at, char in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth == 0 and char in ".:" and (at + 1 == len(text) or text[at + 1] == " "):
            head = text[: at + (char == ".")]
            break
    if len(head) > limit:
        head = head[:limit].rsplit(" ", 1)[0] + " ..."
    return head


def _validation_page(site: DocsSite, suite: str) -> str:
    """The suite's latest validation page, relative to the site (the run folders sort by time)."""
    pages = sorted((site.root / "gx" / "validations" / suite).rglob("*.html"))
    return pages[-1].relative_to(site.root).as_posix() if pages else "gx/"


def _index_html(site: DocsSite) -> str:
    def esc(value) -> str:
        return html.escape(str(value))

    mart_rows = "\n".join(
        f'<li><a href="dbt/#!/model/{esc(unique_id)}">{esc(name)}</a> '
        f'(<a href="dbt/#!/model/{esc(unique_id)}?g_v=1&amp;g_i=%2B{esc(name)}%2B">lineage</a>) '
        f"<span class=dim>{esc(description)}</span></li>"
        for name, unique_id, description in _marts(site.root / "dbt" / "manifest.json")
    )
    suite_rows = "\n".join(
        f'<tr><td><a class=suite href="{esc(_validation_page(site, s.suite))}">{esc(s.suite)}</a>'
        f' (<a href="gx/expectations/{esc(s.suite)}.html">expectations</a>)</td>'
        f"<td>{esc(s.relation)}</td><td>{s.rows:,}</td>"
        f"<td>{s.evaluated}</td><td class={'fail' if s.failed else 'ok'}>{s.failed}</td></tr>"
        for s in site.suites
    )
    skipped = (
        f"<p class=dim>Not validated (their relation is not in this warehouse): "
        f"{esc(', '.join(site.skipped_suites))}</p>"
        if site.skipped_suites
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Behavioral analytics warehouse: docs</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
a {{ color: #0b63c4; }} .dim {{ color: #666; }} .fail {{ color: #b00; font-weight: bold; }}
table {{ border-collapse: collapse; }}
td, th {{ padding: .2rem .8rem; border-bottom: 1px solid #ddd; }}
</style></head>
<body>
<h1>Behavioral analytics warehouse</h1>
<ul>
<li><a id="dbt-docs" href="dbt/">dbt docs</a>: every model, column and test, and the
lineage graph (the blue button at the bottom right)</li>
<li><a id="gx-docs" href="gx/">Great Expectations data docs</a>: the suites'
latest results on this warehouse</li>
</ul>
<h2>Marts</h2>
<ul>
{mart_rows}
</ul>
<h2>Great Expectations suites</h2>
<p class=dim>Each suite's latest results on this warehouse. (The data docs' own pages load
their styles and tables from public CDNs: offline they show unstyled, and their home page
lists no suites; the links below open every page.)</p>
<table><tr><th>suite</th><th>relation</th><th>rows</th><th>expectations</th><th>failed</th></tr>
{suite_rows}
</table>
{skipped}
</body></html>
"""


def build_site(
    warehouse: Path,
    site_root: Path | None = None,
    target_path: Path | None = None,
    events_path: Path | None = None,
    suites: list[str] | None = None,
    quiet: bool = False,
) -> DocsSite:
    """Generate the dbt docs and the data docs and put both under ``site_root``."""
    dbt_target = generate_dbt_docs(warehouse, target_path, events_path, quiet=quiet)
    gx_index, summaries, skipped = build_gx_docs(warehouse, suites)
    site_root = Path(site_root) if site_root is not None else default_site_root()
    shutil.rmtree(site_root, ignore_errors=True)
    (site_root / "dbt").mkdir(parents=True)
    for name in DBT_DOCS_FILES:
        shutil.copy2(dbt_target / name, site_root / "dbt" / name)
    shutil.copytree(gx_index.parent, site_root / "gx")
    # GX's pages load Bootstrap & co. from CDNs: serve the local copies instead
    try:
        unknown = web_assets.localize_data_docs(site_root / "gx")
    except web_assets.AssetsMissing as error:
        unknown = []
        console.print(f"[yellow]data docs load their scripts from the internet:[/] {error}")
    if unknown and not quiet:
        console.print(f"[yellow]data docs still load from the internet:[/] {', '.join(unknown)}")
    site = DocsSite(site_root, site_root / "dbt" / "index.html", site_root / "gx" / "index.html")
    site.suites, site.skipped_suites = summaries, skipped
    site.index.write_text(_index_html(site), encoding="utf-8")
    return site


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # a browser that closes a connection mid-file (a page left) is not an error
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def serve(root: Path, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``root`` on 127.0.0.1 from a daemon thread; return the server and its URL.

    Port 0, or a port in use, takes a free one. Stop with ``server.shutdown()``.
    """
    handler = partial(_QuietHandler, directory=str(root))
    try:
        server = _Server(("127.0.0.1", port), handler)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="behavior-docs", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@click.command()
@warehouse_option
@click.option(
    "--port",
    default=8080,
    show_default=True,
    help="Port on 127.0.0.1 (a free one when taken; 0 for any).",
)
@click.option("--no-serve", is_flag=True, help="Only build the docs and print their paths.")
def docs(warehouse: Path | None, port: int, no_serve: bool) -> None:
    """Build the dbt docs and the Great Expectations data docs and serve them on loopback."""
    warehouse = warehouse or project.duckdb_path()
    if not warehouse.exists():
        raise click.ClickException(
            f"no warehouse at {warehouse}: build one with `behavior demo` or `dbt build`, or "
            "point --warehouse (or BEHAVIOR_DUCKDB_PATH) at an existing file"
        )
    site = build_site(warehouse)
    failed = sum(1 for summary in site.suites if summary.failed)
    console.print(
        f"{len(site.suites)} suites validated, {failed} with failures"
        + (
            f"; skipped (not built): {', '.join(site.skipped_suites)}"
            if site.skipped_suites
            else ""
        )
    )
    console.print(f"Index:      {site.index}")
    console.print(f"dbt docs:   {site.dbt_index}")
    console.print(f"Data docs:  {site.gx_index}")
    if no_serve:
        return
    server, url = serve(site.root, port)
    console.print(f"Serving on [bold]{url}/[/] (Ctrl-C stops)")
    console.print(f"  dbt docs:  {url}/dbt/")
    console.print(f"  data docs: {url}/gx/")
    stop = threading.Event()
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        server.shutdown()
        server.server_close()
