"""The serving layer BI tools read: marts as consistent, versioned snapshots.

DuckDB allows one writer, and a reader of the warehouse file would be refused
while ``dbt build`` holds it. So BI tools open another file: ``behavior
publish`` (or the on-run-end hook with ``behavior__publish: true``; both run
the macro ``publish_serving``) writes every mart to Parquet in a new version
folder, writes a new small DuckDB file of views over those Parquet files, and
renames it over the served file (``switch_serving``, registered as a SQL
function by the dbt-duckdb plugin). A rename is atomic: a reader that opened
the old file keeps its snapshot, the next one opens the new version, and a
killed publish leaves the previous version served. Old versions are pruned
after ``behavior__serving_keep_versions``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SERVING_PATH_ENV = "BEHAVIOR_SERVING_PATH"
PUBLISHED_MARKER = "_published"


def serving_path(warehouse: str | Path) -> Path:
    """The served file: $BEHAVIOR_SERVING_PATH, else serving.duckdb beside the warehouse."""
    configured = os.environ.get(SERVING_PATH_ENV, "").strip()
    if configured:
        return Path(configured).absolute()
    return Path(warehouse).absolute().parent / "serving.duckdb"


def versions_root(served: str | Path) -> Path:
    """Where the version folders of this served file live."""
    served = Path(served)
    return served.parent / f"{served.stem}_versions"


def switch_serving(new_file: str, served: str, version: str, keep: int) -> str:
    """Serve the new file (atomic rename over the old one), then prune: keep the
    newest ``keep`` published versions, and drop folders of publishes that were
    killed before their switch. Returns the version served."""
    root = versions_root(served)
    (root / version / PUBLISHED_MARKER).write_text(version + "\n")
    os.replace(new_file, served)
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    published = [p for p in folders if (p / PUBLISHED_MARKER).exists()]
    kept = set(published[-max(int(keep), 1) :])
    for folder in folders:
        if folder not in kept and folder.name < version:
            shutil.rmtree(folder, ignore_errors=True)
    for leftover in Path(served).parent.glob(f"{Path(served).name}.next-*"):
        if leftover.name != Path(new_file).name:
            leftover.unlink(missing_ok=True)
    return version


def served_path_for(warehouse: str) -> str:
    """SQL function: the served file for this warehouse path, as text."""
    return str(serving_path(warehouse))
