"""The impact of a fund on public pages: counts of the participants it funded — per
year, home country and program — and never who they are, unless they agreed."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from medexchange.funding import impact
from tests import factories
from tests.applications.conftest import open_session
from tests.scholarships import conftest as scholarships
from tests.scholarships.conftest import Scene, ask, committed, submitted

scene = scholarships.scene  # the scholarships' world: a fund, an open call, four applicants

HIDDEN = ["Kwabena Hiddenname", "Abena Quietfamily", "Yawson Neverseen", "Esinam Unnamed"]


def _rename(scene: Scene) -> None:
    for user, name in zip(scene.applicants, HIDDEN, strict=True):
        user.full_name = name
        user.email = f"{name.split()[1].lower()}@recipients.example"
        user.save()


def _fund_pages(client: Any, scene: Scene) -> list[str]:
    network, fund = scene.network.slug, scene.fund.slug
    urls = [
        reverse("funding:list", kwargs={"network": network}),
        reverse("funding:fund", kwargs={"network": network, "fund": fund}),
        reverse("funding:impact", kwargs={"network": network, "fund": fund}),
        reverse("api-v1:fund-list"),
        reverse("api-v1:fund-detail", kwargs={"pk": scene.fund.pk}),
    ]
    bodies = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        bodies.append(response.content.decode())
    return bodies


def test_public_pages_never_show_a_recipients_identity(client: Any, scene: Scene) -> None:
    _rename(scene)
    for index in range(3):
        request = ask(
            scene.call,
            scene.application(index),
            "500.00",
            need_statement=f"Private need number {index}: my hospital cannot pay.",
        )
        committed(request, scene.staff, (scene.fund, "500.00"))
    for body in _fund_pages(client, scene):
        for name in HIDDEN:
            for part in name.split():
                assert part not in body
        assert "@recipients.example" not in body
        assert "Private need number" not in body
    impact_page = _fund_pages(client, scene)[2]
    assert "<strong>3</strong> participants funded" in impact_page
    assert "1,500.00\xa0USD" in impact_page


def test_a_recipient_who_agreed_is_named_by_first_name_only(client: Any, scene: Scene) -> None:
    _rename(scene)
    scene.applicants[0].full_name = "Efua Storyteller"
    scene.applicants[0].save()
    agreed = ask(scene.call, scene.application(0), "500.00", consent_public_name=True)
    committed(agreed, scene.staff, (scene.fund, "500.00"))
    quiet = ask(scene.call, scene.application(1), "500.00")
    committed(quiet, scene.staff, (scene.fund, "500.00"))
    url = reverse("funding:impact", kwargs={"network": scene.network.slug, "fund": scene.fund.slug})
    body = client.get(url).content.decode()
    assert "<strong>Efua</strong> · Fictional Lima EM Elective" in body
    assert "Storyteller" not in body
    assert "Abena" not in body and "Quietfamily" not in body
    fund_page = client.get(
        reverse("funding:fund", kwargs={"network": scene.network.slug, "fund": scene.fund.slug})
    ).content.decode()
    assert "Efua" not in fund_page  # stories are on the impact page only


def test_small_countries_and_programs_are_counted_without_being_named(
    client: Any, scene: Scene
) -> None:
    for index in range(3):  # three residents from Ghana, in the Lima elective
        committed(
            ask(scene.call, scene.application(index), "400.00"), scene.staff, (scene.fund, "400.00")
        )
    lone = scene.applicants[3]  # one resident from Kenya, in a fellowship of one
    lone.applicant_profile.home_country = factories.country("KE")
    lone.applicant_profile.save()
    fellowship = factories.OpportunityFactory(host=scene.host, title="Fictional Solo Fellowship")
    application = submitted(lone, open_session(fellowship, capacity=1))
    committed(ask(scene.call, application, "400.00"), scene.staff, (scene.fund, "400.00"))

    found = impact.fund_impact(scene.fund)
    assert found.participants == 4
    assert [(group.label, group.participants) for group in found.countries] == [("Ghana", 3)]
    assert found.other_countries == 1
    assert [(group.label, group.participants) for group in found.programs] == [
        ("Fictional Lima EM Elective", 3)
    ]
    assert found.other_programs == 1
    assert found.country_count == 2 and found.program_count == 2
    assert found.years == [(timezone.localdate().year, 4)]
    assert str(found.total_awarded) == "1600.00"

    url = reverse("funding:impact", kwargs={"network": scene.network.slug, "fund": scene.fund.slug})
    body = client.get(url).content.decode()
    assert "Ghana" in body
    assert "Kenya" not in body
    assert "Fictional Solo Fellowship" not in body
    assert '<th scope="row">Other countries</th><td>1</td>' in body
    assert '<th scope="row">Other programs</th><td>1</td>' in body


def test_only_awards_that_were_given_count(scene: Scene) -> None:
    from medexchange.scholarships import services

    kept = ask(scene.call, scene.application(0), "500.00")
    committed(kept, scene.staff, (scene.fund, "500.00"))
    cancelled = committed(
        ask(scene.call, scene.application(1), "500.00"), scene.staff, (scene.fund, "500.00")
    )
    services.award_cancel(award=cancelled, actor=scene.staff, reason="Visa refused.")
    scholarships.proposed(ask(scene.call, scene.application(2), "500.00"), (scene.fund, "500.00"))
    found = impact.fund_impact(scene.fund)
    assert found.participants == 1
    assert str(found.total_awarded) == "500.00"


def test_a_fund_without_awards_says_what_the_page_will_show(client: Any, scene: Scene) -> None:
    url = reverse("funding:impact", kwargs={"network": scene.network.slug, "fund": scene.fund.slug})
    body = client.get(url).content.decode()
    assert "No scholarship has been awarded from this fund yet." in body
