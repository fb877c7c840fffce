"""The README's table of a scale bench run, rendered from its results file.

`scale.py` writes it beside the results file (`scale-<sizes>.md`) and, with
`--readme`, into README.md between the markers that name that results
file:

    <!-- bench-table: bench/results/scale-1m-10m.json -->
    ...
    <!-- /bench-table -->

Also a command, to render a results file again (after a wording change here):

    .venv/bin/python bench/readme_table.py bench/results/scale-1m-10m.json --readme README.md

tests/python/test_bench_scale.py checks that every such block in the README
is the rendering of the results file it names, so the README's figures are
the results file's.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
END_MARKER = "<!-- /bench-table -->"


def _begin_marker(results: str) -> str:
    return f"<!-- bench-table: {results} -->"


def _number(value: float | None, unit: str = "") -> str | None:
    return None if value is None else f"{value:,}{unit}"


def _cell(size: dict, pick: Callable[[dict], str | None]) -> str:
    try:
        value = pick(size)
    except (KeyError, TypeError, ZeroDivisionError):
        value = None
    return "-" if value in (None, "") else value


def _full_build(size: dict) -> str:
    full, bare = size["full_build"], size["bare_script"]
    wall = _number(full["wall_seconds"], " s")
    return f"{wall}, {bare['sql_build_vs_script']}× the bare script ({bare['total_seconds']} s)"


def _peaks(size: dict, key: str, unit: str) -> str:
    day = size["incremental_day"].get(key)
    full = size["full_build"][key]
    return f"{full} / {day}{unit}" if day is not None else f"{full}{unit}"


def _nodes(size: dict) -> str:
    full = ", ".join(f"`{node}`" for node in size["full_build"]["peak_rss_running_nodes"]) or "-"
    day = size["incremental_day"].get("peak_rss_running_nodes")
    if day is None:
        return full
    return f"{full} / {', '.join(f'`{node}`' for node in day) or '-'}"


def _staging(size: dict) -> str:
    bare = size["bare_script"]
    return f"{bare['staging_seconds']} s: {bare['staging_vs_read_type_dedup']}×"


def _sessions(size: dict) -> str:
    s = size["sessionization"]
    return f"{s['ours_seconds']} s: {s['ours_vs_floor']}× / {s['ours_vs_floor_same_output']}×"


def _sessions_alone(size: dict) -> str:
    s = size["sessionization"]
    return f"{s['ours_alone_seconds']} s: {s['ours_alone_vs_floor_same_output']}×"


def _pandas(size: dict) -> str | None:
    ratio = size["sessionization"].get("pandas_vectorized_vs_ours")
    return None if ratio is None else f"{ratio}×"


def _incremental(size: dict) -> str | None:
    day = size["incremental_day"]
    if "share_of_full_build" not in day:
        return day.get("skipped")
    equal = {True: "marts equal", False: "marts differ", None: "marts not compared"}[
        day.get("marts_equal_full_build")
    ]
    return f"{day['wall_seconds']} s ({day['share_of_full_build'] * 100:.1f} %), {equal}"


def _generator(size: dict) -> str:
    generation = size["generation"]
    if generation["seconds"] is None:
        return "reused"
    return f"{generation['seconds']} s for {generation['lines']:,} lines"


def _input(size: dict) -> str:
    given = size["input"]
    return f"{given['events']:,} ({given['lines']:,}, {given['format']})"


ROWS: list[tuple[str, Callable[[dict], str | None]]] = [
    ("valid events (lines, format)", _input),
    ("full `dbt build`, SQL models + data tests", _full_build),
    ("peak memory of dbt, full build / day", lambda s: _peaks(s, "peak_rss_gib", " GiB")),
    ("running when the peak was sampled", _nodes),
    ("peak spill, full build / day", lambda s: _peaks(s, "peak_spill_gib", " GiB")),
    ("`base_tracker__event_lines` / read + type + dedup", _staging),
    ("`int_events_sessionized` in the build: floor / same output", _sessions),
    ("the model's SQL alone / same output", _sessions_alone),
    ("pandas vectorized time / ours (its compute only)", _pandas),
    ("incremental build adding day 90", _incremental),
    ("generator", _generator),
]


def _verdict(result: dict) -> str:
    if result["met"] is None:
        return "not measured" + (f" ({result['note']})" if result.get("note") else "")
    if result["met"]:
        return "met"
    return f"**missed, {result['off_by']}×**"


def render(figures: dict, results: str) -> str:
    """The markdown block for the results file ``results`` (its path as the README names it)."""
    sizes = figures["sizes"]
    machine = figures["machine"]
    lines = [
        _begin_marker(results),
        f"Written by `bench/scale.py` from `{results}`: commit {figures['git']['commit'][:7]},"
        f" {figures['measured_at'][:10]}, {machine['cores']} cores, {machine['memory_gib']} GiB,"
        f" DuckDB {machine['versions']['duckdb']} (`{figures['command']}`).",
        "",
        "| figure | " + " | ".join(sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for name, pick in ROWS:
        cells = " | ".join(_cell(size, pick) for size in sizes.values())
        lines.append(f"| {name} | {cells} |")
    lines += ["", "| target | measured | at | verdict |", "|---|---|---|---|"]
    for result in figures["targets"].values():
        measured = "-" if result["measured"] is None else str(result["measured"])
        at = result["at"] or "-"
        lines.append(f"| {result['goal']} | {measured} | {at} | {_verdict(result)} |")
    lines.append(END_MARKER)
    return "\n".join(lines) + "\n"


def replace_block(text: str, results: str, block: str) -> str:
    """``text`` with the block that names ``results`` replaced by ``block``."""
    pattern = re.compile(
        re.escape(_begin_marker(results)) + r".*?" + re.escape(END_MARKER) + r"\n?", re.S
    )
    if not pattern.search(text):
        raise ValueError(
            f"no block for {results} in the README: add the two lines"
            f" {_begin_marker(results)!r} and {END_MARKER!r} where its table goes"
        )
    return pattern.sub(lambda _: block, text, count=1)


def blocks(text: str) -> dict[str, str]:
    """Every bench table block of ``text``, by the results file it names."""
    pattern = re.compile(r"<!-- bench-table: (\S+) -->.*?" + re.escape(END_MARKER) + r"\n?", re.S)
    return {match.group(1): match.group(0) for match in pattern.finditer(text)}


def results_name(path: Path) -> str:
    """The results file as the README names it: relative to the project when inside it."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


def write(figures: dict, out: Path, readme: Path | None = None) -> Path:
    """Write the block beside the results file (``.md``) and, given ``readme``, into it."""
    name = results_name(out)
    block = render(figures, name)
    table = out.with_suffix(".md")
    table.write_text(block)
    if readme is not None:
        readme.write_text(replace_block(readme.read_text(), name, block))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a results file of bench/scale.py")
    parser.add_argument("--readme", type=Path, default=None, help="also replace its block here")
    args = parser.parse_args()
    table = write(json.loads(args.results.read_text()), args.results, args.readme)
    print(f"written to {table}" + (f" and {args.readme}" if args.readme else ""))


if __name__ == "__main__":
    main()
