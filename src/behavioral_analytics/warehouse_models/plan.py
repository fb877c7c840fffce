"""Which Python models run, in which order, on which relations: from dbt's parse
of the project for the target (its manifest), so vars, custom schemas and the
models' rendered config are dbt's, not restated here."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

from behavioral_analytics import project


class PlanError(RuntimeError):
    """The project's manifest cannot say how to run the Python models."""


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class PythonModel:
    name: str
    path: Path
    relation: Relation
    config: dict
    refs: tuple[str, ...]

    @property
    def unique_key(self) -> str | None:
        """The delete+insert key of an incremental model; None: the whole table."""
        if self.config.get("materialized") != "incremental":
            return None
        return self.config.get("unique_key")


@dataclass(frozen=True)
class Plan:
    models: tuple[PythonModel, ...]  # parents first
    inputs: dict[str, Relation]  # every SQL model a Python model refs


def parse_manifest(target: str, dbt_vars: str | None = None, env: dict | None = None) -> dict:
    """dbt's manifest of the project parsed for ``target`` (no connection is made)."""
    dbt = Path(sys.executable).with_name("dbt")
    with tempfile.TemporaryDirectory(prefix="behavior-parse-") as folder:
        command = [str(dbt), "parse", "--quiet", "--target", target, "--target-path", folder]
        if dbt_vars:
            command += ["--vars", dbt_vars]
        completed = subprocess.run(
            command, cwd=project.PROJECT_ROOT, env=env, capture_output=True, text=True
        )
        if completed.returncode != 0:
            raise PlanError(
                f"dbt parse --target {target} failed (exit {completed.returncode}): "
                + (completed.stdout + completed.stderr).strip()[-2000:]
            )
        return json.loads((Path(folder) / "manifest.json").read_text())


def _nodes(manifest: dict) -> list[dict]:
    """Every model node, enabled or disabled for the target."""
    nodes = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    for versions in manifest.get("disabled", {}).values():
        nodes += [node for node in versions if node["resource_type"] == "model"]
    return nodes


def plan(manifest: dict) -> Plan:
    """The project's Python models, parents first, and the SQL relations they read."""
    package = manifest["metadata"].get("project_name", "behavioral_analytics")
    nodes = [node for node in _nodes(manifest) if node["package_name"] == package]
    python = {node["name"]: node for node in nodes if node["language"] == "python"}
    sql = {node["name"]: node for node in nodes if node["language"] == "sql"}
    if not python:
        raise PlanError("the project has no Python models")
    models: dict[str, PythonModel] = {}
    inputs: dict[str, Relation] = {}
    for name, node in sorted(python.items()):
        refs = tuple(ref["name"] for ref in node["refs"])
        for ref in refs:
            if ref in python:
                continue
            if ref not in sql:
                raise PlanError(f"Python model {name} refs {ref}, which is no model here")
            parent = sql[ref]
            if not parent["config"].get("enabled", True):
                raise PlanError(f"Python model {name} refs {ref}, disabled on this target")
            inputs[ref] = Relation(parent["schema"], parent["alias"] or ref)
        models[name] = PythonModel(
            name=name,
            path=project.PROJECT_ROOT / node["original_file_path"],
            relation=Relation(node["schema"], node["alias"] or name),
            config=node["config"],
            refs=refs,
        )
    order = TopologicalSorter(
        {
            name: sorted({ref for ref in model.refs if ref in python})
            for name, model in models.items()
        }
    )
    ordered = tuple(models[name] for name in order.static_order())
    return Plan(models=ordered, inputs=dict(sorted(inputs.items())))
