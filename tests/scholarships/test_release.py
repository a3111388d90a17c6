"""An award is released when its application closes: withdrawn by the applicant, or
declined by the host. The fund's available money comes back, audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse

from medexchange.applications import services as application_services
from medexchange.common.models import AuditEntry, Notification
from medexchange.scholarships import services
from tests.scholarships.conftest import Scene, ask, available, committed, proposed


def test_withdrawing_the_application_releases_the_award(client: Any, scene: Scene) -> None:
    application = scene.application()
    request = ask(scene.call, application, "1000.00")
    award = committed(request, scene.staff, (scene.fund, "1000.00"))
    assert available(scene.fund) == Decimal("2000.00")
    client.force_login(scene.applicants[0])
    response = client.post(
        reverse("applications:withdraw", args=[application.pk]), {"reason": "Visa refused."}
    )
    assert response.status_code == 302
    award.refresh_from_db()
    request.refresh_from_db()
    assert award.status == "released"
    assert award.closed_at is not None
    assert request.status == "withdrawn"
    assert available(scene.fund) == Decimal("3000.00")
    assert AuditEntry.objects.filter(action="award.released", target_id=str(award.pk)).exists()
    assert AuditEntry.objects.filter(action="commitment.released").exists()
    assert Notification.objects.filter(user=scene.staff, message__contains="was released").exists()


def test_only_what_was_not_paid_goes_back(scene: Scene) -> None:
    application = scene.application()
    request = ask(scene.call, application, "1000.00")
    award = committed(request, scene.staff, (scene.fund, "1000.00"))
    commitment = award.commitments.get()
    payment = services.award_disbursement_plan(
        award=award, actor=scene.staff, amount="400.00", commitment=commitment
    )
    services.award_disbursement_pay(award=award, disbursement=payment, actor=scene.staff)
    assert available(scene.fund) == Decimal("2000.00")
    application_services.application_withdraw(application=application, actor=scene.applicants[0])
    award.refresh_from_db()
    assert award.status == "released"
    # 400 paid out, 600 released: 3000 - 400 held, nothing committed.
    assert available(scene.fund) == Decimal("2600.00")


def test_a_planned_payment_keeps_its_money_until_finance_staff_cancel_it(scene: Scene) -> None:
    application = scene.application()
    request = ask(scene.call, application, "1000.00")
    award = committed(request, scene.staff, (scene.fund, "1000.00"))
    payment = services.award_disbursement_plan(
        award=award, actor=scene.staff, amount="300.00", commitment=award.commitments.get()
    )
    application_services.application_withdraw(application=application, actor=scene.applicants[0])
    award.refresh_from_db()
    assert award.status == "released"
    assert available(scene.fund) == Decimal("2700.00")  # the planned 300 stays committed
    services.award_disbursement_cancel(award=award, disbursement=payment, actor=scene.staff)
    assert available(scene.fund) == Decimal("3000.00")


def test_a_host_decline_releases_too_and_a_proposal_is_just_cancelled(scene: Scene) -> None:
    application = scene.application()
    other = scene.application(1)
    award = committed(ask(scene.call, application, "500.00"), scene.staff, (scene.fund, "500.00"))
    proposal = proposed(ask(scene.call, other, "700.00"), (scene.fund, "700.00"))
    application_services.application_decline(
        application=application, actor=scene.reviewer, reason="No place for this level."
    )
    application_services.application_withdraw(application=other, actor=scene.applicants[1])
    award.refresh_from_db()
    proposal.refresh_from_db()
    assert award.status == "released"
    assert proposal.status == "cancelled"
    assert available(scene.fund) == Decimal("3000.00")


def test_withdrawing_the_request_releases_its_award(client: Any, scene: Scene) -> None:
    request = ask(scene.call, scene.application(), "800.00")
    award = committed(request, scene.staff, (scene.fund, "800.00"))
    client.force_login(scene.applicants[0])
    response = client.post(reverse("scholarships:request-withdraw", args=[request.pk]), {})
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.status == "released"
    assert available(scene.fund) == Decimal("3000.00")
