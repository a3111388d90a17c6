"""The status flow: who proposes, who answers, what is refused, what is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from medexchange.agreements import services
from medexchange.agreements.choices import AgreementStatus, Side
from medexchange.agreements.models import Agreement
from medexchange.common.models import AuditEntry, Notification
from tests import factories

S = AgreementStatus
pytestmark = pytest.mark.django_db


def _draft(pair: Any, **values: Any) -> Agreement:
    terms = {
        "title": "Accra and Lima 2026",
        "party_a": pair.home,
        "party_b": pair.host,
        "first_year": 2026,
        "last_year": 2027,
        "tolerance": 1,
        "unit": "participants",
    } | values
    quotas = [{"sender": pair.home, "host": pair.host, "amount": 3}]
    return services.agreement_create(actor=pair.home_coordinator, values=terms, quotas=quotas)


def _actions(agreement: Agreement) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_id=str(agreement.pk), action__startswith="agreement.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_propose_then_the_other_side_accepts_and_it_is_active_when_its_year_began(
    pair: Any,
) -> None:
    agreement = _draft(pair)
    services.agreement_propose(agreement=agreement, actor=pair.home_coordinator)
    assert agreement.status == S.PROPOSED
    assert agreement.proposed_by_side == Side.A
    assert agreement.a_approved_by == pair.home_coordinator
    assert agreement.b_approved_at is None
    assert Notification.objects.filter(user=pair.host_coordinator, url__contains="/agreements/")

    services.agreement_accept(
        agreement=agreement, actor=pair.host_coordinator, today=dt.date(2026, 10, 1)
    )
    agreement.refresh_from_db()
    assert agreement.status == S.ACTIVE
    assert agreement.b_approved_by == pair.host_coordinator
    assert _actions(agreement) == [
        "agreement.created",
        "agreement.proposed",
        "agreement.accepted",
        "agreement.activated",
    ]


def test_accepted_before_its_first_year_waits(pair: Any) -> None:
    agreement = _draft(pair)
    services.agreement_propose(agreement=agreement, actor=pair.home_coordinator)
    services.agreement_accept(
        agreement=agreement, actor=pair.host_coordinator, today=dt.date(2026, 3, 1)
    )
    assert agreement.status == S.ACCEPTED
    services.agreements_advance(today=dt.date(2026, 8, 31))
    agreement.refresh_from_db()
    assert agreement.status == S.ACCEPTED
    services.agreements_advance(today=dt.date(2026, 9, 1))
    agreement.refresh_from_db()
    assert agreement.status == S.ACTIVE
    services.agreements_advance(today=dt.date(2028, 8, 31))
    agreement.refresh_from_db()
    assert agreement.status == S.ACTIVE
    services.agreements_advance(today=dt.date(2028, 9, 1))
    agreement.refresh_from_db()
    assert agreement.status == S.EXPIRED


def test_the_proposer_cannot_accept_their_own_proposal(pair: Any) -> None:
    agreement = _draft(pair)
    services.agreement_propose(agreement=agreement, actor=pair.home_coordinator)
    with pytest.raises(ValidationError, match="other side"):
        services.agreement_accept(agreement=agreement, actor=pair.home_coordinator)
    colleague = factories.coordinator_of(pair.home)
    with pytest.raises(ValidationError, match="other side"):
        services.agreement_accept(agreement=agreement, actor=colleague)
    agreement.refresh_from_db()
    assert agreement.status == S.PROPOSED


def test_a_stranger_cannot_act_on_the_agreement(pair: Any) -> None:
    agreement = _draft(pair)
    with pytest.raises(PermissionDenied):
        services.agreement_propose(agreement=agreement, actor=pair.other_coordinator)
    services.agreement_propose(agreement=agreement, actor=pair.home_coordinator)
    with pytest.raises(PermissionDenied):
        services.agreement_accept(agreement=agreement, actor=pair.other_coordinator)
    with pytest.raises(PermissionDenied):
        services.agreement_accept(agreement=agreement, actor=pair.applicant)


def test_decline_needs_a_reason_and_tells_the_proposer(pair: Any) -> None:
    agreement = _draft(pair)
    services.agreement_propose(agreement=agreement, actor=pair.home_coordinator)
    with pytest.raises(ValidationError) as refused:
        services.agreement_decline(agreement=agreement, actor=pair.host_coordinator, reason=" ")
    assert "reason" in refused.value.message_dict
    services.agreement_decline(
        agreement=agreement, actor=pair.host_coordinator, reason="Our wards are full."
    )
    assert agreement.status == S.DECLINED
    assert Notification.objects.filter(
        user=pair.home_coordinator, message__contains="Our wards are full."
    ).exists()
    assert _actions(agreement)[-1] == "agreement.declined"


def test_back_to_draft_clears_approvals_and_only_drafts_are_edited(pair: Any) -> None:
    agreement = _draft(pair)
    services.agreement_propose(agreement=agreement, actor=pair.home_coordinator)
    values = {"title": "Changed", "party_a": pair.home, "party_b": pair.host}
    values |= {"first_year": 2026, "last_year": 2027}
    quotas = [{"sender": pair.host, "host": pair.home, "amount": 1}]
    with pytest.raises(PermissionDenied):  # a proposal is frozen
        services.agreement_update(
            agreement=agreement, actor=pair.home_coordinator, values=values, quotas=quotas
        )
    services.agreement_return_to_draft(
        agreement=agreement, actor=pair.host_coordinator, reason="Add a quota our way."
    )
    assert agreement.status == S.DRAFT
    assert agreement.a_approved_at is None
    services.agreement_update(
        agreement=agreement, actor=pair.host_coordinator, values=values, quotas=quotas
    )
    agreement.refresh_from_db()
    assert agreement.title == "Changed"
    assert [(q.sender, q.host, q.amount) for q in agreement.quotas.all()] == [
        (pair.host, pair.home, 1)
    ]
    assert _actions(agreement)[-2:] == ["agreement.returned_to_draft", "agreement.updated"]


def test_terminate_an_active_agreement(pair: Any) -> None:
    agreement = pair.agreement
    with pytest.raises(ValidationError):
        services.agreement_terminate(agreement=agreement, actor=pair.home_coordinator, reason="")
    services.agreement_terminate(
        agreement=agreement, actor=pair.home_coordinator, reason="Programme closed."
    )
    assert agreement.status == S.TERMINATED
    with pytest.raises(ValidationError, match="cannot become"):
        services.agreement_terminate(
            agreement=agreement, actor=pair.home_coordinator, reason="Again."
        )


def test_drafting_rules(pair: Any) -> None:
    base = {"title": "X", "first_year": 2027, "last_year": 2026}
    with pytest.raises(ValidationError) as refused:
        services.agreement_create(
            actor=pair.other_coordinator,
            values=base | {"party_a": pair.home, "party_b": pair.home},
            quotas=[{"sender": pair.home, "host": pair.other, "amount": 1}],
        )
    errors = refused.value.message_dict
    assert "party_b" in errors  # the same institution twice
    assert "party_a" in errors  # not one the coordinator runs
    assert "last_year" in errors
    assert "quotas" in errors
    with pytest.raises(ValidationError) as refused:
        services.agreement_create(
            actor=pair.home_coordinator, values=base | {"network": pair.network}
        )
    assert "network" in refused.value.message_dict  # only staff


def test_network_wide_needs_two_staff_members(pair: Any) -> None:
    agreement = services.agreement_create(
        actor=pair.staff,
        values={
            "title": "Network terms",
            "network": pair.network,
            "first_year": 2026,
            "last_year": 2026,
        },
        quotas=[{"amount": 2}],
    )
    services.agreement_propose(agreement=agreement, actor=pair.staff)
    assert agreement.proposed_by_side == Side.NETWORK
    with pytest.raises(ValidationError, match="Another"):
        services.agreement_accept(agreement=agreement, actor=pair.staff)
    with pytest.raises(PermissionDenied):
        services.agreement_accept(agreement=agreement, actor=pair.host_coordinator)
    colleague = factories.staff_of(pair.network)
    services.agreement_accept(agreement=agreement, actor=colleague, today=dt.date(2026, 9, 2))
    assert agreement.status == S.ACTIVE


def test_renewal_reminders_are_sent_once_at_90_and_30_days(pair: Any) -> None:
    agreement = pair.agreement
    ends = agreement.ends_on

    def reminders() -> int:
        return Notification.objects.filter(
            user=pair.host_coordinator, message__contains="Time to renew"
        ).count()

    services.agreements_advance(today=ends - dt.timedelta(days=91))
    assert reminders() == 0
    services.agreements_advance(today=ends - dt.timedelta(days=90))
    assert reminders() == 1
    services.agreements_advance(today=ends - dt.timedelta(days=89))
    assert reminders() == 1
    services.agreements_advance(today=ends - dt.timedelta(days=30))
    assert reminders() == 2
    services.agreements_advance(today=ends - dt.timedelta(days=29))
    assert reminders() == 2
    assert (
        Notification.objects.filter(
            user=pair.home_coordinator, message__contains="Time to renew"
        ).count()
        == 2
    )


def test_a_coordinator_of_both_parties_cannot_approve_for_both(pair: Any) -> None:
    from medexchange.accounts.models import InstitutionRole

    agreement = _draft(pair)
    InstitutionRole.objects.create(
        user=pair.home_coordinator, institution=pair.host, role="coordinator"
    )
    services.agreement_propose(agreement=agreement, actor=pair.home_coordinator)
    with pytest.raises(ValidationError, match="other side"):
        services.agreement_accept(agreement=agreement, actor=pair.home_coordinator)
    agreement.refresh_from_db()
    assert agreement.status == S.PROPOSED
    services.agreement_accept(agreement=agreement, actor=pair.host_coordinator)
    agreement.refresh_from_db()
    assert agreement.status in {S.ACCEPTED, S.ACTIVE}
