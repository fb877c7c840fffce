"""Score the warehouse's identity stitching and bot detection against the generator's truth."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd

from behavioral_analytics import relations


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


def _truth(truth_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    devices = pd.read_csv(truth_dir / "devices.csv", keep_default_na=False, dtype=str)
    for column in ("is_shared", "is_bot"):
        devices[column] = devices[column].str.lower() == "true"
    persons = pd.read_csv(truth_dir / "persons.csv", keep_default_na=False, dtype=str)
    persons["is_identified"] = persons["is_identified"].str.lower() == "true"
    person_of_user = dict(zip(persons["user_id"], persons["person_id"], strict=True))
    person_of_user.pop("", None)
    return devices, persons, person_of_user


def person_hash(user_id: str) -> str:
    """The warehouse's person_id of an account (md5 of 'user|' and the user_id)."""
    return hashlib.md5(f"user|{user_id}".encode()).hexdigest()


def score(warehouse: Path, truth_dir: Path) -> dict[str, Score]:
    """Deterministic stitching over identifiable devices, shared devices, and bots."""
    devices, persons, person_of_user = _truth(truth_dir)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        layout = relations.layout(connection)
        marts = connection.execute(
            "select device_id, stitched_user_id, is_shared, is_bot, is_linked, linked_person_id"
            f" from {layout.marts}.dim_devices"
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
        "links": _link_score(merged, persons),
        "bots": _flag_score("bot devices", merged["is_bot"], merged["is_bot_truth"]),
    }
    return scores


def _link_score(merged: pd.DataFrame, persons: pd.DataFrame) -> Score:
    """Probabilistic links (at the warehouse's threshold) of devices nobody identified on.

    Linkable: a human device with no user_id ever seen on it, used by one person
    who identified somewhere else (so a known person exists to link it to).
    """
    person_of_hash = {
        person_hash(row.user_id): row.person_id
        for row in persons.itertuples()
        if row.user_id and row.is_identified
    }
    linked = merged["is_linked"].fillna(False).astype(bool)
    linked_truth_person = merged["linked_person_id"].map(person_of_hash)
    correct = linked & (linked_truth_person == merged["person_id"])
    identified_persons = set(persons.loc[persons["is_identified"], "person_id"])
    linkable = (
        (merged["user_ids_seen"] == "")
        & ~merged["is_bot_truth"]
        & merged["person_id"].isin(identified_persons)
    )
    return Score(
        "probabilistic links (devices to known persons)",
        correct=int(correct.sum()),
        predicted=int(linked.sum()),
        found=int((correct & linkable).sum()),
        actual=int(linkable.sum()),
    )


def _flag_score(name: str, predicted: pd.Series, actual: pd.Series) -> Score:
    hits = int((predicted & actual).sum())
    return Score(name, hits, int(predicted.sum()), hits, int(actual.sum()))
