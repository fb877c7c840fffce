"""The simulated world: personas, catalogs, streams, devices and persons, set up
once per run from the seed (``_World``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from behavioral_analytics.generator.common import (
    _EPOCH_ORDINAL,
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    _cumulative,
    _randint,
    _random_ip,
    _randrange,
    _uuid,
    _weighted_index,
)

# --------------------------------------------------------------------------- personas


@dataclass(frozen=True)
class Persona:
    weight: float
    sessions_per_day: float
    events_per_session: float
    conversion_rate: float  # probability that a session ends in a purchase
    churn_hazard: float  # daily probability of stopping for good
    order_value: tuple[float, float]  # per item, in EUR-equivalent
    action_weights: tuple[float, ...]  # over ACTIONS
    offline_purchase_rate: float  # per active day


ACTIONS = (
    "view",
    "product_view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "feature_used",
    "promo_banner_click",
    "chat_opened",
)

PERSONAS: dict[str, Persona] = {
    "power_user": Persona(
        0.10, 2.4, 22, 0.10, 0.002, (30, 120), (40, 26, 10, 9, 3, 9, 2, 1), 0.010
    ),
    "regular": Persona(0.30, 1.0, 12, 0.05, 0.008, (20, 90), (44, 27, 9, 7, 3, 6, 3, 1), 0.006),
    "casual": Persona(0.30, 0.35, 7, 0.02, 0.020, (15, 70), (50, 26, 9, 5, 2, 4, 3, 1), 0.002),
    "bargain_hunter": Persona(
        0.15, 0.8, 16, 0.06, 0.012, (5, 35), (30, 30, 22, 8, 5, 2, 3, 0), 0.015
    ),
    "window_shopper": Persona(
        0.15, 0.6, 10, 0.004, 0.025, (10, 60), (46, 36, 10, 4, 2, 1, 1, 0), 0.0
    ),
}
_PERSONA_NAMES = tuple(PERSONAS)

# (offset minutes, suffix as written in event_ts, locale, currency, weight)
TIMEZONES = (
    (60, "+01:00", "de-DE", "EUR", 22),
    (60, "+01:00", "fr-FR", "EUR", 10),
    (0, "Z", "en-GB", "GBP", 14),
    (0, "+00:00", "en-IE", "EUR", 5),
    (-300, "-05:00", "en-US", "USD", 20),
    (-480, "-08:00", "en-US", "USD", 8),
    (330, "+05:30", "en-IN", "INR", 11),
    (540, "+09:00", "ja-JP", "JPY", 5),
    (120, "+02:00", "fi-FI", "EUR", 5),
)
_CURRENCY_RATE = {"EUR": 1.0, "USD": 1.1, "GBP": 0.85, "INR": 90.0, "JPY": 160.0}

# Share of sessions starting in each local hour.
HOUR_WEIGHTS = (1, 1, 0, 0, 0, 1, 2, 4, 6, 6, 6, 6, 7, 7, 6, 6, 6, 7, 9, 10, 10, 8, 5, 2)

WEB_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
)
BOT_USER_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.6099.109 Safari/537.36",
    "python-requests/2.31.0",
    "curl/8.5.0",
)
IOS_MODELS = ("iPhone15,2", "iPhone16,1", "iPhone14,5", "iPad13,18")
ANDROID_MODELS = ("Pixel 8", "SM-S918B", "SM-A546B", "moto g84 5G")
APP_VERSIONS = ("4.1.0", "4.2.0", "4.2.1", "4.3.0", "3.9.2")

PAGE_PATHS = ("/", "/products", "/deals", "/account", "/help", "/cart", "/search", "/wishlist")
SCREEN_NAMES = ("home", "catalog", "deals", "account", "cart", "search", "wishlist", "settings")
SEARCH_QUERIES = (
    "running shoes",
    "rain jacket",
    "headphones",
    "coffee grinder",
    "desk lamp",
    "yoga mat",
    "backpack",
    "phone case",
    "sale",
    "gift card",
)
FEATURES = ("wishlist", "compare", "dark_mode", "filters", "reviews", "size_guide", "share")
PRODUCT_COUNT = 400

STREAMS = ("web", "mobile", "server", "offline")
_STREAM_CHUNK_MS = {
    "web": 6 * MS_PER_HOUR,
    "mobile": 12 * MS_PER_HOUR,
    "server": MS_PER_DAY,
    "offline": MS_PER_DAY,
}
_STREAM_INDEX = {name: index for index, name in enumerate(STREAMS)}

_HOUR_CUMULATIVE = _cumulative(HOUR_WEIGHTS)
_TZ_CUMULATIVE = _cumulative([tz[4] for tz in TIMEZONES])
_PERSONA_CUMULATIVE = _cumulative([PERSONAS[name].weight for name in _PERSONA_NAMES])
_ACTION_CUMULATIVE = {
    name: _cumulative(persona.action_weights) for name, persona in PERSONAS.items()
}

# --------------------------------------------------------------------------- model


@dataclass(eq=False)
class Device:
    device_id: str  # the anonymous_id
    platform: str  # web / ios / android
    user_agent: str
    ip: str
    offset_minutes: int
    suffix: str
    locale: str
    skew_ms: int = 0
    app_version: str | None = None
    sends_consent: bool = True
    logs_in: bool = True
    is_bot: bool = False
    bot_kind: str = ""
    is_shared: bool = False
    batch_ms: int = 120_000
    fixed_latency_ms: int | None = None
    allow_retries: bool = True
    force_late_first_batch: bool = False
    logged_in_user: str | None = None  # persistent app/browser login (not on shared devices)
    ip_assigned: bool = False
    ips_used: set[str] = field(default_factory=set)  # truth: every IP its events carried
    context_cache: dict[str, str] = field(default_factory=dict)  # encoded context JSON


@dataclass(eq=False)
class PersonSpec:
    index: int
    person_id: str
    persona: str
    user_id: str | None  # account id, None for persons who never have an account
    signup_day: int | None  # day index relative to start (negative = before the period)
    first_active_day: int
    churn_day: int | None
    opt_out_ms: int | None
    offset_minutes: int
    suffix: str
    locale: str
    currency: str
    marketing_consent: bool
    devices: list[Device] = field(default_factory=list)
    device_weights: list[float] = field(default_factory=list)
    subscription_day: int | None = None
    boundary_scenario: bool = False
    shared_device: Device | None = None
    home_ip: str = ""  # the household's public IP (NAT: every home device shows it)
    work_ip: str | None = None  # the office network, for some persons
    # devices that send consent=false after the opt-out (the others never learn of it)
    opt_out_devices: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------- world setup


class _World:
    def __init__(
        self,
        persons: int,
        days: int,
        seed: int,
        start_date: date,
    ) -> None:
        self.seed = seed
        self.days = days
        self.start_ms = (start_date.toordinal() - _EPOCH_ORDINAL) * MS_PER_DAY
        self.end_ms = self.start_ms + days * MS_PER_DAY
        rng = random.Random(f"{seed}/world")
        self.prices = [round(rng.uniform(4, 120), 2) for _ in range(PRODUCT_COUNT)]
        self.persons: list[PersonSpec] = []
        self.bots: list[Device] = []
        used_user_ids: set[str] = set()
        for index in range(persons):
            self.persons.append(self._make_person(rng, index, used_user_ids))
        self._assign_shared_devices(rng)
        self._assign_households(rng)
        bot_count = max(2, round(persons * 0.015))
        for index in range(bot_count):
            self.bots.append(self._make_bot(rng, index))

    # persons -----------------------------------------------------------------

    def _make_person(self, rng: random.Random, index: int, used: set[str]) -> PersonSpec:
        days = self.days
        persona_name = _PERSONA_NAMES[_weighted_index(rng, _PERSONA_CUMULATIVE)]
        persona = PERSONAS[persona_name]
        offset, suffix, locale, currency, _ = TIMEZONES[_weighted_index(rng, _TZ_CUMULATIVE)]
        # Scenario persons (boundary gaps, late batch) must be active the whole period.
        scenario = index < 2
        has_account = scenario or rng.random() < (0.55 if persona_name == "window_shopper" else 0.8)
        user_id = None
        signup_day = None
        first_active_day = 0
        if has_account:
            while True:
                user_id = f"usr_{rng.getrandbits(40):010x}"
                if user_id not in used:
                    used.add(user_id)
                    break
            signup_day = (
                -_randint(rng, 1, 400) if rng.random() < 0.7 else _randint(rng, 0, days - 1)
            )
            if scenario:
                signup_day = -30
            if signup_day >= 0:
                # Some new users browse anonymously before they sign up (retroactive stitching).
                first_active_day = (
                    _randint(rng, 0, signup_day) if rng.random() < 0.5 else signup_day
                )
        else:
            first_active_day = 0 if rng.random() < 0.6 else _randint(rng, 0, days - 1)
        churn_day = None
        churn_from = max(first_active_day, signup_day or 0) + 1
        if not scenario:
            for day in range(churn_from, days):
                if rng.random() < persona.churn_hazard:
                    churn_day = day
                    break
        active_end_day = churn_day if churn_day is not None else days
        opt_out_ms = None
        if not scenario and rng.random() < 0.06:
            low = self.start_ms + first_active_day * MS_PER_DAY
            high = self.start_ms + active_end_day * MS_PER_DAY
            opt_out_ms = _randint(rng, low, max(low, high - 1))
        person = PersonSpec(
            index=index,
            person_id=f"person_{index + 1:05d}",
            persona=persona_name,
            user_id=user_id,
            signup_day=signup_day,
            first_active_day=first_active_day,
            churn_day=churn_day,
            opt_out_ms=opt_out_ms,
            offset_minutes=offset,
            suffix=suffix,
            locale=locale,
            currency=currency,
            marketing_consent=rng.random() < 0.6,
            boundary_scenario=index == 0,
        )
        device_count = 1 + _weighted_index(rng, [55, 88, 100])
        for device_number in range(device_count):
            if index == 1 and device_number == 0:
                platform = "ios"  # the late-batch scenario needs an app
            else:
                platform = ("web", "ios", "android")[_weighted_index(rng, [50, 75, 100])]
            device = self._make_device(rng, platform, offset, suffix, locale)
            device.logs_in = has_account and (device_number == 0 or rng.random() < 0.55)
            if index == 1 and device_number == 0:
                # Scenario device: a clock hours ahead, and a batch that arrives the next day.
                device.force_late_first_batch = True
                device.skew_ms = _randint(rng, 2 * MS_PER_HOUR, 5 * MS_PER_HOUR)
            person.devices.append(device)
            person.device_weights.append(0.6 if device_number == 0 else 0.4 / device_count)
        if has_account and rng.random() < 0.12:
            person.subscription_day = _randint(rng, 0, 29)
        if person.boundary_scenario:
            laptop = self._make_device(rng, "web", offset, suffix, locale)
            laptop.skew_ms = 0
            laptop.fixed_latency_ms = 120
            laptop.allow_retries = False
            laptop.sends_consent = True
            person.devices.append(laptop)
            person.device_weights.append(0.0)  # used only by the boundary scenario
        return person

    def _make_device(
        self, rng: random.Random, platform: str, offset: int, suffix: str, locale: str
    ) -> Device:
        device_id = _uuid(rng)
        ip = _random_ip(rng)
        app_version = None
        if platform == "web":
            user_agent = WEB_USER_AGENTS[_randrange(rng, len(WEB_USER_AGENTS))]
        else:
            app_version = APP_VERSIONS[_randrange(rng, len(APP_VERSIONS))]
            if platform == "ios":
                model = IOS_MODELS[_randrange(rng, len(IOS_MODELS))]
                user_agent = f"ShopApp/{app_version} ({model}; iOS 17.{_randint(rng, 0, 3)})"
            else:
                model = ANDROID_MODELS[_randrange(rng, len(ANDROID_MODELS))]
                user_agent = (
                    f"ShopApp/{app_version} (Linux; Android {_randint(rng, 12, 14)}; {model})"
                )
        skew = 0
        if rng.random() < 0.12:
            roll = rng.random()
            if roll < 0.5:
                magnitude = _randint(rng, MS_PER_MINUTE, 15 * MS_PER_MINUTE)
            elif roll < 0.85:
                magnitude = _randint(rng, 15 * MS_PER_MINUTE, 5 * MS_PER_HOUR)
            else:
                magnitude = _randint(rng, 5 * MS_PER_HOUR, 40 * MS_PER_HOUR)
            skew = magnitude if rng.random() < 0.5 else -magnitude
        return Device(
            device_id=device_id,
            platform=platform,
            user_agent=user_agent,
            ip=ip,
            offset_minutes=offset,
            suffix=suffix,
            locale=locale,
            skew_ms=skew,
            app_version=app_version,
            sends_consent=rng.random() < 0.85,
            batch_ms=(60_000, 120_000, 180_000, 300_000)[_randrange(rng, 4)],
        )

    def _assign_shared_devices(self, rng: random.Random) -> None:
        candidates = [
            person
            for person in self.persons
            if person.user_id is not None and not person.boundary_scenario and person.index != 1
        ]
        pair_count = min(max(1, len(self.persons) // 40), len(candidates) // 2)
        chosen = rng.sample(candidates, pair_count * 2) if pair_count else []
        for pair_number in range(pair_count):
            first, second = chosen[2 * pair_number], chosen[2 * pair_number + 1]
            platform = ("web", "android", "ios")[pair_number % 3]
            device = self._make_device(
                rng, platform, first.offset_minutes, first.suffix, first.locale
            )
            device.is_shared = True
            device.logs_in = True
            for person in (first, second):
                # Both users of a shared device stay active so that both user_ids are seen.
                person.churn_day = None
                if person.signup_day is not None and person.signup_day >= 0:
                    person.signup_day = -10
                    person.first_active_day = 0
                person.devices.insert(0, device)
                person.device_weights.insert(0, 0.5)
                person.shared_device = device

    def _assign_households(self, rng: random.Random) -> None:
        """Networks: a household shares one public IP (NAT), some persons have an office.

        Some persons live together: same home IP and locale, so home evidence alone
        cannot tell them apart. Each session picks its network (``session_ip``):
        home, the office, a cafe (web) or the mobile carrier, whose NAT puts many
        devices behind few IPs. Each person's opt-out is sent by their first device
        and, for each other device, only sometimes.
        """
        self.carrier_ips = [_random_ip(rng) for _ in range(max(5, len(self.persons) // 20))]
        previous: PersonSpec | None = None
        for person in self.persons:
            if previous is not None and rng.random() < 0.08:
                person.home_ip = previous.home_ip  # lives with the previous person
                person.locale = previous.locale
                for device in person.devices:
                    if not device.is_shared:
                        device.locale = previous.locale
            else:
                person.home_ip = _random_ip(rng)
            if rng.random() < 0.5:
                person.work_ip = _random_ip(rng)
            previous = person
        for person in self.persons:
            for number, device in enumerate(person.devices):
                if device.is_shared and not device.ip_assigned:
                    device.ip = person.home_ip  # the family computer stays at home
                    device.ip_assigned = True
                if person.opt_out_ms is not None and (number == 0 or rng.random() < 0.5):
                    person.opt_out_devices.add(device.device_id)

    def session_ip(self, rng: random.Random, person: PersonSpec | None, device: Device) -> str:
        """The public IP one session of a device is seen from."""
        if person is None or device.is_shared:
            ip = device.ip
        else:
            roll = rng.random()
            at_home = 0.7 if device.platform == "web" else 0.45
            if roll < at_home:
                ip = person.home_ip
            elif roll < at_home + 0.2 and person.work_ip is not None:
                ip = person.work_ip
            elif device.platform == "web":
                ip = _random_ip(rng)  # a cafe, a hotel, a friend's
            else:
                ip = self.carrier_ips[_randrange(rng, len(self.carrier_ips))]
        device.ips_used.add(ip)
        return ip

    # bots --------------------------------------------------------------------

    def _make_bot(self, rng: random.Random, index: int) -> Device:
        kind = "ua" if index % 2 == 0 else "behaviour"
        device = self._make_device(rng, "web", 0, "Z", "en-US")
        device.skew_ms = 0
        device.is_bot = True
        device.bot_kind = kind
        device.logs_in = False
        device.sends_consent = rng.random() < 0.3
        if kind == "ua":
            device.user_agent = BOT_USER_AGENTS[(index // 2) % len(BOT_USER_AGENTS)]
        return device
