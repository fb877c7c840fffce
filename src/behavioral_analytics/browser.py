"""Headless Chromium for looking at what the project renders (docs site, report).

Rules:

- The browser is Debian's ``chromium`` (``$BEHAVIOR_CHROMIUM`` overrides the path); the
  bootstrap installs it where missing. Without it ``BrowserMissing`` names what to do.
- Every run gets a new empty profile folder and the flags that keep Chromium off the
  network (no background networking, component updates, sync or QUIC): this machine's
  network is closed and Chromium would otherwise retry Google's hosts at every start.
- ``render_dom`` returns the DOM after scripts ran (``--dump-dom`` with a virtual time
  budget, so pages that draw with JavaScript are drawn); ``screenshot`` writes a PNG.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
TIMEOUT_SECONDS = 120


class BrowserMissing(RuntimeError):
    """Chromium is not installed (the message says how to get it)."""


def chromium_path() -> str:
    """The Chromium binary: $BEHAVIOR_CHROMIUM, else ``chromium`` on the PATH."""
    configured = os.environ.get("BEHAVIOR_CHROMIUM")
    found = configured or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise BrowserMissing(
            "chromium is not installed: run `bash scripts/bootstrap.sh` as root (it installs "
            "Debian's chromium package) or set BEHAVIOR_CHROMIUM to a Chromium binary"
        )
    return found


def _run(url: str, extra: list[str], budget_ms: int) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="behavior-chromium-") as profile:
        command = [
            chromium_path(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            *extra,
            url,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(
            f"chromium exited {done.returncode} on {url}: {done.stderr.strip()[-2000:]}"
        )
    return done


def render_dom(url: str, budget_ms: int = 15_000) -> str:
    """The page's DOM after its scripts ran for ``budget_ms`` of virtual time."""
    return _run(url, ["--dump-dom"], budget_ms).stdout


def screenshot(
    url: str, path: Path, width: int = 1400, height: int = 1000, budget_ms: int = 15_000
) -> Path:
    """A PNG of the page as drawn after ``budget_ms`` of virtual time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(url, [f"--screenshot={path}", f"--window-size={width},{height}"], budget_ms)
    if not path.exists():
        raise RuntimeError(f"chromium wrote no screenshot of {url} to {path}")
    return path
