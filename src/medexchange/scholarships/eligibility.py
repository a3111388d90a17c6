"""Who may ask a scholarship call for money: one pure function and its database adapter.

``ineligibility_reasons(rules, facts, now=...)`` looks only at the two frozen
dataclasses it is given (no database, no clock of its own), so the same answer is shown
to the applicant before applying and enforced by ``services.scholarship_request_create``.
Each reason has a stable ``code`` (for tests and the API) and a translated ``message``.

The rules, and what a missing fact means (the catalog's convention, see
``catalog.eligibility``): an empty list in the call means "any"; a fact that is not
recorded (a country without an EM status or income group, a profile without a training
level) never meets a *restricted* rule — money reserved for a need goes where the
network has recorded the need; network staff fix the country profile.

1. The call takes requests: status *open*, and ``opens_at <= now < closes_at``.
2. The application is the applicant's own, submitted and still going (not a draft, not
   withdrawn, declined, not endorsed, or an offer declined or expired, not completed).
3. Home-country EM status (``CountryProfile.em_status``) in the call's list.
4. Home-country income group (``CountryProfile.income_group``) in the call's list.
5. Training level (``ApplicantProfile.training_level``) in the call's list.
6. Opportunity kind (``Opportunity.kind``) in the call's list.
7. The opportunity's host or the applicant's home institution is an active member of
   the call's network (a network funds exchanges within the network).
8. At most one request per application and call (a withdrawn one does not count).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from medexchange.applications.choices import ACTIVE_STATES, ApplicationState
from medexchange.catalog.choices import OpportunityKind, TrainingLevel
from medexchange.network.choices import EmStatus, IncomeGroup, MembershipStatus
from medexchange.scholarships.choices import CallStatus, RequestStatus

if TYPE_CHECKING:
    from medexchange.applications.models import Application
    from medexchange.scholarships.models import ScholarshipCall

#: Application states from which a scholarship may be requested.
REQUESTABLE_STATES = frozenset(ACTIVE_STATES - {ApplicationState.DRAFT})


@dataclass(frozen=True)
class CallRules:
    status: str
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    em_statuses: tuple[str, ...] = ()
    income_groups: tuple[str, ...] = ()
    training_levels: tuple[str, ...] = ()
    opportunity_kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApplicantFacts:
    application_state: str
    em_status: str = ""
    income_group: str = ""
    training_level: str = ""
    opportunity_kind: str = ""
    in_network: bool = False
    already_requested: bool = False


@dataclass(frozen=True)
class Reason:
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def _labels(choices: Any, values: Collection[str]) -> str:
    names = dict(choices.choices)
    return ", ".join(str(names.get(value, value)) for value in values)


def ineligibility_reasons(
    rules: CallRules, facts: ApplicantFacts, *, now: dt.datetime
) -> list[Reason]:
    """Why ``facts`` may not ask ``rules``' call for money now; empty when they may."""
    reasons: list[Reason] = []
    if rules.status != CallStatus.OPEN:
        reasons.append(Reason("call_not_open", _("This call does not take requests now.")))
    elif rules.opens_at is not None and now < rules.opens_at:
        reasons.append(Reason("call_not_yet_open", _("This call does not take requests yet.")))
    elif rules.closes_at is not None and now >= rules.closes_at:
        reasons.append(Reason("call_closed", _("This call stopped taking requests.")))
    if facts.application_state not in REQUESTABLE_STATES:
        reasons.append(
            Reason(
                "application_state",
                _("Only a submitted application that is still going can ask for a scholarship."),
            )
        )
    for code, allowed, value, message, choices in (
        (
            "em_status",
            rules.em_statuses,
            facts.em_status,
            _("Open to applicants from countries where Emergency Medicine is: %(list)s."),
            EmStatus,
        ),
        (
            "income_group",
            rules.income_groups,
            facts.income_group,
            _("Open to applicants from countries in these income groups: %(list)s."),
            IncomeGroup,
        ),
        (
            "training_level",
            rules.training_levels,
            facts.training_level,
            _("Open to these training levels: %(list)s."),
            TrainingLevel,
        ),
        (
            "opportunity_kind",
            rules.opportunity_kinds,
            facts.opportunity_kind,
            _("Open to these kinds of opportunity: %(list)s."),
            OpportunityKind,
        ),
    ):
        if allowed and value not in allowed:
            reasons.append(Reason(code, message % {"list": _labels(choices, allowed)}))
    if not facts.in_network:
        reasons.append(
            Reason(
                "not_in_network",
                _(
                    "Open to exchanges where the host or your home institution is a member "
                    "of the call's network."
                ),
            )
        )
    if facts.already_requested:
        reasons.append(
            Reason(
                "already_requested",
                _("You already asked this call for a scholarship for this application."),
            )
        )
    return reasons


# --------------------------------------------------------------------------- adapter


def rules_of(call: ScholarshipCall) -> CallRules:
    return CallRules(
        status=call.status,
        opens_at=call.opens_at,
        closes_at=call.closes_at,
        em_statuses=tuple(call.eligible_em_statuses or ()),
        income_groups=tuple(call.eligible_income_groups or ()),
        training_levels=tuple(call.eligible_training_levels or ()),
        opportunity_kinds=tuple(call.eligible_opportunity_kinds or ()),
    )


def facts_of(call: ScholarshipCall, application: Application) -> ApplicantFacts:
    """The facts of ``application`` the rules read (a few queries)."""
    from medexchange.accounts.models import ApplicantProfile
    from medexchange.network.models import Membership
    from medexchange.scholarships.models import ScholarshipRequest

    country = application.home_country
    profile = (
        ApplicantProfile.objects.filter(user_id=application.applicant_id).first()
        if application.applicant_id
        else None
    )
    if country is None and profile is not None:
        country = profile.home_country
    opportunity = application.session.opportunity
    institutions = {opportunity.host_id, application.home_institution_id} - {None}
    in_network = Membership.objects.filter(
        network_id=call.network_id,
        institution_id__in=institutions,
        status=MembershipStatus.ACTIVE,
    ).exists()
    already = (
        ScholarshipRequest.objects.filter(call=call, application=application)
        .exclude(status=RequestStatus.WITHDRAWN)
        .exists()
    )
    return ApplicantFacts(
        application_state=application.state,
        em_status=country.em_status if country is not None else "",
        income_group=country.income_group if country is not None else "",
        training_level=profile.training_level if profile is not None else "",
        opportunity_kind=opportunity.kind,
        in_network=in_network,
        already_requested=already,
    )


def reasons_for(
    call: ScholarshipCall, application: Application, *, now: dt.datetime
) -> list[Reason]:
    return ineligibility_reasons(rules_of(call), facts_of(call, application), now=now)
