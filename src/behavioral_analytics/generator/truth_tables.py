"""The truth's small tables (devices, persons, bad lines, duplicates, orders) and the
summary, from the sink's identity sets, the file layout and the first copies.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from behavioral_analytics.contract_rules import BAD_LINE_REASONS, is_shared_device
from behavioral_analytics.generator.common import _EPOCH_ORDINAL, MS_PER_DAY, _fmt_us_utc
from behavioral_analytics.generator.files import FileLayout, _write_csv
from behavioral_analytics.generator.sink import _Sink
from behavioral_analytics.generator.truth_events import FirstCopies
from behavioral_analytics.generator.world import Device, _World

_DEVICE_COLUMNS = [
    "device_id",
    "anonymous_id",
    "person_id",
    "user_ids_seen",
    "is_shared",
    "is_bot",
    "bot_kind",
    "platform",
    "user_agent",
    "ips",
]


def _devices(world: _World, sink: _Sink) -> tuple[pd.DataFrame, set[str]]:
    device_registry: dict[str, Device] = {}
    for person in world.persons:
        for device in person.devices:
            device_registry[device.device_id] = device
    for bot in world.bots:
        device_registry[bot.device_id] = bot
    user_ids_seen: dict[str, set[str]] = defaultdict(set)
    persons_seen: dict[str, set[str]] = defaultdict(set)
    platforms_seen: dict[str, set[str]] = defaultdict(set)
    for device_id, _, user_id, person_id, platform, _ in sink.identities:
        if user_id is not None:
            user_ids_seen[device_id].add(user_id)
        if person_id is not None:
            persons_seen[device_id].add(person_id)
        platforms_seen[device_id].add(platform)
    device_rows = []
    for device_id in sorted(platforms_seen):
        device = device_registry.get(device_id)
        users = sorted(user_ids_seen[device_id])
        owners = sorted(persons_seen[device_id])
        device_rows.append(
            {
                "device_id": device_id,
                "anonymous_id": device_id if device is not None else "",
                "person_id": owners[0] if len(owners) == 1 else "",
                "user_ids_seen": "|".join(users),
                "is_shared": is_shared_device(users),
                "is_bot": device.is_bot if device is not None else False,
                "bot_kind": device.bot_kind if device is not None else "",
                "platform": "|".join(sorted(platforms_seen[device_id])),
                "user_agent": device.user_agent if device is not None else "",
                "ips": "|".join(sorted(device.ips_used)) if device is not None else "",
            }
        )
    return pd.DataFrame(device_rows, columns=_DEVICE_COLUMNS), set(platforms_seen)


def _persons(world: _World, sink: _Sink, event_at_ms: np.ndarray) -> list[dict[str, Any]]:
    physical_devices: dict[str, set[str]] = defaultdict(set)
    identified_users: set[str] = set()
    for _, anonymous_id, user_id, person_id, _, _ in sink.identities:
        if person_id is not None and anonymous_id is not None:
            physical_devices[person_id].add(anonymous_id)
        if user_id is not None:
            identified_users.add(user_id)
    opted_out: dict[str, int] = {}
    for index, _, _, _, person_id in sink.withdrawn:
        if person_id is not None:
            at_us = int(event_at_ms[index]) * 1000
            opted_out[person_id] = min(at_us, opted_out.get(person_id, at_us))
    start = date.fromordinal(_EPOCH_ORDINAL + world.start_ms // MS_PER_DAY)
    person_rows = []
    for person in world.persons:
        signup_date = ""
        if person.signup_day is not None:
            signup_date = (start + timedelta(days=person.signup_day)).isoformat()
        churn_date = ""
        if person.churn_day is not None:
            churn_date = (start + timedelta(days=person.churn_day)).isoformat()
        opted_out_at = ""
        if person.person_id in opted_out:
            opted_out_at = _fmt_us_utc(opted_out[person.person_id])
        person_rows.append(
            {
                "person_id": person.person_id,
                "user_id": person.user_id or "",
                "persona": person.persona,
                "signup_date": signup_date,
                "churn_date": churn_date,
                "opted_out_at": opted_out_at,
                "device_count": len(physical_devices[person.person_id]),
                "is_identified": person.user_id is not None and person.user_id in identified_users,
            }
        )
    return person_rows


def _orders(sink: _Sink, event_at_ms: np.ndarray, ids: dict[int, tuple]) -> pd.DataFrame:
    order_rows = []
    for index in sorted(sink.orders, key=lambda i: (event_at_ms[i], ids[i][0])):
        order_id, revenue, currency = sink.orders[index]
        event_id, person_id, user_id = ids[index]
        order_rows.append(
            {
                "order_id": order_id,
                "event_id": event_id,
                "person_id": person_id,
                "user_id": user_id,
                "order_at": _fmt_us_utc(int(event_at_ms[index]) * 1000),
                "revenue": revenue,
                "currency": currency,
            }
        )
    return pd.DataFrame(
        order_rows,
        columns=["order_id", "event_id", "person_id", "user_id", "order_at", "revenue", "currency"],
    )


def _write_tables(
    world: _World,
    sink: _Sink,
    layout: FileLayout,
    first: FirstCopies,
    duplicates: tuple[np.ndarray, np.ndarray, np.ndarray],
    counts: dict[str, Any],
    truth_dir: Path,
) -> dict[str, Any]:
    devices_frame, devices_seen = _devices(world, sink)
    _write_csv(truth_dir / "devices.csv", devices_frame)
    person_rows = _persons(world, sink, first.event_at_ms)
    _write_csv(truth_dir / "persons.csv", pd.DataFrame(person_rows))

    paths = layout.paths
    bad_frame = pd.DataFrame(
        [(paths[file], line, reason, raw) for file, line, reason, raw in layout.bad_rows],
        columns=["file", "line_number", "reason", "raw_line"],
    )
    _write_csv(truth_dir / "bad_lines.csv", bad_frame)

    ids = counts["ids"]
    duplicate_files, duplicate_lines, duplicate_events = duplicates
    duplicates_frame = pd.DataFrame(
        {
            "file": [paths[file] for file in duplicate_files.tolist()],
            "line_number": duplicate_lines,
            "event_id": [ids[event][0] for event in duplicate_events.tolist()],
        }
    ).sort_values(["file", "line_number"], kind="stable")
    _write_csv(truth_dir / "duplicates.csv", duplicates_frame)

    orders_frame = _orders(sink, first.event_at_ms, ids)
    _write_csv(truth_dir / "orders.csv", orders_frame)

    # ---------------------------------------------------------------- summary
    file_count = len(paths)
    first_copies = np.bincount(first.file, minlength=file_count)
    duplicates_per_file = np.bincount(duplicate_files, minlength=file_count)
    per_file = {
        path: {
            "lines": layout.lines_per_file[number],
            "valid_first_copies": int(first_copies[number]),
            "duplicates": int(duplicates_per_file[number]),
            "bad_lines": layout.bad_per_file[number],
        }
        for number, path in enumerate(paths)
    }
    reasons = Counter(reason for _, _, reason, _ in layout.bad_rows)
    revenue_by_currency: dict[str, float] = defaultdict(float)
    for _, revenue, currency in sink.orders.values():
        revenue_by_currency[currency] += revenue
    bot_devices = sum(1 for bot in world.bots if bot.device_id in devices_seen)
    return {
        "lines": sum(layout.lines_per_file),
        "valid_events": sink.event_count,
        "duplicates": len(duplicate_events),
        "bad_lines": len(layout.bad_rows),
        "bad_lines_by_reason": {reason: reasons.get(reason, 0) for reason in BAD_LINE_REASONS},
        "consent_false_events": len(sink.withdrawn),
        "after_opt_out_events": counts["after_opt_out_events"],
        "bot_events": counts["bot_events"],
        "sessions": counts["sessions"],
        "bot_sessions": counts["bot_sessions"],
        "devices": len(devices_frame),
        "shared_devices": int(devices_frame["is_shared"].sum()),
        "persons": len(world.persons),
        "identified_persons": int(sum(row["is_identified"] for row in person_rows)),
        "churned_persons": sum(1 for p in world.persons if p.churn_day is not None),
        "bots": bot_devices,
        "orders": len(orders_frame),
        "revenue": round(sum(revenue for _, revenue, _ in sink.orders.values()), 2),
        "revenue_by_currency": {
            currency: round(total, 2) for currency, total in sorted(revenue_by_currency.items())
        },
        "received_dates": sorted({path.split("/")[0].split("=")[1] for path in paths}),
        "line_number_basis": "1-based file lines (a csv header is line 1)",
        "lines_per_file": {path: file_counts["lines"] for path, file_counts in per_file.items()},
        "files": per_file,
    }
