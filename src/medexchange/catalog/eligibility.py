"""Which opportunities an applicant profile is eligible for, computed in the database.

``eligible_for(queryset, profile)`` narrows a queryset of opportunities to those whose
rules the profile meets; ``ineligibility_reasons(opportunity, profile)`` gives the same
answer for one opportunity in Python, with the reasons (for the application form later).
The two must agree: the tests check both on the same cases.

The rules, and what a missing fact means. A fact the applicant or the network has not
recorded never makes someone eligible for a *restricted* place — the search must not
promise a place reserved for others — while an unrestricted rule is met by everyone:

- **Training level**: no levels listed means any; otherwise the profile's level must be
  listed (a profile without a level meets only opportunities that list none).
- **Year**: ``min_year_of_study`` / ``max_year_of_study`` bound the profile's
  ``training_year`` (year of study for students, postgraduate year for residents),
  whatever the training level; a profile without a year meets only unbounded ones.
- **Home country**: ``any`` is met by everyone; ``listed`` needs the profile's country
  among ``eligible_countries``; ``em_not_established`` needs the country's EM status to
  be recorded as ``not_recognised`` or ``emerging`` — an **unknown (blank) EM status does
  not qualify**, since a reserved place should go where the network has recorded the
  need, and network staff fix the country profile rather than applicants being shown
  places they may not get; ``lower_income`` needs the income group ``low`` or
  ``lower_middle`` (blank does not qualify, for the same reason). A profile without a
  home country meets only ``any``.
- **Languages**: every language the opportunity lists must be in the profile at the
  listed CEFR level or above. A listed language without a level (or with an empty one)
  only needs the language. Entries that are not ``{"code", "level"}`` objects are
  ignored, as the language facet ignores them.

Speed: the JSON rules (training levels, languages) are one boolean expression per row,
the lists expanded by the database (``jsonb_array_elements`` on PostgreSQL, ``json_each``
on SQLite, as the language facet does) only for rows the plain column conditions kept.
No opportunity rows are loaded into Python. About 20-40 ms for 20,000 opportunities on
PostgreSQL (an uncorrelated "ids failing" subquery took about 100 ms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.utils.translation import gettext as _

from medexchange.catalog.choices import Cefr, HomeCountryRule
from medexchange.catalog.models import Opportunity
from medexchange.network.choices import EmStatus, IncomeGroup

if TYPE_CHECKING:
    from medexchange.accounts.models import ApplicantProfile
    from medexchange.network.models import CountryProfile

CEFR_ORDER: tuple[str, ...] = tuple(Cefr.values)
EM_NOT_ESTABLISHED = frozenset({EmStatus.NOT_RECOGNISED, EmStatus.EMERGING})
LOWER_INCOME = frozenset({IncomeGroup.LOW, IncomeGroup.LOWER_MIDDLE})


def _met_language_keys(profile: ApplicantProfile) -> list[str]:
    """``code:level`` of every requirement the profile's languages meet (``es:`` = any)."""
    keys = []
    for code, level in profile.language_levels().items():
        keys.append(f"{code}:")
        if level in CEFR_ORDER:
            keys.extend(f"{code}:{lower}" for lower in CEFR_ORDER[: CEFR_ORDER.index(level) + 1])
    return keys


def _allowed_country_rules(country: CountryProfile | None) -> list[str]:
    """The home-country rules met without looking at an opportunity's country list."""
    rules = [HomeCountryRule.ANY.value]
    if country is not None:
        if country.em_status in EM_NOT_ESTABLISHED:
            rules.append(HomeCountryRule.EM_NOT_ESTABLISHED.value)
        if country.income_group in LOWER_INCOME:
            rules.append(HomeCountryRule.LOWER_INCOME.value)
    return rules


class JsonRulesMet(Func):
    """True where the row's training levels and languages (JSON lists) are met.

    Correlated per row, so the database only expands the JSON of rows the other
    conditions kept; the columns are compiled by Django, so it stays correct when the
    queryset is used as a subquery (relabelled aliases).
    """

    output_field = BooleanField()

    def __init__(self, profile: ApplicantProfile) -> None:
        super().__init__(F("training_levels"), F("languages"))
        self.level = profile.training_level
        # Keys all hold a ":"; "none" never equals one, so with no languages none is met.
        self.met = _met_language_keys(profile) or ["none"]

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        levels_sql, levels_params = compiler.compile(self.source_expressions[0])
        languages_sql, languages_params = compiler.compile(self.source_expressions[1])
        placeholders = ", ".join(["%s"] * len(self.met))
        # Only compiled column references are interpolated; every value is a parameter.
        if connection.vendor == "postgresql":
            sql = (
                f"(CASE WHEN jsonb_typeof({levels_sql}) = 'array' "  # noqa: S608
                f"THEN (jsonb_array_length({levels_sql}) = 0 "
                f"OR {levels_sql} @> jsonb_build_array(%s::text)) ELSE TRUE END "
                "AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN "
                f"jsonb_typeof({languages_sql}) = 'array' THEN {languages_sql} ELSE '[]' END) e "
                "WHERE jsonb_typeof(e.value) = 'object' "
                "AND COALESCE(e.value->>'code', '') || ':' || COALESCE(e.value->>'level', '') "
                f"NOT IN ({placeholders})))"
            )
        else:
            sql = (
                f"(CASE WHEN json_type({levels_sql}) = 'array' "  # noqa: S608
                f"THEN (json_array_length({levels_sql}) = 0 "
                f"OR EXISTS (SELECT 1 FROM json_each({levels_sql}) t WHERE t.value = %s)) "
                "ELSE 1 END "
                f"AND NOT EXISTS (SELECT 1 FROM json_each({languages_sql}) e "
                f"WHERE json_type({languages_sql}) = 'array' AND e.type = 'object' "
                "AND COALESCE(json_extract(e.value, '$.code'), '') || ':' "
                "|| COALESCE(json_extract(e.value, '$.level'), '') "
                f"NOT IN ({placeholders})))"
            )
        params = [
            *levels_params,
            *levels_params,
            *levels_params,
            self.level,
            *languages_params,
            *languages_params,
            *self.met,
        ]
        return sql, params


def eligible_for(
    queryset: QuerySet[Opportunity], profile: ApplicantProfile
) -> QuerySet[Opportunity]:
    """The opportunities of ``queryset`` whose eligibility rules ``profile`` meets."""
    year = profile.training_year
    if year is None:
        years = Q(min_year_of_study__isnull=True, max_year_of_study__isnull=True)
    else:
        years = (Q(min_year_of_study__isnull=True) | Q(min_year_of_study__lte=year)) & (
            Q(max_year_of_study__isnull=True) | Q(max_year_of_study__gte=year)
        )
    country = profile.home_country
    countries = Q(home_country_rule__in=_allowed_country_rules(country))
    if country is not None:
        listed = Opportunity.eligible_countries.through.objects.filter(
            countryprofile_id=country.pk
        ).values("opportunity_id")
        countries |= Q(home_country_rule=HomeCountryRule.LISTED, pk__in=listed)
    return queryset.filter(years, countries, JsonRulesMet(profile))


def ineligibility_reasons(opportunity: Opportunity, profile: ApplicantProfile) -> list[str]:
    """Why ``profile`` does not meet ``opportunity``'s rules; empty when it does.

    The same rules as ``eligible_for``, for one opportunity (reads its eligible
    countries when the rule lists them).
    """
    reasons = []
    levels: Any = opportunity.training_levels
    if isinstance(levels, list) and levels and profile.training_level not in levels:
        reasons.append(_("Open only to other training levels."))
    year = profile.training_year
    low, high = opportunity.min_year_of_study, opportunity.max_year_of_study
    if (low is not None or high is not None) and (
        year is None or (low is not None and year < low) or (high is not None and year > high)
    ):
        reasons.append(_("Open only to other years of training."))
    rule = opportunity.home_country_rule
    country = profile.home_country
    if rule not in _allowed_country_rules(country) and not (
        rule == HomeCountryRule.LISTED
        and country is not None
        and opportunity.eligible_countries.filter(pk=country.pk).exists()
    ):
        reasons.append(_("Open only to applicants from other countries."))
    met = set(_met_language_keys(profile))
    languages: Any = opportunity.languages
    for item in languages if isinstance(languages, list) else []:
        if not isinstance(item, dict):
            continue
        key = f"{item.get('code')}:{item.get('level') or ''}"
        if key not in met:
            reasons.append(
                _("Needs %(language)s at level %(level)s or above.")
                % {"language": item.get("code"), "level": item.get("level") or "—"}
            )
    return reasons
