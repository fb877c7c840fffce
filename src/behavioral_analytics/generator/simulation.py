"""What persons and bots do over the simulated days (``_Simulator``: one actor at a time,
its own seeded random stream), and the loop over them."""

from __future__ import annotations

import random
from typing import Any

from behavioral_analytics.contract_rules import SESSION_TIMEOUT_MINUTES
from behavioral_analytics.generator.common import (
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    MS_PER_SECOND,
    _cumulative,
    _encode,
    _poisson,
    _randint,
    _randrange,
    _weighted_index,
)
from behavioral_analytics.generator.emission import _Emitter
from behavioral_analytics.generator.world import (
    _ACTION_CUMULATIVE,
    _CURRENCY_RATE,
    _HOUR_CUMULATIVE,
    ACTIONS,
    FEATURES,
    PAGE_PATHS,
    PERSONAS,
    PRODUCT_COUNT,
    SCREEN_NAMES,
    SEARCH_QUERIES,
    Device,
    PersonSpec,
    _World,
)

# --------------------------------------------------------------------------- simulation


class _Simulator:
    def __init__(self, world: _World, emitter: _Emitter) -> None:
        self.world = world
        self.emitter = emitter
        # Properties of the frequent events come from small vocabularies: encode them once.
        products = [f"prd_{number + 1:04d}" for number in range(PRODUCT_COUNT)]
        prices = world.prices
        self.product_page_json = [_encode({"page_path": f"/products/{p}"}) for p in products]
        self.product_view_json = [
            _encode({"product_id": p, "price": price})
            for p, price in zip(products, prices, strict=True)
        ]
        self.add_to_cart_json = [
            _encode({"product_id": p, "quantity": 1, "price": price})
            for p, price in zip(products, prices, strict=True)
        ]
        self.remove_from_cart_json = [_encode({"product_id": p, "quantity": 1}) for p in products]
        self.page_json = [_encode({"page_path": path}) for path in PAGE_PATHS]
        self.screen_json = [_encode({"screen_name": name}) for name in SCREEN_NAMES]
        self.search_json = [
            [_encode({"query": query, "results": results}) for results in range(81)]
            for query in SEARCH_QUERIES
        ]
        self.feature_json = [_encode({"feature": feature}) for feature in FEATURES]
        self.banner_json = [_encode({"banner_id": f"bnr_{n:02d}"}) for n in range(1, 13)]
        self.chat_json = [_encode({"topic": t}) for t in ("delivery", "returns", "payment")]

    # properties (pre-encoded JSON strings) ---------------------------------------

    def _view(self, rng: random.Random, platform: str) -> tuple[str, str]:
        if platform == "web":
            if rng.random() < 0.35:
                return "page_view", self.product_page_json[_randrange(rng, PRODUCT_COUNT)]
            return "page_view", self.page_json[_randrange(rng, len(PAGE_PATHS))]
        return "screen_view", self.screen_json[_randrange(rng, len(SCREEN_NAMES))]

    def _action(self, rng: random.Random, action: str, platform: str, cart: list[int]):
        if action == "view":
            return self._view(rng, platform)
        if action == "product_view":
            return "product_view", self.product_view_json[_randrange(rng, PRODUCT_COUNT)]
        if action == "search":
            queries = self.search_json[_randrange(rng, len(SEARCH_QUERIES))]
            return "search", queries[_randint(rng, 0, 80)]
        if action == "add_to_cart":
            number = _randrange(rng, PRODUCT_COUNT)
            cart.append(number)
            return "add_to_cart", self.add_to_cart_json[number]
        if action == "remove_from_cart":
            if not cart:
                return self._view(rng, platform)
            number = cart.pop(_randrange(rng, len(cart)))
            return "remove_from_cart", self.remove_from_cart_json[number]
        if action == "feature_used":
            return "feature_used", self.feature_json[_randrange(rng, len(FEATURES))]
        if action == "promo_banner_click":
            return "promo_banner_click", self.banner_json[_randint(rng, 1, 12) - 1]
        return "chat_opened", self.chat_json[_randrange(rng, 3)]

    def _revenue(self, rng: random.Random, person: PersonSpec, items: int) -> float:
        persona = PERSONAS[person.persona]
        value = rng.uniform(*persona.order_value) * items * _CURRENCY_RATE[person.currency]
        return float(round(value)) if person.currency == "JPY" else round(value, 2)

    def _order_id(self, rng: random.Random) -> str:
        return f"ord_{rng.getrandbits(48):012x}"

    def _email(self, rng: random.Random, person: PersonSpec) -> str:
        return f"{person.person_id.replace('_', '.')}@example.com"

    @staticmethod
    def _gap(rng: random.Random) -> int:
        if rng.random() < 0.008:  # the user went away for a while and came back
            return _randint(rng, 31 * MS_PER_MINUTE, 90 * MS_PER_MINUTE)
        return min(int(rng.expovariate(1 / 20_000)) + 1_500, 15 * MS_PER_MINUTE)

    # sessions ----------------------------------------------------------------

    def human_session(
        self,
        rng: random.Random,
        person: PersonSpec,
        device: Device,
        start_ms: int,
        signed_up: bool,
        signup_now: bool,
    ) -> tuple[int, bool]:
        """Simulate one visit. Returns (last event ms, ended with logout)."""
        persona = PERSONAS[person.persona]
        platform = device.platform
        user_id = person.user_id
        can_login = signed_up and device.logs_in and user_id is not None
        if device.is_shared:
            current = None
            will_login = can_login
        else:
            current = device.logged_in_user
            will_login = can_login and current is None and rng.random() < 0.6
        converting = user_id is not None and signed_up and rng.random() < persona.conversion_rate
        if converting and current is None and not can_login:
            converting = False
        purchase_ms = 0
        order_id = ""
        length = 1 + min(int(rng.expovariate(1 / max(persona.events_per_session - 1, 1))), 150)
        if device.is_shared:
            length = max(length, 3)  # room for the login
        login_step = -1
        if will_login:
            length = max(length, 2)
            login_step = _randint(rng, 1, min(3, length - 1))
        events: list[tuple[int, str, str | dict[str, Any], str | None]] = []
        cart: list[int] = []
        t = start_ms
        action_cumulative = _ACTION_CUMULATIVE[person.persona]
        first_name, first_props = self._view(rng, platform)
        events.append((t, first_name, first_props, current))
        if signup_now and user_id is not None:
            t += self._gap(rng) // 3 + 2_000
            props: dict[str, Any] = {"method": ("email", "google", "apple")[_randrange(rng, 3)]}
            if rng.random() < 0.4:
                props["email"] = self._email(rng, person)
            if rng.random() < 0.25:
                props["phone"] = f"+1555{person.index:07d}"
                props["first_name"] = f"Name{person.index}"
            current = user_id
            events.append((t, "signup", props, current))
            will_login = False
        for step in range(1, length):
            t += self._gap(rng)
            if step == login_step and current is None:
                props = {"method": ("password", "google", "apple")[_randrange(rng, 3)]}
                if rng.random() < 0.2:
                    props["email"] = self._email(rng, person)
                current = user_id
                events.append((t, "login", props, current))
                continue
            action = ACTIONS[_weighted_index(rng, action_cumulative)]
            name, props = self._action(rng, action, platform, cart)
            events.append((t, name, props, current))
        if converting:
            if current is None:
                t += self._gap(rng)
                current = user_id
                events.append((t, "login", {"method": "password"}, current))
            if not cart:
                t += self._gap(rng)
                number = _randrange(rng, PRODUCT_COUNT)
                cart.append(number)
                events.append((t, "add_to_cart", self.add_to_cart_json[number], current))
            items = len(cart)
            revenue = self._revenue(rng, person, items)
            t += self._gap(rng)
            events.append((t, "checkout_started", {"items": items}, current))
            t += self._gap(rng)
            order_id = self._order_id(rng)
            props = {
                "order_id": order_id,
                "revenue": revenue,
                "currency": person.currency,
                "items": items,
            }
            if rng.random() < 0.1:
                props["email"] = self._email(rng, person)
            events.append((t, "purchase", props, current))
            purchase_ms = t
        logout_chance = 0.95 if device.is_shared else (0.12 if platform == "web" else 0.04)
        logged_out = current is not None and rng.random() < logout_chance
        if device.is_shared and current is not None:
            logged_out = True  # shared devices: every user signs out
        if logged_out:
            t += self._gap(rng)
            events.append((t, "logout", {}, current))
            current = None
        if not device.is_shared:
            device.logged_in_user = current
        self.emitter.emit_client(rng, person, device, events)
        if converting:
            self.emitter.emit_server(
                rng,
                person,
                purchase_ms + _randint(rng, 2_000, 30_000),
                "order_completed",
                {
                    "order_id": order_id,
                    "payment_method": ("card", "paypal", "klarna")[_randrange(rng, 3)],
                },
            )
        return t, logged_out

    def boundary_scenario(self, rng: random.Random, person: PersonSpec, day: int) -> None:
        """Exact-timeout gaps on a clean device (no skew, identical latency)."""
        device = person.devices[-1]
        local_midnight = (
            self.world.start_ms + day * MS_PER_DAY - person.offset_minutes * MS_PER_MINUTE
        )
        t0 = local_midnight + 9 * MS_PER_HOUR + _randint(rng, 0, 3_599) * MS_PER_SECOND
        user_id = person.user_id
        thirty = SESSION_TIMEOUT_MINUTES * MS_PER_MINUTE  # the contract's default timeout
        plan = [
            (t0, "page_view", {"page_path": "/"}, None),
            (t0 + 10_000, "product_view", {"product_id": "prd_0001", "price": 9.99}, None),
            # exactly 30:00.000 later: same session
            (t0 + 10_000 + thirty, "page_view", {"page_path": "/deals"}, None),
            # 30:00.001 later: a new session
            (t0 + 10_000 + 2 * thirty + 1, "page_view", {"page_path": "/"}, None),
            (t0 + 30_000 + 2 * thirty + 1, "login", {"method": "password"}, user_id),
            (t0 + 50_000 + 2 * thirty + 1, "logout", {}, user_id),
            # back after two minutes: new session because the previous event was logout
            (t0 + 170_000 + 2 * thirty + 1, "page_view", {"page_path": "/account"}, None),
            (t0 + 180_000 + 2 * thirty + 1, "search", {"query": "gift card", "results": 3}, None),
        ]
        self.emitter.emit_client(rng, person, device, plan)

    def person(self, person: PersonSpec) -> None:
        world = self.world
        rng = random.Random(f"{world.seed}/person/{person.index}")
        persona = PERSONAS[person.persona]
        end_day = person.churn_day if person.churn_day is not None else world.days
        cursor = world.start_ms + person.first_active_day * MS_PER_DAY - MS_PER_HOUR
        weights = _cumulative(person.device_weights)
        boundary_day = min(1, world.days - 1)
        for day in range(person.first_active_day, end_day):
            signed_up = person.signup_day is not None and person.signup_day <= day
            signup_today = person.signup_day == day
            count = _poisson(rng, persona.sessions_per_day * (1.2 if day % 7 >= 5 else 1.0))
            first_day = day == person.first_active_day
            if signup_today or (first_day and (person.index < 2 or person.shared_device)):
                count = max(count, 1)
            local_midnight = (
                world.start_ms + day * MS_PER_DAY - person.offset_minutes * MS_PER_MINUTE
            )
            starts = sorted(
                local_midnight
                + _weighted_index(rng, _HOUR_CUMULATIVE) * MS_PER_HOUR
                + _randrange(rng, MS_PER_HOUR)
                for _ in range(count)
            )
            for number, planned in enumerate(starts):
                start = max(planned, cursor + _randint(rng, MS_PER_MINUTE, 10 * MS_PER_MINUTE))
                if start >= world.end_ms:
                    break
                if start < world.start_ms:
                    continue  # local day 0 begins before the period in UTC+ time zones
                signup_now = signup_today and number == 0
                if number == 0 and first_day and person.shared_device is not None:
                    device = person.shared_device  # both users of a shared device do use it
                elif signup_now or (person.index == 1 and first_day):
                    device = person.devices[0]
                else:
                    device = person.devices[_weighted_index(rng, weights)]
                last, logged_out = self.human_session(
                    rng, person, device, start, signed_up, signup_now
                )
                cursor = last
                if logged_out and rng.random() < 0.35:
                    # Quick return after logout: must be a new session per the rule.
                    start = last + _randint(rng, 30 * MS_PER_SECOND, 8 * MS_PER_MINUTE)
                    cursor, _ = self.human_session(rng, person, device, start, signed_up, False)
            if person.user_id is not None and signed_up:
                if rng.random() < persona.offline_purchase_rate:
                    true_ms = local_midnight + _randint(rng, 9 * MS_PER_HOUR, 20 * MS_PER_HOUR)
                    items = _randint(rng, 1, 4)
                    self.emitter.emit_server(
                        rng,
                        person,
                        true_ms,
                        "purchase",
                        {
                            "order_id": self._order_id(rng),
                            "revenue": self._revenue(rng, person, items),
                            "currency": person.currency,
                            "items": items,
                            "store_id": f"store_{_randint(rng, 1, 25):03d}",
                        },
                        platform="offline",
                    )
                if person.subscription_day is not None and day % 30 == person.subscription_day:
                    self.emitter.emit_server(
                        rng,
                        person,
                        world.start_ms + day * MS_PER_DAY + _randint(rng, 0, 4 * MS_PER_HOUR),
                        "subscription_renewed",
                        {"plan": "plus_monthly", "period": "month"},
                    )
            if person.boundary_scenario and day == boundary_day:
                self.boundary_scenario(rng, person, day)

    def bot(self, index: int, device: Device) -> None:
        world = self.world
        rng = random.Random(f"{world.seed}/bot/{index}")
        plans: list[tuple[int, int, int, bool]] = []  # (start, count, interval, fixed)
        for day in range(world.days):
            day_start = world.start_ms + day * MS_PER_DAY
            if device.bot_kind == "ua":
                if rng.random() < 0.7:
                    for _ in range(_randint(rng, 1, 3)):
                        start = day_start + _randrange(rng, MS_PER_DAY - MS_PER_HOUR)
                        plans.append((start, _randint(rng, 10, 150), 8_000, False))
            elif index == 1 and day == 0 and world.days >= 2:
                # A long steady run (26 h) that the max session length has to cut.
                plans.append((day_start + 6 * MS_PER_HOUR, 26 * 60, 60_000, True))
            elif rng.random() < 0.25:
                interval = (3_000, 4_000, 6_000)[_randrange(rng, 3)]
                duration = _randint(rng, 20 * MS_PER_MINUTE, 2 * MS_PER_HOUR)
                start = day_start + _randrange(rng, MS_PER_DAY - 3 * MS_PER_HOUR)
                plans.append((start, duration // interval, interval, True))
        plans.sort()
        cursor = world.start_ms - MS_PER_DAY
        for start, count, interval, fixed in plans:
            t = max(start, cursor + 40 * MS_PER_MINUTE)
            events = []
            for number in range(count):
                product = _randrange(rng, PRODUCT_COUNT)
                if number % 3 == 2:
                    events.append((t, "product_view", self.product_view_json[product], None))
                elif number % 2:
                    page = self.page_json[number % len(PAGE_PATHS)]
                    events.append((t, "page_view", page, None))
                else:
                    events.append((t, "page_view", self.product_page_json[product], None))
                t += interval if fixed else _randint(rng, 500, 2 * interval)
            self.emitter.emit_client(rng, None, device, events)
            cursor = t


def _simulate_all(world: _World, simulator: _Simulator, progress: bool) -> None:
    actors = len(world.persons) + len(world.bots)
    if not progress:
        for person in world.persons:
            simulator.person(person)
        for index, bot in enumerate(world.bots):
            simulator.bot(index, bot)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ) as bar:
        task = bar.add_task("Simulating persons and bots", total=actors)
        for person in world.persons:
            simulator.person(person)
            bar.advance(task)
        for index, bot in enumerate(world.bots):
            simulator.bot(index, bot)
            bar.advance(task)
