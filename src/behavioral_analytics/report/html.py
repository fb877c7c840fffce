"""Write the report: one self-contained HTML file (plotly.js inlined, no network needed).

The first chart is written with ``include_plotlyjs=True`` (the plotly.js bundle inlined in
the page, about 4.7 MB), the others reuse it. Every chart gets a fixed div id, so the same
warehouse gives the same bytes except for the one "generated at" line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from behavioral_analytics.report.pages import Chart, Skipped

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
GRAPH_DIV_CLASS = "plotly-graph-div"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #222; background: #f6f7f9; }
header { background: #1f2d3d; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 8px 0; font-size: 22px; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0;
            font-size: 13px; }
header dt { color: #aab7c4; } header dd { margin: 0; font-family: ui-monospace, monospace; }
main { padding: 8px 32px 32px 32px; max-width: 1300px; }
h2 { margin: 28px 0 8px 0; font-size: 18px; border-bottom: 2px solid #1f2d3d; }
section.chart { background: #fff; border: 1px solid #dde1e6; border-radius: 6px;
                padding: 8px 12px; margin: 12px 0; }
p.caption { margin: 4px 0 4px 0; font-size: 12.5px; color: #555; }
p.skipped { font-size: 13px; color: #8a5a00; background: #fff7e6; border-left: 4px solid #f0a000;
            padding: 6px 10px; margin: 8px 0; }
table.counts { border-collapse: collapse; font-size: 12.5px; margin: 8px 0; background: #fff; }
table.counts td, table.counts th { border: 1px solid #dde1e6; padding: 2px 8px; text-align: left; }
table.counts td.rows { text-align: right; font-family: ui-monospace, monospace; }
nav ul { columns: 3; font-size: 13px; padding-left: 18px; }
"""


@dataclass(frozen=True)
class Header:
    warehouse: str
    built_at: str
    as_of_date: str
    generated_at: str
    row_counts: list[tuple[str, int | None]]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def chart_html(chart: Chart, index: int) -> str:
    height = chart.figure.layout.height or 420
    return chart.figure.to_html(
        full_html=False,
        include_plotlyjs=index == 0,
        div_id=f"chart-{index:02d}-{slug(chart.key)}",
        config=PLOTLY_CONFIG,
        default_width="100%",
        default_height=f"{height}px",
    )


def header_html(header: Header, rendered: int, skipped: int) -> str:
    e = html.escape
    items = [
        ("warehouse", header.warehouse),
        ("built at (file modified)", header.built_at),
        ("as-of date", header.as_of_date),
        ("sections", f"{rendered} rendered, {skipped} skipped"),
        ("generated at", header.generated_at),
    ]
    rows = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in items)
    return f"<header><h1>Behavioral analytics report</h1><dl>{rows}</dl></header>"


def counts_html(row_counts: list[tuple[str, int | None]]) -> str:
    cells = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        f"<td class='rows'>{'missing' if rows is None else f'{rows:,}'}</td></tr>"
        for name, rows in row_counts
    )
    return f"<table class='counts'><tr><th>mart</th><th>rows</th></tr>{cells}</table>"


def document(header: Header, groups: list[tuple[str, list[Chart | Skipped]]]) -> str:
    """The whole page: header, row counts, contents, then each group's sections."""
    e = html.escape
    body: list[str] = []
    contents: list[str] = []
    index = 0
    rendered = skipped = 0
    for group, items in groups:
        body.append(f"<h2 id='{slug(group)}'>{e(group)}</h2>")
        for item in items:
            if isinstance(item, Skipped):
                skipped += 1
                body.append(
                    f"<p class='skipped' data-section='{e(item.key)}'><b>{e(item.title)}</b> "
                    f"skipped: {e(item.reason)}</p>"
                )
                contents.append(f"<li>{e(item.title)} (skipped)</li>")
                continue
            anchor = f"section-{slug(item.key)}"
            body.append(
                f"<section class='chart' id='{anchor}' data-section='{e(item.key)}'>"
                f"{chart_html(item, index)}"
                f"<p class='caption'>{e(item.caption)}</p></section>"
            )
            contents.append(f"<li><a href='#{anchor}'>{e(item.title)}</a></li>")
            index += 1
            rendered += 1
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Behavioral analytics report: {e(header.as_of_date)}</title>"
        f"<style>{STYLE}</style></head><body>"
        + header_html(header, rendered, skipped)
        + "<main><h2>Marts read</h2>"
        + counts_html(header.row_counts)
        + "<nav><h2>Contents</h2><ul>"
        + "".join(contents)
        + "</ul></nav>"
        + "".join(body)
        + "</main></body></html>\n"
    )


def write(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
