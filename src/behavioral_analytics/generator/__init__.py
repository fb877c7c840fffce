"""Deterministic synthetic product events, written in the raw event contract, with truth.

Modules, one job each: ``world`` (personas, catalogs, devices, persons), ``simulation``
(what they do), ``emission`` (how trackers send it), ``sink`` (the spool files the
simulation streams to), ``faults`` (bad lines), ``files`` (event files), ``truth``
(what really happened: first copies; ``truth_events`` for events and sessions,
``truth_tables`` for the rest), ``common`` (constants and helpers), ``run``
(``generate``). The contract's rules (reason codes, event time, first received
copy, identity, session defaults) come from ``behavioral_analytics.contract_rules``,
the module the tests check the files and the warehouse with.

``generate()`` simulates persons (with personas, devices, logins, churn and
consent), server-side and offline events, and bots; serialises every event the
way real trackers do (device clocks that are wrong, apps that batch and arrive
hours late, retries, lines that break the contract) into
``<out_dir>/events/received_date=YYYY-MM-DD/<stream>-<nnnn>.<ext>``, and writes
what really happened to ``<out_dir>/truth/``.

Memory stays bounded (issue #11): the simulation streams every received copy's line
(for Parquet/CSV, its row instead) to a spool file of its received date and every
event's row to a spool of its device bucket, keeping a few numbers per copy; the
event files are then written one received date at a time and the truth one batch
of device buckets at a time (``events.parquet`` in row groups of 1,048,576 rows, as
one ``pq.write_table`` makes them). The bad lines are planned from the files' sizes
with the same random draws as when everything was held in memory, so the output is
byte-identical to it.

Everything comes from ``random.Random`` instances seeded from ``seed`` (one per
person / bot / purpose, seeded with a string so that the result does not depend
on ``PYTHONHASHSEED``); no wall clock is read. Timestamps are handled as integer
milliseconds (UTC epoch) and formatted by hand, so the truth ``event_at`` is
exactly what a consumer computes from the serialised strings with the contract
formula ``received_at - (sent_at - event_ts)``.

Event files: one folder per UTC received date; per day and stream several files
(``web-nnnn`` every 6 h, ``mobile-nnnn`` every 12 h, ``server-0001``,
``offline-0001``), lines in order of receipt. ``file_format="jsonl"`` writes
``.jsonl`` (mobile: ``.jsonl.gz``); ``"parquet"`` / ``"csv"`` write the same rows
with one column per top-level field (``properties`` and ``context`` as JSON
strings, timestamps as the same ISO strings, absent fields as null / empty).
Bad lines are extra lines (about 0.75 %); in parquet/csv mode only field-level
faults are generated (no ``invalid_json``) and ``raw_line`` holds the row as JSON.

Line numbers are 1-based file lines, as a person reads the file: for CSV files
the header is line 1 and the first row line 2; for JSONL every physical line
counts, empty ones included. File paths in truth are relative to ``events/``
with forward slashes.

Truth files (``<out_dir>/truth/``):

- ``events.parquet``: one row per valid event, first received copy (earliest
  ``received_at``; ties: earlier file path, then line): event_id, event_name,
  device_id (anonymous_id, else user_id), anonymous_id, user_id, person_id (the
  person who really did it; null for bots), resolved_user_id (the user_id the
  contract's identity rule gives: own user_id, else the single user_id seen with
  the anonymous_id on consented events; null for anonymous events of shared,
  bot and never-logged-in devices), platform, event_at, received_at (UTC, us),
  file, line_number, is_bot, consent_analytics, is_after_opt_out (at or after
  the first consent=false event of its person, as the identity rule resolves the
  person: own user_id, else the device's single user_id, else the device when
  nobody identified on it; nobody for anonymous events of shared devices),
  is_analysed (consent and not after the opt-out), session_index (null for an
  event that is not analysed).
- ``sessions.csv``: device_id, session_index, session_start_at, session_end_at,
  event_count, first_event_id, is_bot: ``sessionize.sessionize`` over the
  analysed events of events.parquet (the contract: an event without consent is
  not used by any analysis; bots are sessionized and flagged, marts drop them).
- ``devices.csv``: device_id, anonymous_id, person_id (empty when several
  persons or a bot), user_ids_seen (pipe-joined, sorted), is_shared (two or more
  user_ids seen), is_bot, bot_kind (ua / behaviour / empty), platform (pipe-joined
  when a user_id device has server and offline events), user_agent, ips (every
  IP its events carried, pipe-joined: home, office, cafe or carrier NAT; a
  household shares its home IP, and some persons live together).
- ``persons.csv``: person_id, user_id, persona, signup_date, churn_date,
  opted_out_at (event_at of the first consent=false event), device_count
  (anonymous devices used), is_identified (its user_id is on some event).
- ``bad_lines.csv``: file, line_number, reason, raw_line.
- ``duplicates.csv``: file, line_number, event_id (copies that are not the first).
- ``orders.csv``: order_id, event_id, person_id, user_id, order_at, revenue,
  currency (``purchase`` events, web/app and offline).
- ``summary.json``: counts, per-file line counts and the parameters.

Truth timestamps in CSV files are ISO-8601 UTC with microseconds and ``+00:00``.
"""

from behavioral_analytics.contract_rules import BAD_LINE_REASONS
from behavioral_analytics.generator.common import FILE_FORMATS, GENERATOR_VERSION
from behavioral_analytics.generator.run import generate
from behavioral_analytics.generator.world import PERSONAS

__all__ = [
    "BAD_LINE_REASONS",
    "FILE_FORMATS",
    "GENERATOR_VERSION",
    "PERSONAS",
    "generate",
]
