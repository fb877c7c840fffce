"""Score the warehouse's identity stitching and bot detection against the generator's truth."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd


@dataclass
class Score:
    """precision = correct / predicted; recall = found / actual."""

    name: str
    correct: int
    predicted: int
    found: int
    actual: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.actual if self.actual else 1.0

    def as_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall}


def _truth(truth_dir: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    devices = pd.read_csv(truth_dir / "devices.csv", keep_default_na=False, dtype=str)
    for column in ("is_shared", "is_bot"):
        devices[column] = devices[column].str.lower() == "true"
    persons = pd.read_csv(truth_dir / "persons.csv", keep_default_na=False, dtype=str)
    person_of_user = dict(zip(persons["user_id"], persons["person_id"], strict=True))
    person_of_user.pop("", None)
    return devices, person_of_user


def score(warehouse: Path, truth_dir: Path) -> dict[str, Score]:
    """Deterministic stitching over identifiable devices, shared devices, and bots."""
    devices, person_of_user = _truth(truth_dir)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        marts = connection.execute(
            "select device_id, stitched_user_id, is_shared, is_bot from main_marts.dim_devices"
        ).df()
    merged = devices.merge(marts, on="device_id", how="left", suffixes=("_truth", ""))
    merged["is_bot"] = merged["is_bot"].fillna(False).astype(bool)
    merged["is_shared"] = merged["is_shared"].fillna(False).astype(bool)

    # A device is identifiable when a user_id was seen on it, it is one person's and human.
    identifiable = (
        (merged["user_ids_seen"] != "") & ~merged["is_shared_truth"] & ~merged["is_bot_truth"]
    )
    stitched = merged["stitched_user_id"].notna()
    correct = stitched & (
        merged["stitched_user_id"].map(person_of_user).fillna("__none__") == merged["person_id"]
    )
    scores = {
        "stitching": Score(
            "deterministic stitching (devices to persons)",
            correct=int(correct.sum()),
            predicted=int(stitched.sum()),
            found=int((correct & identifiable).sum()),
            actual=int(identifiable.sum()),
        ),
        "shared_devices": _flag_score(
            "shared devices detected", merged["is_shared"], merged["is_shared_truth"]
        ),
        "bots": _flag_score("bot devices", merged["is_bot"], merged["is_bot_truth"]),
    }
    return scores


def _flag_score(name: str, predicted: pd.Series, actual: pd.Series) -> Score:
    hits = int((predicted & actual).sum())
    return Score(name, hits, int(predicted.sum()), hits, int(actual.sum()))
