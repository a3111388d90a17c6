"""A realistic, deterministic demo network: countries, networks, institutions, people.

Everything this module writes is ILLUSTRATIVE DEMO DATA. Institution names, people and
e-mail addresses are fictional; the income groups and Emergency Medicine (EM) specialty
statuses below reflect general knowledge (World Bank income groups, how far EM is
recognised) at the time of writing, simplified, and must not be used as a reference.
City coordinates are real (GeoNames, via `medexchange.network.geodata.demo_cities`);
each institution is moved a few kilometres away from its city centre so that several
institutions in one city do not stack on the map.

The same seed always gives the same rows: all randomness comes from one
`random.Random(seed)`, inputs are iterated in a fixed order, and no generated value
depends on the current time.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import ProtectedError, Q, QuerySet
from django.utils.text import slugify

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import ApplicantProfile, InstitutionRole, NetworkStaffRole, User
from medexchange.catalog.choices import TrainingLevel
from medexchange.catalog.models import Specialty
from medexchange.network.choices import (
    EmStatus,
    IncomeGroup,
    InstitutionKind,
    JoinRequestStatus,
    MembershipStatus,
    NetworkScope,
    OfferKind,
    Region,
    SiteKind,
)
from medexchange.network.geodata import demo_cities
from medexchange.network.models import (
    CountryProfile,
    Institution,
    JoinRequest,
    Membership,
    Network,
    Site,
)

DEFAULT_INSTITUTIONS = 240
MIN_INSTITUTIONS = 10
MAX_INSTITUTIONS = 2000

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the demo, on purpose.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 - fixed so the demo can print it.
DEMO_USER_DOMAIN = "demo.medexchange.test"
DEMO_WEB_DOMAIN = "example.org"

GLOBAL_SLUG = "global"
AFRICA_SLUG = "africa"
SEA_SLUG = "south-east-asia"
DEMO_NETWORK_SLUGS = (GLOBAL_SLUG, AFRICA_SLUG, SEA_SLUG)
SEA_SUBREGION = "South-eastern Asia"

# How far (in degrees) an institution may sit from its city centre, and a site from its
# institution: about 3 km and 1.5 km at the equator, well inside 0.1°.
INSTITUTION_JITTER = 0.03
SITE_JITTER = 0.015

# Dates are fixed, never "today", so the data is the same whenever it is loaded.
FIRST_DAY = dt.date(2015, 1, 1)
LAST_DAY = dt.date(2026, 6, 30)
REGIONAL_NETWORK_FOUNDED = {AFRICA_SLUG: dt.date(2017, 3, 1), SEA_SLUG: dt.date(2018, 9, 1)}
JOIN_REQUESTS_FROM = dt.datetime(2026, 8, 1, 9, 0, tzinfo=dt.UTC)

# Cities the demo skips: administrative districts that read oddly as a city name, and a
# city in an active conflict zone.
SKIPPED_CITIES = frozenset({("RO", "Sector 3"), ("RO", "Sector 6"), ("UA", "Donetsk")})


@dataclass(frozen=True)
class CountryFacts:
    income_group: str
    em_status: str
    em_recognised_year: int | None = None
    languages: tuple[str, ...] = ("en",)


_L, _LM, _UM, _H = (
    IncomeGroup.LOW,
    IncomeGroup.LOWER_MIDDLE,
    IncomeGroup.UPPER_MIDDLE,
    IncomeGroup.HIGH,
)
_NR, _EMG, _EST = EmStatus.NOT_RECOGNISED, EmStatus.EMERGING, EmStatus.ESTABLISHED

# Illustrative facts for the demo countries (see the module docstring): World Bank income
# group, EM specialty status (with a plausible year for emerging), working languages.
COUNTRY_FACTS: dict[str, CountryFacts] = {
    # Africa
    "KE": CountryFacts(_LM, _EMG, 2017, ("en", "sw")),
    "UG": CountryFacts(_L, _EMG, 2017, ("en", "lg")),
    "TZ": CountryFacts(_LM, _EMG, 2010, ("sw", "en")),
    "ET": CountryFacts(_L, _EMG, 2010, ("am", "en")),
    "RW": CountryFacts(_L, _EMG, 2013, ("rw", "en", "fr")),
    "GH": CountryFacts(_LM, _EMG, 2009, ("en",)),
    "NG": CountryFacts(_LM, _EMG, 2016, ("en", "yo", "ha")),
    "SN": CountryFacts(_LM, _NR, None, ("fr", "wo")),
    "CM": CountryFacts(_LM, _NR, None, ("fr", "en")),
    "ZA": CountryFacts(_UM, _EST, None, ("en", "zu", "af", "xh")),
    "ZM": CountryFacts(_LM, _EMG, 2020, ("en",)),
    "MW": CountryFacts(_L, _NR, None, ("en", "ny")),
    "MZ": CountryFacts(_L, _NR, None, ("pt",)),
    "EG": CountryFacts(_LM, _EST, None, ("ar", "en")),
    "MA": CountryFacts(_LM, _EMG, 2010, ("ar", "fr")),
    "TN": CountryFacts(_LM, _EST, None, ("ar", "fr")),
    "BW": CountryFacts(_UM, _EMG, 2011, ("en", "tn")),
    "ZW": CountryFacts(_LM, _NR, None, ("en", "sn")),
    # South-East Asia
    "ID": CountryFacts(_UM, _EMG, 2009, ("id", "en")),
    "PH": CountryFacts(_LM, _EMG, 1998, ("en", "tl")),
    "VN": CountryFacts(_LM, _EMG, 2014, ("vi",)),
    "TH": CountryFacts(_UM, _EST, None, ("th", "en")),
    "MY": CountryFacts(_UM, _EST, None, ("ms", "en")),
    "KH": CountryFacts(_LM, _NR, None, ("km",)),
    "LA": CountryFacts(_LM, _NR, None, ("lo",)),
    "MM": CountryFacts(_LM, _EMG, 2014, ("my", "en")),
    "SG": CountryFacts(_H, _EST, None, ("en", "zh", "ms", "ta")),
    # Rest of Asia
    "IN": CountryFacts(_LM, _EMG, 2009, ("en", "hi")),
    "NP": CountryFacts(_LM, _EMG, 2010, ("ne", "en")),
    "BD": CountryFacts(_LM, _NR, None, ("bn", "en")),
    "PK": CountryFacts(_LM, _EMG, 2010, ("ur", "en")),
    "LK": CountryFacts(_LM, _EMG, 2014, ("si", "ta", "en")),
    "JP": CountryFacts(_H, _EST, None, ("ja",)),
    "KR": CountryFacts(_H, _EST, None, ("ko",)),
    "MN": CountryFacts(_UM, _EMG, 2013, ("mn",)),
    "JO": CountryFacts(_UM, _EST, None, ("ar", "en")),
    "LB": CountryFacts(_LM, _EMG, 2012, ("ar", "fr", "en")),
    "IQ": CountryFacts(_UM, _EMG, 2014, ("ar", "ku")),
    "TR": CountryFacts(_UM, _EST, None, ("tr",)),
    # Americas
    "US": CountryFacts(_H, _EST, None, ("en", "es")),
    "CA": CountryFacts(_H, _EST, None, ("en", "fr")),
    "MX": CountryFacts(_UM, _EST, None, ("es",)),
    "GT": CountryFacts(_UM, _EMG, 2005, ("es",)),
    "HT": CountryFacts(_LM, _EMG, 2016, ("fr", "ht")),
    "JM": CountryFacts(_UM, _EST, None, ("en",)),
    "CO": CountryFacts(_UM, _EST, None, ("es",)),
    "PE": CountryFacts(_UM, _EST, None, ("es",)),
    "AR": CountryFacts(_UM, _EST, None, ("es",)),
    "BR": CountryFacts(_UM, _EMG, 2015, ("pt",)),
    "CL": CountryFacts(_H, _EST, None, ("es",)),
    "BO": CountryFacts(_LM, _NR, None, ("es", "qu")),
    "EC": CountryFacts(_UM, _EMG, 2005, ("es",)),
    "DO": CountryFacts(_UM, _EST, None, ("es",)),
    # Europe
    "RO": CountryFacts(_H, _EST, None, ("ro",)),
    "IT": CountryFacts(_H, _EMG, 2009, ("it",)),
    "ES": CountryFacts(_H, _EMG, 2024, ("es", "ca")),
    "GB": CountryFacts(_H, _EST, None, ("en",)),
    "DE": CountryFacts(_H, _EMG, 2018, ("de",)),
    "FR": CountryFacts(_H, _EST, None, ("fr",)),
    "PL": CountryFacts(_H, _EST, None, ("pl",)),
    "UA": CountryFacts(_UM, _EMG, 2013, ("uk",)),
    "GR": CountryFacts(_H, _EMG, 2017, ("el",)),
    "PT": CountryFacts(_H, _NR, None, ("pt",)),
    "IE": CountryFacts(_H, _EST, None, ("en", "ga")),
    "NL": CountryFacts(_H, _EST, None, ("nl",)),
    "SE": CountryFacts(_H, _EST, None, ("sv",)),
    # Oceania
    "AU": CountryFacts(_H, _EST, None, ("en",)),
    "NZ": CountryFacts(_H, _EST, None, ("en", "mi")),
    "PG": CountryFacts(_LM, _EMG, 2008, ("en",)),
    "FJ": CountryFacts(_UM, _EMG, 2010, ("en", "fj")),
}

VALUES_STATEMENT = (
    "By joining, a member institution agrees to:\n"
    "- open its opportunities to learners wherever they live and whatever they can "
    "afford, and never select visitors by their ability to pay;\n"
    "- place visitors alongside local clinicians and teachers, strengthening the people "
    "and services already there rather than replacing them;\n"
    "- evaluate every exchange with evidence (competency-based assessments and feedback "
    "from both sides) and share what it learns with the network;\n"
    "- keep costs low through reciprocity, tuition waivers and modest fees;\n"
    "- make its programmes, premises and materials accessible to people with disabilities "
    "and usable on slow connections."
)


@dataclass(frozen=True)
class NetworkSpec:
    slug: str
    name: str
    scope: str
    region: str
    description: str


NETWORK_SPECS: tuple[NetworkSpec, ...] = (
    NetworkSpec(
        GLOBAL_SLUG,
        "Global Emergency Medicine Exchange Network",
        NetworkScope.GLOBAL,
        "",
        "A worldwide network of medical schools, teaching hospitals, health organisations "
        "and training institutions that exchange students, residents and faculty to build "
        "Emergency Medicine where it is young or not yet recognised. Members offer clinical "
        "and research electives, observerships, multi-site exchange programmes and teaching "
        "visits, and keep them affordable through balanced, reciprocal exchanges.",
    ),
    NetworkSpec(
        AFRICA_SLUG,
        "Africa Regional Network",
        NetworkScope.REGIONAL,
        Region.AFRICA,
        "Member institutions across Africa share electives, short courses and faculty "
        "visits within the continent, so that learners train in settings like their own "
        "and travel costs stay low. Institutions may join the regional network on its own "
        "or together with the global network.",
    ),
    NetworkSpec(
        SEA_SLUG,
        "South-East Asia Regional Network",
        NetworkScope.REGIONAL,
        Region.ASIA,
        "A regional network of medical schools and hospitals in South-East Asia that "
        "exchanges students and residents between neighbouring countries, runs joint "
        "courses in emergency care and supports new Emergency Medicine training programmes.",
    ),
)

PREFIXES = (
    "Acacia", "Baobab", "Beacon", "Cedar", "Compass", "Coral", "Crescent", "Evergreen",
    "Greenfield", "Harbour", "Harmony", "Heritage", "Highland", "Hillcrest", "Horizon",
    "Jacaranda", "Juniper", "Kingfisher", "Lakeside", "Lighthouse", "Lotus", "Mangrove",
    "Meridian", "Monsoon", "Northgate", "Oakridge", "Pinecrest", "Redstone", "Riverside",
    "Saffron", "Silverbrook", "Southbank", "Starling", "Summit", "Sunrise", "Tamarind",
    "Tidewater", "Unity", "Valley View", "Westbrook", "Willow", "Zenith",
)  # fmt: skip

NAME_PATTERNS: dict[str, tuple[str, ...]] = {
    InstitutionKind.MEDICAL_SCHOOL: (
        "{prefix} Faculty of Medicine, {city}",
        "{prefix} School of Medicine ({city})",
        "{prefix} College of Health Sciences, {city}",
        "{prefix} University Medical School, {city}",
    ),
    InstitutionKind.TEACHING_HOSPITAL: (
        "{prefix} Teaching Hospital ({city})",
        "{prefix} University Hospital, {city}",
        "{prefix} General and Teaching Hospital, {city}",
        "{prefix} Referral Hospital ({city})",
    ),
    InstitutionKind.HEALTH_ORGANISATION: (
        "{prefix} Health Trust, {city}",
        "{prefix} Community Health Alliance ({city})",
        "{prefix} Emergency Care Foundation, {city}",
    ),
    InstitutionKind.TRAINING_INSTITUTION: (
        "{prefix} Institute of Emergency Care, {city}",
        "{prefix} Centre for Clinical Training ({city})",
        "{prefix} Academy of Acute Medicine, {city}",
    ),
}

KIND_WEIGHTS: tuple[tuple[str, int], ...] = (
    (InstitutionKind.MEDICAL_SCHOOL, 40),
    (InstitutionKind.TEACHING_HOSPITAL, 35),
    (InstitutionKind.HEALTH_ORGANISATION, 12),
    (InstitutionKind.TRAINING_INSTITUTION, 13),
)

KIND_OPENINGS: dict[str, str] = {
    InstitutionKind.MEDICAL_SCHOOL: (
        "A fictional medical school in {city} training about {size} students a year"
    ),
    InstitutionKind.TEACHING_HOSPITAL: (
        "A fictional {size}-bed teaching hospital in {city} with a busy emergency department"
    ),
    InstitutionKind.HEALTH_ORGANISATION: (
        "A fictional health organisation running {size} community clinics around {city}"
    ),
    InstitutionKind.TRAINING_INSTITUTION: (
        "A fictional training institution in {city} teaching about {size} clinicians a year"
    ),
}
KIND_SIZES: dict[str, tuple[int, int, int]] = {
    InstitutionKind.MEDICAL_SCHOOL: (80, 400, 20),
    InstitutionKind.TEACHING_HOSPITAL: (150, 1200, 50),
    InstitutionKind.HEALTH_ORGANISATION: (4, 30, 1),
    InstitutionKind.TRAINING_INSTITUTION: (40, 300, 10),
}
FOCUS_SENTENCES = (
    "It welcomes visiting students for clinical electives in emergency care.",
    "Its faculty teach point-of-care ultrasound courses to partner institutions.",
    "It works with district hospitals to strengthen referral and pre-hospital care.",
    "Research interests include trauma systems, toxicology and paediatric emergencies.",
    "Residents from partner countries join its emergency department as observers.",
    "Its simulation centre runs resuscitation courses open to network members.",
    "It hosts a yearly regional course on emergency ECG interpretation.",
    "Its teams study how triage works in crowded urban emergency departments.",
)

SITE_LABELS: tuple[tuple[str, str], ...] = (
    (SiteKind.EMERGENCY_DEPARTMENT, "Emergency Department"),
    (SiteKind.HOSPITAL, "Main Hospital"),
    (SiteKind.HOSPITAL, "District Hospital"),
    (SiteKind.CLINIC, "Community Clinic"),
    (SiteKind.DEPARTMENT, "Department of Emergency Medicine"),
    (SiteKind.PREHOSPITAL, "Ambulance Service"),
    (SiteKind.SIMULATION_CENTRE, "Simulation Centre"),
    (SiteKind.CLINIC, "Urgent Care Clinic"),
)

CONTACT_NAMES: dict[str, tuple[str, ...]] = {
    "africa": (
        "Amina Otieno", "Kwame Asante", "Chidinma Okafor", "Tendai Moyo", "Hana Tesfaye",
        "Nomsa Dlamini", "Joseph Banda", "Esther Nakato",
    ),
    "french": ("Fatou Diop", "Jean-Paul Uwimana", "Aïssatou Ndiaye", "Serge Mbarga"),
    "arabic": ("Lina Haddad", "Omar Benali", "Yasmine Trabelsi", "Karim Mansour"),
    "portuguese": ("Tomás Ferreira", "Ana Machava", "João Carvalho"),
    "spanish": ("Lucía Romero", "Mateo Quispe", "Camila Herrera", "Diego Morales"),
    "southern-asia": ("Priya Raman", "Arjun Shrestha", "Farhana Akter", "Imran Qureshi"),
    "VN": ("Nguyen Thi Lan", "Tran Van Minh"),
    "PH": ("Maria Santos", "Jose Reyes"),
    "TH": ("Somchai Srisuk", "Kanya Chaiyaporn"),
    "ID": ("Siti Rahmawati", "Budi Santoso"),
    "MY": ("Nurul Aziz", "Lim Wei Ling"),
    "MM": ("Aung Kyaw Min", "Thandar Win"),
    "KH": ("Dara Sok", "Sreymom Chan"),
    "LA": ("Souksavanh Phommachanh", "Noy Keomany"),
    "SG": ("Tan Mei Ling", "Rajesh Kumar"),
    "other": (
        "Giulia Bianchi", "Oana Popescu", "Marie Dubois", "Aroha Ngata", "Ethan Clarke",
        "Sophie Müller", "Liam O'Connor", "Anna Kowalska",
    ),
}  # fmt: skip
CONTACT_POOL_BY_COUNTRY: dict[str, str] = {
    **dict.fromkeys(("SN", "CM", "HT", "FR"), "french"),
    **dict.fromkeys(("EG", "MA", "TN", "JO", "LB", "IQ"), "arabic"),
    **dict.fromkeys(("MZ", "BR", "PT"), "portuguese"),
    **dict.fromkeys(("MX", "GT", "CO", "PE", "AR", "CL", "BO", "EC", "DO", "ES"), "spanish"),
    **dict.fromkeys(("IN", "NP", "BD", "PK", "LK"), "southern-asia"),
}

JOIN_REQUEST_POSITIONS = (
    "Dean of Medicine",
    "Head of Emergency Medicine",
    "International Office Coordinator",
    "Director of Medical Education",
    "Residency Programme Director",
)

DECLINE_REASONS = (
    "The network currently admits institutions that train doctors or host clinical "
    "learners; we suggest applying together with your partner medical school.",
    "We could not confirm the institution's accreditation. Please apply again with the "
    "registration document from the national medical council.",
)
APPROVAL_NOTE = "Meets the network's criteria and has agreed to its values. Welcome!"

# Languages the platform's interface offers, per country (English otherwise).
UI_LANGUAGE_BY_COUNTRY = {
    "ES": "es", "MX": "es", "GT": "es", "CO": "es", "PE": "es", "AR": "es", "CL": "es",
    "BO": "es", "EC": "es", "DO": "es", "IT": "it", "EG": "ar", "JO": "ar", "LB": "ar",
    "IQ": "ar",
}  # fmt: skip


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    password: str
    totp_secret: str = ""


@dataclass
class DemoSummary:
    seed: int
    institutions: int
    countries: int
    sites: int
    networks: list[tuple[str, int]] = field(default_factory=list)  # name, active members
    join_requests_pending: int = 0
    join_requests_decided: int = 0
    role_institution: str = ""
    logins: list[DemoLogin] = field(default_factory=list)


@dataclass(frozen=True)
class _City:
    country: str
    name: str
    latitude: float
    longitude: float
    population: int
    timezone: str
    rank: int  # 0 for the largest city of its country


def _cities() -> list[_City]:
    ranks: dict[str, int] = {}
    cities: list[_City] = []
    for row in demo_cities():
        if (row["country"], row["name"]) in SKIPPED_CITIES:
            continue
        rank = ranks.get(row["country"], 0)
        ranks[row["country"]] = rank + 1
        cities.append(
            _City(
                country=row["country"],
                name=row["name"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                population=int(row["population"]),
                timezone=row["timezone"],
                rank=rank,
            )
        )
    return cities


def _coordinate(value: float) -> Decimal:
    return Decimal(f"{value:.5f}")


def _jitter(
    rng: random.Random, latitude: float, longitude: float, spread: float
) -> tuple[Decimal, Decimal]:
    """A point a few kilometres from (latitude, longitude), as 5-decimal Decimals."""
    lat = latitude + rng.uniform(-spread, spread)
    lon_spread = min(spread / max(math.cos(math.radians(latitude)), 0.3), 2 * spread)
    lon = longitude + rng.uniform(-lon_spread, lon_spread)
    return _coordinate(lat), _coordinate(lon)


def _day_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max((last - first).days, 0)))


def _weighted(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    values = [value for value, _weight in options]
    return rng.choices(values, weights=[weight for _value, weight in options])[0]


# --- Reset --------------------------------------------------------------------------------


def _demo_institutions() -> QuerySet[Institution]:
    return Institution.objects.filter(
        Q(memberships__network__slug__in=DEMO_NETWORK_SLUGS)
        | Q(website__endswith=f".{DEMO_WEB_DOMAIN}")
    )


def demo_data_exists() -> bool:
    return (
        Network.objects.filter(slug__in=DEMO_NETWORK_SLUGS).exists()
        or User.objects.filter(email__endswith=f"@{DEMO_USER_DOMAIN}").exists()
    )


@transaction.atomic
def delete_demo_data() -> None:
    """Delete the rows a previous demo load created (networks, institutions, users).

    Raises ProtectedError when rows of other apps still point at demo rows.
    """
    JoinRequest.objects.filter(network__slug__in=DEMO_NETWORK_SLUGS).delete()
    institution_ids = list(_demo_institutions().values_list("pk", flat=True).distinct())
    Institution.objects.filter(pk__in=institution_ids).delete()
    Network.objects.filter(slug__in=DEMO_NETWORK_SLUGS).delete()
    User.objects.filter(email__endswith=f"@{DEMO_USER_DOMAIN}").delete()


# --- Build --------------------------------------------------------------------------------


@dataclass
class _Plan:
    """Institutions chosen but not yet saved, with what the later steps need to know."""

    institution: Institution
    city: _City
    profile: CountryProfile


def _update_countries() -> dict[str, CountryProfile]:
    profiles = {
        str(profile.code): profile
        for profile in CountryProfile.objects.filter(code__in=sorted(COUNTRY_FACTS))
    }
    for code, facts in COUNTRY_FACTS.items():
        profile = profiles[code]
        profile.income_group = facts.income_group
        profile.em_status = facts.em_status
        profile.em_recognised_year = facts.em_recognised_year
    CountryProfile.objects.bulk_update(
        [profiles[code] for code in sorted(profiles)],
        ["income_group", "em_status", "em_recognised_year"],
    )
    return profiles


def _create_networks() -> dict[str, Network]:
    networks = {
        spec.slug: Network(
            slug=spec.slug,
            name=spec.name,
            scope=spec.scope,
            region=spec.region,
            description=spec.description,
            values_statement=VALUES_STATEMENT,
            website=f"https://{spec.slug}-network.{DEMO_WEB_DOMAIN}",
        )
        for spec in NETWORK_SPECS
    }
    for network in networks.values():
        network.full_clean()
        network.save()
    return networks


def _is_priority(profile: CountryProfile) -> bool:
    """Africa and South-East Asia, where the regional networks are."""
    return profile.region == Region.AFRICA or profile.subregion == SEA_SUBREGION


def _choose_cities(
    rng: random.Random,
    cities: list[_City],
    count: int,
    reserved: list[_City],
    profiles: dict[str, CountryProfile],
) -> list[_City]:
    """One institution in each country's largest city (Kenya first), then weighted picks.

    Bigger cities, and countries in Africa and South-East Asia, get more institutions.
    """
    largest = [city for city in cities if city.rank == 0]
    kenya = [city for city in largest if city.country == "KE"]
    others = [city for city in largest if city.country != "KE"]
    rng.shuffle(others)
    chosen = (kenya + others)[:count]
    pool = [city for city in cities if city not in reserved]
    weights = [
        math.sqrt(city.population) * (2.0 if _is_priority(profiles[city.country]) else 1.0)
        for city in pool
    ]
    chosen += rng.choices(pool, weights=weights, k=count - len(chosen))
    return chosen


def _institution_name(rng: random.Random, kind: str, city: _City, used: set[str]) -> str:
    patterns = NAME_PATTERNS[kind]
    for _attempt in range(200):
        name = rng.choice(patterns).format(prefix=rng.choice(PREFIXES), city=city.name)
        if name not in used:
            used.add(name)
            return name
    # A city with very many institutions of one kind: number the name.
    base = rng.choice(patterns).format(prefix=rng.choice(PREFIXES), city=city.name)
    counter = 2
    while f"{base} {counter}" in used:
        counter += 1
    used.add(f"{base} {counter}")
    return f"{base} {counter}"


def _unique_slug(name: str, used: set[str]) -> str:
    base = slugify(name)[:200] or "institution"
    slug, counter = base, 2
    while slug in used:
        slug = f"{base}-{counter}"
        counter += 1
    used.add(slug)
    return slug


def _languages(rng: random.Random, code: str) -> list[str]:
    languages = list(COUNTRY_FACTS[code].languages)
    if len(languages) > 2 and rng.random() < 0.5:
        languages = languages[:2]
    if "en" not in languages and rng.random() < 0.35:
        languages.append("en")
    return languages


def _description(rng: random.Random, kind: str, city: _City) -> str:
    low, high, step = KIND_SIZES[kind]
    opening = KIND_OPENINGS[kind].format(city=city.name, size=rng.randrange(low, high, step))
    if rng.random() < 0.7:
        return f"{opening}. {rng.choice(FOCUS_SENTENCES)}"
    return f"{opening}."


def _plan_institutions(
    rng: random.Random,
    cities: list[_City],
    profiles: dict[str, CountryProfile],
    used_slugs: set[str],
) -> list[_Plan]:
    used_names: set[str] = set()
    plans: list[_Plan] = []
    for index, city in enumerate(cities):
        kind = InstitutionKind.TEACHING_HOSPITAL if index == 0 else _weighted(rng, KIND_WEIGHTS)
        name = _institution_name(rng, kind, city, used_names)
        slug = _unique_slug(name, used_slugs)
        latitude, longitude = _jitter(rng, city.latitude, city.longitude, INSTITUTION_JITTER)
        institution = Institution(
            name=name,
            slug=slug,
            kind=kind,
            country=profiles[city.country],
            city=city.name,
            latitude=latitude,
            longitude=longitude,
            languages=_languages(rng, city.country),
            website=f"https://{slug}.{DEMO_WEB_DOMAIN}",
            description=_description(rng, kind, city),
        )
        plans.append(_Plan(institution=institution, city=city, profile=profiles[city.country]))
    return plans


def _plan_sites(rng: random.Random, plans: list[_Plan]) -> list[Site]:
    sites: list[Site] = []
    for plan in plans:
        institution = plan.institution
        prefix = next(word for word in PREFIXES if institution.name.startswith(f"{word} "))
        count = rng.choices((1, 2, 3, 4), weights=(30, 35, 22, 13))[0]
        labels = list(SITE_LABELS)
        if institution.kind == InstitutionKind.TEACHING_HOSPITAL:
            chosen = [SITE_LABELS[0], *rng.sample(labels[1:], count - 1)]
        else:
            chosen = rng.sample(labels, count)
        for kind, label in chosen:
            latitude, longitude = _jitter(
                rng, float(institution.latitude), float(institution.longitude), SITE_JITTER
            )
            sites.append(
                Site(
                    institution=institution,
                    name=f"{prefix} {label}",
                    kind=kind,
                    city=institution.city,
                    latitude=latitude,
                    longitude=longitude,
                )
            )
    return sites


def _membership(
    rng: random.Random,
    institution: Institution,
    network: Network,
    *,
    founded: dt.date,
    status: str = MembershipStatus.ACTIVE,
) -> Membership:
    if status == MembershipStatus.APPLIED:
        applied_on = _day_between(rng, dt.date(2026, 1, 1), LAST_DAY)
        return Membership(
            institution=institution, network=network, status=status, applied_on=applied_on
        )
    applied_on = _day_between(rng, founded, LAST_DAY - dt.timedelta(days=120))
    joined_on = applied_on + dt.timedelta(days=rng.randint(14, 120))
    ended_on = None
    if status == MembershipStatus.LEFT:
        ended_on = _day_between(rng, joined_on + dt.timedelta(days=180), LAST_DAY)
        ended_on = min(ended_on, LAST_DAY)
    return Membership(
        institution=institution,
        network=network,
        status=status,
        applied_on=applied_on,
        joined_on=joined_on,
        ended_on=ended_on,
    )


MEMBERSHIP_STATUS_WEIGHTS: tuple[tuple[str, int], ...] = (
    (MembershipStatus.ACTIVE, 92),
    (MembershipStatus.APPLIED, 3),
    (MembershipStatus.SUSPENDED, 3),
    (MembershipStatus.LEFT, 2),
)


def _plan_memberships(
    rng: random.Random, plans: list[_Plan], networks: dict[str, Network]
) -> list[Membership]:
    """Most institutions are in the global network; African and South-East Asian ones
    mostly also in their regional network, and some only in it.

    The first institution (in Nairobi, where the demo coordinator works) is an active
    member of the global and the Africa network.
    """
    memberships: list[Membership] = []
    for index, plan in enumerate(plans):
        first = index == 0
        network_slug = _network_for(plan.profile)
        regional = None if network_slug == GLOBAL_SLUG else network_slug
        status = MembershipStatus.ACTIVE if first else _weighted(rng, MEMBERSHIP_STATUS_WEIGHTS)
        draw = rng.random()
        in_global = first or regional is None or draw >= 0.18
        if in_global:
            memberships.append(
                _membership(
                    rng, plan.institution, networks[GLOBAL_SLUG], founded=FIRST_DAY, status=status
                )
            )
        if regional is not None and (first or draw < 0.85):
            if in_global:
                # Mostly active in the regional network too; a few have just applied.
                status = MembershipStatus.APPLIED if rng.random() < 0.05 else status
                status = MembershipStatus.ACTIVE if first else status
            memberships.append(
                _membership(
                    rng,
                    plan.institution,
                    networks[regional],
                    founded=REGIONAL_NETWORK_FOUNDED[regional],
                    status=status,
                )
            )
    return memberships


def _demo_users(kenya: Institution, networks: dict[str, Network]) -> list[DemoLogin]:
    password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
    specs: tuple[tuple[str, str, str, str, str], ...] = (
        # local part, full name, role shown, language, time zone
        ("staff", "Sam Whitaker", "network staff (global), superuser", "en", "Europe/London"),
        ("africa-staff", "Wanjiru Kamau", "network staff (Africa)", "en", "Africa/Kigali"),
        ("coordinator", "Achieng Odhiambo", "coordinator", "en", "Africa/Nairobi"),
        ("reviewer", "Daniel Mwangi", "reviewer", "en", "Africa/Nairobi"),
        ("supervisor", "Grace Njeri", "site supervisor", "en", "Africa/Nairobi"),
        ("applicant", "Camila Rojas", "applicant (no role)", "es", "America/Lima"),
        ("donor", "Marco Conti", "donor (no role)", "it", "Europe/Rome"),
    )
    logins: list[DemoLogin] = []
    users: dict[str, User] = {}
    for local, full_name, role, language, time_zone in specs:
        email = f"{local}@{DEMO_USER_DOMAIN}"
        is_admin = local == "staff"
        user = User.objects.create(
            email=email,
            full_name=full_name,
            password=password,
            preferred_language=language,
            time_zone=time_zone,
            is_staff=is_admin,
            is_superuser=is_admin,
        )
        users[local] = user
        if local in {"staff", "africa-staff"}:
            logins.append(DemoLogin(email, role, DEMO_PASSWORD, DEMO_TOTP_SECRET))
        elif local in {"coordinator", "reviewer", "supervisor"}:
            logins.append(DemoLogin(email, f"{role}, {kenya.name}", DEMO_PASSWORD))
        else:
            logins.append(DemoLogin(email, role, DEMO_PASSWORD))
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True)
        for user in users.values()
    )
    NetworkStaffRole.objects.bulk_create(
        [
            NetworkStaffRole(user=users["staff"], network=networks[GLOBAL_SLUG]),
            NetworkStaffRole(user=users["africa-staff"], network=networks[AFRICA_SLUG]),
        ]
    )
    InstitutionRole.objects.bulk_create(
        InstitutionRole(user=users[local], institution=kenya, role=role)
        for local, role in (
            ("coordinator", InstitutionRoleKind.COORDINATOR),
            ("reviewer", InstitutionRoleKind.REVIEWER),
            ("supervisor", InstitutionRoleKind.SUPERVISOR),
        )
    )
    for local in ("staff", "africa-staff"):
        TOTP.activate(users[local], DEMO_TOTP_SECRET)
    return logins


#: The demo applicant's home country; she trains at a member school there if there is one.
DEMO_APPLICANT_COUNTRY = "PE"


def _demo_applicant_profile(applicant: User, profiles: dict[str, CountryProfile]) -> None:
    """A complete applicant profile (``is_complete_for_applying()`` is empty) for the demo.

    Fictional contacts; phone numbers in the 900 000 0xx block used only for the demo.
    """
    home = profiles.get(DEMO_APPLICANT_COUNTRY) or CountryProfile.objects.get(
        code=DEMO_APPLICANT_COUNTRY
    )
    school = (
        Institution.objects.members()
        .filter(country=home, kind=InstitutionKind.MEDICAL_SCHOOL)
        .order_by("name")
        .first()
    )
    profile = ApplicantProfile(
        user=applicant,
        training_level=TrainingLevel.STUDENT,
        training_year=5,
        home_country=home,
        home_institution=school,
        home_institution_name="" if school else "Facultad de Medicina del Pacífico Sur",
        nationality=home,
        languages=[{"code": "es", "level": "C2"}, {"code": "en", "level": "B2"}],
        phone="+51900000001",
        emergency_contact_name="Rosa Rojas",
        emergency_contact_relationship="madre",
        emergency_contact_phone="+51900000002",
    )
    profile.full_clean()
    profile.save()
    profile.specialty_interests.set(
        Specialty.objects.filter(code__in=["emergency-medicine", "paediatrics"])
    )


def _contact(rng: random.Random, profile: CountryProfile, used: set[str]) -> tuple[str, str]:
    """A fictional contact person with a plausible name for the country, and an e-mail."""
    code = str(profile.code)
    pool = CONTACT_POOL_BY_COUNTRY.get(code)
    if pool is None:
        pool = code if code in CONTACT_NAMES else ""
    if not pool:
        pool = "africa" if profile.region == Region.AFRICA else "other"
    names = [name for name in CONTACT_NAMES[pool] if name not in used] or list(CONTACT_NAMES[pool])
    name = rng.choice(names)
    used.add(name)
    local = slugify(name).replace("-", ".")
    return name, f"{local}@{DEMO_WEB_DOMAIN}"


def _network_for(profile: CountryProfile) -> str:
    if profile.region == Region.AFRICA:
        return AFRICA_SLUG
    if profile.subregion == SEA_SUBREGION:
        return SEA_SLUG
    return GLOBAL_SLUG


def _join_requests(
    rng: random.Random,
    reserved: list[_City],
    plans: list[_Plan],
    memberships: list[Membership],
    networks: dict[str, Network],
    profiles: dict[str, CountryProfile],
    used_slugs: set[str],
    decider: User,
) -> tuple[int, int]:
    """Pending requests from new institutions in unused cities, plus a few decided ones."""
    requests: list[JoinRequest] = []
    submitted_at: list[dt.datetime] = []
    used_names = {plan.institution.name for plan in plans}
    used_contacts: set[str] = set()
    offers = [value for value, _label in OfferKind.choices]
    for index, city in enumerate(reserved):
        profile = profiles[city.country]
        network = networks[_network_for(profile)]
        kind = _weighted(rng, KIND_WEIGHTS)
        name = _institution_name(rng, kind, city, used_names)
        slug = _unique_slug(name, used_slugs)
        contact_name, contact_email = _contact(rng, profile, used_contacts)
        latitude, longitude = _jitter(rng, city.latitude, city.longitude, INSTITUTION_JITTER)
        declined = index >= len(reserved) - len(DECLINE_REASONS)
        when = JOIN_REQUESTS_FROM + dt.timedelta(days=rng.randint(0, 100), minutes=index * 37)
        requests.append(
            JoinRequest(
                network=network,
                status=JoinRequestStatus.DECLINED if declined else JoinRequestStatus.SUBMITTED,
                institution_name=name,
                kind=kind,
                country=profile,
                city=city.name,
                latitude=latitude,
                longitude=longitude,
                website=f"https://{slug}.{DEMO_WEB_DOMAIN}",
                languages=_languages(rng, city.country),
                description=_description(rng, kind, city),
                contact_name=contact_name,
                contact_email=contact_email,
                contact_position=rng.choice(JOIN_REQUEST_POSITIONS),
                can_offer=sorted(rng.sample(offers, rng.randint(1, 3))),
                places_per_year=rng.randint(2, 20),
                offer_details="Four-week electives in the emergency department; "
                "a teaching visit by our faculty each year.",
                agrees_to_values=True,
                language=UI_LANGUAGE_BY_COUNTRY.get(city.country, "en"),
                decided_at=when + dt.timedelta(days=9) if declined else None,
                decided_by=decider if declined else None,
                decision_reason=(
                    DECLINE_REASONS[index - (len(reserved) - len(DECLINE_REASONS))]
                    if declined
                    else ""
                ),
            )
        )
        submitted_at.append(when)
    # Approved requests are the history of two institutions that joined through the form.
    approved = [
        membership
        for membership in memberships
        if membership.status == MembershipStatus.ACTIVE
        and membership.network.slug != GLOBAL_SLUG
        and membership.institution is not plans[0].institution
    ][:2]
    for membership in approved:
        institution = membership.institution
        joined_on = membership.joined_on or LAST_DAY  # active memberships are always dated
        decided = dt.datetime.combine(joined_on, dt.time(10, 30), tzinfo=dt.UTC)
        contact_name, contact_email = _contact(rng, institution.country, used_contacts)
        requests.append(
            JoinRequest(
                network=membership.network,
                status=JoinRequestStatus.APPROVED,
                institution_name=institution.name,
                kind=institution.kind,
                country=institution.country,
                city=institution.city,
                latitude=institution.latitude,
                longitude=institution.longitude,
                website=institution.website,
                languages=institution.languages,
                description=institution.description,
                contact_name=contact_name,
                contact_email=contact_email,
                contact_position=rng.choice(JOIN_REQUEST_POSITIONS),
                can_offer=sorted(rng.sample(offers, rng.randint(1, 3))),
                places_per_year=rng.randint(2, 20),
                agrees_to_values=True,
                decided_at=decided,
                decided_by=decider,
                decision_reason=APPROVAL_NOTE,
                institution=institution,
            )
        )
        submitted_at.append(decided - dt.timedelta(days=rng.randint(10, 40)))
    created = JoinRequest.objects.bulk_create(requests)
    # submitted_at is set on insert; give each request its own (fixed) date afterwards.
    for join_request, when in zip(created, submitted_at, strict=True):
        join_request.submitted_at = when
    JoinRequest.objects.bulk_update(created, ["submitted_at"])
    pending = sum(1 for r in requests if r.status == JoinRequestStatus.SUBMITTED)
    return pending, len(requests) - pending


def _reserve_join_request_cities(
    rng: random.Random, cities: list[_City], profiles: dict[str, CountryProfile]
) -> list[_City]:
    """Smaller cities kept free of institutions, for the join requests."""
    smaller = [city for city in cities if city.rank > 0]
    africa = [city for city in smaller if profiles[city.country].region == Region.AFRICA]
    sea = [city for city in smaller if profiles[city.country].subregion == SEA_SUBREGION]
    rest = [city for city in smaller if not _is_priority(profiles[city.country])]
    return rng.sample(africa, 4) + rng.sample(sea, 3) + rng.sample(rest, 3)


@transaction.atomic
def build_demo_network(*, seed: int, institutions: int = DEFAULT_INSTITUTIONS) -> DemoSummary:
    """Create the demo network; the caller removes earlier demo data first."""
    if not MIN_INSTITUTIONS <= institutions <= MAX_INSTITUTIONS:
        raise ValueError(f"institutions must be between {MIN_INSTITUTIONS} and {MAX_INSTITUTIONS}")
    rng = random.Random(seed)  # noqa: S311 - seeded for reproducibility, not for secrets
    profiles = _update_countries()
    networks = _create_networks()
    cities = _cities()
    reserved = _reserve_join_request_cities(rng, cities, profiles)
    chosen = _choose_cities(rng, cities, institutions, reserved, profiles)
    used_slugs = set(Institution.objects.values_list("slug", flat=True))
    plans = _plan_institutions(rng, chosen, profiles, used_slugs)
    Institution.objects.bulk_create([plan.institution for plan in plans])
    sites = _plan_sites(rng, plans)
    Site.objects.bulk_create(sites)
    memberships = _plan_memberships(rng, plans, networks)
    Membership.objects.bulk_create(memberships)

    kenya = plans[0].institution
    logins = _demo_users(kenya, networks)
    _demo_applicant_profile(User.objects.get(email=f"applicant@{DEMO_USER_DOMAIN}"), profiles)
    decider = User.objects.get(email=f"staff@{DEMO_USER_DOMAIN}")
    pending, decided = _join_requests(
        rng, reserved, plans, memberships, networks, profiles, used_slugs, decider
    )

    active = dict.fromkeys(DEMO_NETWORK_SLUGS, 0)
    for membership in memberships:
        if membership.status == MembershipStatus.ACTIVE:
            active[membership.network.slug] += 1
    return DemoSummary(
        seed=seed,
        institutions=len(plans),
        countries=len({plan.city.country for plan in plans}),
        sites=len(sites),
        networks=[(networks[slug].name, active[slug]) for slug in DEMO_NETWORK_SLUGS],
        join_requests_pending=pending,
        join_requests_decided=decided,
        role_institution=kenya.name,
        logins=logins,
    )


def reset_error_message(error: ProtectedError) -> str:
    blockers = sorted({type(obj)._meta.label for obj in error.protected_objects})
    return (
        "Demo data could not be removed because other records still refer to it "
        f"({', '.join(blockers)}). Delete those first, or start from a fresh database."
    )
