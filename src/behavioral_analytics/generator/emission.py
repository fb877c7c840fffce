"""Serialising events as trackers send them: ``_Emitter`` (clocks, batching, retries,
late copies), which hands every event and received copy to the sink.
"""

from __future__ import annotations

import json
import random
from typing import Any

from behavioral_analytics import contract_rules
from behavioral_analytics.generator.common import (
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    MS_PER_SECOND,
    ROW_NULL,
    _encode,
    _fmt_ms,
    _randint,
    _uuid,
)
from behavioral_analytics.generator.sink import _Sink
from behavioral_analytics.generator.world import _STREAM_INDEX, Device, PersonSpec, _World

# --------------------------------------------------------------------------- emission


class _Emitter:
    """Turns simulated client/server events into serialised lines (copies).

    Client lines are assembled from pre-serialised pieces (one JSON encoding of
    ``properties`` per event, ``context`` once per device and consent state); all
    other values are generated ids, names and timestamps that need no escaping.
    Retries of an event only swap ``sent_at`` and ``received_at``.
    """

    def __init__(self, world: _World, sink: _Sink, rows: bool = False) -> None:
        self.world = world
        self.sink = sink
        # Also hand the sink every copy as a row (Parquet/CSV files): tab-separated
        # values of ROW_COLUMNS, so that writing a file needs no JSON parsing.
        self.rows = rows

    # context -----------------------------------------------------------------

    @staticmethod
    def _context_json(device: Device, ip: str, consent: str, marketing: bool) -> str:
        key = f"{ip}/{consent}/{marketing}"
        encoded = device.context_cache.get(key)
        if encoded is None:
            context: dict[str, Any] = {
                "ip": ip,
                "user_agent": device.user_agent,
                "locale": device.locale,
                "timezone_offset_minutes": device.offset_minutes,
            }
            if device.app_version is not None:
                context["app_version"] = device.app_version
            if consent == "given":
                context["consent"] = {"analytics": True, "marketing": marketing}
            elif consent == "false":
                context["consent"] = {"analytics": False, "marketing": False}
            encoded = _encode(context)
            device.context_cache[key] = encoded
        return encoded

    # client events -----------------------------------------------------------

    def emit_client(
        self,
        rng: random.Random,
        person: PersonSpec | None,
        device: Device,
        events: list[tuple[int, str, str | dict[str, Any], str | None]],
    ) -> None:
        """Emit one session's client events: (true_ms, name, properties, user_id)."""
        if not events:
            return
        marketing = person.marketing_consent if person is not None else False
        person_id = person.person_id if person is not None else None
        opt_out_ms = None
        if person is not None and device.device_id in person.opt_out_devices:
            opt_out_ms = person.opt_out_ms
        default_consent = "given" if device.sends_consent else "absent"
        ip = self.world.session_ip(rng, person, device)
        platform = device.platform
        is_app = platform != "web"
        device_id = device.device_id
        skew = device.skew_ms
        offset = device.offset_minutes
        suffix = device.suffix
        sdk = ""
        sdk_row = ROW_NULL
        if platform == "ios" and device.app_version >= "4.2":  # type: ignore[operator]
            sdk = f'"sdk":"analytics-ios/{device.app_version}",'
            sdk_row = f"analytics-ios/{device.app_version}"
        rows = self.rows
        row_head = row_tail = ""
        sink = self.sink
        sink_event = sink.event
        is_bot = device.is_bot
        built = []
        for true_ms, name, properties, user_id in events:
            consent = (
                "false" if opt_out_ms is not None and true_ms >= opt_out_ms else default_consent
            )
            event_id = _uuid(rng)
            ts_text = _fmt_ms(true_ms + skew, offset, suffix)
            properties_json = properties if type(properties) is str else _encode(properties)
            context_json = self._context_json(device, ip, consent, marketing)
            if is_app:
                head = (
                    f'{{"event_id":"{event_id}","event_name":"{name}",'
                    f'"event_ts":"{ts_text}","sent_at":"'
                )
                user_part = "" if user_id is None else f'"user_id":"{user_id}",'
                tail = (
                    f'","anonymous_id":"{device_id}",{user_part}"platform":"{platform}",'
                    f'"schema_version":1,{sdk}"properties":{properties_json},'
                    f'"context":{context_json}}}'
                )
            else:
                user_part = "null" if user_id is None else f'"{user_id}"'
                head = (
                    f'{{"event_id":"{event_id}","event_name":"{name}","platform":"web",'
                    f'"anonymous_id":"{device_id}","user_id":{user_part},'
                    f'"event_ts":"{ts_text}","sent_at":"'
                )
                tail = f'","properties":{properties_json},"context":{context_json}}}'
            index = sink_event(
                event_id,
                name,
                device_id,
                device_id,
                user_id,
                person_id,
                platform,
                is_bot,
                consent != "false",
            )
            if name == "purchase":
                sink.orders[index] = (
                    properties["order_id"],
                    properties["revenue"],
                    properties["currency"],
                )
            if rows:
                row_head = f"{event_id}\t{name}\t{ts_text}"
                row_user = ROW_NULL if user_id is None else user_id
                row_tail = (
                    f"{device_id}\t{row_user}\t{platform}\t{properties_json}\t{context_json}\t"
                    + (f"1\t{sdk_row}" if is_app else f"{ROW_NULL}\t{ROW_NULL}")
                )
            built.append((true_ms, index, head, tail, row_head, row_tail))
        if is_app:
            self._emit_app_batches(rng, device, built)
        else:
            self._emit_web(rng, device, built)

    def _write_copy(
        self,
        rng: random.Random,
        index: int,
        head: str,
        tail: str,
        row_head: str,
        row_tail: str,
        stream: str,
        ts_ms: int,
        sent_ms: int,
        received_ms: int,
        offset_minutes: int,
        suffix: str,
        received_suffix: str,
    ) -> None:
        sent_text = _fmt_ms(sent_ms, offset_minutes, suffix)
        received_text = _fmt_ms(received_ms, 0, received_suffix)
        stream_code = _STREAM_INDEX[stream]
        event_at_ms = received_ms - (sent_ms - ts_ms)  # exactly as a consumer computes it
        line = f'{head}{sent_text}","received_at":"{received_text}{tail}'
        row = f"{row_head}\t{sent_text}\t{received_text}\t{row_tail}" if row_head else None
        copy = self.sink.copy
        copy(index, stream_code, received_ms, event_at_ms, line, row)
        if rng.random() < 0.002:  # collector wrote the same line twice
            copy(index, stream_code, received_ms, event_at_ms, line, row)

    def _emit_web(self, rng: random.Random, device: Device, built: list) -> None:
        skew = device.skew_ms
        offset = device.offset_minutes
        suffix = device.suffix
        fixed_latency = device.fixed_latency_ms
        for true_ms, index, head, tail, row_head, row_tail in built:
            if fixed_latency is not None:
                sent_true = true_ms
                latency = fixed_latency
            else:
                sent_true = true_ms + _randint(rng, 0, 40)
                latency = _randint(rng, 25, 900)
            ts_ms = true_ms + skew
            self._write_copy(
                rng,
                index,
                head,
                tail,
                row_head,
                row_tail,
                "web",
                ts_ms,
                sent_true + skew,
                sent_true + latency,
                offset,
                suffix,
                "Z",
            )
            if device.allow_retries and rng.random() < 0.015:
                if rng.random() < 0.7:
                    retry_sent = sent_true + _randint(rng, MS_PER_SECOND, 30 * MS_PER_SECOND)
                else:
                    retry_sent = sent_true + _randint(rng, MS_PER_HOUR, 30 * MS_PER_HOUR)
                self._write_copy(
                    rng,
                    index,
                    head,
                    tail,
                    row_head,
                    row_tail,
                    "web",
                    ts_ms,
                    retry_sent + skew,
                    retry_sent + _randint(rng, 25, 900),
                    offset,
                    suffix,
                    "Z",
                )

    def _emit_app_batches(self, rng: random.Random, device: Device, built: list) -> None:
        session_start = built[0][0]
        session_last = built[-1][0]
        batches: list[list] = []
        window_end = session_start + device.batch_ms
        current: list = []
        flush_times: list[int] = []
        for item in built:
            true_ms = item[0]
            if true_ms >= window_end:
                batches.append(current)
                flush_times.append(window_end)
                current = []
                while true_ms >= window_end:
                    window_end += device.batch_ms
            current.append(item)
        batches.append(current)
        flush_times.append(min(window_end, session_last + _randint(rng, 1_000, 5_000)))
        skew = device.skew_ms
        for batch, sent_true in zip(batches, flush_times, strict=True):
            if not batch:
                continue
            if device.force_late_first_batch:
                # Scenario: the phone stayed offline past midnight UTC.
                device.force_late_first_batch = False
                next_midnight = (sent_true // MS_PER_DAY + 1) * MS_PER_DAY
                sent_true = next_midnight + _randint(rng, 20 * MS_PER_MINUTE, 4 * MS_PER_HOUR)
            elif rng.random() < 0.04:
                sent_true += _randint(rng, MS_PER_HOUR, 20 * MS_PER_HOUR)
            copies = [(sent_true, _randint(rng, 80, 2_500))]
            if device.allow_retries and rng.random() < 0.012:
                retry_sent = sent_true + _randint(rng, 20 * MS_PER_SECOND, 3 * MS_PER_HOUR)
                copies.append((retry_sent, _randint(rng, 80, 2_500)))
            for copy_sent, latency in copies:
                for true_ms, index, head, tail, row_head, row_tail in batch:
                    self._write_copy(
                        rng,
                        index,
                        head,
                        tail,
                        row_head,
                        row_tail,
                        "mobile",
                        true_ms + skew,
                        copy_sent + skew,
                        copy_sent + latency,
                        device.offset_minutes,
                        device.suffix,
                        "+00:00",
                    )

    # server and offline events ------------------------------------------------

    def emit_server(
        self,
        rng: random.Random,
        person: PersonSpec,
        true_ms: int,
        name: str,
        properties: dict[str, Any],
        platform: str = "server",
    ) -> None:
        user_id = person.user_id
        assert user_id is not None
        event_id = _uuid(rng)
        consent_false = person.opt_out_ms is not None and true_ms >= person.opt_out_ms
        if platform == "server":
            ts_text = _fmt_ms(true_ms, 0, "Z")
            received = true_ms + _randint(rng, 5, 500)
        else:
            ts_text = _fmt_ms(true_ms, person.offset_minutes, person.suffix)
            # Store systems upload nightly (02:00-04:00 UTC the next day).
            received = (true_ms // MS_PER_DAY + 1) * MS_PER_DAY + _randint(
                rng, 2 * MS_PER_HOUR, 4 * MS_PER_HOUR
            )
        obj: dict[str, Any] = {
            "event_id": event_id,
            "event_name": name,
            "platform": platform,
            "user_id": user_id,
            "event_ts": ts_text,
            "received_at": None,
            "properties": properties,
        }
        if consent_false:
            obj["context"] = {"consent": {"analytics": False, "marketing": False}}
        index = self.sink.event(
            event_id,
            name,
            contract_rules.device_id(None, user_id),
            None,
            user_id,
            person.person_id,
            platform,
            False,
            not consent_false,
        )
        if name == "purchase":
            self.sink.orders[index] = (
                properties["order_id"],
                properties["revenue"],
                properties["currency"],
            )
        stream_code = _STREAM_INDEX[platform]
        receipts = [received]
        if rng.random() < 0.005:
            receipts.append(received + _randint(rng, MS_PER_SECOND, 120 * MS_PER_SECOND))
        row = None
        for received_ms in receipts:
            obj["received_at"] = _fmt_ms(received_ms, 0, "Z")
            line = _encode(obj)
            if self.rows:
                context = _encode(obj["context"]) if consent_false else ROW_NULL
                row = (
                    f"{event_id}\t{name}\t{ts_text}\t{ROW_NULL}\t{obj['received_at']}\t"
                    f"{ROW_NULL}\t{user_id}\t{platform}\t{_encode(properties)}\t{context}\t"
                    f"{ROW_NULL}\t{ROW_NULL}"
                )
            self.sink.copy(index, stream_code, received_ms, true_ms, line, row)
            if rng.random() < 0.002:
                self.sink.copy(index, stream_code, received_ms, true_ms, line, row)


def _line_from_row(row: dict[str, Any]) -> str:
    """The JSON line of a copy the emitter wrote as a row (``ROW_COLUMNS`` -> value):
    its keys in the order the emitter writes them for the row's platform."""
    platform = row["platform"]
    if platform == "web":
        keys = ["event_id", "event_name", "platform", "anonymous_id", "user_id", "event_ts"]
        keys += ["sent_at", "received_at", "properties", "context"]
    elif platform in ("server", "offline"):
        keys = ["event_id", "event_name", "platform", "user_id", "event_ts", "received_at"]
        keys += ["properties"] + (["context"] if row["context"] is not None else [])
    else:  # apps
        keys = ["event_id", "event_name", "event_ts", "sent_at", "received_at", "anonymous_id"]
        keys += ["user_id"] if row["user_id"] is not None else []
        keys += ["platform", "schema_version"] + (["sdk"] if row["sdk"] is not None else [])
        keys += ["properties", "context"]
    obj = {key: row[key] for key in keys}
    for key in ("properties", "context"):
        if key in obj:
            obj[key] = json.loads(obj[key])
    return _encode(obj)
