"""What really happened, written to ``truth/`` (events, sessions, devices,
persons, bad lines, duplicates, orders, summary).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from behavioral_analytics.contract_rules import (
    BAD_LINE_REASONS,
    FIRST_COPY_ORDER,
    is_shared_device,
    linked_user_ids,
    stitched_user_id,
)
from behavioral_analytics.generator.common import _EPOCH_ORDINAL, MS_PER_DAY, _fmt_us_utc
from behavioral_analytics.generator.emission import _Sink
from behavioral_analytics.generator.files import TRUTH_EVENTS_SCHEMA, _timestamps_us, _write_csv
from behavioral_analytics.generator.world import Device, _World
from behavioral_analytics.sessionize import sessionize


def _write_truth(
    world: _World,
    sink: _Sink,
    files: list[tuple[str, str, list[int]]],
    truth_dir: Path,
    file_paths: list[str],
    file_format: str,
    timeout_minutes: float,
    max_session_minutes: float | None,
) -> dict[str, Any]:
    copy_count = len(sink.copy_line)
    copy_file = np.zeros(copy_count, dtype=np.int64)
    copy_line_number = np.zeros(copy_count, dtype=np.int64)
    # Line numbers as a person reads the file: a CSV's header is line 1.
    first_line = 2 if file_format == "csv" else 1
    for file_number, (_, _, indices) in enumerate(files):
        copy_file[indices] = file_number
        copy_line_number[indices] = np.arange(first_line, len(indices) + first_line)
    copy_event = np.asarray(sink.copy_event, dtype=np.int64)
    copy_received = np.asarray(sink.copy_received, dtype=np.int64)
    copy_event_at = np.asarray(sink.copy_event_at, dtype=np.int64)

    # First received copy wins (contract order: received_at, file path, line); file
    # numbers follow the paths, as files are sorted by path.
    valid = np.flatnonzero(copy_event >= 0)
    copy_keys = {"received_at": copy_received, "file": copy_file, "line_number": copy_line_number}
    # np.lexsort sorts by its last key first: event, then FIRST_COPY_ORDER.
    sort_keys = [copy_keys[field][valid] for field in reversed(FIRST_COPY_ORDER)]
    order = valid[np.lexsort((*sort_keys, copy_event[valid]))]
    ordered_events = copy_event[order]
    is_first = np.ones(len(order), dtype=bool)
    is_first[1:] = ordered_events[1:] != ordered_events[:-1]
    first_copy = np.empty(len(sink.event_id), dtype=np.int64)
    first_copy[ordered_events[is_first]] = order[is_first]
    duplicate_copies = np.sort(order[~is_first])

    # ---------------------------------------------------------------- events.parquet
    file_path_array = np.asarray(file_paths, dtype=object)
    events = pd.DataFrame(
        {
            "event_id": pd.Series(sink.event_id, dtype=object),
            "event_name": pd.Series(sink.event_name, dtype=object),
            "device_id": pd.Series(sink.device_id, dtype=object),
            "anonymous_id": pd.Series(sink.anonymous_id, dtype=object),
            "user_id": pd.Series(sink.user_id, dtype=object),
            "person_id": pd.Series(sink.person_id, dtype=object),
            "platform": pd.Series(sink.platform, dtype=object),
            "event_at": _timestamps_us(copy_event_at[first_copy] * 1000),
            "received_at": _timestamps_us(copy_received[first_copy] * 1000),
            "file": pd.Series(file_path_array[copy_file[first_copy]], dtype=object),
            "line_number": copy_line_number[first_copy],
            "is_bot": np.asarray(sink.is_bot, dtype=bool),
            "consent_analytics": np.asarray(sink.consent, dtype=bool),
        }
    )
    # Identity per the contract, from consented events: an anonymous_id seen with exactly
    # one user_id belongs to it (before and after); with two or more it is shared.
    links = linked_user_ids(
        (anonymous_id, user_id)
        for anonymous_id, user_id, consent in set(
            zip(sink.anonymous_id, sink.user_id, sink.consent, strict=True)
        )
        if consent
    )
    single_user = {
        anonymous_id: stitched_user_id(users)
        for anonymous_id, users in links.items()
        if not is_shared_device(users)
    }
    events["resolved_user_id"] = pd.Series(
        [
            user_id if user_id is not None else single_user.get(anonymous_id)
            for anonymous_id, user_id in zip(sink.anonymous_id, sink.user_id, strict=True)
        ],
        dtype=object,
    )
    # Opt-out propagation: a person's first consent=false event ends everything of
    # that person from that moment on, on every device. The person is what the
    # identity rule can know: the event's own user_id, else the device's single
    # user_id, else the device itself when nobody ever identified on it (an
    # anonymous event on a shared device belongs to nobody).
    person_keys = [
        f"user|{user_id}"
        if user_id is not None
        else (
            f"user|{single_user[anonymous_id]}"
            if anonymous_id in single_user
            else (None if anonymous_id in links else f"device|{device_id}")
        )
        for anonymous_id, user_id, device_id in zip(
            sink.anonymous_id, sink.user_id, sink.device_id, strict=True
        )
    ]
    event_at_us = copy_event_at[first_copy] * 1000
    consent = events["consent_analytics"].to_numpy()
    opt_out_at: dict[str, int] = {}
    for key, at_us, given in zip(person_keys, event_at_us, consent, strict=True):
        if key is not None and not given and at_us < opt_out_at.get(key, np.iinfo(np.int64).max):
            opt_out_at[key] = int(at_us)
    events["is_after_opt_out"] = np.fromiter(
        (
            key is not None and key in opt_out_at and at_us >= opt_out_at[key]
            for key, at_us in zip(person_keys, event_at_us, strict=True)
        ),
        dtype=bool,
        count=len(person_keys),
    )
    events["is_analysed"] = events["consent_analytics"] & ~events["is_after_opt_out"]
    # The contract: an event without analytics consent is not used by any analysis,
    # sessions included; nor is anything after its person's opt-out. Those keep a
    # null session_index. Bots are sessionized (their behaviour is how they are found).
    consented_sessions = sessionize(
        events[events["is_analysed"]],
        timeout_minutes=timeout_minutes,
        max_session_minutes=max_session_minutes,
    )[["event_id", "session_index"]]
    sessionized = events.merge(consented_sessions, on="event_id", how="left", validate="1:1")
    sessionized["session_index"] = sessionized["session_index"].astype("Int64")
    sessionized = sessionized.sort_values(
        ["device_id", "event_at", "event_id"], kind="stable"
    ).reset_index(drop=True)[TRUTH_EVENTS_SCHEMA.names]
    pq.write_table(
        pa.Table.from_pandas(sessionized, schema=TRUTH_EVENTS_SCHEMA, preserve_index=False),
        truth_dir / "events.parquet",
        compression="snappy",
    )

    # ---------------------------------------------------------------- sessions.csv
    event_us = sessionized["event_at"].dt.tz_convert(None).dt.as_unit("us").to_numpy().view("int64")
    sessions = (
        sessionized.assign(_us=event_us)
        .dropna(subset=["session_index"])
        .groupby(["device_id", "session_index"], sort=True)
        .agg(
            session_start_us=("_us", "min"),
            session_end_us=("_us", "max"),
            event_count=("event_id", "size"),
            first_event_id=("event_id", "first"),
            is_bot=("is_bot", "first"),
        )
        .reset_index()
    )
    sessions_out = pd.DataFrame(
        {
            "device_id": sessions["device_id"],
            "session_index": sessions["session_index"],
            "session_start_at": [_fmt_us_utc(int(v)) for v in sessions["session_start_us"]],
            "session_end_at": [_fmt_us_utc(int(v)) for v in sessions["session_end_us"]],
            "event_count": sessions["event_count"],
            "first_event_id": sessions["first_event_id"],
            "is_bot": sessions["is_bot"],
        }
    )
    _write_csv(truth_dir / "sessions.csv", sessions_out)

    # ---------------------------------------------------------------- devices.csv
    device_registry: dict[str, Device] = {}
    for person in world.persons:
        for device in person.devices:
            device_registry[device.device_id] = device
    for bot in world.bots:
        device_registry[bot.device_id] = bot
    user_ids_seen: dict[str, set[str]] = defaultdict(set)
    persons_seen: dict[str, set[str]] = defaultdict(set)
    platforms_seen: dict[str, set[str]] = defaultdict(set)
    for device_id, user_id in set(zip(sink.device_id, sink.user_id, strict=True)):
        if user_id is not None:
            user_ids_seen[device_id].add(user_id)
    for device_id, person_id in set(zip(sink.device_id, sink.person_id, strict=True)):
        if person_id is not None:
            persons_seen[device_id].add(person_id)
    for device_id, platform in set(zip(sink.device_id, sink.platform, strict=True)):
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
    devices_frame = pd.DataFrame(
        device_rows,
        columns=[
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
        ],
    )
    _write_csv(truth_dir / "devices.csv", devices_frame)

    # ---------------------------------------------------------------- persons.csv
    physical_devices: dict[str, set[str]] = defaultdict(set)
    for person_id, anonymous_id in set(zip(sink.person_id, sink.anonymous_id, strict=True)):
        if person_id is not None and anonymous_id is not None:
            physical_devices[person_id].add(anonymous_id)
    identified_users = set(sink.user_id) - {None}
    opted_out = (
        sessionized.loc[~sessionized["consent_analytics"] & sessionized["person_id"].notna()]
        .assign(
            _us=event_us[
                ~sessionized["consent_analytics"].to_numpy()
                & sessionized["person_id"].notna().to_numpy()
            ]
        )
        .groupby("person_id")["_us"]
        .min()
    )
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
        if person.person_id in opted_out.index:
            opted_out_at = _fmt_us_utc(int(opted_out[person.person_id]))
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
    _write_csv(truth_dir / "persons.csv", pd.DataFrame(person_rows))

    # ---------------------------------------------------------------- bad lines, duplicates
    bad_reason = sink.bad_reason
    bad_rows = [
        {
            "file": file_paths[copy_file[index]],
            "line_number": int(copy_line_number[index]),
            "reason": reason,
            "raw_line": sink.copy_line[index],
        }
        for index, reason in bad_reason.items()
    ]
    bad_frame = pd.DataFrame(bad_rows, columns=["file", "line_number", "reason", "raw_line"])
    bad_frame = bad_frame.sort_values(["file", "line_number"], kind="stable")
    _write_csv(truth_dir / "bad_lines.csv", bad_frame)

    duplicates_frame = pd.DataFrame(
        {
            "file": [file_paths[copy_file[i]] for i in duplicate_copies],
            "line_number": copy_line_number[duplicate_copies],
            "event_id": [sink.event_id[copy_event[i]] for i in duplicate_copies],
        }
    ).sort_values(["file", "line_number"], kind="stable")
    _write_csv(truth_dir / "duplicates.csv", duplicates_frame)

    # ---------------------------------------------------------------- orders.csv
    event_at_ms = copy_event_at[first_copy]
    order_rows = []
    for index in sorted(sink.orders, key=lambda i: (event_at_ms[i], sink.event_id[i])):
        order_id, revenue, currency = sink.orders[index]
        order_rows.append(
            {
                "order_id": order_id,
                "event_id": sink.event_id[index],
                "person_id": sink.person_id[index],
                "user_id": sink.user_id[index],
                "order_at": _fmt_us_utc(int(event_at_ms[index]) * 1000),
                "revenue": revenue,
                "currency": currency,
            }
        )
    orders_frame = pd.DataFrame(
        order_rows,
        columns=["order_id", "event_id", "person_id", "user_id", "order_at", "revenue", "currency"],
    )
    _write_csv(truth_dir / "orders.csv", orders_frame)

    # ---------------------------------------------------------------- summary
    per_file: dict[str, dict[str, int]] = {}
    first_copy_set = np.zeros(copy_count, dtype=bool)
    first_copy_set[first_copy] = True
    duplicate_set = np.zeros(copy_count, dtype=bool)
    duplicate_set[duplicate_copies] = True
    for path, _, indices in files:
        index_array = np.asarray(indices, dtype=np.int64)
        per_file[path] = {
            "lines": len(indices),
            "valid_first_copies": int(first_copy_set[index_array].sum()),
            "duplicates": int(duplicate_set[index_array].sum()),
            "bad_lines": int((copy_event[index_array] < 0).sum()),
        }
    reasons = Counter(bad_reason.values())
    revenue_by_currency: dict[str, float] = defaultdict(float)
    for _, revenue, currency in sink.orders.values():
        revenue_by_currency[currency] += revenue
    bot_devices = sum(1 for bot in world.bots if bot.device_id in platforms_seen)
    return {
        "lines": copy_count,
        "valid_events": len(sink.event_id),
        "duplicates": int(len(duplicate_copies)),
        "bad_lines": len(bad_reason),
        "bad_lines_by_reason": {reason: reasons.get(reason, 0) for reason in BAD_LINE_REASONS},
        "consent_false_events": int((~events["consent_analytics"]).sum()),
        "after_opt_out_events": int(events["is_after_opt_out"].sum()),
        "bot_events": int(events["is_bot"].sum()),
        "sessions": int((~sessions_out["is_bot"]).sum()),  # people's, as in fct_sessions
        "bot_sessions": int(sessions_out["is_bot"].sum()),
        "devices": len(devices_frame),
        "shared_devices": int(devices_frame["is_shared"].sum()),
        "persons": len(world.persons),
        "identified_persons": int(sum(row["is_identified"] for row in person_rows)),
        "churned_persons": sum(1 for p in world.persons if p.churn_day is not None),
        "bots": bot_devices,
        "orders": len(order_rows),
        "revenue": round(sum(revenue for _, revenue, _ in sink.orders.values()), 2),
        "revenue_by_currency": {
            currency: round(total, 2) for currency, total in sorted(revenue_by_currency.items())
        },
        "received_dates": sorted({path.split("/")[0].split("=")[1] for path in file_paths}),
        "line_number_basis": "1-based file lines (a csv header is line 1)",
        "lines_per_file": {path: counts["lines"] for path, counts in per_file.items()},
        "files": per_file,
    }
