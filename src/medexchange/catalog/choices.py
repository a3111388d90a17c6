from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class OpportunityKind(models.TextChoices):
    CLINICAL_ELECTIVE = "clinical_elective", _("Clinical elective")
    RESEARCH_ELECTIVE = "research_elective", _("Research elective")
    OBSERVERSHIP = "observership", _("Observership")
    EXCHANGE_PROGRAM = "exchange_program", _("Multi-site exchange program")
    RESIDENCY_TRACK = "residency_track", _("Residency-track places")
    FELLOWSHIP = "fellowship", _("Fellowship")
    COURSE = "course", _("Course")
    TEACHING_VISIT = "teaching_visit", _("Teaching visit")


class Level(models.TextChoices):
    UNDERGRADUATE = "undergraduate", _("Undergraduate")
    POSTGRADUATE = "postgraduate", _("Postgraduate")
    FACULTY = "faculty", _("Faculty")


class TrainingLevel(models.TextChoices):
    """Where an applicant is in their training (the applicant profile uses the same)."""

    STUDENT = "student", _("Medical student")
    RESIDENT = "resident", _("Resident")
    PHYSICIAN = "physician", _("Physician")


class Cefr(models.TextChoices):
    """Common European Framework of Reference levels of language proficiency."""

    A1 = "A1", "A1"
    A2 = "A2", "A2"
    B1 = "B1", "B1"
    B2 = "B2", "B2"
    C1 = "C1", "C1"
    C2 = "C2", "C2"


class OpportunityStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    UNPUBLISHED = "unpublished", _("Unpublished")


class HomeCountryRule(models.TextChoices):
    """Who may apply, by the applicant's home country."""

    ANY = "any", _("Applicants from any country")
    LISTED = "listed", _("Only applicants from the listed countries")
    EM_NOT_ESTABLISHED = (
        "em_not_established",
        _("Only applicants from countries where Emergency Medicine is not yet established"),
    )
    LOWER_INCOME = "lower_income", _("Only applicants from low and lower-middle income countries")


class AccommodationKind(models.TextChoices):
    NONE = "none", _("No help with accommodation")
    HOST_HOUSING = "host_housing", _("Housing provided by the host")
    PARTNER_LODGING = "partner_lodging", _("Lodging with a partner (e.g. host families)")
    HELP_FINDING = "help_finding", _("Help finding accommodation")


class DocumentKind(models.TextChoices):
    """Documents an applicant keeps in their vault and a host may require."""

    CV = "cv", _("CV")
    TRANSCRIPT = "transcript", _("Transcript")
    GOOD_STANDING = "good_standing", _("Letter of good standing")
    RECOMMENDATION = "recommendation", _("Recommendation letter")
    LANGUAGE_CERTIFICATE = "language_certificate", _("Language certificate")
    IMMUNISATION_RECORD = "immunisation_record", _("Immunisation record")
    INSURANCE = "insurance", _("Proof of insurance")
    PASSPORT = "passport", _("Passport copy")


class Immunisation(models.TextChoices):
    HEPATITIS_B = "hepatitis_b", _("Hepatitis B")
    MMR = "mmr", _("Measles, mumps and rubella")
    VARICELLA = "varicella", _("Varicella")
    TETANUS = "tetanus", _("Tetanus, diphtheria, pertussis")
    TUBERCULOSIS = "tuberculosis", _("Tuberculosis screening")
    INFLUENZA = "influenza", _("Seasonal influenza")
    COVID19 = "covid19", _("COVID-19")


class Recurrence(models.TextChoices):
    """How sessions repeat when generated in bulk."""

    MONTHLY = "monthly", _("Every month")
    QUARTERLY = "quarterly", _("Every three months")
    YEARLY = "yearly", _("Every year")


# The maintained list of specialties; a data migration creates a row for each.
SPECIALTIES: list[tuple[str, StrOrPromise]] = [
    ("emergency-medicine", _("Emergency Medicine")),
    ("internal-medicine", _("Internal Medicine")),
    ("general-surgery", _("General Surgery")),
    ("paediatrics", _("Paediatrics")),
    ("paediatric-emergency-medicine", _("Paediatric Emergency Medicine")),
    ("obstetrics-gynaecology", _("Obstetrics and Gynaecology")),
    ("anaesthesiology", _("Anaesthesiology")),
    ("critical-care", _("Critical Care Medicine")),
    ("family-medicine", _("Family Medicine")),
    ("trauma-surgery", _("Trauma Surgery")),
    ("orthopaedics", _("Orthopaedics")),
    ("cardiology", _("Cardiology")),
    ("infectious-diseases", _("Infectious Diseases")),
    ("toxicology", _("Medical Toxicology")),
    ("radiology", _("Radiology")),
    ("psychiatry", _("Psychiatry")),
    ("neurology", _("Neurology")),
    ("public-health", _("Public Health")),
    ("global-health", _("Global Health")),
    ("prehospital-care", _("Prehospital and Disaster Medicine")),
    ("medical-education", _("Medical Education")),
]
