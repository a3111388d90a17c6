"""A realistic, deterministic demo catalog for the demo network (``load_demo``).

Everything this module writes is ILLUSTRATIVE DEMO DATA: programmes, fees, exchange rates
and contacts are fictional or rough. The same seed and start date always give the same
rows: all randomness comes from one ``random.Random(seed)``, hosts are visited in slug
order, and nothing depends on the current time (the caller passes ``start``, the first
day of the first month with sessions; sessions run over the two years from it).

Besides the random catalog it always contains, when the network has fitting hosts:
a one-month multi-site Emergency Medicine exchange program in one host city (the host's
own sites), a residency track with two places a year reserved for one partner country, a
one-year international EM fellowship, and emergency ultrasound, toxicology and ECG courses.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.text import slugify

from medexchange.catalog.choices import (
    AccommodationKind,
    Cefr,
    DocumentKind,
    HomeCountryRule,
    Immunisation,
    Level,
    OpportunityKind,
    OpportunityStatus,
    TrainingLevel,
)
from medexchange.catalog.models import Opportunity, Session, Specialty
from medexchange.network.choices import EmStatus, IncomeGroup, InstitutionKind, MembershipStatus
from medexchange.network.demo import DEMO_NETWORK_SLUGS, DEMO_WEB_DOMAIN
from medexchange.network.geodata import demo_cities
from medexchange.network.models import CountryProfile, Institution, Membership, Site

HORIZON_MONTHS = 24
OPPORTUNITIES_PER_HOST = (5, 10)
WINDOW_OPENS_DAYS = 120  # about four months before the start
WINDOW_CLOSES_DAYS = 42  # six weeks before the start
DECISION_DAYS = 21

# The partner country with reserved residency places (a university department's track).
RESIDENCY_PARTNER_COUNTRY = "HT"
UNIVERSITY_COUNTRIES = ("US", "CA", "GB", "AU")

# Currencies of the demo countries and rough, illustrative units per US dollar. Currencies
# with more than 1,000 units to the dollar price international programmes in US dollars.
CURRENCIES: dict[str, tuple[str, Decimal]] = {
    "KE": ("KES", Decimal(130)), "UG": ("UGX", Decimal(3700)), "TZ": ("TZS", Decimal(2600)),
    "ET": ("ETB", Decimal(120)), "RW": ("RWF", Decimal(1400)), "GH": ("GHS", Decimal(15)),
    "NG": ("NGN", Decimal(1500)), "SN": ("XOF", Decimal(600)), "CM": ("XAF", Decimal(600)),
    "ZA": ("ZAR", Decimal(18)), "ZM": ("ZMW", Decimal(27)), "MW": ("MWK", Decimal(1700)),
    "MZ": ("MZN", Decimal(64)), "EG": ("EGP", Decimal(49)), "MA": ("MAD", Decimal(10)),
    "TN": ("TND", Decimal(3)), "BW": ("BWP", Decimal(14)), "ZW": ("USD", Decimal(1)),
    "ID": ("IDR", Decimal(16000)), "PH": ("PHP", Decimal(57)), "VN": ("VND", Decimal(25000)),
    "TH": ("THB", Decimal(34)), "MY": ("MYR", Decimal(4)), "KH": ("USD", Decimal(1)),
    "LA": ("LAK", Decimal(21000)), "MM": ("MMK", Decimal(2100)), "SG": ("SGD", Decimal(1)),
    "IN": ("INR", Decimal(85)), "NP": ("NPR", Decimal(135)), "BD": ("BDT", Decimal(120)),
    "PK": ("PKR", Decimal(280)), "LK": ("LKR", Decimal(300)), "JP": ("JPY", Decimal(150)),
    "KR": ("KRW", Decimal(1400)), "MN": ("MNT", Decimal(3400)), "JO": ("JOD", Decimal(1)),
    "LB": ("USD", Decimal(1)), "IQ": ("IQD", Decimal(1300)), "TR": ("TRY", Decimal(38)),
    "US": ("USD", Decimal(1)), "CA": ("CAD", Decimal(1)), "MX": ("MXN", Decimal(19)),
    "GT": ("GTQ", Decimal(8)), "HT": ("USD", Decimal(1)), "JM": ("JMD", Decimal(160)),
    "CO": ("COP", Decimal(4000)), "PE": ("PEN", Decimal(4)), "AR": ("USD", Decimal(1)),
    "BR": ("BRL", Decimal(5)), "CL": ("CLP", Decimal(950)), "BO": ("BOB", Decimal(7)),
    "EC": ("USD", Decimal(1)), "DO": ("DOP", Decimal(60)), "RO": ("RON", Decimal(5)),
    "IT": ("EUR", Decimal(1)), "ES": ("EUR", Decimal(1)), "GB": ("GBP", Decimal(1)),
    "DE": ("EUR", Decimal(1)), "FR": ("EUR", Decimal(1)), "PL": ("PLN", Decimal(4)),
    "UA": ("UAH", Decimal(41)), "GR": ("EUR", Decimal(1)), "PT": ("EUR", Decimal(1)),
    "IE": ("EUR", Decimal(1)), "NL": ("EUR", Decimal(1)), "SE": ("SEK", Decimal(10)),
    "AU": ("AUD", Decimal(2)), "NZ": ("NZD", Decimal(2)), "PG": ("PGK", Decimal(4)),
    "FJ": ("FJD", Decimal(2)),
}  # fmt: skip
MAX_LOCAL_RATE = Decimal(1000)

# Monthly housing, transport and insurance in US dollars, by the host's income group.
LIVING_COSTS: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    IncomeGroup.LOW: ((120, 300), (15, 40), (25, 50)),
    IncomeGroup.LOWER_MIDDLE: ((180, 420), (20, 60), (30, 60)),
    IncomeGroup.UPPER_MIDDLE: ((300, 700), (30, 90), (35, 70)),
    IncomeGroup.HIGH: ((800, 1700), (60, 160), (40, 90)),
}
FEE_SCALE: dict[str, Decimal] = {
    IncomeGroup.LOW: Decimal("0.3"),
    IncomeGroup.LOWER_MIDDLE: Decimal("0.5"),
    IncomeGroup.UPPER_MIDDLE: Decimal("0.8"),
    IncomeGroup.HIGH: Decimal("1.6"),
}

K = OpportunityKind
KIND_WEIGHTS: dict[str, tuple[tuple[str, int], ...]] = {
    InstitutionKind.MEDICAL_SCHOOL: (
        (K.CLINICAL_ELECTIVE, 30), (K.RESEARCH_ELECTIVE, 15), (K.OBSERVERSHIP, 8),
        (K.EXCHANGE_PROGRAM, 5), (K.RESIDENCY_TRACK, 2), (K.FELLOWSHIP, 3), (K.COURSE, 12),
        (K.TEACHING_VISIT, 8),
    ),
    InstitutionKind.TEACHING_HOSPITAL: (
        (K.CLINICAL_ELECTIVE, 25), (K.RESEARCH_ELECTIVE, 6), (K.OBSERVERSHIP, 18),
        (K.EXCHANGE_PROGRAM, 8), (K.RESIDENCY_TRACK, 5), (K.FELLOWSHIP, 8), (K.COURSE, 12),
        (K.TEACHING_VISIT, 8),
    ),
    InstitutionKind.HEALTH_ORGANISATION: (
        (K.CLINICAL_ELECTIVE, 15), (K.RESEARCH_ELECTIVE, 8), (K.OBSERVERSHIP, 15),
        (K.EXCHANGE_PROGRAM, 6), (K.RESIDENCY_TRACK, 1), (K.FELLOWSHIP, 3), (K.COURSE, 20),
        (K.TEACHING_VISIT, 12),
    ),
    InstitutionKind.TRAINING_INSTITUTION: (
        (K.CLINICAL_ELECTIVE, 8), (K.RESEARCH_ELECTIVE, 5), (K.OBSERVERSHIP, 10),
        (K.EXCHANGE_PROGRAM, 4), (K.RESIDENCY_TRACK, 1), (K.FELLOWSHIP, 6), (K.COURSE, 45),
        (K.TEACHING_VISIT, 15),
    ),
}  # fmt: skip

LEVEL_WEIGHTS: dict[str, tuple[tuple[str, int], ...]] = {
    K.CLINICAL_ELECTIVE: ((Level.UNDERGRADUATE, 70), (Level.POSTGRADUATE, 30)),
    K.RESEARCH_ELECTIVE: ((Level.UNDERGRADUATE, 60), (Level.POSTGRADUATE, 40)),
    K.OBSERVERSHIP: ((Level.POSTGRADUATE, 60), (Level.FACULTY, 40)),
    K.EXCHANGE_PROGRAM: ((Level.POSTGRADUATE, 80), (Level.FACULTY, 20)),
    K.RESIDENCY_TRACK: ((Level.POSTGRADUATE, 1),),
    K.FELLOWSHIP: ((Level.POSTGRADUATE, 1),),
    K.COURSE: ((Level.POSTGRADUATE, 60), (Level.FACULTY, 30), (Level.UNDERGRADUATE, 10)),
    K.TEACHING_VISIT: ((Level.FACULTY, 1),),
}

# Durations in days, months between sessions, and places per session.
DURATIONS: dict[str, tuple[int, ...]] = {
    K.CLINICAL_ELECTIVE: (14, 28, 28, 28, 42, 56),
    K.RESEARCH_ELECTIVE: (28, 56, 56, 84),
    K.OBSERVERSHIP: (7, 14, 14, 28),
    K.EXCHANGE_PROGRAM: (28, 28, 30),
    K.RESIDENCY_TRACK: (1095, 1095, 1461),
    K.FELLOWSHIP: (365, 365, 182),
    K.COURSE: (1, 2, 2, 3, 5),
    K.TEACHING_VISIT: (7, 10, 14),
}
CADENCES: dict[str, tuple[int, ...]] = {
    K.CLINICAL_ELECTIVE: (2, 3, 3, 4, 6),
    K.RESEARCH_ELECTIVE: (4, 6, 6, 12),
    K.OBSERVERSHIP: (3, 4, 6),
    K.EXCHANGE_PROGRAM: (3, 6, 6),
    K.RESIDENCY_TRACK: (12,),
    K.FELLOWSHIP: (12,),
    K.COURSE: (2, 3, 4, 6),
    K.TEACHING_VISIT: (6, 12),
}
CAPACITIES: dict[str, tuple[int, int]] = {
    K.CLINICAL_ELECTIVE: (1, 6),
    K.RESEARCH_ELECTIVE: (1, 3),
    K.OBSERVERSHIP: (1, 4),
    K.EXCHANGE_PROGRAM: (4, 10),
    K.RESIDENCY_TRACK: (1, 3),
    K.FELLOWSHIP: (1, 3),
    K.COURSE: (12, 40),
    K.TEACHING_VISIT: (1, 3),
}
# Tuition in US dollars for a high-income host, before the income-group scale.
TUITION_USD: dict[str, tuple[int, int]] = {
    K.CLINICAL_ELECTIVE: (0, 1500),
    K.RESEARCH_ELECTIVE: (0, 900),
    K.OBSERVERSHIP: (0, 800),
    K.EXCHANGE_PROGRAM: (0, 0),
    K.RESIDENCY_TRACK: (0, 0),
    K.FELLOWSHIP: (0, 6000),
    K.COURSE: (60, 450),
    K.TEACHING_VISIT: (0, 0),
}

SPECIALTY_WEIGHTS: dict[str, int] = {
    "emergency-medicine": 40, "paediatric-emergency-medicine": 6, "critical-care": 6,
    "internal-medicine": 5, "general-surgery": 4, "trauma-surgery": 4, "paediatrics": 4,
    "family-medicine": 4, "obstetrics-gynaecology": 3, "anaesthesiology": 3, "cardiology": 3,
    "infectious-diseases": 4, "toxicology": 2, "radiology": 2, "global-health": 4,
    "prehospital-care": 5, "public-health": 3, "psychiatry": 1, "neurology": 1,
    "orthopaedics": 2, "medical-education": 3,
}  # fmt: skip

FOCUS = (
    "acute care", "resuscitation", "trauma", "paediatric emergencies", "triage",
    "district-hospital practice", "night shifts and handover", "critical care transfers",
)  # fmt: skip
RESEARCH_TOPICS = (
    ("trauma registries", "trauma-surgery"),
    ("triage in crowded emergency departments", "emergency-medicine"),
    ("snakebite envenoming outcomes", "toxicology"),
    ("point-of-care ultrasound accuracy", "emergency-medicine"),
    ("sepsis recognition in low-resource settings", "infectious-diseases"),
    ("pre-hospital care and ambulance response times", "prehospital-care"),
    ("paediatric fever in the emergency department", "paediatric-emergency-medicine"),
    ("road traffic injury prevention", "public-health"),
    ("simulation-based teaching of residents", "medical-education"),
    ("acute coronary syndromes at first contact", "cardiology"),
)
COURSE_TOPICS = (
    ("Emergency ultrasound (POCUS)", "emergency-medicine"),
    ("Medical toxicology and poisoning", "toxicology"),
    ("Emergency ECG interpretation", "emergency-medicine"),
    ("Trauma life support", "trauma-surgery"),
    ("Paediatric resuscitation", "paediatric-emergency-medicine"),
    ("Emergency triage and assessment", "emergency-medicine"),
    ("Airway management workshop", "anaesthesiology"),
    ("Simulation instructor course", "medical-education"),
    ("Mass casualty and disaster response", "prehospital-care"),
    ("Obstetric emergencies", "obstetrics-gynaecology"),
    ("Teaching on shift: clinical educator skills", "medical-education"),
)
TEACHING_TOPICS = (
    "emergency department design and triage",
    "resuscitation teaching for nurses and doctors",
    "building an Emergency Medicine residency",
    "point-of-care ultrasound training of trainers",
    "quality improvement in emergency care",
    "trauma team training",
)

DUTIES: dict[str, tuple[str, ...]] = {
    K.CLINICAL_ELECTIVE: (
        "See patients from arrival to disposition under a senior doctor's supervision.",
        "Present your patients on the morning handover round.",
        "Join the resuscitation team and practise procedures on the simulation days.",
        "Take part in the weekly journal club and teaching sessions.",
        "Spend shifts in triage with the nursing team.",
        "Follow a patient into the ward or the operating theatre.",
    ),
    K.RESEARCH_ELECTIVE: (
        "Join an ongoing study and own one well-defined part of it.",
        "Collect and clean data with the local research team.",
        "Learn the ethics approval and consent processes of the host.",
        "Present your findings at the department's research meeting.",
        "Draft an abstract for a regional conference with your supervisor.",
    ),
    K.OBSERVERSHIP: (
        "Observe clinical work in the emergency department and the wards.",
        "Attend departmental teaching, morbidity and mortality meetings.",
        "Meet the leads of triage, quality and education.",
        "Discuss how practice differs in your own country with local colleagues.",
    ),
    K.EXCHANGE_PROGRAM: (
        "Rotate through the host's hospitals week by week to compare settings.",
        "Work with local residents in emergency departments of different sizes.",
        "Learn the teaching methods the host uses, to take them home.",
        "Present Emergency Medicine in your own country to host physicians.",
        "Join simulation sessions and a pre-hospital shift.",
    ),
    K.RESIDENCY_TRACK: (
        "Train as a resident alongside the host's own residents.",
        "Rotate through emergency, critical care, paediatrics and trauma.",
        "Teach medical students and lead simulation sessions in later years.",
        "Complete a scholarly project relevant to your home country.",
    ),
    K.FELLOWSHIP: (
        "Take a clinical role in the emergency department with protected academic time.",
        "Lead a project in education, research or systems development.",
        "Teach residents and students and receive feedback on your teaching.",
        "Plan a programme to build on at your home institution.",
    ),
    K.COURSE: (
        "Short lectures followed by hands-on stations in small groups.",
        "Case-based discussions with experienced faculty.",
        "A practical assessment at the end, with feedback.",
        "Materials to take home and teach your own colleagues.",
    ),
    K.TEACHING_VISIT: (
        "Teach alongside the partner's faculty in the emergency department.",
        "Run workshops for residents and nurses.",
        "Review the partner's curriculum and assessment with its leads.",
        "Plan the next year's joint activities.",
    ),
}
AUDIENCE: dict[str, str] = {
    Level.UNDERGRADUATE: "Medical students in their clinical years.",
    Level.POSTGRADUATE: "Residents and junior physicians.",
    Level.FACULTY: "Consultants, faculty and senior nurses who teach.",
}
SUPERVISION = (
    "A named supervisor meets you every week; you receive a competency-based evaluation "
    "and a certificate at the end.",
    "You are assigned a local mentor and assessed with the network's evaluation form.",
    "Feedback sessions at mid-point and at the end; a certificate of attendance is issued.",
)
ACCOMMODATION_NOTES: dict[str, str] = {
    AccommodationKind.NONE: "Participants arrange their own accommodation.",
    AccommodationKind.HOST_HOUSING: "Rooms in the hospital's residence, a short walk away.",
    AccommodationKind.PARTNER_LODGING: "Lodging with host families or local residents.",
    AccommodationKind.HELP_FINDING: "The international office sends a list of trusted "
    "landlords and shared flats near the hospital.",
}
INTRO: dict[str, str] = {
    K.CLINICAL_ELECTIVE: "A {duration} clinical elective in {specialty} at {host}, "
    "with a focus on {focus}.",
    K.RESEARCH_ELECTIVE: "A {duration} research elective at {host} on {topic}.",
    K.OBSERVERSHIP: "A {duration} observership in {specialty} at {host}.",
    K.EXCHANGE_PROGRAM: "A {duration} exchange program rotating through {sites} of {host}.",
    K.RESIDENCY_TRACK: "Residency places in {specialty} at {host}.",
    K.FELLOWSHIP: "A {duration} fellowship in {specialty} at {host}.",
    K.COURSE: "{topic}: a {duration} course taught by the faculty of {host}.",
    K.TEACHING_VISIT: "A {duration} teaching visit by faculty of {host} to a partner "
    "institution, on {topic}.",
}


@dataclass
class DemoCatalogSummary:
    seed: int
    start: dt.date
    hosts: int = 0
    opportunities: int = 0
    published: int = 0
    sessions: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    # What each special opportunity is, mapped to its slug.
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass
class _Plan:
    opportunity: Opportunity
    cadence: int
    capacity: tuple[int, int]
    sites: list[Site] = field(default_factory=list)
    countries: list[CountryProfile] = field(default_factory=list)
    start_month: int | None = None  # fixed month of the year (e.g. July), if any
    sessions: int | None = None  # fixed number of sessions, if any


# --- Reset --------------------------------------------------------------------------------


def _demo_institutions() -> QuerySet[Institution]:
    return Institution.objects.filter(
        Q(memberships__network__slug__in=DEMO_NETWORK_SLUGS)
        | Q(website__endswith=f".{DEMO_WEB_DOMAIN}")
    )


@transaction.atomic
def delete_demo_catalog() -> int:
    """Delete the opportunities (and so sessions) of demo institutions; returns how many.

    Applications protect their sessions, so the demo applications go first.
    """
    from medexchange.applications.demo import delete_demo_applications

    delete_demo_applications()
    hosts = list(_demo_institutions().values_list("pk", flat=True).distinct())
    _deleted, per_model = Opportunity.objects.filter(host_id__in=hosts).delete()
    return per_model.get(Opportunity._meta.label, 0)


# --- Helpers ------------------------------------------------------------------------------


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _first_weekday(month_start: dt.date, weekday: int) -> dt.date:
    return month_start + dt.timedelta(days=(weekday - month_start.weekday()) % 7)


def _money(usd: Decimal, rate: Decimal) -> Decimal:
    """``usd`` in local units, rounded to two significant digits (at least whole units)."""
    value = usd * rate
    if value <= 0:
        return Decimal("0.00")
    digits = len(str(int(value)))
    step = Decimal(10) ** max(digits - 2, 0)
    return ((value / step).to_integral_value() * step).quantize(Decimal("0.01"))


def _duration_label(days: int) -> str:
    if days >= 365:
        years = round(days / 365)
        return "one-year" if years == 1 else f"{years}-year"
    if days >= 28 and days % 28 == 0:
        weeks = days // 7
        return "one-month" if weeks == 4 else f"{weeks}-week"
    if days in (30, 31):
        return "one-month"
    if days >= 7 and days % 7 == 0:
        return "one-week" if days == 7 else f"{days // 7}-week"
    if days >= 180:
        return "six-month"
    return "one-day" if days == 1 else f"{days}-day"


def _unique_slug(text: str, used: set[str]) -> str:
    base = slugify(text)[:200].strip("-") or "opportunity"
    slug, counter = base, 2
    while slug in used:
        slug = f"{base}-{counter}"
        counter += 1
    used.add(slug)
    return slug


def _time_zones() -> dict[tuple[str, str], str]:
    return {(row["country"], row["name"]): row["timezone"] for row in demo_cities()}


def _set_time_zones() -> None:
    """Each demo institution keeps its deadlines in its city's time zone."""
    zones = _time_zones()
    changed = []
    for institution in _demo_institutions().distinct().select_related("country").order_by("pk"):
        zone = zones.get((str(institution.country.code), institution.city), "UTC")
        if institution.time_zone != zone:
            institution.time_zone = zone
            changed.append(institution)
    Institution.objects.bulk_update(changed, ["time_zone"], batch_size=500)


# --- Opportunities ------------------------------------------------------------------------


class _Builder:
    def __init__(self, rng: random.Random, start: dt.date) -> None:
        self.rng = rng
        self.start = start
        self.specialties = {s.code: s for s in Specialty.objects.order_by("code")}
        self.used_slugs = set(Opportunity.objects.values_list("slug", flat=True))
        self.plans: list[_Plan] = []
        self.country_pool = list(
            CountryProfile.objects.filter(
                em_status__in=[EmStatus.NOT_RECOGNISED, EmStatus.EMERGING]
            )
            .exclude(income_group="")
            .order_by("code")
        )

    def specialty(self, code: str | None = None) -> Specialty:
        if code is None:
            codes = [c for c in SPECIALTY_WEIGHTS if c in self.specialties]
            code = self.rng.choices(codes, weights=[SPECIALTY_WEIGHTS[c] for c in codes])[0]
        return self.specialties.get(code) or self.specialties["emergency-medicine"]

    def languages(self, host: Institution, kind: str) -> list[dict[str, str]]:
        codes = list(host.languages or ["en"])
        minimum = Cefr.B1 if kind in (K.OBSERVERSHIP, K.COURSE, K.RESEARCH_ELECTIVE) else Cefr.B2
        chosen = [{"code": codes[0], "level": str(minimum)}]
        if len(codes) > 1 and self.rng.random() < 0.4:
            chosen.append({"code": codes[1], "level": str(Cefr.A2)})
        return chosen

    def opportunity(
        self,
        host: Institution,
        sites: list[Site],
        kind: str,
        *,
        title: str | None = None,
        specialty: Specialty | None = None,
        topic: str | None = None,
        duration: int | None = None,
        level: str | None = None,
        status: str | None = None,
    ) -> _Plan:
        rng = self.rng
        income = host.country.income_group or IncomeGroup.UPPER_MIDDLE
        currency, rate = CURRENCIES.get(str(host.country.code), ("USD", Decimal(1)))
        if rate > MAX_LOCAL_RATE:
            currency, rate = "USD", Decimal(1)
        level = level or _weighted(rng, LEVEL_WEIGHTS[kind])
        duration = duration or rng.choice(DURATIONS[kind])
        if specialty is None:
            if kind == K.COURSE:
                topic, code = rng.choice(COURSE_TOPICS)
                specialty = self.specialty(code)
            elif kind == K.RESEARCH_ELECTIVE:
                topic, code = rng.choice(RESEARCH_TOPICS)
                specialty = self.specialty(code)
            elif kind == K.EXCHANGE_PROGRAM:
                specialty = self.specialty("emergency-medicine")
            else:
                specialty = self.specialty()
        if topic is None and kind == K.TEACHING_VISIT:
            topic = rng.choice(TEACHING_TOPICS)
        focus = rng.choice(FOCUS)
        label = _duration_label(duration)
        name = specialty.name
        if title is None:
            titles: dict[str, str] = {
                K.CLINICAL_ELECTIVE: f"{name} clinical elective: {focus}",
                K.RESEARCH_ELECTIVE: f"Research elective: {topic}",
                K.OBSERVERSHIP: f"{name} observership",
                K.EXCHANGE_PROGRAM: f"Multi-site {name} exchange program",
                K.RESIDENCY_TRACK: f"{name} residency: international places",
                K.FELLOWSHIP: f"International {name} fellowship",
                K.COURSE: f"{topic} course",
                K.TEACHING_VISIT: f"Teaching visit: {topic}",
            }
            title = f"{titles[kind]} ({host.city})"
        slug = _unique_slug(f"{title} {host.slug.split('-')[0]}", self.used_slugs)

        # Fees: application fee, tuition, and a surcharge for international applicants.
        scale = FEE_SCALE.get(income, Decimal(1))
        low, high = TUITION_USD[kind]
        tuition = Decimal(0)
        if high and rng.random() < (0.85 if kind == K.COURSE else 0.55):
            tuition = Decimal(rng.randint(low, high)) * scale
        application = Decimal(rng.choice((0, 0, 25, 50, 100))) * scale
        surcharge = Decimal(0)
        if tuition and rng.random() < 0.3:
            surcharge = tuition * Decimal(rng.choice(("0.25", "0.5", "1")))
        if kind in (K.EXCHANGE_PROGRAM, K.TEACHING_VISIT):
            application = tuition = surcharge = Decimal(0)
        housing_range, transport_range, insurance_range = LIVING_COSTS.get(
            income, LIVING_COSTS[IncomeGroup.UPPER_MIDDLE]
        )
        under_agreement = rng.random() < 0.4
        lower_income = income == IncomeGroup.HIGH and rng.random() < 0.5
        accommodation = rng.choice(list(AccommodationKind.values))
        if kind in (K.EXCHANGE_PROGRAM, K.TEACHING_VISIT):
            accommodation = rng.choice(
                (AccommodationKind.HOST_HOUSING, AccommodationKind.PARTNER_LODGING)
            )

        rule = HomeCountryRule.ANY
        draw = rng.random()
        if kind == K.EXCHANGE_PROGRAM or (specialty.code == "emergency-medicine" and draw < 0.1):
            rule = HomeCountryRule.EM_NOT_ESTABLISHED
        elif draw < 0.18:
            rule = HomeCountryRule.LOWER_INCOME
        countries: list[CountryProfile] = []
        if rule == HomeCountryRule.ANY and draw > 0.97 and self.country_pool:
            rule = HomeCountryRule.LISTED
            countries = rng.sample(self.country_pool, rng.randint(1, 3))

        if level == Level.UNDERGRADUATE:
            training = [TrainingLevel.STUDENT]
        elif level == Level.FACULTY:
            training = [TrainingLevel.PHYSICIAN]
        else:
            training = rng.choice(
                ([TrainingLevel.RESIDENT], [TrainingLevel.RESIDENT, TrainingLevel.PHYSICIAN])
            )
        min_year = max_year = None
        if level == Level.UNDERGRADUATE and kind != K.COURSE:
            min_year = rng.choice((4, 5, 5))
            max_year = rng.choice((None, 6))
        documents = [DocumentKind.CV, DocumentKind.PASSPORT]
        if level == Level.UNDERGRADUATE:
            documents += [DocumentKind.TRANSCRIPT, DocumentKind.GOOD_STANDING]
        else:
            documents += [DocumentKind.RECOMMENDATION]
        if host.languages and host.languages[0] != "en":
            documents.append(DocumentKind.LANGUAGE_CERTIFICATE)
        immunisations: list[str] = []
        if kind not in (K.COURSE, K.RESEARCH_ELECTIVE, K.TEACHING_VISIT):
            immunisations = [Immunisation.HEPATITIS_B, Immunisation.MMR, Immunisation.TETANUS]
            if rng.random() < 0.5:
                immunisations.append(Immunisation.TUBERCULOSIS)
            documents += [DocumentKind.IMMUNISATION_RECORD, DocumentKind.INSURANCE]

        if kind in (K.EXCHANGE_PROGRAM, K.CLINICAL_ELECTIVE, K.OBSERVERSHIP) and sites:
            count = len(sites) if kind == K.EXCHANGE_PROGRAM else rng.randint(1, min(2, len(sites)))
            chosen_sites = sites[:count] if kind == K.EXCHANGE_PROGRAM else rng.sample(sites, count)
        else:
            chosen_sites = []
        site_names = ", ".join(site.name for site in chosen_sites) or "the sites"
        intro = INTRO[kind].format(
            duration=label,
            specialty=name,
            host=host.name,
            focus=focus,
            topic=topic,
            sites=f"{len(chosen_sites)} sites" if chosen_sites else "the sites",
        )
        duties = rng.sample(DUTIES[kind], min(3, len(DUTIES[kind])))
        description = "\n".join(
            [
                intro,
                "",
                "## What you will do",
                *(f"- {duty}" for duty in duties),
                "",
                "## Who it is for",
                AUDIENCE[level],
                "",
                "## Supervision and assessment",
                rng.choice(SUPERVISION),
                "",
                "## Practical information",
                (f"Sites: {site_names}. " if chosen_sites else "")
                + ACCOMMODATION_NOTES[accommodation],
            ]
        )
        status = status or _weighted(
            rng,
            (
                (OpportunityStatus.PUBLISHED, 90),
                (OpportunityStatus.DRAFT, 7),
                (OpportunityStatus.UNPUBLISHED, 3),
            ),
        )
        published_at = None
        if status != OpportunityStatus.DRAFT:
            day = self.start - dt.timedelta(days=rng.randint(20, 400))
            published_at = dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC)
        summary = intro if len(intro) <= 300 else intro[:297] + "…"
        opportunity = Opportunity(
            host=host,
            kind=kind,
            title=title[:200],
            slug=slug,
            summary=summary,
            description=description,
            level=level,
            specialty=specialty,
            languages=self.languages(host, kind),
            duration_days=duration,
            training_levels=[str(value) for value in training],
            min_year_of_study=min_year,
            max_year_of_study=max_year,
            home_country_rule=rule,
            required_documents=[str(value) for value in documents],
            required_immunisations=[str(value) for value in immunisations],
            currency=currency,
            application_fee=_money(application, rate),
            tuition_fee=_money(tuition, rate),
            international_surcharge=_money(surcharge, rate),
            fee_notes=(
                "All fees are listed here; there are no other charges."
                if tuition or application
                else "No application or tuition fee."
            ),
            waiver_under_agreement=under_agreement,
            waiver_for_lower_income=lower_income,
            waiver_notes=(
                "Fees are waived for students of partner institutions under an exchange "
                "agreement and for applicants from low and lower-middle income countries."
                if under_agreement or lower_income
                else ""
            ),
            scholarship_eligible=kind == K.EXCHANGE_PROGRAM or rng.random() < 0.35,
            accommodation=accommodation,
            accommodation_notes=ACCOMMODATION_NOTES[accommodation],
            monthly_housing_cost=_money(Decimal(rng.randint(*housing_range)), rate),
            monthly_transport_cost=_money(Decimal(rng.randint(*transport_range)), rate),
            monthly_insurance_cost=_money(Decimal(rng.randint(*insurance_range)), rate),
            contact_name=f"{host.name[:150]} international office",
            contact_email=f"exchange@{host.slug[:60]}.{DEMO_WEB_DOMAIN}",
            status=status,
            published_at=published_at,
        )
        plan = _Plan(
            opportunity=opportunity,
            cadence=rng.choice(CADENCES[kind]),
            capacity=CAPACITIES[kind],
            sites=chosen_sites,
            countries=countries,
        )
        self.plans.append(plan)
        return plan

    def sessions(self, plan: _Plan) -> list[Session]:
        rng = self.rng
        opportunity = plan.opportunity
        zone = ZoneInfo(opportunity.host.time_zone)
        kind = opportunity.kind
        if plan.start_month is not None:
            first = self.start
            while first.month != plan.start_month:
                first = add_months(first, 1)
        else:
            first = add_months(self.start, rng.randrange(plan.cadence))
        sessions: list[Session] = []
        month = first
        while month < add_months(self.start, HORIZON_MONTHS):
            if plan.sessions is not None and len(sessions) >= plan.sessions:
                break
            if kind in (K.COURSE, K.TEACHING_VISIT):
                start_date = _first_weekday(month, 0) + dt.timedelta(weeks=rng.randint(0, 2))
            else:
                start_date = month
            end_date = start_date + dt.timedelta(days=opportunity.duration_days - 1)
            opens_on = start_date - dt.timedelta(days=WINDOW_OPENS_DAYS + rng.randint(-7, 7))
            closes_on = start_date - dt.timedelta(days=WINDOW_CLOSES_DAYS)
            sessions.append(
                Session(
                    opportunity=opportunity,
                    start_date=start_date,
                    end_date=end_date,
                    capacity=rng.randint(*plan.capacity),
                    applications_open_at=dt.datetime.combine(opens_on, dt.time(0, 0), zone),
                    applications_close_at=dt.datetime.combine(closes_on, dt.time(23, 59), zone),
                    decision_date=start_date - dt.timedelta(days=DECISION_DAYS),
                )
            )
            month = add_months(month, plan.cadence)
        return sessions


def _hosts() -> list[Institution]:
    active = Membership.objects.filter(
        network__slug__in=DEMO_NETWORK_SLUGS, status=MembershipStatus.ACTIVE
    ).values("institution_id")
    return list(
        Institution.objects.filter(pk__in=active)
        .select_related("country")
        .prefetch_related("sites")
        .order_by("slug")
    )


def _sites(host: Institution) -> list[Site]:
    return sorted(host.sites.all(), key=lambda site: (site.name, site.pk))


def _special_opportunities(
    builder: _Builder, hosts: list[Institution], summary: DemoCatalogSummary
) -> None:
    """The opportunities the demo promises, on fitting hosts chosen deterministically."""
    rng = builder.rng
    # A university department with an international program: residency track, fellowship
    # and courses taught to partners.
    university = next(
        (
            host
            for code in UNIVERSITY_COUNTRIES
            for host in hosts
            if str(host.country.code) == code
            and host.kind in (InstitutionKind.MEDICAL_SCHOOL, InstitutionKind.TEACHING_HOSPITAL)
        ),
        next(
            (h for h in hosts if h.country.income_group == IncomeGroup.HIGH),
            hosts[0],
        ),
    )
    # A multi-site exchange program in one host city: a host with the most sites.
    others = [host for host in hosts if host is not university] or hosts
    most = max(len(_sites(host)) for host in others)
    candidates = [host for host in others if len(_sites(host)) == most]
    established = [
        host for host in candidates if host.country.em_status == EmStatus.ESTABLISHED
    ] or candidates
    exchange_host = rng.choice(established)

    published = OpportunityStatus.PUBLISHED
    em = builder.specialty("emergency-medicine")
    plan = builder.opportunity(
        exchange_host,
        _sites(exchange_host),
        K.EXCHANGE_PROGRAM,
        title=f"One-month multi-site Emergency Medicine exchange program in {exchange_host.city}",
        specialty=em,
        duration=28,
        level=Level.POSTGRADUATE,
        status=published,
    )
    plan.cadence = 3
    plan.capacity = (6, 10)
    summary.highlights["exchange_program"] = plan.opportunity.slug

    plan = builder.opportunity(
        university,
        [],
        K.RESIDENCY_TRACK,
        title=f"Emergency Medicine residency: two places a year for physicians from "
        f"{CountryProfile.objects.get(code=RESIDENCY_PARTNER_COUNTRY).name}",
        specialty=em,
        duration=1095,
        level=Level.POSTGRADUATE,
        status=published,
    )
    plan.opportunity.home_country_rule = HomeCountryRule.LISTED
    plan.opportunity.training_levels = [TrainingLevel.PHYSICIAN.value]
    plan.countries = [CountryProfile.objects.get(code=RESIDENCY_PARTNER_COUNTRY)]
    plan.capacity = (2, 2)
    plan.cadence = 12
    plan.start_month = 7
    summary.highlights["residency_track"] = plan.opportunity.slug

    plan = builder.opportunity(
        university,
        [],
        K.FELLOWSHIP,
        title="One-year International Emergency Medicine Fellowship",
        specialty=em,
        duration=365,
        level=Level.POSTGRADUATE,
        status=published,
    )
    plan.cadence = 12
    plan.start_month = 7
    plan.capacity = (2, 3)
    summary.highlights["fellowship"] = plan.opportunity.slug

    for key, title, code in (
        ("ultrasound_course", "Emergency ultrasound course for partner institutions", None),
        ("toxicology_course", "Medical toxicology course for partner institutions", "toxicology"),
        ("ecg_course", "Emergency ECG interpretation course for partner institutions", None),
    ):
        plan = builder.opportunity(
            university,
            [],
            K.COURSE,
            title=title,
            specialty=builder.specialty(code or "emergency-medicine"),
            topic=title.split(" course")[0],
            duration=3 if key == "ultrasound_course" else 2,
            level=Level.POSTGRADUATE,
            status=published,
        )
        plan.cadence = 3
        summary.highlights[key] = plan.opportunity.slug


@transaction.atomic
def build_demo_catalog(*, seed: int, start: dt.date) -> DemoCatalogSummary:
    """Create the demo catalog on the demo network; the caller removes an earlier one first.

    ``start`` is the first day of the first month with sessions (the command passes the
    first day of next month); sessions run over the following two years.
    """
    start = start.replace(day=1)
    summary = DemoCatalogSummary(seed=seed, start=start)
    _set_time_zones()
    hosts = _hosts()
    if not hosts:
        return summary
    rng = random.Random(seed)  # noqa: S311 - seeded for reproducibility, not for secrets
    builder = _Builder(rng, start)
    _special_opportunities(builder, hosts, summary)
    for host in hosts:
        sites = _sites(host)
        for _index in range(rng.randint(*OPPORTUNITIES_PER_HOST)):
            kind = _weighted(rng, KIND_WEIGHTS[host.kind])
            if kind == K.EXCHANGE_PROGRAM and len(sites) < 2:
                kind = K.CLINICAL_ELECTIVE
            builder.opportunity(host, sites, kind)

    for plan in builder.plans:  # bulk_create skips save(), which keeps this current
        plan.opportunity.search_text = plan.opportunity.compose_search_text()
    opportunities = Opportunity.objects.bulk_create(
        [plan.opportunity for plan in builder.plans], batch_size=500
    )
    site_links = [
        Opportunity.sites.through(opportunity_id=plan.opportunity.pk, site_id=site.pk)
        for plan in builder.plans
        for site in plan.sites
    ]
    Opportunity.sites.through.objects.bulk_create(site_links, batch_size=1000)
    country_links = [
        Opportunity.eligible_countries.through(
            opportunity_id=plan.opportunity.pk, countryprofile_id=country.pk
        )
        for plan in builder.plans
        for country in plan.countries
    ]
    Opportunity.eligible_countries.through.objects.bulk_create(country_links, batch_size=1000)
    sessions = [session for plan in builder.plans for session in builder.sessions(plan)]
    Session.objects.bulk_create(sessions, batch_size=1000)

    kinds: Counter[str] = Counter(o.kind for o in opportunities)
    summary.hosts = len(hosts)
    summary.opportunities = len(opportunities)
    summary.published = sum(1 for o in opportunities if o.status == OpportunityStatus.PUBLISHED)
    summary.sessions = len(sessions)
    summary.kinds = {str(kind): kinds.get(kind, 0) for kind in OpportunityKind.values}
    return summary


def first_day_of_next_month(today: dt.date) -> dt.date:
    return add_months(today, 1)
