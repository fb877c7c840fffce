"""Model version: a short hash of what defines the model.

Rule: ``model_version`` = the first 12 hex digits of the SHA-256 of the canonical JSON
(sorted keys, ISO dates) of ``{"code_version", "params", "training_window", "model"}``:
the run's code version, every ``ChurnParams`` field but ``code_version`` and
``n_threads``, the training window (features as of T − H, labels in [T − H, T)) and the
chosen model with its calibration. Same inputs → same version; any change of code,
params, window or choice → a new one. The data itself is not hashed (the window names it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json


def _canonical(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_canonical(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    return value


def model_version(params, training_window: dict, model: dict) -> str:
    """12 hex digits identifying (code version, params, training window, chosen model)."""
    fields = dataclasses.asdict(params)
    code_version = fields.pop("code_version")
    fields.pop("n_threads", None)  # changes speed, never the result
    payload = {
        "code_version": code_version,
        "params": _canonical(fields),
        "training_window": _canonical(training_window),
        "model": _canonical(model),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
