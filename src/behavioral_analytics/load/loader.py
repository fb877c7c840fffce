"""The one code path of `behavior load`, whatever the engine (``RawWriter``).

Files already loaded (same name) are skipped; one whose size changed since is
named in a warning and not loaded again (raw files are immutable). Each other
file is probed (``raw_files.probe_raw_file``, as the DuckDB hook does): an
unreadable one is listed in ``unreadable_files`` and stays unloaded, so once
it is replaced the next load takes it. Every readable file's lines are
written with its loaded mark in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from behavioral_analytics.load.files import RawFile, raw_files
from behavioral_analytics.load.lines import read_lines
from behavioral_analytics.load.writer import RawWriter, UnreadableFile
from behavioral_analytics.raw_files import probe_raw_file


@dataclass
class LoadResult:
    files_loaded: int = 0
    lines_loaded: int = 0
    files_skipped: int = 0
    unreadable: list[UnreadableFile] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def load(
    root: Path,
    writer: RawWriter,
    console: Console | None = None,
    show_progress: bool = True,
    after_file: Callable[[RawFile], None] | None = None,
) -> LoadResult:
    """Load every file under ``root`` not loaded yet. ``after_file`` runs after each
    file is committed (tests interrupt a load with it)."""
    console = console or Console(stderr=True)
    writer.prepare()
    loaded = writer.loaded_files()
    result = LoadResult()
    pending: list[RawFile] = []
    for raw in raw_files(root):
        mark = loaded.get(raw.file_name)
        if mark is None:
            pending.append(raw)
            continue
        result.files_skipped += 1
        if mark.size_bytes != raw.size_bytes:
            result.changed.append(raw.file_name)
    for raw in pending:
        error = probe_raw_file(raw.file_path)
        if error is not None:
            result.unreadable.append(UnreadableFile(raw, error))
    writer.replace_unreadable(result.unreadable)
    unreadable_names = {unreadable.raw.file_name for unreadable in result.unreadable}
    readable = [raw for raw in pending if raw.file_name not in unreadable_names]
    with Progress(
        TextColumn("[bold]load[/bold] {task.fields[file]}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task("load", total=sum(raw.size_bytes for raw in readable), file="")
        for raw in readable:
            progress.update(task, file=raw.file_name)
            result.lines_loaded += writer.write_file(raw, raw.checksum(), read_lines(raw))
            result.files_loaded += 1
            progress.advance(task, raw.size_bytes)
            if after_file is not None:
                after_file(raw)
    return result
