"""Paying an award: plan, pay, return, cancel, through the funds' ledger; and cancelling
an award."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone

from medexchange.common.models import Notification
from medexchange.funding.models import Disbursement
from medexchange.funding.selectors import fund_totals
from tests.scholarships.conftest import Scene, ask, available, committed


def act(client: Any, award: Any, action: str, **data: Any) -> Any:
    return client.post(
        reverse("scholarships:disbursement", args=[award.pk]), {"action": action, **data}
    )


def test_plan_pay_return_and_cancel(client: Any, scene: Scene) -> None:
    award = committed(
        ask(scene.call, scene.application(), "1000.00"), scene.staff, (scene.fund, "1000.00")
    )
    commitment = award.commitments.get()
    client.force_login(scene.staff)
    assert client.get(award.get_absolute_url()).status_code == 200

    response = act(
        client,
        award,
        "plan",
        **{"plan-commitment": commitment.pk, "plan-amount": "400.00", "plan-note": "Flight"},
    )
    assert response.status_code == 302
    flight = Disbursement.objects.get(note="Flight")
    assert flight.status == "planned"
    today = timezone.localdate().isoformat()
    assert (
        act(
            client,
            award,
            "pay",
            disbursement=flight.pk,
            **{"pay-paid_on": today, "pay-reference": "TRX-1"},
        ).status_code
        == 302
    )
    flight.refresh_from_db()
    assert (flight.status, flight.reference) == ("paid", "TRX-1")
    totals = fund_totals(scene.fund)
    assert (totals.held, totals.committed, totals.available) == (
        Decimal("2600.00"),
        Decimal("600.00"),
        Decimal("2000.00"),
    )

    # The rest, then the rest comes back unused.
    act(client, award, "plan", **{"plan-commitment": commitment.pk, "plan-amount": "600.00"})
    rent = Disbursement.objects.get(amount=Decimal("600.00"))
    act(client, award, "pay", disbursement=rent.pk, **{"pay-paid_on": today})
    award.refresh_from_db()
    assert award.status == "paid"
    response = act(
        client,
        award,
        "return",
        disbursement=rent.pk,
        **{"return-returned_on": today, "return-note": "Stayed with family"},
    )
    assert response.status_code == 302
    rent.refresh_from_db()
    assert rent.status == "returned"
    assert available(scene.fund) == Decimal("2600.00")


def test_a_cancelled_planned_payment_keeps_the_money_for_the_award(
    client: Any, scene: Scene
) -> None:
    award = committed(
        ask(scene.call, scene.application(), "1000.00"), scene.staff, (scene.fund, "1000.00")
    )
    commitment = award.commitments.get()
    client.force_login(scene.staff)
    act(client, award, "plan", **{"plan-commitment": commitment.pk, "plan-amount": "250.00"})
    planned = Disbursement.objects.get()
    assert act(client, award, "cancel", disbursement=planned.pk).status_code == 302
    planned.refresh_from_db()
    assert planned.status == "cancelled"
    assert available(scene.fund) == Decimal("2000.00")


def test_bad_payments_are_refused_with_a_reason(client: Any, scene: Scene) -> None:
    award = committed(
        ask(scene.call, scene.application(), "500.00"), scene.staff, (scene.fund, "500.00")
    )
    commitment = award.commitments.get()
    client.force_login(scene.staff)
    response = act(
        client, award, "plan", **{"plan-commitment": commitment.pk, "plan-amount": "600.00"}
    )
    assert response.status_code == 400
    assert "At most 500.00" in " ".join(response.context["plan_form"].errors["amount"])
    response = act(
        client, award, "plan", **{"plan-commitment": commitment.pk, "plan-amount": "10.001"}
    )
    assert response.status_code == 400
    assert "at most 2 decimals" in " ".join(response.context["plan_form"].errors["amount"])
    act(client, award, "plan", **{"plan-commitment": commitment.pk, "plan-amount": "100.00"})
    planned = Disbursement.objects.get()
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = act(client, award, "pay", disbursement=planned.pk, **{"pay-paid_on": tomorrow})
    assert response.status_code == 400
    assert "cannot be made in the future" in response.content.decode()
    planned.refresh_from_db()
    assert planned.status == "planned"
    # A payment of another award is not this award's.
    other = committed(
        ask(scene.call, scene.application(1), "200.00"), scene.staff, (scene.fund, "200.00")
    )
    assert act(client, other, "cancel", disbursement=planned.pk).status_code == 404


def test_finance_staff_cancel_an_award_and_the_applicant_is_told(client: Any, scene: Scene) -> None:
    request = ask(scene.call, scene.application(), "700.00")
    award = committed(request, scene.staff, (scene.fund, "700.00"))
    client.force_login(scene.staff)
    response = client.post(
        reverse("scholarships:award-cancel", args=[award.pk]), {"cancel-reason": ""}
    )
    assert response.status_code == 400
    response = client.post(
        reverse("scholarships:award-cancel", args=[award.pk]),
        {"cancel-reason": "Funded by the host hospital instead."},
    )
    assert response.status_code == 302
    award.refresh_from_db()
    request.refresh_from_db()
    assert award.status == "cancelled"
    assert request.status == "not_awarded"
    assert available(scene.fund) == Decimal("3000.00")
    assert Notification.objects.filter(
        user=scene.applicants[0], message__contains="Funded by the host hospital instead."
    ).exists()


def test_the_applicant_sees_their_award_but_not_the_payment_controls(
    client: Any, scene: Scene
) -> None:
    award = committed(
        ask(scene.call, scene.application(), "700.00"), scene.staff, (scene.fund, "700.00")
    )
    client.force_login(scene.applicants[0])
    page = client.get(award.get_absolute_url()).content.decode()
    assert "700.00" in page
    assert "The money is reserved for you." in page
    assert "Plan a payment" not in page
    assert act(client, award, "plan", **{"plan-amount": "100.00"}).status_code == 404
