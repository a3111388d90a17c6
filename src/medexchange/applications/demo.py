"""Realistic, deterministic demo applications for the demo catalog (``load_demo``).

Everything this module writes is ILLUSTRATIVE DEMO DATA: the applicants, their contacts
(phone numbers in the fictional ``…900 0xx xxx`` block of each country), statements,
reviews and decisions are invented.

What it builds, on sessions whose application window has opened:

- about 150 demo applicants (``applicant-NNN@demo.medexchange.test``, no login printed)
  with complete profiles, most at member institutions in countries where Emergency
  Medicine is not established; a few are residents at the demo role institution, so its
  coordinator has applicants to endorse;
- about 800 applications whose history is replayed with the same rules as the services
  (``choices.TRANSITIONS``): submission, endorsement by the home institution where the
  host asks for it, review, offer / waitlist / decline, acceptance within the places,
  confirmation, withdrawals. Each host has its own typical time to decision (3 to 30 days);
- at least 40 applications to 3 to 5 sessions of the demo role institution, its review
  criteria, scores and a few private comments;
- the demo applicant's four applications: a draft, a submitted one, an offer to answer
  within five days and a declined one with the host's reason;
- the audit trail of every application, dated as it happened.

Every session of the demo catalog starts next month or later, so no stay has begun yet:
there are no applications "in progress" or "completed".

The same seed and the same ``now`` give the same rows: all randomness comes from one
``random.Random(seed)`` and rows are visited in a fixed order. Everything is written with
``bulk_create``; ``auto_now_add`` columns are then set to the historical times with one
``executemany``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import ApplicantProfile, InstitutionRole, User
from medexchange.applications.choices import (
    ACTIVE_STATES,
    AWAITING_DECISION,
    TRANSITIONS,
    ApplicationState,
    ChecklistItemKind,
)
from medexchange.applications.models import (
    Application,
    ChecklistItem,
    Placement,
    ReviewComment,
    ReviewCriterion,
    ReviewScore,
)
from medexchange.catalog.choices import (
    HomeCountryRule,
    OpportunityKind,
    OpportunityStatus,
    TrainingLevel,
)
from medexchange.catalog.eligibility import ineligibility_reasons
from medexchange.catalog.models import Opportunity, Session, Specialty
from medexchange.catalog.services import session_starts_at
from medexchange.common.models import AuditEntry
from medexchange.network.choices import EmStatus, InstitutionKind, Region
from medexchange.network.demo import DEMO_NETWORK_SLUGS, DEMO_USER_DOMAIN, DEMO_WEB_DOMAIN
from medexchange.network.models import CountryProfile, Institution

S = ApplicationState
K = OpportunityKind

APPLICANTS = 150
APPLICATIONS = 800
#: Applicants who are residents at the demo role institution (its coordinator endorses).
ROLE_INSTITUTION_RESIDENTS = 5
#: Applications to the role institution, spread over 3-5 of its sessions.
ROLE_INBOUND = 48
#: Confirmed participants of one multi-site exchange program: a cohort to rotate.
COHORT = 10
ROLE_SESSIONS = (3, 5)
#: The role institution's typical days to decision: short enough to have decided some
#: files, long enough to keep a queue.
ROLE_MEDIAN_DAYS = 9.0
HOST_MEDIAN_DAYS = (3.0, 30.0)
OFFER_RESPONSE_DAYS = 7
DEMO_APPLICANT_LOCAL = "applicant"  # Camila Rojas, built by the network demo
APPLICANT_PREFIX = "applicant-"

#: The hosts' kinds of programme that more often ask the home institution to endorse.
ENDORSING_KINDS = frozenset({K.EXCHANGE_PROGRAM, K.RESIDENCY_TRACK, K.FELLOWSHIP, K.OBSERVERSHIP})

# --- Fictional people --------------------------------------------------------------------

GIVEN_NAMES: dict[str, tuple[str, ...]] = {
    "east-africa": (
        "Amani", "Wanjiku", "Baraka", "Neema", "Otieno", "Akinyi", "Juma", "Zawadi", "Kato",
        "Nakato", "Abebe", "Selam", "Mugisha", "Uwase", "Chipo", "Tendai",
    ),
    "west-africa": (
        "Kwame", "Ama", "Kofi", "Abena", "Chinedu", "Ngozi", "Tunde", "Folake", "Yaw", "Efua",
    ),
    "southern-africa": ("Thabo", "Lerato", "Sipho", "Naledi", "Kagiso", "Mpho", "Chikondi"),
    "french": ("Aïssatou", "Moussa", "Fatou", "Ibrahima", "Mariama", "Serge", "Clarisse"),
    "arabic": ("Omar", "Lina", "Youssef", "Salma", "Karim", "Nour", "Hassan", "Rania"),
    "portuguese": ("João", "Ana", "Tomás", "Beatriz", "Lucas", "Inês", "Ricardo"),
    "spanish": ("Mateo", "Lucía", "Sofía", "Diego", "Valentina", "Andrés", "Gabriela", "Luis"),
    "southern-asia": ("Priya", "Arjun", "Farhana", "Imran", "Anjali", "Rahul", "Sadia", "Nimal"),
    "south-east-asia": ("Linh", "Minh", "Siti", "Putri", "Arief", "Maria", "Somchai", "Dara"),
    "east-asia": ("Yuki", "Haruto", "Ji-woo", "Min-jun", "Bolor", "Temuulen"),
    "other": ("Anna", "Luca", "Emma", "Jonas", "Olivia", "Mihai", "Sofia", "Daniel", "Chloé"),
}  # fmt: skip
FAMILY_NAMES: dict[str, tuple[str, ...]] = {
    "east-africa": (
        "Otieno", "Mwangi", "Kamau", "Wambui", "Ochieng", "Nakimuli", "Mushi", "Tesfaye",
        "Bekele", "Niyonzima", "Mutasa", "Banda", "Mbeki", "Kiprono",
    ),
    "west-africa": ("Asante", "Mensah", "Okafor", "Adeyemi", "Boateng", "Eze", "Owusu"),
    "southern-africa": ("Dlamini", "Nkosi", "Mokoena", "Phiri", "Moyo", "Khumalo"),
    "french": ("Diop", "Ndiaye", "Mbarga", "Traoré", "Fall", "Nkeng", "Pierre-Louis"),
    "arabic": ("Haddad", "Benali", "Trabelsi", "Mansour", "Khalil", "Saleh", "Nasser"),
    "portuguese": ("Ferreira", "Machava", "Carvalho", "Silva", "Costa", "Nhantumbo"),
    "spanish": ("Quispe", "Romero", "Herrera", "Morales", "Mamani", "Castillo", "Vargas"),
    "southern-asia": ("Raman", "Shrestha", "Akter", "Qureshi", "Perera", "Gurung", "Das"),
    "south-east-asia": ("Nguyen", "Tran", "Santos", "Reyes", "Rahman", "Srisuk", "Sok"),
    "east-asia": ("Tanaka", "Sato", "Kim", "Park", "Batbayar", "Ganbold"),
    "other": ("Rossi", "Müller", "Nowak", "Popescu", "Smith", "Dubois", "Jansen", "Papadakis"),
}  # fmt: skip
NAME_POOL_BY_COUNTRY: dict[str, str] = {
    **dict.fromkeys(("KE", "UG", "TZ", "ET", "RW"), "east-africa"),
    **dict.fromkeys(("GH", "NG"), "west-africa"),
    **dict.fromkeys(("ZA", "ZM", "MW", "BW", "ZW"), "southern-africa"),
    **dict.fromkeys(("SN", "CM", "HT"), "french"),
    **dict.fromkeys(("EG", "MA", "TN", "JO", "LB", "IQ"), "arabic"),
    **dict.fromkeys(("MZ", "BR", "PT"), "portuguese"),
    **dict.fromkeys(("MX", "GT", "CO", "PE", "AR", "CL", "BO", "EC", "DO", "ES"), "spanish"),
    **dict.fromkeys(("IN", "NP", "BD", "PK", "LK"), "southern-asia"),
    **dict.fromkeys(("ID", "PH", "VN", "TH", "MY", "KH", "LA", "MM", "SG"), "south-east-asia"),
    **dict.fromkeys(("JP", "KR", "MN"), "east-asia"),
}
RELATIONSHIPS = ("mother", "father", "sister", "brother", "partner", "spouse", "friend", "aunt")

# International calling codes of the demo countries (phones are E.164).
CALLING_CODES: dict[str, str] = {
    "KE": "254", "UG": "256", "TZ": "255", "ET": "251", "RW": "250", "GH": "233", "NG": "234",
    "SN": "221", "CM": "237", "ZA": "27", "ZM": "260", "MW": "265", "MZ": "258", "EG": "20",
    "MA": "212", "TN": "216", "BW": "267", "ZW": "263", "ID": "62", "PH": "63", "VN": "84",
    "TH": "66", "MY": "60", "KH": "855", "LA": "856", "MM": "95", "SG": "65", "IN": "91",
    "NP": "977", "BD": "880", "PK": "92", "LK": "94", "JP": "81", "KR": "82", "MN": "976",
    "JO": "962", "LB": "961", "IQ": "964", "TR": "90", "US": "1", "CA": "1", "MX": "52",
    "GT": "502", "HT": "509", "JM": "1", "CO": "57", "PE": "51", "AR": "54", "BR": "55",
    "CL": "56", "BO": "591", "EC": "593", "DO": "1", "RO": "40", "IT": "39", "ES": "34",
    "GB": "44", "DE": "49", "FR": "33", "PL": "48", "UA": "380", "GR": "30", "PT": "351",
    "IE": "353", "NL": "31", "SE": "46", "AU": "61", "NZ": "64", "PG": "675", "FJ": "679",
}  # fmt: skip
TIME_ZONE_FALLBACK = "UTC"
SITE_LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)

# --- Fictional words ---------------------------------------------------------------------

STATEMENT_OPENINGS = (
    "I am a {level} at {home} in {country}, where {specialty} is still being built.",
    "At {home} I see every day how much depends on the first hour of care.",
    "I have worked in the emergency unit of {home} since my {year} year of training.",
)
STATEMENT_MIDDLES = (
    "At {host} I hope to learn how a team organises triage and handover under pressure.",
    "Your programme's supervision and case mix are exactly what my training lacks.",
    "I want to see how {host} teaches {specialty} so that I can help teach it at home.",
    "I would like to take part in your morning teaching and simulation sessions.",
)
STATEMENT_CLOSINGS = (
    "Back home I will share what I learn with the students and nurses of my department.",
    "I plan to bring a structured handover and a simulation session back to {home}.",
    "After the stay I will present what I learned at our department's grand round.",
)
DECLINE_REASONS = (
    "We received many strong applications for very few places; please apply again.",
    "This session is for applicants further along in their training.",
    "Your statement did not tell us enough about what you want to learn here.",
    "We could not match your dates with a supervisor this time.",
)
WAITLIST_REASON = "All places are offered for now; you are next in line if one frees up."
OFFER_REASONS = ("", "", "A clear, thoughtful statement: welcome!", "We look forward to you.")
WITHDRAW_REASONS = (
    "",
    "My exam dates changed.",
    "I could not get a visa appointment in time.",
    "I accepted another placement.",
    "My funding fell through.",
)
OFFER_DECLINE_REASONS = ("", "I accepted a place elsewhere.", "The dates no longer work for me.")
ENDORSEMENT_NOTES = (
    "",
    "A committed resident in good standing; we support this elective.",
    "In good standing; the department agrees to the leave.",
)
NOT_ENDORSED_REASONS = (
    "The department cannot release you during the exam period.",
    "Please apply after completing your core rotations.",
)
COMMENTS = (
    "Strong motivation and a clear plan for what to take home.",
    "Language level looks fine; the recommendation letter is very positive.",
    "Would fit the night-shift rota well. I would offer.",
    "Dates overlap with our busiest month; check supervisor availability.",
    "Good file, but earlier in training than most of this cohort.",
)
CRITERIA = (
    ("Motivation", "What they want to learn, and why here.", "1.50", 5),
    ("Clinical fit", "Training stage and experience for this placement.", "1.00", 5),
    ("Communication", "Language and teamwork, from the statement and letters.", "1.00", 5),
    ("Benefit at home", "How the stay will help their home department.", "0.50", 3),
)
CHECKLIST_NOTES = {
    ChecklistItemKind.TRAVEL_DATES: "Arriving the day before the start; flight details to follow.",
    ChecklistItemKind.ARRIVAL: "Report to the emergency department reception at 08:00.",
}


# --- Summary -----------------------------------------------------------------------------


@dataclass
class DemoApplicationsSummary:
    seed: int
    applicants: int = 0
    applications: int = 0
    placements: int = 0
    states: dict[str, int] = field(default_factory=dict)  # state → count, machine order
    role_institution_slug: str = ""
    role_institution_inbound: int = 0  # applications that reached the role institution
    role_institution_awaiting: int = 0  # of those, awaiting a decision
    role_sessions: list[int] = field(default_factory=list)  # its sessions, busiest queue first
    demo_applicant_states: list[str] = field(default_factory=list)


# --- Reset -------------------------------------------------------------------------------


def _demo_host_ids() -> list[int]:
    return list(
        Institution.objects.filter(
            Q(memberships__network__slug__in=DEMO_NETWORK_SLUGS)
            | Q(website__endswith=f".{DEMO_WEB_DOMAIN}")
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def _chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _demo_applicants() -> models.QuerySet[User]:
    return User.objects.filter(
        email__startswith=APPLICANT_PREFIX, email__endswith=f"@{DEMO_USER_DOMAIN}"
    )


@transaction.atomic
def delete_demo_applications() -> int:
    """Delete applications to demo sessions or by demo users, their audit trail, the demo
    hosts' review criteria and the generated applicants; returns how many applications.

    Sessions are PROTECTed by their applications: call this before the catalog goes.
    Scholarship requests PROTECT their applications: the demo calls' requests go first.
    """
    from medexchange.network.demo import DEMO_NETWORK_SLUGS
    from medexchange.network.models import Network
    from medexchange.scholarships.demo import delete_demo_scholarships

    for network in Network.objects.filter(slug__in=DEMO_NETWORK_SLUGS):
        delete_demo_scholarships(network)
    hosts = _demo_host_ids()
    applications = Application.objects.filter(
        Q(session__opportunity__host_id__in=hosts) | Q(applicant__email__endswith=DEMO_USER_DOMAIN)
    )
    ids = [str(pk) for pk in applications.values_list("pk", flat=True)]
    criteria = ReviewCriterion.objects.filter(opportunity__host_id__in=hosts)
    criterion_ids = [str(pk) for pk in criteria.values_list("pk", flat=True)]
    for model, keys in ((Application, ids), (ReviewCriterion, criterion_ids)):
        target_type = ContentType.objects.get_for_model(model)
        for chunk in _chunks(keys):
            AuditEntry.objects.filter(target_type=target_type, target_id__in=chunk).delete()
    criteria.delete()
    _deleted, per_model = applications.delete()
    _demo_applicants().delete()
    return per_model.get(Application._meta.label, 0)


# --- Helpers -----------------------------------------------------------------------------


def _concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):  # pragma: no cover - a programming error
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def _create_dated(
    model: type[models.Model], rows: Sequence[models.Model], stamps: Sequence[str]
) -> None:
    """``bulk_create`` ``rows``, keeping the historical values of their ``stamps`` columns.

    ``auto_now``/``auto_now_add`` columns are set to the current time on insert; they are
    then written back in one ``executemany`` (much faster than ``bulk_update``'s CASE).
    """
    wanted = [[getattr(row, name) for name in stamps] for row in rows]
    model._default_manager.bulk_create(rows, batch_size=1000)
    if not rows:
        return
    fields = [_concrete_field(model, name) for name in stamps]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in fields)
    pk_column = quote(model._meta.pk.column)
    # Identifiers come from the model's metadata; every value is a parameter.
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {pk_column} = %s"  # noqa: S608
    params = []
    for row, values in zip(rows, wanted, strict=True):
        for name, value in zip(stamps, values, strict=True):
            setattr(row, name, value)
        prepared = [
            field.get_db_prep_value(value, connection)
            for field, value in zip(fields, values, strict=True)
        ]
        params.append([*prepared, row.pk])
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _between(rng: random.Random, first: dt.datetime, last: dt.datetime) -> dt.datetime:
    """A moment between ``first`` and ``last`` (``first`` if the span is empty)."""
    span = (last - first).total_seconds()
    if span <= 0:
        return first
    return first + dt.timedelta(seconds=int(rng.uniform(0, span)))


def _days(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=int(value * 86400))


@dataclass
class _Event:
    at: dt.datetime
    action: str
    actor: User | None
    from_state: str = ""
    to_state: str = ""
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class _File:
    """One application being replayed: its row, its events, and the seat it may take."""

    application: Application
    profile: ApplicantProfile
    events: list[_Event] = field(default_factory=list)
    placement: Placement | None = None
    checklist: list[ChecklistItem] = field(default_factory=list)
    reviewed_at: dt.datetime | None = None  # when a host reviewer opened the file

    @property
    def state(self) -> str:
        return self.application.state

    def move(
        self,
        to: str,
        at: dt.datetime,
        action: str,
        actor: User | None,
        reason: str = "",
        data: dict[str, Any] | None = None,
        **values: Any,
    ) -> None:
        """The services' ``_move``, replayed at ``at``: refuses what the machine refuses."""
        source = self.application.state
        if to not in TRANSITIONS[source]:
            raise ValueError(f"demo: {source} → {to} is not a transition")
        self.application.state = to
        for name, value in values.items():
            setattr(self.application, name, value)
        if to not in ACTIVE_STATES:
            self.application.closed_at = at
        self.events.append(_Event(at, action, actor, source, to, reason, data or {}))

    def note(self, at: dt.datetime, action: str, actor: User | None, data: dict[str, Any]) -> None:
        """An audit entry that is not a transition (draft saved, scored, commented…)."""
        self.events.append(_Event(at, action, actor, data=data))

    @property
    def last_at(self) -> dt.datetime:
        return max(event.at for event in self.events)


@dataclass
class _Context:
    rng: random.Random
    now: dt.datetime
    role_institution: Institution | None
    coordinator: User | None
    reviewer: User | None
    medians: dict[int, float]  # host id → typical days to decision
    seats: Counter[int] = field(default_factory=Counter)  # session id → placements made

    def host_actor(self, session: Session, *, review: bool = False) -> User | None:
        """Who acts for the host: the demo role institution's people, else nobody we know."""
        if self.role_institution is None or session.opportunity.host_id != self.role_institution.pk:
            return None
        if review or self.coordinator is None:
            return self.reviewer or self.coordinator
        return self.rng.choice([self.coordinator, self.reviewer or self.coordinator])

    def home_actor(self, application: Application) -> User | None:
        role = self.role_institution
        if role is not None and application.home_institution_id == role.pk:
            return self.coordinator
        return None


def _statement(rng: random.Random, profile: ApplicantProfile, session: Session) -> str:
    host = session.opportunity.host
    levels: dict[str, str] = {
        TrainingLevel.STUDENT: "medical student",
        TrainingLevel.RESIDENT: "resident",
        TrainingLevel.PHYSICIAN: "physician",
    }
    level = levels.get(profile.training_level, "clinician")
    home = profile.home_institution.name if profile.home_institution else "my hospital"
    values = {
        "level": level,
        "home": home,
        "country": profile.home_country.name if profile.home_country else "my country",
        "specialty": session.opportunity.specialty.name,
        "host": host.name,
        "year": {1: "first", 2: "second", 3: "third"}.get(profile.training_year or 0, "fourth"),
    }
    parts = (
        rng.choice(STATEMENT_OPENINGS),
        rng.choice(STATEMENT_MIDDLES),
        rng.choice(STATEMENT_CLOSINGS),
    )
    return " ".join(part.format(**values) for part in parts)


# --- Applicants --------------------------------------------------------------------------


def _phone(rng: random.Random, country: str) -> str:
    return f"+{CALLING_CODES.get(country, '44')}900{rng.randint(0, 999_999):06d}"


def _name_pool(profile: CountryProfile) -> str:
    pool = NAME_POOL_BY_COUNTRY.get(str(profile.code))
    if pool:
        return pool
    return "east-africa" if profile.region == Region.AFRICA else "other"


def _languages(rng: random.Random, home: Institution) -> list[dict[str, str]]:
    codes = list(home.languages or ["en"])
    languages = [{"code": codes[0], "level": "C2"}]
    if "en" not in codes[:1]:
        languages.append({"code": "en", "level": rng.choice(("B2", "C1", "C1"))})
    for code in codes[1:]:
        if code != "en" and rng.random() < 0.6:
            languages.append({"code": code, "level": rng.choice(("B1", "B2", "C1"))})
    if rng.random() < 0.15:
        extra = rng.choice(("fr", "es", "pt"))
        if extra not in {item["code"] for item in languages}:
            languages.append({"code": extra, "level": rng.choice(("A2", "B1", "B2"))})
    return languages


def _homes() -> list[Institution]:
    """Member institutions applicants come from, weighted towards EM not established."""
    members = list(
        Institution.objects.members()
        .filter(pk__in=_demo_host_ids())
        .exclude(kind=InstitutionKind.HEALTH_ORGANISATION)
        .select_related("country")
        .order_by("slug")
    )
    weighted: list[Institution] = []
    for institution in members:
        status = institution.country.em_status
        weight = 1 if status == EmStatus.ESTABLISHED else 4
        weighted += [institution] * weight
    return weighted


def _build_applicants(
    rng: random.Random, role_institution: Institution | None
) -> list[tuple[User, ApplicantProfile]]:
    homes = _homes()
    if not homes:
        return []
    password = make_password(None)  # no login: these applicants are only data
    people: list[tuple[User, ApplicantProfile]] = []
    used_names: set[str] = set()
    for number in range(1, APPLICANTS + 1):
        if role_institution is not None and number <= ROLE_INSTITUTION_RESIDENTS:
            home = role_institution
            level = TrainingLevel.RESIDENT
        else:
            home = rng.choice(homes)
            draw = rng.random()
            level = (
                TrainingLevel.STUDENT
                if draw < 0.55
                else TrainingLevel.RESIDENT
                if draw < 0.88
                else TrainingLevel.PHYSICIAN
            )
        if level == TrainingLevel.STUDENT:
            year: int | None = rng.choice((4, 5, 5, 6, 6))
        elif level == TrainingLevel.RESIDENT:
            year = rng.randint(1, 5)
        else:
            year = None
        country = home.country
        pool = _name_pool(country)
        for _attempt in range(20):
            given, family = rng.choice(GIVEN_NAMES[pool]), rng.choice(FAMILY_NAMES[pool])
            if f"{given} {family}" not in used_names:
                break
        used_names.add(f"{given} {family}")
        code = str(country.code)
        phone = _phone(rng, code)
        contact_phone = _phone(rng, code)
        while contact_phone == phone:
            contact_phone = _phone(rng, code)
        language = (home.languages or ["en"])[0]
        user = User(
            email=f"{APPLICANT_PREFIX}{number:03d}@{DEMO_USER_DOMAIN}",
            full_name=f"{given} {family}",
            password=password,
            preferred_language=language if language in SITE_LANGUAGES else "en",
            time_zone=home.time_zone or TIME_ZONE_FALLBACK,
        )
        profile = ApplicantProfile(
            user=user,
            training_level=level,
            training_year=year,
            home_country=country,
            home_institution=home,
            nationality=country,
            languages=_languages(rng, home),
            phone=phone,
            emergency_contact_name=f"{rng.choice(GIVEN_NAMES[pool])} {family}",
            emergency_contact_relationship=rng.choice(RELATIONSHIPS),
            emergency_contact_phone=contact_phone,
        )
        people.append((user, profile))
    User.objects.bulk_create([user for user, _profile in people], batch_size=500)
    ApplicantProfile.objects.bulk_create([profile for _user, profile in people], batch_size=500)
    specialties = list(Specialty.objects.order_by("code").values_list("pk", flat=True))
    if specialties:
        through = ApplicantProfile.specialty_interests.through
        through.objects.bulk_create(
            [
                through(applicantprofile_id=profile.pk, specialty_id=pk)
                for _user, profile in people
                for pk in rng.sample(specialties, min(len(specialties), rng.randint(1, 2)))
            ],
            batch_size=1000,
        )
    return people


# --- Sessions ----------------------------------------------------------------------------


def _open_sessions(now: dt.datetime, hosts: list[int]) -> list[Session]:
    """Published sessions of demo hosts whose window opened, open to any home country rule
    checked without a query (listed-country places are left out)."""
    return list(
        Session.objects.filter(
            opportunity__host_id__in=hosts,
            opportunity__status=OpportunityStatus.PUBLISHED,
            applications_open_at__lte=now - dt.timedelta(hours=12),
            cancelled_at__isnull=True,
        )
        .exclude(opportunity__home_country_rule=HomeCountryRule.LISTED)
        .select_related("opportunity__host__country", "opportunity__specialty")
        .defer("opportunity__description", "opportunity__search_text")
        .order_by("start_date", "pk")
    )


def _choose_endorsing(
    rng: random.Random, sessions: list[Session], role_institution: Institution | None
) -> set[int]:
    """Opportunities that ask the home institution to endorse (long or clinical ones more)."""
    chosen: set[int] = set()
    seen: set[int] = set()
    for session in sessions:
        opportunity = session.opportunity
        if opportunity.pk in seen:
            continue
        seen.add(opportunity.pk)
        if role_institution is not None and opportunity.host_id == role_institution.pk:
            continue
        draw = rng.random()  # drawn every time, so a second build draws the same numbers
        if opportunity.endorsement_required or draw < (
            0.5 if opportunity.kind in ENDORSING_KINDS else 0.08
        ):
            chosen.add(opportunity.pk)
    return chosen


def _eligible(session: Session, profile: ApplicantProfile) -> bool:
    return not ineligibility_reasons(session.opportunity, profile)


# --- Replaying one application -----------------------------------------------------------


def _replay(
    ctx: _Context, item: _File, *, created: dt.datetime, draft: bool = False, inbound: bool = False
) -> None:
    """Play ``item`` forward from ``created`` until ``ctx.now``, following the machine.

    ``draft`` keeps it a draft (perhaps withdrawn if the window closed); ``inbound``
    submits it for sure (the role institution's files).
    """
    rng, now = ctx.rng, ctx.now
    application = item.application
    session = application.session
    opportunity = session.opportunity
    applicant = application.applicant
    profile = item.profile
    application.created_at = created
    item.events.append(_Event(created, "application.created", applicant, to_state=S.DRAFT))
    latest_submit = min(session.applications_close_at, now) - dt.timedelta(minutes=5)
    application.statement = _statement(rng, profile, session)
    saved = min(created + _days(rng.uniform(0.01, 0.5)), latest_submit)
    item.note(saved, "application.draft_saved", applicant, {"statement": True})
    submitted = saved + _days(rng.expovariate(1 / 0.7))
    if draft or submitted > latest_submit:
        if inbound:
            submitted = _between(rng, saved, latest_submit)
        else:
            if session.applications_close_at < now and rng.random() < 0.5:
                withdrawn = _between(rng, saved, now)
                item.move(S.WITHDRAWN, withdrawn, "application.withdrawn", applicant)
            return
    required = opportunity.endorsement_required and profile.home_institution is not None
    item.move(
        S.SUBMITTED,
        submitted,
        "application.submitted",
        applicant,
        submitted_at=submitted,
        endorsement_required=required,
        home_institution=profile.home_institution,
        home_country=profile.home_country,
        reached_host_at=None if required else submitted,
    )
    if required:
        answered = submitted + _days(rng.uniform(0.5, 8))
        if answered > now:
            return  # awaiting the endorsement
        home_actor = ctx.home_actor(application)
        if rng.random() < 0.12:
            reason = rng.choice(NOT_ENDORSED_REASONS)
            item.move(
                S.NOT_ENDORSED,
                answered,
                "application.endorsement_declined",
                home_actor,
                reason=reason,
                endorsement_note=reason,
            )
            return
        note = rng.choice(ENDORSEMENT_NOTES)
        item.move(
            S.ENDORSED,
            answered,
            "application.endorsed",
            home_actor,
            reason=note,
            endorsed_at=answered,
            endorsement_note=note,
            reached_host_at=answered,
        )
    reached = application.reached_host_at
    if reached is None:  # pragma: no cover - submitted or endorsed always set it
        return
    median = ctx.medians.get(opportunity.host_id, 14.0)
    decided = reached + _days(max(0.3, median * rng.lognormvariate(0, 0.45)))
    if rng.random() < 0.75:
        opened = reached + (decided - reached) * rng.uniform(0.1, 0.6)
        if opened <= now:
            item.reviewed_at = opened
            actor = ctx.host_actor(session, review=True)
            item.move(S.UNDER_REVIEW, opened, "application.review_started", actor)
    if rng.random() < 0.05:
        withdrawn = _between(rng, item.reviewed_at or reached, min(decided, now))
        if withdrawn < now:
            reason = rng.choice(WITHDRAW_REASONS)
            item.move(S.WITHDRAWN, withdrawn, "application.withdrawn", applicant, reason=reason)
            return
    if decided > now:
        return  # in the host's queue
    _decide(ctx, item, decided)


def _place(ctx: _Context, item: _File, *, created: dt.datetime) -> None:
    """A file that goes all the way to a confirmed seat: a cohort member of the flagship
    multi-site program, so its rotation plan has participants to rotate."""
    rng, now = ctx.rng, ctx.now
    application = item.application
    session = application.session
    applicant = application.applicant
    profile = item.profile
    application.created_at = created
    item.events.append(_Event(created, "application.created", applicant, to_state=S.DRAFT))
    application.statement = _statement(rng, profile, session)
    step = (now - created) / 7
    item.note(created + step / 2, "application.draft_saved", applicant, {"statement": True})
    submitted = created + step
    required = session.opportunity.endorsement_required and profile.home_institution is not None
    item.move(
        S.SUBMITTED,
        submitted,
        "application.submitted",
        applicant,
        submitted_at=submitted,
        endorsement_required=required,
        home_institution=profile.home_institution,
        home_country=profile.home_country,
        reached_host_at=None if required else submitted,
    )
    at = submitted
    if required:
        at += step
        note = rng.choice(ENDORSEMENT_NOTES)
        item.move(
            S.ENDORSED,
            at,
            "application.endorsed",
            ctx.home_actor(application),
            reason=note,
            endorsed_at=at,
            endorsement_note=note,
            reached_host_at=at,
        )
    decided = at + step
    reason = rng.choice(OFFER_REASONS)
    deadline = _offer_deadline(session, decided)
    item.move(
        S.OFFERED,
        decided,
        "application.offered",
        ctx.host_actor(session),
        reason=reason,
        data={"respond_by": deadline.isoformat()},
        offered_at=decided,
        offer_expires_at=deadline,
        decided_at=decided,
        decision_reason=reason,
    )
    answer = min(decided + step, decided + (deadline - decided) / 2)
    ctx.seats[session.pk] += 1
    item.move(S.ACCEPTED, answer, "application.accepted", applicant, responded_at=answer)
    item.placement = Placement(application=application, session=session, created_at=answer)
    host = ctx.host_actor(session)
    for k, kind in enumerate(ChecklistItemKind):
        ticked = answer + step * (k + 1) / 10
        checklist_item = ChecklistItem(
            application=application,
            kind=kind,
            note=CHECKLIST_NOTES.get(kind, ""),
            applicant_done_at=ticked,
            host_done_at=ticked,
        )
        item.checklist.append(checklist_item)
        for side, actor in (("applicant", applicant), ("host", host)):
            item.note(
                ticked, "application.checklist_ticked", actor, {"step": str(kind), "side": side}
            )
    item.move(S.CONFIRMED, answer + step * 2, "application.confirmed", host)


def _cohort(
    sessions: list[Session], role: Institution | None, people: list[_Person]
) -> tuple[Session | None, list[_Person]]:
    """The multi-site exchange program whose cohort the demo confirms, and who may join
    it: the role institution's program if it has one, else the one most people may join."""
    best: tuple[Session | None, list[_Person]] = (None, [])
    for session in sessions:
        opportunity = session.opportunity
        if opportunity.kind != OpportunityKind.EXCHANGE_PROGRAM or opportunity.sites.count() < 2:
            continue
        eligible = [
            (user, profile)
            for user, profile in people
            if profile.home_institution_id != opportunity.host_id and _eligible(session, profile)
        ]
        own = role is not None and opportunity.host_id == role.pk
        if own and len(eligible) >= 4:
            return session, eligible
        if len(eligible) > len(best[1]):
            best = (session, eligible)
    return best


def _offer_deadline(session: Session, at: dt.datetime) -> dt.datetime:
    starts = session_starts_at(session.opportunity, session.start_date)
    return min(at + dt.timedelta(days=OFFER_RESPONSE_DAYS), starts)


def _decide(ctx: _Context, item: _File, decided: dt.datetime) -> None:
    rng, now = ctx.rng, ctx.now
    application = item.application
    session = application.session
    actor = ctx.host_actor(session)
    draw = rng.random()
    if draw < 0.38:
        reason = rng.choice(DECLINE_REASONS)
        item.move(
            S.DECLINED,
            decided,
            "application.declined",
            actor,
            reason=reason,
            decided_at=decided,
            decision_reason=reason,
        )
        return
    if draw < 0.58:
        item.move(
            S.WAITLISTED,
            decided,
            "application.waitlisted",
            actor,
            reason=WAITLIST_REASON,
            waitlisted_at=decided,
            decided_at=decided,
            decision_reason=WAITLIST_REASON,
        )
        promoted = decided + _days(rng.uniform(2, 20))
        if rng.random() < 0.3 and promoted <= now:
            deadline = _offer_deadline(session, promoted)
            item.move(
                S.OFFERED,
                promoted,
                "application.offered",
                None,
                reason="waitlist",
                data={"respond_by": deadline.isoformat(), "from_waitlist": True},
                offered_at=promoted,
                offer_expires_at=deadline,
            )
            _respond(ctx, item, promoted)
        return
    reason = rng.choice(OFFER_REASONS)
    deadline = _offer_deadline(session, decided)
    item.move(
        S.OFFERED,
        decided,
        "application.offered",
        actor,
        reason=reason,
        data={"respond_by": deadline.isoformat()},
        offered_at=decided,
        offer_expires_at=deadline,
        decided_at=decided,
        decision_reason=reason,
    )
    _respond(ctx, item, decided)


def _respond(ctx: _Context, item: _File, offered: dt.datetime) -> None:
    rng, now = ctx.rng, ctx.now
    application = item.application
    session = application.session
    applicant = application.applicant
    deadline = application.offer_expires_at
    if deadline is None:  # pragma: no cover - every offer has a deadline
        return
    answer = offered + _days(rng.uniform(0.2, 6.5))
    silent = rng.random() < 0.12
    accepts = rng.random() < 0.75
    full = ctx.seats[session.pk] >= session.capacity
    if silent or answer >= deadline or (accepts and full):
        if deadline <= now:
            item.move(S.OFFER_EXPIRED, deadline, "application.offer_expired", None, "deadline")
        return  # still open: the applicant has until the deadline
    if answer > now:
        return
    if not accepts:
        reason = rng.choice(OFFER_DECLINE_REASONS)
        item.move(
            S.OFFER_DECLINED,
            answer,
            "application.offer_declined",
            applicant,
            reason=reason,
            responded_at=answer,
        )
        return
    ctx.seats[session.pk] += 1
    item.move(S.ACCEPTED, answer, "application.accepted", applicant, responded_at=answer)
    item.placement = Placement(application=application, session=session, created_at=answer)
    _checklist(ctx, item, answer)


def _checklist(ctx: _Context, item: _File, accepted: dt.datetime) -> None:
    rng, now = ctx.rng, ctx.now
    application = item.application
    session = application.session
    host = ctx.host_actor(session)
    confirm = accepted + _days(rng.uniform(4, 25))
    confirmed = confirm <= now and rng.random() < 0.6
    until = confirm if confirmed else now
    ticks: list[tuple[dt.datetime, ChecklistItem, str]] = []
    for kind in ChecklistItemKind:
        checklist_item = ChecklistItem(
            application=application, kind=kind, note=CHECKLIST_NOTES.get(kind, "")
        )
        for side in ("applicant", "host"):
            if confirmed or rng.random() < 0.45:
                at = _between(rng, accepted, until)
                setattr(checklist_item, f"{side}_done_at", at)
                ticks.append((at, checklist_item, side))
        item.checklist.append(checklist_item)
    for at, checklist_item, side in sorted(ticks, key=lambda tick: tick[0]):
        actor = application.applicant if side == "applicant" else host
        data = {"step": str(checklist_item.kind), "side": side}
        item.note(at, "application.checklist_ticked", actor, data)
    if confirmed:
        item.move(S.CONFIRMED, confirm, "application.confirmed", ctx.host_actor(session))
    if rng.random() < 0.06:
        withdrawn = _between(rng, item.last_at, now)
        reason = rng.choice(WITHDRAW_REASONS[1:])
        item.move(
            S.WITHDRAWN, withdrawn, "application.withdrawn", application.applicant, reason=reason
        )
        if item.placement is not None:
            item.placement.released_at = withdrawn


# --- The demo applicant's four applications ----------------------------------------------


def _demo_applicant_files(
    ctx: _Context,
    camila: User,
    profile: ApplicantProfile,
    sessions: list[Session],
    role_sessions: list[Session],
    taken: set[tuple[int, int]],
) -> list[_File]:
    """A draft, a submitted application, an offer to answer in 5 days, a decline."""
    rng, now = ctx.rng, ctx.now
    eligible = [
        session
        for session in sessions
        if session.applications_close_at > now + dt.timedelta(days=10)
        and session.applications_open_at <= now - dt.timedelta(days=25)
        and session.opportunity.endorsement_required is False
        and session.start_date > (now + dt.timedelta(days=10)).date()
        and _eligible(session, profile)
    ]
    # The submitted one goes to the role institution when she may apply there.
    preferred = [session for session in role_sessions if session in eligible]
    picks: list[Session] = []
    for session in [*preferred[:1], *rng.sample(eligible, min(len(eligible), 12))]:
        if session not in picks and all(s.opportunity_id != session.opportunity_id for s in picks):
            picks.append(session)
    files: list[_File] = []
    for index, session in enumerate(picks[:4]):
        kind = ("submitted", "draft", "offered", "declined")[index]
        application = Application(applicant=camila, session=session)
        item = _File(application=application, profile=profile)
        taken.add((camila.pk, session.pk))
        created = now - dt.timedelta(days={"draft": 2, "submitted": 6}.get(kind, 22))
        application.created_at = created
        application.statement = _statement(rng, profile, session)
        item.events.append(_Event(created, "application.created", camila, to_state=S.DRAFT))
        item.note(
            created + dt.timedelta(hours=1), "application.draft_saved", camila, {"statement": True}
        )
        if kind == "draft":
            application.statement = application.statement.split(".")[0] + "."
            files.append(item)
            continue
        submitted = created + dt.timedelta(days=1)
        item.move(
            S.SUBMITTED,
            submitted,
            "application.submitted",
            camila,
            submitted_at=submitted,
            endorsement_required=False,
            home_institution=profile.home_institution,
            home_country=profile.home_country,
            reached_host_at=submitted,
        )
        actor = ctx.host_actor(session)
        if kind == "offered":
            review = submitted + dt.timedelta(days=4)
            item.reviewed_at = review
            item.move(S.UNDER_REVIEW, review, "application.review_started", actor)
            offered = now - dt.timedelta(days=2)
            deadline = now + dt.timedelta(days=5)
            item.move(
                S.OFFERED,
                offered,
                "application.offered",
                actor,
                reason=OFFER_REASONS[2],
                data={"respond_by": deadline.isoformat()},
                offered_at=offered,
                offer_expires_at=deadline,
                decided_at=offered,
                decision_reason=OFFER_REASONS[2],
            )
        elif kind == "declined":
            decided = now - dt.timedelta(days=5)
            reason = DECLINE_REASONS[1]
            item.move(
                S.DECLINED,
                decided,
                "application.declined",
                actor,
                reason=reason,
                decided_at=decided,
                decision_reason=reason,
            )
        files.append(item)
    return files


# --- Review work of the role institution -------------------------------------------------


def _review_work(
    ctx: _Context, files: list[_File], role_sessions: list[Session]
) -> tuple[
    list[ReviewCriterion],
    list[tuple[dict[str, Any], ReviewScore]],
    list[tuple[_File, ReviewComment]],
]:
    rng, now = ctx.rng, ctx.now
    reviewers = [user for user in (ctx.reviewer, ctx.coordinator) if user is not None]
    criteria: dict[int, list[ReviewCriterion]] = {}
    for session in role_sessions:
        opportunity = session.opportunity
        if opportunity.pk in criteria:
            continue
        chosen = CRITERIA[: rng.choice((2, 3, 3))]
        criteria[opportunity.pk] = [
            ReviewCriterion(
                opportunity=opportunity,
                name=name,
                description=description,
                weight=Decimal(weight),
                max_score=max_score,
                position=position,
            )
            for position, (name, description, weight, max_score) in enumerate(chosen)
        ]
    scores: list[tuple[dict[str, Any], ReviewScore]] = []
    comments: list[tuple[_File, ReviewComment]] = []
    if not reviewers:
        return [c for rows in criteria.values() for c in rows], scores, comments
    for item in files:
        opportunity_id = item.application.session.opportunity_id
        if item.reviewed_at is None or opportunity_id not in criteria:
            continue
        decided = item.application.decided_at
        until = min(decided, now) if decided else now
        for reviewer in reviewers:
            if reviewer is not reviewers[0] and rng.random() < 0.5:
                continue
            at = _between(rng, item.reviewed_at, until)
            values: dict[str, Any] = {}
            for criterion in criteria[opportunity_id]:
                score = ReviewScore(
                    application=item.application,
                    reviewer=reviewer,
                    criterion=criterion,
                    score=rng.randint(max(1, criterion.max_score // 2), criterion.max_score),
                    updated_at=at,
                )
                scores.append((values, score))
            item.note(at, "application.scored", reviewer, values)
        if rng.random() < 0.35:
            at = _between(rng, item.reviewed_at, until)
            comment = ReviewComment(
                application=item.application,
                author=rng.choice(reviewers),
                body=rng.choice(COMMENTS),
                created_at=at,
            )
            comments.append((item, comment))
    return [c for rows in criteria.values() for c in rows], scores, comments


# --- Build -------------------------------------------------------------------------------


def _role_people() -> tuple[Institution | None, User | None, User | None]:
    roles = {
        role.role: role
        for role in InstitutionRole.objects.filter(
            user__email__in=[f"coordinator@{DEMO_USER_DOMAIN}", f"reviewer@{DEMO_USER_DOMAIN}"]
        ).select_related("user", "institution")
    }
    coordinator = roles.get(InstitutionRoleKind.COORDINATOR)
    reviewer = roles.get(InstitutionRoleKind.REVIEWER)
    either = coordinator or reviewer
    return (
        either.institution if either else None,
        coordinator.user if coordinator else None,
        reviewer.user if reviewer else None,
    )


_Person = tuple[User, ApplicantProfile]


def _pick_role_sessions(
    rng: random.Random,
    sessions: list[Session],
    institution: Institution | None,
    now: dt.datetime,
    people: list[_Person],
) -> dict[Session, list[_Person]]:
    """3-5 sessions of the role institution with the applicants eligible for each.

    Sessions still taking applications come first, then those most people may apply to;
    more sessions (up to 5) are taken while they are too few for ``ROLE_INBOUND``.
    """
    if institution is None:
        return {}
    candidates = {
        session: [
            (user, profile)
            for user, profile in people
            if profile.home_institution_id != institution.pk and _eligible(session, profile)
        ]
        for session in sessions
        if session.opportunity.host_id == institution.pk
    }
    usable = sorted(
        (session for session, eligible in candidates.items() if len(eligible) >= 4),
        key=lambda s: (s.applications_close_at <= now, -len(candidates[s]), s.start_date, s.pk),
    )
    wanted = rng.randint(*ROLE_SESSIONS)
    chosen: dict[Session, list[_Person]] = {}
    for session in usable:
        enough = sum(len(eligible) for eligible in chosen.values()) >= ROLE_INBOUND
        if len(chosen) >= ROLE_SESSIONS[1] or (len(chosen) >= wanted and enough):
            break
        chosen[session] = candidates[session]
    return chosen


@transaction.atomic
def build_demo_applications(
    *, seed: int, now: dt.datetime | None = None
) -> DemoApplicationsSummary:
    """Create the demo applications on the demo catalog; the caller deletes earlier ones.

    ``now`` (default: the current time) is when the replayed history stops.
    """
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - seeded for reproducibility, not for secrets
    summary = DemoApplicationsSummary(seed=seed)
    institution, coordinator, reviewer = _role_people()
    hosts = _demo_host_ids()
    sessions = _open_sessions(now, hosts)
    if not sessions:
        return summary
    endorsing = _choose_endorsing(rng, sessions, institution)
    Opportunity.objects.filter(pk__in=endorsing).update(endorsement_required=True)
    for session in sessions:
        if session.opportunity.pk in endorsing:
            session.opportunity.endorsement_required = True
    host_ids = sorted({session.opportunity.host_id for session in sessions})
    medians = {host_id: round(rng.uniform(*HOST_MEDIAN_DAYS), 1) for host_id in host_ids}
    if institution is not None:
        medians[institution.pk] = ROLE_MEDIAN_DAYS
    ctx = _Context(rng, now, institution, coordinator, reviewer, medians)

    people = _build_applicants(rng, institution)
    applicants_of = _pick_role_sessions(rng, sessions, institution, now, people)
    role_sessions = list(applicants_of)
    taken: set[tuple[int, int]] = set()
    files: list[_File] = []

    camila = User.objects.filter(email=f"{DEMO_APPLICANT_LOCAL}@{DEMO_USER_DOMAIN}").first()
    if camila is not None:
        profile = ApplicantProfile.objects.filter(user=camila).first()
        if profile is not None and not profile.is_complete_for_applying():
            files += _demo_applicant_files(ctx, camila, profile, sessions, role_sessions, taken)

    def plan(user: User, profile: ApplicantProfile, session: Session, **kwargs: Any) -> None:
        taken.add((user.pk, session.pk))
        latest = min(session.applications_close_at, now) - dt.timedelta(hours=2)
        created = _between(rng, session.applications_open_at + dt.timedelta(hours=1), latest)
        item = _File(application=Application(applicant=user, session=session), profile=profile)
        _replay(ctx, item, created=created, **kwargs)
        files.append(item)

    # The role institution's inbound applications, spread over its sessions.
    planned = 0
    while planned < ROLE_INBOUND:
        progressed = False
        for session in role_sessions:
            candidates = [
                (user, profile)
                for user, profile in applicants_of[session]
                if (user.pk, session.pk) not in taken
            ]
            if candidates and planned < ROLE_INBOUND:
                plan(*rng.choice(candidates), session, inbound=True)
                planned += 1
                progressed = True
        if not progressed:
            break

    # A confirmed cohort for one multi-site program (its rotation plan has people to rotate).
    cohort_session, eligible = _cohort(sessions, institution, people)
    if cohort_session is not None:
        eligible = [person for person in eligible if (person[0].pk, cohort_session.pk) not in taken]
        free = cohort_session.capacity - ctx.seats[cohort_session.pk]
        places = max(0, min(COHORT, free, len(eligible)))
        for user, profile in rng.sample(eligible, k=places):
            taken.add((user.pk, cohort_session.pk))
            opened = cohort_session.applications_open_at + dt.timedelta(hours=1)
            item = _File(
                application=Application(applicant=user, session=cohort_session), profile=profile
            )
            _place(ctx, item, created=_between(rng, opened, opened + (now - opened) / 3))
            files.append(item)

    # Everyone else: 1-10 applications each, to sessions they are eligible for; residents
    # of the role institution to programmes that ask for its endorsement.
    by_level: dict[tuple[str, bool], list[Session]] = {}
    for level in TrainingLevel.values:
        for needs_endorsement in (False, True):
            by_level[level, needs_endorsement] = [
                session
                for session in sessions
                if (
                    not session.opportunity.training_levels
                    or level in session.opportunity.training_levels
                )
                and (session.opportunity.endorsement_required or not needs_endorsement)
            ]
    attempts = 0
    while len(files) < APPLICATIONS and people and attempts < APPLICATIONS * 40:
        attempts += 1
        user, profile = rng.choice(people)
        resident = institution is not None and profile.home_institution_id == institution.pk
        pool = by_level[profile.training_level, resident] or by_level[profile.training_level, False]
        if not pool:
            continue
        session = rng.choice(pool)
        if session.opportunity.host_id == profile.home_institution_id:
            continue
        if (user.pk, session.pk) in taken or not _eligible(session, profile):
            continue
        plan(user, profile, session, draft=rng.random() < 0.08)

    _save(ctx, files)

    states = Counter(item.state for item in files)
    summary.applicants = len(people)
    summary.applications = len(files)
    summary.placements = sum(1 for item in files if item.placement is not None)
    summary.states = {str(state): states.get(state, 0) for state in S.values}
    if institution is not None:
        summary.role_institution_slug = institution.slug
        inbound = [
            item
            for item in files
            if item.application.session.opportunity.host_id == institution.pk
            and item.application.reached_host_at is not None
        ]
        summary.role_institution_inbound = len(inbound)
        waiting = Counter(
            item.application.session_id for item in inbound if item.state in AWAITING_DECISION
        )
        summary.role_institution_awaiting = sum(waiting.values())
        summary.role_sessions = sorted(
            {item.application.session_id for item in inbound},
            key=lambda pk: (-waiting.get(pk, 0), pk),
        )
    summary.demo_applicant_states = sorted(
        (
            str(item.state)
            for item in files
            if camila is not None and item.application.applicant == camila
        ),
        key=S.values.index,
    )
    return summary


def _save(ctx: _Context, files: list[_File]) -> None:
    """Write the files, their seats, checklists, reviews and audit trails in bulk."""
    for item in files:
        item.application.updated_at = item.last_at
    _create_dated(Application, [item.application for item in files], ["created_at", "updated_at"])
    placements = [item.placement for item in files if item.placement is not None]
    _create_dated(Placement, placements, ["created_at"])
    ChecklistItem.objects.bulk_create(
        [row for item in files for row in item.checklist], batch_size=1000
    )

    role_sessions = sorted(
        {
            item.application.session_id: item.application.session
            for item in files
            if ctx.role_institution is not None
            and item.application.session.opportunity.host_id == ctx.role_institution.pk
        }.values(),
        key=lambda session: session.pk,
    )
    criteria, scores, comments = _review_work(ctx, files, role_sessions)
    ReviewCriterion.objects.bulk_create(criteria)
    _create_dated(ReviewScore, [score for _values, score in scores], ["updated_at"])
    _create_dated(ReviewComment, [comment for _item, comment in comments], ["created_at"])
    for values, score in scores:  # the audit data of a score is criterion id → score
        values[str(score.criterion_id)] = score.score
    for item, comment in comments:
        data = {"comment": comment.pk}
        item.note(comment.created_at, "application.commented", comment.author, data)

    application_type = ContentType.objects.get_for_model(Application)
    criterion_type = ContentType.objects.get_for_model(ReviewCriterion)
    entries: list[AuditEntry] = []
    # Transitions first, each file's in order, so the trail read by id is the chain.
    for transitions in (True, False):
        for item in files:
            application = item.application
            target = str(application)[:255]
            entries += [
                AuditEntry(
                    actor=event.actor,
                    action=event.action,
                    target_type=application_type,
                    target_id=str(application.pk),
                    target_repr=target,
                    from_state=event.from_state,
                    to_state=event.to_state,
                    reason=event.reason,
                    data=event.data,
                    created_at=event.at,
                )
                for event in item.events
                if bool(event.to_state) is transitions
            ]
    opened = {session.opportunity_id: session.applications_open_at for session in role_sessions}
    entries += [
        AuditEntry(
            actor=ctx.coordinator,
            action="review_criterion.created",
            target_type=criterion_type,
            target_id=str(criterion.pk),
            target_repr=str(criterion)[:255],
            data={"name": criterion.name, "weight": str(criterion.weight)},
            created_at=opened.get(criterion.opportunity_id, ctx.now) - dt.timedelta(days=3),
        )
        for criterion in criteria
    ]
    _create_dated(AuditEntry, entries, ["created_at"])
