from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.TextChoices):
    AFRICA = "africa", _("Africa")
    AMERICAS = "americas", _("Americas")
    ASIA = "asia", _("Asia")
    EUROPE = "europe", _("Europe")
    OCEANIA = "oceania", _("Oceania")
    ANTARCTICA = "antarctica", _("Antarctica")


class IncomeGroup(models.TextChoices):
    UNKNOWN = "", _("Not set")
    LOW = "low", _("Low income")
    LOWER_MIDDLE = "lower_middle", _("Lower-middle income")
    UPPER_MIDDLE = "upper_middle", _("Upper-middle income")
    HIGH = "high", _("High income")


class EmStatus(models.TextChoices):
    """How far Emergency Medicine is recognised as a specialty in a country."""

    UNKNOWN = "", _("Not set")
    NOT_RECOGNISED = "not_recognised", _("Not recognised")
    EMERGING = "emerging", _("Emerging")
    ESTABLISHED = "established", _("Established")


class NetworkScope(models.TextChoices):
    GLOBAL = "global", _("Global")
    REGIONAL = "regional", _("Regional")


class InstitutionKind(models.TextChoices):
    MEDICAL_SCHOOL = "medical_school", _("Medical school")
    TEACHING_HOSPITAL = "teaching_hospital", _("Teaching hospital")
    HEALTH_ORGANISATION = "health_organisation", _("Health organisation")
    TRAINING_INSTITUTION = "training_institution", _("Training institution")


class SiteKind(models.TextChoices):
    HOSPITAL = "hospital", _("Hospital")
    EMERGENCY_DEPARTMENT = "emergency_department", _("Emergency department")
    DEPARTMENT = "department", _("Department")
    CLINIC = "clinic", _("Clinic")
    PREHOSPITAL = "prehospital", _("Pre-hospital service")
    SIMULATION_CENTRE = "simulation_centre", _("Simulation centre")


class MembershipStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    LEFT = "left", _("Left")


class JoinRequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting review")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class OfferKind(models.TextChoices):
    """What a joining institution can offer; mirrors the opportunity kinds."""

    CLINICAL_ELECTIVE = "clinical_elective", _("Clinical electives")
    RESEARCH_ELECTIVE = "research_elective", _("Research electives")
    OBSERVERSHIP = "observership", _("Observerships")
    EXCHANGE_PROGRAM = "exchange_program", _("Multi-site exchange programs")
    RESIDENCY_TRACK = "residency_track", _("Residency-track places")
    FELLOWSHIP = "fellowship", _("Fellowships")
    COURSE = "course", _("Courses")
    TEACHING_VISIT = "teaching_visit", _("Teaching visits by its faculty")
