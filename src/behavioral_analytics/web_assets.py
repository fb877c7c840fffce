"""The scripts and styles Great Expectations' data docs load from CDNs, served locally.

GX 1.24's data docs pages load Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega
and others from public CDNs; on a machine without internet (this one, most CI, many
warehouses) they render unstyled. Rules:

- ``ASSETS`` maps each CDN address the pages use to one file of an npm package at a
  pinned version (``PACKAGES``). The bootstrap runs ``python -m
  behavioral_analytics.web_assets`` once: ``npm pack`` fetches the packages from the npm
  registry (install time, like pip) and the files used are kept in ``ASSET_ROOT``
  (``.venv/share/gx-web-assets``; Font Awesome with its web fonts).
- ``localize_data_docs(site)`` copies them into ``<site>/assets`` and rewrites every
  HTML page of the site to load them from there (relative paths, so the pages also work
  opened as files). The GX logo (an S3 image) is left out. A CDN address that is not in
  ``ASSETS`` is kept as it is and reported, so a GX upgrade that adds one is noticed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGES = {
    "bootstrap": "4.3.1",
    "jquery": "3.7.1",
    "popper.js": "1.12.9",
    "bootstrap-table": "1.19.1",
    "bootstrap-datepicker": "1.9.0",
    "@fortawesome/fontawesome-free": "6.6.0",
    "@forevolve/bootstrap-dark": "1.1.0",
    "vega": "5.33.1",
    "vega-lite": "5.23.0",
    "vega-embed": "6.29.0",
}
ASSETS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap",
        "dist/css/bootstrap.min.css",
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap",
        "dist/js/bootstrap.min.js",
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js",
        "dist/umd/popper.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table",
        "dist/bootstrap-table.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table",
        "dist/bootstrap-table.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table",
        "dist/extensions/filter-control/bootstrap-table-filter-control.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": ("bootstrap-datepicker", "dist/js/bootstrap-datepicker.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": (
        "bootstrap-datepicker",
        "dist/css/bootstrap-datepicker.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free",
        "css/all.min.css",
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": (
        "@forevolve/bootstrap-dark",
        "dist/css/bootstrap-prefers-dark.css",
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": ("vega", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": ("vega-lite", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": ("vega-embed", "build/vega-embed.min.js"),
}
# folders kept whole (files the stylesheets above load by relative path)
EXTRA_FOLDERS = {"@fortawesome/fontawesome-free": ("webfonts",)}
ASSET_ROOT = Path(sys.prefix) / "share" / "gx-web-assets"
_CDN_ADDRESS = re.compile(
    r'(src|href)="(https://[^"]+\.(?:js|css)|https://cdn\.jsdelivr\.net/npm/[^"]+)"'
)
_LOGO = re.compile(r"<img[^>]+great-expectations-web-assets[^>]*>")
_LOGO_BACKGROUND = re.compile(r"url\('https://great-expectations-web-assets[^']*'\)")


class AssetsMissing(RuntimeError):
    """The local copies are not there (the bootstrap fetches them)."""


def asset_root() -> Path:
    return Path(os.environ.get("BEHAVIOR_GX_WEB_ASSETS") or ASSET_ROOT)


def _folder(package: str) -> str:
    return package.replace("@", "").replace("/", "__")


def fetch(root: Path | None = None) -> Path:
    """npm pack every package and keep the files ``ASSETS`` and ``EXTRA_FOLDERS`` use."""
    root = root or asset_root()
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsMissing("npm is not installed: it fetches the data docs' scripts and styles")
    wanted: dict[str, set[str]] = {}
    for package, path in ASSETS.values():
        wanted.setdefault(package, set()).add(path)
    with tempfile.TemporaryDirectory(prefix="gx-web-assets-") as work:
        specs = [f"{package}@{version}" for package, version in PACKAGES.items()]
        subprocess.run(
            [npm, "pack", *specs, "--silent", "--pack-destination", work],
            check=True,
            capture_output=True,
        )
        staging = Path(work) / "out"
        for package in PACKAGES:
            tarball = next(Path(work).glob(f"{_folder(package).replace('__', '-')}-*.tgz"))
            keep = wanted.get(package, set())
            folders = EXTRA_FOLDERS.get(package, ())
            with tarfile.open(tarball) as archive:
                for member in archive.getmembers():
                    inside = member.name.removeprefix("package/")
                    if member.isfile() and (
                        inside in keep or any(inside.startswith(f + "/") for f in folders)
                    ):
                        target = staging / _folder(package) / inside
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with archive.extractfile(member) as source:
                            target.write_bytes(source.read())
        shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, root)
    missing = [path for path in local_files() if not (root / path).is_file()]
    if missing:
        raise AssetsMissing(f"npm packages lack {missing}")
    (root / "VERSIONS").write_text(_versions_text())
    return root


def _versions_text() -> str:
    """What a current copy holds: the packages at their versions and the files used."""
    packages = "".join(f"{package}@{version}\n" for package, version in PACKAGES.items())
    return packages + "".join(f"{path}\n" for path in local_files())


def is_current(root: Path | None = None) -> bool:
    """The local copies match PACKAGES and ASSETS (else the bootstrap fetches again)."""
    versions = (root or asset_root()) / "VERSIONS"
    return versions.is_file() and versions.read_text() == _versions_text()


def local_files() -> list[str]:
    """The files under the asset root that the CDN addresses map to."""
    return sorted({f"{_folder(package)}/{path}" for package, path in ASSETS.values()})


def localize_data_docs(site: Path) -> list[str]:
    """Serve the data docs' scripts and styles from ``<site>/assets``; return the CDN
    addresses left as they were (not in ``ASSETS``)."""
    root = asset_root()
    if not is_current(root):
        raise AssetsMissing(
            f"the data docs' scripts and styles are not in {root}: run "
            "`bash scripts/bootstrap.sh` (it fetches them with npm)"
        )
    shutil.copytree(root, site / "assets", dirs_exist_ok=True)
    unknown: set[str] = set()
    for page in site.rglob("*.html"):
        if (site / "assets") in page.parents:
            continue
        prefix = "../" * (len(page.relative_to(site).parts) - 1) + "assets/"

        def local(match: re.Match, prefix: str = prefix) -> str:
            address = match.group(2)
            if address not in ASSETS:
                unknown.add(address)
                return match.group(0)
            package, path = ASSETS[address]
            return f'{match.group(1)}="{prefix}{_folder(package)}/{path}"'

        text = page.read_text(encoding="utf-8")
        text = _CDN_ADDRESS.sub(local, text)
        text = _LOGO.sub("", text)
        text = _LOGO_BACKGROUND.sub("none", text)
        page.write_text(text, encoding="utf-8")
    return sorted(unknown)


if __name__ == "__main__":
    print(f"data docs' scripts and styles in {fetch()}")
