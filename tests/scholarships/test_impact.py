"""What a fund achieved, for public pages: counts by country and program, no identities."""

from __future__ import annotations

from medexchange.applications import services as application_services
from medexchange.scholarships.selectors import impact_for_fund
from tests import factories
from tests.applications.conftest import applicant_with_profile, open_session
from tests.scholarships.conftest import Scene, ask, committed, proposed, submitted


def test_impact_counts_participants_by_country_and_program(scene: Scene) -> None:
    committed(ask(scene.call, scene.application(0), "500.00"), scene.staff, (scene.fund, "500.00"))
    committed(ask(scene.call, scene.application(1), "400.00"), scene.staff, (scene.fund, "400.00"))
    # Another program, an applicant from Kenya.
    course = factories.OpportunityFactory(host=scene.host, title="Fictional Ultrasound Course")
    kenyan = applicant_with_profile(scene.home, full_name="Kenyan Applicant")
    profile = kenyan.applicant_profile
    profile.home_country = factories.country("KE")
    profile.save()
    committed(
        ask(scene.call, submitted(kenyan, open_session(course)), "300.00"),
        scene.staff,
        (scene.fund, "300.00"),
    )
    # Not counted: a proposal, and an award released by a withdrawal.
    proposed(ask(scene.call, scene.application(2), "200.00"), (scene.fund, "200.00"))
    withdrawn = scene.application(3)
    committed(ask(scene.call, withdrawn, "100.00"), scene.staff, (scene.fund, "100.00"))
    application_services.application_withdraw(application=withdrawn, actor=scene.applicants[3])

    impact = impact_for_fund(scene.fund)
    assert impact.participants == 3
    assert impact.countries == [("Ghana", 2), ("Kenya", 1)]
    assert impact.programs == [
        ("Fictional Lima EM Elective", 2),
        ("Fictional Ultrasound Course", 1),
    ]
    assert (impact.country_count, impact.program_count) == (2, 2)
    text = repr(impact)
    for person in [*scene.applicants, kenyan]:
        assert person.full_name not in text
        assert person.email not in text
