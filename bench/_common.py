"""Helpers shared by the benchmark scripts (bench/foundation.py, bench/scale.py).

- ``machine()``: CPU, cores, memory, platform and the versions that matter;
- ``git_state()``: the commit measured and whether the tree was being edited;
- ``dbt_env()``: the environment of a benchmark dbt run (events, warehouse,
  threads, a bench PII salt);
- ``run_dbt()``/``dbt_run()``: one timed dbt subprocess with the peak memory of its process
  tree and its run_results.json;
- ``node_timings()``: models and tests of a run_results.json, slowest first.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from behavioral_analytics import project  # noqa: E402

# pseudonyms in a benchmark warehouse need a salt; this one protects nothing
BENCH_SALT = "bench-salt-not-a-secret"
VERSIONED_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb", "pandas", "numpy", "pyarrow")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def machine() -> dict:
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: version(name) for name in VERSIONED_PACKAGES},
    }


def usable_cores() -> int:
    """What `nproc` prints: the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def git_state() -> dict:
    """The commit measured, and the files that differed from it (work in progress)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else ""

    # porcelain lines: two status letters, a space, the path
    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line.strip()]
    return {"commit": git("rev-parse", "HEAD").strip() or None, "uncommitted_files": changed}


# --------------------------------------------------------------------------- dbt runs


def dbt_env(events: Path, warehouse: Path, threads: int | None = None) -> dict:
    """Environment of a benchmark dbt run: these files, this warehouse, all usable cores."""
    env = project.dbt_environment(events_path=events, warehouse=warehouse)
    env["BEHAVIOR_THREADS"] = str(threads or usable_cores())
    env[project.PII_SALT_ENV] = BENCH_SALT
    return env


def _tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree = {root_pid}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    total = 0
    for pid in tree:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
    return total


# dbt runs as the child of this small launcher, which writes the peak RSS of its
# largest child (the kernel's ru_maxrss, KiB) to a file. The bench process's own
# ru_maxrss of a direct child is wrong: Linux carries the parent's peak over to a
# child at fork and exec, so after the bench held 10M events in pandas every
# later dbt run "peaked" at the bench's own 19 GiB.
_PEAK_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code if code >= 0 else 128 - code)\n"
)


def _folder_bytes(folder: Path | None) -> int:
    """Bytes of the files in a folder (DuckDB's spill files), 0 when absent."""
    if folder is None:
        return 0
    try:
        return sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file())
    except OSError:  # absent, or a spill file removed while scanned
        return 0


def spill_folder(env: dict) -> Path | None:
    """Where DuckDB spills in a run with this environment (as profiles.yml sets it)."""
    folder = env.get("BEHAVIOR_DUCKDB_TEMP_DIRECTORY") or (
        env["BEHAVIOR_DUCKDB_PATH"] + ".tmp" if env.get("BEHAVIOR_DUCKDB_PATH") else ""
    )
    return Path(folder) if folder.startswith("/") else None


class _MemorySampler(threading.Thread):
    """Samples the RSS of a process tree (and the size of a spill folder) until
    stopped; keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.1, spill: Path | None = None) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.spill = spill
        self.peak_bytes = 0
        # when the tree's peak was sampled (Unix time): which nodes ran then
        self.peak_at: float | None = None
        self.peak_spill_bytes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            rss = _tree_rss_bytes(self.pid)
            if rss > self.peak_bytes:
                self.peak_bytes, self.peak_at = rss, time.time()
            self.peak_spill_bytes = max(self.peak_spill_bytes, _folder_bytes(self.spill))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class DbtRun:
    """One dbt invocation: wall time, memory, exit code and dbt's run results."""

    args: list[str]
    wall_seconds: float
    returncode: int
    # peak of the sampled sum over the process tree, and the exact peak of the
    # largest single process (kernel's ru_maxrss); peak_mib is the larger one
    tree_peak_mib: float
    process_peak_mib: float
    results: dict = field(repr=False)
    log: Path | None = None
    # the largest size DuckDB's spill folder reached (sampled)
    spill_peak_mib: float = 0.0
    # when the sampled tree peak was seen (Unix time)
    tree_peak_at: float | None = None

    @property
    def peak_mib(self) -> float:
        return max(self.tree_peak_mib, self.process_peak_mib)

    @property
    def running_at_tree_peak(self) -> list[str]:
        """The nodes dbt was compiling or executing when the sampled peak was seen.

        dbt shares one DuckDB (one memory_limit) among its threads, so a peak is
        the sum of what the nodes running together hold: this names them.
        """
        return nodes_running_at(self.results, self.tree_peak_at)

    @property
    def failures(self) -> list[dict]:
        """Nodes that did not succeed: error, fail, skipped (not warn, not an exposure's no-op)."""
        return [
            {"node": result["unique_id"], "status": result["status"]}
            for result in self.results.get("results", [])
            if result["status"] not in ("success", "pass", "warn", "no-op")
        ]


class DbtError(RuntimeError):
    pass


def dbt_run(args: list[str], env: dict, work: Path, check: bool = True) -> DbtRun:
    """Run `dbt <args>` in the project with its target and logs under ``work``.

    Measures the wall time and the peak resident memory of the dbt process
    tree. With ``check`` a non-zero exit raises; without it a run that wrote
    run_results.json is returned with its failures (a failed test still
    gives valid timings). dbt's console output goes to ``work/dbt-<n>.log``.
    """
    dbt = str(Path(sys.executable).with_name("dbt"))
    target = work / "target"
    target.mkdir(parents=True, exist_ok=True)
    (target / "run_results.json").unlink(missing_ok=True)
    log = work / f"dbt-{len(list(work.glob('dbt-*.log'))) + 1}-{args[0]}.log"
    command = [dbt, *args, "--target-path", str(target), "--log-path", str(work / "logs")]
    peak_file = work / "dbt-peak-rss-kib"
    peak_file.unlink(missing_ok=True)
    with log.open("w") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-S", "-c", _PEAK_LAUNCHER, str(peak_file), *command],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
        )
        sampler = _MemorySampler(process.pid, spill=spill_folder(env))
        sampler.start()
        _, status, _ = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    peak_kib = int(peak_file.read_text()) if peak_file.exists() else 0
    results_file = target / "run_results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    if process.returncode != 0 and (check or not results):
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise DbtError(f"dbt {' '.join(args)} exited with {process.returncode}:\n{tail}")
    return DbtRun(
        args=args,
        wall_seconds=wall,
        returncode=process.returncode,
        tree_peak_mib=sampler.peak_bytes / 2**20,
        process_peak_mib=peak_kib / 1024,
        results=results,
        log=log,
        spill_peak_mib=sampler.peak_spill_bytes / 2**20,
        tree_peak_at=sampler.peak_at,
    )


def nodes_running_at(results: dict, at: float | None) -> list[str]:
    """Nodes of dbt's run results whose compile-to-execute span holds the Unix time ``at``."""
    if at is None:
        return []
    running = []
    for result in results.get("results", []):
        spans = [
            (step["started_at"], step["completed_at"])
            for step in result.get("timing", [])
            if step.get("started_at") and step.get("completed_at")
        ]
        if not spans:
            continue
        started = min(_unix_time(start) for start, _ in spans)
        completed = max(_unix_time(end) for _, end in spans)
        if started <= at <= completed:
            running.append(_node_name(result["unique_id"]))
    return running


def _unix_time(iso: str) -> float:
    # dbt writes UTC with a trailing Z
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def run_dbt(args: list[str], env: dict, work: Path) -> tuple[float, float, dict]:
    """Run dbt; return wall seconds, peak RSS of the dbt process tree (MiB), run results."""
    run = dbt_run(args, env, work)
    return run.wall_seconds, run.peak_mib, run.results


def _node_name(unique_id: str) -> str:
    # model.<project>.<name>, test.<project>.<name>.<hash>, unit_test.<project>.<model>.<name>
    parts = unique_id.split(".")
    if parts[0] == "unit_test":
        return ".".join(parts[2:4])
    if parts[0] == "test":
        return parts[2]
    return parts[-1]


def node_timings(results: dict, digits: int = 3) -> dict[str, list[dict]]:
    """Models, tests (data and unit) and seeds of a run, each slowest first."""
    kinds = {"models": ("model.",), "tests": ("test.", "unit_test."), "seeds": ("seed.",)}
    timings: dict[str, list[dict]] = {}
    for kind, prefixes in kinds.items():
        rows = [
            {
                "node": _node_name(result["unique_id"]),
                "seconds": round(result["execution_time"], digits),
                "status": result["status"],
            }
            for result in results.get("results", [])
            if result["unique_id"].startswith(prefixes)
        ]
        timings[kind] = sorted(rows, key=lambda row: -row["seconds"])
    return timings
