"""write_report: read the warehouse's marts, render every section, write the HTML file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from behavioral_analytics.report import html
from behavioral_analytics.report.pages import PAGES, Chart, Skipped, header_marts, render
from behavioral_analytics.report.queries import Warehouse


@dataclass(frozen=True)
class ReportResult:
    """What was written: the file, the sections rendered (one chart each) and skipped."""

    out: Path
    rendered: list[str]
    skipped: list[Skipped]
    as_of_date: str

    @property
    def charts(self) -> int:
        return len(self.rendered)


def default_out(warehouse: Path) -> Path:
    """report.html beside the warehouse file."""
    return warehouse.parent / "report.html"


def write_report(warehouse: Path, out: Path, generated_at: datetime | None = None) -> ReportResult:
    """Write the report of ``warehouse`` (a built DuckDB file, opened read-only) to ``out``."""
    warehouse = Path(warehouse)
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse file at {warehouse}")
    generated = (generated_at or datetime.now(UTC)).astimezone(UTC)
    built = datetime.fromtimestamp(warehouse.stat().st_mtime, UTC)
    groups: dict[str, list[Chart | Skipped]] = {}
    with Warehouse(warehouse) as reader:
        for page in PAGES:
            outcome = render(reader, page)
            items = [outcome] if isinstance(outcome, Skipped) else outcome
            groups.setdefault(page.group, []).extend(items)
        as_of = reader.as_of_date() or "unknown"
        counts = [
            (f"{reader.layout.marts}.{mart}", reader.status(mart).rows) for mart in header_marts()
        ]
    header = html.Header(
        warehouse=str(warehouse.resolve()),
        built_at=built.strftime("%Y-%m-%d %H:%M:%S UTC"),
        as_of_date=as_of,
        generated_at=generated.strftime("%Y-%m-%d %H:%M:%S UTC"),
        row_counts=counts,
    )
    html.write(Path(out), html.document(header, list(groups.items())))
    items = [item for group in groups.values() for item in group]
    return ReportResult(
        out=Path(out),
        rendered=[item.key for item in items if isinstance(item, Chart)],
        skipped=[item for item in items if isinstance(item, Skipped)],
        as_of_date=as_of,
    )
