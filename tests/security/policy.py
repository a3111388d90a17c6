"""The authorization policy: for every URL pattern, what a GET gives each role.

One row per URL pattern, keyed by its namespaced name (``network:directory``) or, for
the few unnamed patterns, by its full route string. ``test_url_policy`` fails when a
pattern has no row or a row names no pattern, and then walks every row as every role.

Outcomes:
    200, 403, 404, 405   the status code itself
    LOGIN                302 to the sign-in page (``settings.LOGIN_URL``), with ``?next=``
    ADMIN_LOGIN          302 to the admin's sign-in page
    Redirect(to)         302 to another page: a URL name, or a callable on the world

Roles (built in ``world.py``): anonymous; applicant (signed in, no role); coordinator
(of institution A, a member of the global network); other_coordinator (of institution
B, also a member); network_staff (staff of the global network, with TOTP); superuser
(is_staff and is_superuser, with TOTP).

Adding a page or registering a model in the admin means adding its row here: decide
who may see it before it ships.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from tests.security.world import World

LOGIN = "login"
ADMIN_LOGIN = "admin-login"


@dataclass(frozen=True)
class Redirect:
    """A 302 whose Location's path is ``to`` (a URL name, or a callable on the world)."""

    to: str | Callable[[World], str]

    def path(self, world: World) -> str:
        return reverse(self.to) if isinstance(self.to, str) else self.to(world)

    def __repr__(self) -> str:
        return f"Redirect({self.to if isinstance(self.to, str) else 'computed'})"


Outcome = int | str | Redirect
Kwargs = Callable[[World], dict[str, Any]]


def _no_kwargs(world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Row:
    """What each role gets; positional order is that of ``world.ROLES``."""

    anonymous: Outcome
    applicant: Outcome
    coordinator: Outcome
    other_coordinator: Outcome
    network_staff: Outcome
    superuser: Outcome
    kwargs: Kwargs = _no_kwargs
    # For unnamed patterns, which cannot be reversed: the path to request.
    path: Callable[[World], str] | None = None
    query: dict[str, str] = field(default_factory=dict)

    def outcome(self, role: str) -> Outcome:
        return getattr(self, role)

    def url(self, key: str, world: World) -> str:
        if self.path is not None:
            return self.path(world)
        return reverse(key, kwargs=self.kwargs(world))


# --- Row shapes ---------------------------------------------------------------------


def everyone(outcome: Outcome = 200, **extra: Any) -> Row:
    """Public: the same for every role."""
    return Row(outcome, outcome, outcome, outcome, outcome, outcome, **extra)


def signed_in(outcome: Outcome = 200, **extra: Any) -> Row:
    """Any signed-in person; anonymous visitors are sent to sign in."""
    return Row(LOGIN, outcome, outcome, outcome, outcome, outcome, **extra)


def anonymous_only(then: Outcome, **extra: Any) -> Row:
    """Sign-in and sign-up pages: a signed-in person is sent on."""
    return Row(200, then, then, then, then, then, **extra)


def network_staff_only(others: Outcome, **extra: Any) -> Row:
    """Network staff pages: 403 where the page itself is staff-only, 404 for an object
    the person cannot see ("not yours" and "does not exist" are the same)."""
    return Row(LOGIN, others, others, others, 200, 200, **extra)


def institution_managers(**extra: Any) -> Row:
    """Institution A's own pages: its coordinators and the staff of its networks."""
    return Row(LOGIN, 404, 200, 404, 200, 200, **extra)


def host_coordinators(**extra: Any) -> Row:
    """Institution A's catalog management: its coordinators only (and superusers)."""
    return Row(LOGIN, 404, 200, 404, 404, 200, **extra)


def admin_only(superuser: Outcome = 200, **extra: Any) -> Row:
    """The Django admin is for ``is_staff`` accounts only; network staff work in the site."""
    return Row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, superuser, **extra)


# --- The site -----------------------------------------------------------------------


def _institution_a(world: World) -> dict[str, Any]:
    return {"slug": world.institution_a.slug}


def _opportunity(world: World) -> dict[str, Any]:
    return {"slug": world.opportunity.slug}


# --- documents: the applicant's vault -----------------------------------------------
# Its objects are made on demand (world.py is shared by every app's engineers). The one
# version's file is a tiny PDF under a fixed name in the private storage, written once.

POLICY_WALK_FILE = "policy-walk-cv"
POLICY_WALK_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
POLICY_WALK_REFEREE_TOKEN = "policy-walk-referee-link"


def _vault_document(world: World) -> Any:
    """The applicant's CV, with one version."""
    import datetime as dt
    import hashlib

    from django.core.files.base import ContentFile

    from medexchange.documents.models import Document, DocumentVersion, private_storage

    document, created = Document.objects.get_or_create(
        owner=world.user("applicant"),
        title="Policy walk CV",
        defaults={"kind": "cv", "issued_on": dt.date(2025, 1, 1)},
    )
    if created:
        storage = private_storage()
        if not storage.exists(POLICY_WALK_FILE):
            storage.save(POLICY_WALK_FILE, ContentFile(POLICY_WALK_PDF))
        DocumentVersion.objects.create(
            document=document,
            number=1,
            storage_name=POLICY_WALK_FILE,
            original_name="cv.pdf",
            content_type="application/pdf",
            size=len(POLICY_WALK_PDF),
            sha256=hashlib.sha256(POLICY_WALK_PDF).hexdigest(),
        )
    return document


def _referee_request(world: World) -> Any:
    """The applicant's request for a letter, still waiting, with a known link."""
    from medexchange.documents.models import RefereeRequest, hash_token

    return RefereeRequest.objects.get_or_create(
        token_hash=hash_token(POLICY_WALK_REFEREE_TOKEN),
        defaults={
            "applicant": world.user("applicant"),
            "referee_name": "Dr Referee",
            "referee_email": "referee@example.org",
        },
    )[0]


def _referee_token(world: World) -> dict[str, Any]:
    _referee_request(world)
    return {"token": POLICY_WALK_REFEREE_TOKEN}


def _vault_document_pk(world: World) -> dict[str, Any]:
    return {"pk": _vault_document(world).pk}


def _vault_version_pk(world: World) -> dict[str, Any]:
    return {"pk": _vault_document(world).versions.get().pk}


def _owner_only(**extra: Any) -> Row:
    """The applicant's own documents: everyone else, superusers too, gets 404."""
    return Row(LOGIN, 200, 404, 404, 404, 404, **extra)


def _post_only(**extra: Any) -> Row:
    return Row(LOGIN, 405, 405, 405, 405, 405, **extra)


DOCUMENTS: dict[str, Row] = {
    "documents:list": signed_in(),  # each person's own vault
    "documents:upload": signed_in(),
    "documents:edit": _owner_only(kwargs=_vault_document_pk),
    "documents:version-upload": _owner_only(kwargs=_vault_document_pk),
    "documents:delete": _owner_only(kwargs=_vault_document_pk),
    # Reviewers of an application holding the version will see it too (applications app).
    "documents:download": _owner_only(kwargs=_vault_version_pk),
    "documents:referee-request": signed_in(),
    "documents:referee-request-resend": _post_only(kwargs=lambda w: {"pk": _referee_request(w).pk}),
    "documents:referee-request-cancel": _post_only(kwargs=lambda w: {"pk": _referee_request(w).pk}),
    # The referee has no account: the one-time link is the credential.
    "documents:referee-upload": everyone(kwargs=_referee_token),
}

# Admin objects of the vault's models, made on demand like the rows above.
DOCUMENTS_ADMIN_OBJECTS: dict[tuple[str, str], Callable[[World], Any]] = {
    ("documents", "document"): _vault_document,
    ("documents", "documentversion"): lambda w: _vault_document(w).versions.get(),
    ("documents", "documentaccess"): lambda w: (
        _vault_document(w).versions.get().accesses.get_or_create(user=w.user("applicant"))[0]
    ),
    ("documents", "refereerequest"): _referee_request,
}


# --- applications -------------------------------------------------------------------
# The applicant's application to institution A's session, made on demand: submitted and
# in the host's hands, with no home institution (so institution B is a stranger to it).


def _application(world: World) -> Any:
    from django.utils import timezone

    from medexchange.applications.models import Application

    now = timezone.now()
    return Application.objects.get_or_create(
        applicant=world.user("applicant"),
        session=world.session,
        defaults={
            "state": "submitted",
            "statement": "Policy walk statement.",
            "submitted_at": now,
            "reached_host_at": now,
        },
    )[0]


def _application_pk(world: World) -> dict[str, Any]:
    return {"pk": _application(world).pk}


def _checklist_item_pk(world: World) -> dict[str, Any]:
    from medexchange.applications.models import ChecklistItem

    item = ChecklistItem.objects.get_or_create(application=_application(world), kind="visa")[0]
    return {"pk": item.pk}


def applicant_and_host(**extra: Any) -> Row:
    """The applicant and institution A's people (the host); strangers get 404."""
    return Row(LOGIN, 200, 200, 404, 404, 200, **extra)


def applicant_only(outcome: Outcome = 200, **extra: Any) -> Row:
    """The applicant's own actions: everyone else, superusers too, gets 404."""
    return Row(LOGIN, outcome, 404, 404, 404, 404, **extra)


APPLICATIONS: dict[str, Row] = {
    "applications:mine": signed_in(),  # each person's own
    # Anyone may start an application; the applicant already has one, so is sent to it.
    "applications:apply": Row(
        LOGIN,
        Redirect(lambda w: reverse("applications:detail", kwargs=_application_pk(w))),
        200,
        200,
        200,
        200,
        kwargs=lambda w: {"session_id": (_application(w), w.session.pk)[1]},
    ),
    "applications:detail": applicant_and_host(kwargs=_application_pk),
    # A submitted application is no longer edited: its owner is sent to its page.
    "applications:edit": applicant_only(
        Redirect(lambda w: reverse("applications:detail", kwargs=_application_pk(w))),
        kwargs=_application_pk,
    ),
    "applications:withdraw": applicant_only(kwargs=_application_pk),
    "applications:accept": _post_only(kwargs=_application_pk),
    "applications:decline-offer": applicant_only(kwargs=_application_pk),
    "applications:checklist-tick": _post_only(kwargs=_checklist_item_pk),
    # Review work (docs/reviewing.md): the host's coordinators and reviewers; network staff
    # see counts only, on their dashboard.
    "applications:inbound": host_coordinators(kwargs=_institution_a),
    "applications:queue": host_coordinators(kwargs=lambda w: {"pk": w.session.pk}),
    "applications:review": host_coordinators(kwargs=_application_pk),
    "applications:criteria": host_coordinators(kwargs=_opportunity),
    "applications:criterion-edit": host_coordinators(
        kwargs=lambda w: {"slug": w.opportunity.slug, "pk": _review_criterion(w).pk}
    ),
    "applications:criterion-delete": host_coordinators(
        kwargs=lambda w: {"slug": w.opportunity.slug, "pk": _review_criterion(w).pk}
    ),
    # The world's application has no home institution: only superusers may open it here.
    "applications:endorsement": Row(LOGIN, 404, 404, 404, 404, 200, kwargs=_application_pk),
    "applications:outbound": host_coordinators(kwargs=_institution_a),
    "applications:network-dashboard": network_staff_only(403),
    # Letters (docs/letters-and-privacy.md): issued and revoked by the host (POST only),
    # downloaded by the applicant, the host and the home institution, checked by anyone.
    "applications:letter-issue": _post_only(
        kwargs=lambda w: {"pk": _application(w).pk, "kind": "acceptance"}
    ),
    "applications:letter-revoke": _post_only(kwargs=lambda w: {"pk": _letter(w).pk}),
    "applications:letter": applicant_and_host(
        kwargs=lambda w: {"pk": _letter(w).application_id, "kind": "acceptance"}
    ),
    "applications:letter-templates": host_coordinators(kwargs=_institution_a),
    "applications:verify": everyone(),
    "applications:verify-letter": everyone(kwargs=lambda w: {"code": _letter(w).verification_code}),
}


def _placement(world: World) -> Any:
    from medexchange.applications.models import Placement

    application = _application(world)
    return Placement.objects.get_or_create(application=application, session=world.session)[0]


def _review_criterion(world: World) -> Any:
    from medexchange.applications.models import ReviewCriterion

    return ReviewCriterion.objects.get_or_create(opportunity=world.opportunity, name="Motivation")[
        0
    ]


def _letter_template(world: World) -> Any:
    from medexchange.applications.models import LetterTemplate

    return LetterTemplate.objects.get_or_create(
        institution=world.institution_a,
        kind="acceptance",
        defaults={"body": "Dear {applicant}", "signatory_name": "Dr Host"},
    )[0]


def _letter(world: World) -> Any:
    import datetime as dt

    from medexchange.applications.models import Letter

    return Letter.objects.get_or_create(
        application=_application(world),
        kind="acceptance",
        defaults={
            "holder_name": "Applicant",
            "host_name": "Institution A",
            "opportunity_title": world.opportunity.title,
            "start_date": dt.date(2027, 3, 1),
            "end_date": dt.date(2027, 3, 28),
            "body": "Accepted.",
            "signatory_name": "Dr Host",
        },
    )[0]


APPLICATIONS_ADMIN_OBJECTS: dict[tuple[str, str], Callable[[World], Any]] = {
    ("applications", "application"): _application,
    ("applications", "placement"): _placement,
    ("applications", "reviewcriterion"): _review_criterion,
    ("applications", "lettertemplate"): _letter_template,
    ("applications", "letter"): _letter,
}

# --- agreements -------------------------------------------------------------------
# A draft agreement between institution A and institution C (a member of the Africa
# network only), with a signed PDF: coordinators of A and the global network's staff
# see it; B's coordinator and the applicant are strangers to it.
POLICY_WALK_AGREEMENT_FILE = "policy-walk-agreement"


def _agreement(world: World) -> Any:
    from django.core.files.base import ContentFile

    from medexchange.agreements.models import Agreement, Quota
    from medexchange.documents.models import private_storage

    agreement, created = Agreement.objects.get_or_create(
        title="Policy walk agreement",
        defaults={
            "party_a": world.institution_a,
            "party_b": world.institution_c,
            "first_year": 2026,
            "last_year": 2027,
            "document_storage_name": POLICY_WALK_AGREEMENT_FILE,
            "document_name": "signed.pdf",
        },
    )
    if created:
        storage = private_storage()
        if not storage.exists(POLICY_WALK_AGREEMENT_FILE):
            storage.save(POLICY_WALK_AGREEMENT_FILE, ContentFile(POLICY_WALK_PDF))
        Quota.objects.create(
            agreement=agreement, sender=world.institution_a, host=world.institution_c, amount=1
        )
    return agreement


def _agreement_pk(world: World) -> dict[str, Any]:
    return {"pk": _agreement(world).pk}


AGREEMENTS: dict[str, Row] = {
    "agreements:list": signed_in(),  # each person's own institutions and networks
    "agreements:create": Row(LOGIN, 404, 200, 200, 200, 200),  # coordinators and staff
    "agreements:detail": Row(LOGIN, 404, 200, 404, 200, 200, kwargs=_agreement_pk),
    # Drafts are edited by the parties' coordinators (staff of a network read only).
    "agreements:edit": Row(LOGIN, 404, 200, 404, 404, 200, kwargs=_agreement_pk),
    "agreements:status": _post_only(kwargs=_agreement_pk),
    # Uploading the signed PDF: a party's coordinators only.
    "agreements:document-upload": Row(LOGIN, 404, 200, 404, 404, 404, kwargs=_agreement_pk),
    "agreements:document": Row(LOGIN, 404, 200, 404, 200, 200, kwargs=_agreement_pk),
    # The global network's reciprocity: its staff and its members' coordinators.
    "agreements:reciprocity": Row(
        LOGIN, 404, 200, 200, 200, 200, kwargs=lambda w: {"slug": w.network.slug}
    ),
}

AGREEMENTS_ADMIN_OBJECTS: dict[tuple[str, str], Callable[[World], Any]] = {
    ("agreements", "agreement"): _agreement,
}

# --- matching ---------------------------------------------------------------------
# A network cycle of the global network over institution A's session, ranking now, with
# the applicant's application in it, and a done run (tests/matching/policy_world.py).
# Applicants and hosts see the cycle; runs are the network staff's (the organisers').


def _cycle_pk(world: World) -> dict[str, Any]:
    return {"pk": _matching_object("policy_cycle")(world).pk}


def _run_pk(world: World) -> dict[str, Any]:
    return {"pk": _matching_object("policy_run")(world).pk}


def _organisers_only(**extra: Any) -> Row:
    return Row(LOGIN, 404, 404, 404, 200, 200, **extra)


MATCHING: dict[str, Row] = {
    "matching:cycles": signed_in(),  # each person's own cycles
    "matching:cycle-create": Row(LOGIN, 403, 200, 200, 200, 200),  # staff and coordinators
    "matching:cycle": Row(LOGIN, 200, 200, 404, 200, 200, kwargs=_cycle_pk),
    "matching:cycle-act": _post_only(kwargs=_cycle_pk),
    "matching:my-ranking": applicant_only(kwargs=_cycle_pk),
    "matching:host-ranking": host_coordinators(
        kwargs=lambda w: {**_cycle_pk(w), "session_id": w.session.pk}
    ),
    "matching:run-start": _post_only(kwargs=_cycle_pk),
    "matching:post-match": Row(LOGIN, 200, 200, 404, 200, 200, kwargs=_cycle_pk),
    "matching:run": _organisers_only(kwargs=_run_pk),
    "matching:run-progress": _organisers_only(kwargs=_run_pk),
    "matching:run-cancel": _post_only(kwargs=_run_pk),
    "matching:run-release": _post_only(kwargs=_run_pk),
    "matching:run-replay": _post_only(kwargs=_run_pk),
    # Without a run to compare with, the organisers are told so (400).
    "matching:run-compare": Row(LOGIN, 404, 404, 404, 400, 400, kwargs=_run_pk),
    "matching:run-instance": _organisers_only(kwargs=_run_pk),
    "matching:run-result": _organisers_only(kwargs=_run_pk),
}


def _matching_object(builder: str) -> Callable[[World], Any]:
    def made(world: World) -> Any:
        from tests.matching import policy_world

        return getattr(policy_world, builder)(world, _application(world))

    return made


MATCHING_ADMIN_OBJECTS: dict[tuple[str, str], Callable[[World], Any]] = {
    ("matching", "matchcycle"): _matching_object("policy_cycle"),
    ("matching", "matchrun"): _matching_object("policy_run"),
    ("matching", "ranking"): _matching_object("policy_ranking"),
}

# --- scheduling: rotation plans --------------------------------------------------------
# A plan over institution A's session with one participant and a done solve
# (tests/scheduling/policy_world.py). The host's coordinators see and edit it; nobody
# else (network staff included) sees an unpublished plan.


def _scheduling_object(builder: str) -> Callable[[World], Any]:
    def made(world: World) -> Any:
        from tests.scheduling import policy_world

        return getattr(policy_world, builder)(world)

    return made


def _plan_pk(world: World) -> dict[str, Any]:
    return {"pk": _scheduling_object("policy_plan")(world).pk}


def _solve_pk(world: World) -> dict[str, Any]:
    return {"pk": _scheduling_object("policy_solve")(world).pk}


def _plan_url(world: World) -> str:
    return reverse("scheduling:plan", kwargs=_plan_pk(world))


def _plan_participant(world: World) -> dict[str, Any]:
    return {**_plan_pk(world), "participant_id": _scheduling_object("policy_participant")(world).pk}


SCHEDULING: dict[str, Row] = {
    # An existing plan: its readers are sent to it; others may not open one here.
    "scheduling:session-plan": Row(
        LOGIN,
        404,
        Redirect(_plan_url),
        404,
        404,
        Redirect(_plan_url),
        kwargs=lambda w: {"session_id": _scheduling_object("policy_plan")(w).session_id},
    ),
    "scheduling:plans": signed_in(),  # each person's own list
    "scheduling:plan": host_coordinators(kwargs=_plan_pk),
    "scheduling:settings": host_coordinators(kwargs=_plan_pk),
    "scheduling:pair-add": _post_only(kwargs=_plan_pk),
    "scheduling:pair-remove": _post_only(kwargs=_plan_pk),
    "scheduling:refresh": _post_only(kwargs=_plan_pk),
    "scheduling:site": host_coordinators(
        kwargs=lambda w: {
            **_plan_pk(w),
            "site_id": _scheduling_object("policy_plan")(w).sites.get().pk,
        }
    ),
    "scheduling:participant": host_coordinators(kwargs=_plan_participant),
    "scheduling:cell": host_coordinators(kwargs=lambda w: {**_plan_participant(w), "period": 0}),
    "scheduling:solve-start": _post_only(kwargs=_plan_pk),
    "scheduling:solve": host_coordinators(kwargs=_solve_pk),
    "scheduling:solve-progress": host_coordinators(kwargs=_solve_pk),
    "scheduling:solve-cancel": _post_only(kwargs=_solve_pk),
    "scheduling:solve-input": host_coordinators(kwargs=_solve_pk),
    "scheduling:solve-result": host_coordinators(kwargs=_solve_pk),
    # Publishing and what it opens: the walk's plan is not published, so its rosters,
    # PDFs and calendar feed answer 404 to everyone (tests/scheduling covers published).
    "scheduling:publish": _post_only(kwargs=_plan_pk),
    "scheduling:roster": Row(LOGIN, 404, 404, 404, 404, 404, kwargs=_plan_pk),
    "scheduling:participant-roster-pdf": Row(
        LOGIN, 404, 404, 404, 404, 404, kwargs=_plan_participant
    ),
    "scheduling:site-roster-pdf": Row(
        LOGIN,
        404,
        404,
        404,
        404,
        404,
        kwargs=lambda w: {
            **_plan_pk(w),
            "site_id": _scheduling_object("policy_plan")(w).sites.get().pk,
        },
    ),
    "scheduling:feed-issue": _post_only(kwargs=_plan_pk),
    "scheduling:feed-revoke": _post_only(
        kwargs=lambda w: {"pk": _scheduling_object("policy_feed")(w).pk}
    ),
    "scheduling:feed": everyone(
        404, kwargs=lambda w: {"token": _scheduling_object("policy_feed")(w).token}
    ),
    "scheduling:absence-new": host_coordinators(kwargs=_plan_participant),
    "scheduling:absence": host_coordinators(
        kwargs=lambda w: {"pk": _scheduling_object("policy_absence")(w).pk}
    ),
    "scheduling:absence-decide": _post_only(
        kwargs=lambda w: {"pk": _scheduling_object("policy_absence")(w).pk, "decision": "accept"}
    ),
}

SCHEDULING_ADMIN_OBJECTS: dict[tuple[str, str], Callable[[World], Any]] = {
    ("scheduling", "rotationplan"): _scheduling_object("policy_plan"),
    ("scheduling", "plansolve"): _scheduling_object("policy_solve"),
    ("scheduling", "planpublication"): _scheduling_object("policy_publication"),
    ("scheduling", "absencereport"): _scheduling_object("policy_absence"),
}


# --- funding: the finance staff's pages -------------------------------------------------
# A fund of the global network with a cheque, a commitment and a planned payment
# (tests/funding/policy_world.py). Its books are the global network's staff's (and
# superusers'); to everyone else, signed in, the network's finance pages do not exist.


def _funding_object(builder: str) -> Callable[[World], Any]:
    def made(world: World) -> Any:
        from tests.funding import policy_world

        return getattr(policy_world, builder)(world)

    return made


def _finance_only(**extra: Any) -> Row:
    return Row(LOGIN, 404, 404, 404, 200, 200, **extra)


def _funding_network(world: World) -> dict[str, Any]:
    return {"network": world.network.slug}


def _funding_fund(world: World) -> dict[str, Any]:
    fund = _funding_object("policy_fund")(world)
    return {"network": world.network.slug, "fund": fund.slug}


def _funding_receipt(world: World) -> Any:
    return _funding_object("policy_receipt")(world)


def _funding_gift_link(world: World) -> dict[str, Any]:
    from medexchange.funding.donate_views import gift_token

    return {**_funding_fund(world), "token": gift_token(_funding_object("policy_donation")(world))}


def _funding_gift_receipt_link(world: World) -> dict[str, Any]:
    _funding_receipt(world)
    return _funding_gift_link(world)


FUNDING: dict[str, Row] = {
    "funding:funds": _finance_only(kwargs=_funding_network),
    "funding:fund-create": _finance_only(kwargs=_funding_network),
    "funding:bank-import": _finance_only(kwargs=_funding_network),
    "funding:rates": _finance_only(kwargs=_funding_network),
    "funding:manage": _finance_only(kwargs=_funding_fund),
    "funding:fund-edit": _finance_only(kwargs=_funding_fund),
    "funding:gift-record": _finance_only(kwargs=_funding_fund),
    "funding:gift-refund": _finance_only(
        kwargs=lambda w: {**_funding_fund(w), "pk": _funding_object("policy_donation")(w).pk}
    ),
    # Public fund pages (public, active funds; no recipient's identity) and the finance
    # reports of the network (its finance staff only; a 404 to everyone else).
    "funding:list": everyone(kwargs=_funding_network),
    "funding:fund": everyone(kwargs=_funding_fund),
    "funding:impact": everyone(kwargs=_funding_fund),
    "funding:reports": _finance_only(kwargs=_funding_network),
    # Giving (funding/donate_urls.py): the donation page is public; the thank-you page
    # and its receipt are reached with a signed link (the credential: the donor may
    # have no account); the webhook takes only Stripe's signed POSTs.
    "funding:donate": everyone(kwargs=_funding_fund),
    "funding:donate-thanks": everyone(kwargs=_funding_gift_link),
    "funding:donate-receipt": everyone(kwargs=_funding_gift_receipt_link),
    "funding:stripe-webhook": everyone(405),
    # The donor's own page; a receipt that is not theirs is a 404 to everyone (the
    # walk's receipt is of a gift none of the roles made: superusers included).
    "funding:my-gifts": signed_in(),
    "funding:my-receipt": Row(
        LOGIN, 404, 404, 404, 404, 404, kwargs=lambda w: {"pk": _funding_receipt(w).pk}
    ),
    "funding:pledge-cancel": _post_only(
        kwargs=lambda w: {"pk": _funding_object("policy_pledge")(w).pk}
    ),
    # The fund's receipts register and its PDFs: finance staff.
    "funding:fund-receipts": _finance_only(kwargs=_funding_fund),
    "funding:staff-receipt": _finance_only(
        kwargs=lambda w: {**_funding_fund(w), "pk": _funding_receipt(w).pk}
    ),
}

FUNDING_ADMIN_OBJECTS: dict[tuple[str, str], Callable[[World], Any]] = {
    ("funding", "fund"): _funding_object("policy_fund"),
    ("funding", "exchangerate"): _funding_object("policy_rate"),
    ("funding", "donation"): _funding_object("policy_donation"),
    ("funding", "pledge"): _funding_object("policy_pledge"),
    ("funding", "providerevent"): _funding_object("policy_event"),
    ("funding", "receipt"): _funding_object("policy_receipt"),
    ("funding", "commitment"): _funding_object("policy_commitment"),
    ("funding", "disbursement"): _funding_object("policy_disbursement"),
    ("funding", "ledgerentry"): _funding_object("policy_entry"),
}


# --- scholarships ---------------------------------------------------------------------
# An open call of the global network, the applicant's request from their application and
# its award, a run (tests/scholarships/policy_world.py). Published calls: anyone signed
# in. Requests and awards: their applicant and the network's staff (the host's
# coordinators are not the call's reviewers). The committee's pages: the staff.


def _scholarship_object(builder: str) -> Callable[[World], Any]:
    def made(world: World) -> Any:
        from tests.scholarships import policy_world

        return getattr(policy_world, builder)(world, _application(world))

    return made


def _scholarship_call(world: World) -> Any:
    from tests.scholarships import policy_world

    return policy_world.policy_call(world)


def _call_pk(world: World) -> dict[str, Any]:
    return {"pk": _scholarship_call(world).pk}


def _scholarship_request_pk(world: World) -> dict[str, Any]:
    return {"pk": _scholarship_object("policy_request")(world).pk}


def _award_pk(world: World) -> dict[str, Any]:
    return {"pk": _scholarship_object("policy_award")(world).pk}


def _committee_only(**extra: Any) -> Row:
    return Row(LOGIN, 404, 404, 404, 200, 200, **extra)


def _applicant_and_staff(**extra: Any) -> Row:
    return Row(LOGIN, 200, 404, 404, 200, 200, **extra)


SCHOLARSHIPS: dict[str, Row] = {
    "scholarships:calls": signed_in(),  # open calls, and each person's own requests
    "scholarships:call-create": _committee_only(kwargs=lambda w: {"slug": w.network.slug}),
    "scholarships:call": signed_in(kwargs=_call_pk),
    "scholarships:call-edit": _committee_only(kwargs=_call_pk),
    "scholarships:call-status": _post_only(kwargs=_call_pk),
    # Asking from an application: its applicant only (superusers too get 404).
    "scholarships:apply": applicant_only(
        kwargs=lambda w: {"pk": _scholarship_call(w).pk, "application_id": _application(w).pk}
    ),
    "scholarships:requests": _committee_only(kwargs=_call_pk),
    "scholarships:allocation": _committee_only(kwargs=_call_pk),
    "scholarships:propose": _post_only(kwargs=_call_pk),
    "scholarships:commit": _post_only(kwargs=_call_pk),
    "scholarships:run-data": _committee_only(
        kwargs=lambda w: {"pk": _scholarship_object("policy_run")(w).pk, "kind": "input"}
    ),
    "scholarships:request": _applicant_and_staff(kwargs=_scholarship_request_pk),
    "scholarships:review": _post_only(kwargs=_scholarship_request_pk),
    "scholarships:adjust": _post_only(kwargs=_scholarship_request_pk),
    "scholarships:request-withdraw": applicant_only(kwargs=_scholarship_request_pk),
    "scholarships:award": _applicant_and_staff(kwargs=_award_pk),
    "scholarships:disbursement": _post_only(kwargs=_award_pk),
    "scholarships:award-cancel": _post_only(kwargs=_award_pk),
}

SCHOLARSHIPS_ADMIN_OBJECTS: dict[tuple[str, str], Callable[[World], Any]] = {
    ("scholarships", "scholarshipcall"): _scholarship_call,
    ("scholarships", "scholarshiprequest"): _scholarship_object("policy_request"),
    ("scholarships", "allocationrun"): _scholarship_object("policy_run"),
    ("scholarships", "award"): _scholarship_object("policy_award"),
}


SITE: dict[str, Row] = {
    "home": everyone(),
    "healthz": everyone(),
    "set_language": everyone(405),  # POST only
    "notifications": signed_in(),  # each person's own
    # accounts
    "accounts:preferences": signed_in(),
    "accounts:profile": signed_in(),  # each person's own applicant profile
    # Each person's own data: a copy of it (POST builds the ZIP), and account deletion.
    "accounts:data-export": signed_in(),
    "accounts:delete": signed_in(),
    # The token in the link is the credential; accepting checks the e-mail address.
    "accounts:invitation": signed_in(kwargs=lambda w: {"token": w.invitation.token}),
    # network: public directory and map
    "network:directory": everyone(),
    "network:networks": everyone(),
    "network:institution": everyone(kwargs=_institution_a),
    "network:map": everyone(),
    "network:map-list": everyone(),
    "network:map-geojson": everyone(),
    "network:join": everyone(),
    "network:join-thanks": everyone(),
    # network: an institution's own pages
    "network:institution-edit": institution_managers(kwargs=_institution_a),
    "network:institution-people": institution_managers(kwargs=_institution_a),
    "network:site-add": institution_managers(kwargs=_institution_a),
    "network:site-edit": institution_managers(
        kwargs=lambda w: {"slug": w.institution_a.slug, "pk": w.site_a.pk}
    ),
    # network: staff pages
    "network:join-queue": network_staff_only(403),
    "network:join-detail": network_staff_only(404, kwargs=lambda w: {"pk": w.join_request.pk}),
    "network:countries": network_staff_only(403),
    "network:country-edit": network_staff_only(404, kwargs=lambda w: {"code": w.country.code}),
    # catalog: applicants search and read published opportunities
    "catalog:search": everyone(),
    "catalog:search-geojson": everyone(),
    "catalog:search-calendar": everyone(),
    "catalog:opportunity": everyone(kwargs=_opportunity),
    # Saved searches are not built yet: every role gets 404 until they are.
    "catalog:saved-searches": signed_in(),  # each person's own
    # The applicant's saved search: only its owner sees it (superusers too get 404).
    "catalog:saved-search-delete": Row(
        LOGIN, 200, 404, 404, 404, 404, kwargs=lambda w: {"pk": w.saved_search.pk}
    ),
    # catalog: the host's coordinators manage its opportunities and sessions
    "catalog:host-opportunities": host_coordinators(kwargs=_institution_a),
    "catalog:opportunity-add": host_coordinators(kwargs=_institution_a),
    "catalog:opportunity-import": host_coordinators(kwargs=_institution_a),
    "catalog:opportunity-export": host_coordinators(kwargs=_institution_a),
    "catalog:opportunity-edit": host_coordinators(kwargs=_opportunity),
    "catalog:opportunity-duplicate": host_coordinators(kwargs=_opportunity),
    "catalog:opportunity-status": host_coordinators(kwargs=_opportunity),
    "catalog:session-add": host_coordinators(kwargs=_opportunity),
    "catalog:session-generate": host_coordinators(kwargs=_opportunity),
    "catalog:session-edit": host_coordinators(kwargs=lambda w: {"pk": w.session.pk}),
    "catalog:session-cancel": host_coordinators(kwargs=lambda w: {"pk": w.session.pk}),
    **DOCUMENTS,
    **APPLICATIONS,
    **AGREEMENTS,
    **MATCHING,
    **SCHEDULING,
    **FUNDING,
    **SCHOLARSHIPS,
}

# --- allauth: sign-in, sign-up, e-mail, passwords, two-factor -----------------------

ALLAUTH: dict[str, Row] = {
    "account_login": anonymous_only(Redirect("home")),
    "account_signup": anonymous_only(Redirect("home")),
    "account_logout": Row(Redirect("home"), 200, 200, 200, 200, 200),
    "account_inactive": everyone(),
    "account_reauthenticate": signed_in(),
    # Reauthentication by an e-mailed code (allauth 65.22+): asking first, then the code.
    "account_request_reauthentication_code": signed_in(),
    "account_confirm_reauthentication_code": signed_in(
        Redirect("account_request_reauthentication_code")
    ),
    "account_email": signed_in(),
    "account_email_verification_sent": everyone(),
    "account_change_password": signed_in(),
    "account_set_password": signed_in(Redirect("account_change_password")),
    "account_reset_password": everyone(),
    "account_reset_password_done": everyone(),
    "account_reset_password_from_key": everyone(
        kwargs=lambda w: {"uidb36": "1", "key": "not-a-valid-key"}
    ),
    "account_reset_password_from_key_done": everyone(),
    # Without a sign-in in progress there is no code or second factor to confirm.
    "account_confirm_login_code": Row(Redirect("account_login"), *(Redirect("home"),) * 5),
    "account_confirm_email": everyone(kwargs=lambda w: {"key": w.email_confirmation_key}),
    "mfa_authenticate": Row(Redirect("account_login"), *(Redirect("home"),) * 5),
    "mfa_index": signed_in(),
    # Two-factor pages that change or reveal secrets ask for the password again: a
    # session made without signing in (force_login) has no recent authentication on record.
    "mfa_reauthenticate": Row(LOGIN, *(Redirect("account_reauthenticate"),) * 3, 200, 200),
    # allauth lets nobody add an authenticator while an e-mail address is unverified
    # (the applicant has one); everyone else must re-authenticate first.
    "mfa_activate_totp": Row(
        LOGIN, Redirect("mfa_index"), *(Redirect("account_reauthenticate"),) * 4
    ),
    "mfa_deactivate_totp": Row(LOGIN, 404, 404, 404, *(Redirect("account_reauthenticate"),) * 2),
    "mfa_view_recovery_codes": Row(
        LOGIN, 404, 404, 404, *(Redirect("account_reauthenticate"),) * 2
    ),
    "mfa_generate_recovery_codes": signed_in(Redirect("account_reauthenticate")),
    "mfa_download_recovery_codes": Row(
        LOGIN, 404, 404, 404, *(Redirect("account_reauthenticate"),) * 2
    ),
}

# --- The Django admin -----------------------------------------------------------------

# Every model registered in the admin, listed one by one: registering a new model
# without deciding its row here fails ``test_every_url_pattern_has_a_policy_row``.
ADMIN_MODELS: tuple[tuple[str, str], ...] = (
    ("auth", "group"),
    ("account", "emailaddress"),
    ("mfa", "authenticator"),
    ("common", "auditentry"),
    ("common", "notification"),
    ("accounts", "user"),
    ("accounts", "institutionrole"),
    ("accounts", "networkstaffrole"),
    ("accounts", "invitation"),
    ("accounts", "applicantprofile"),
    ("network", "countryprofile"),
    ("network", "network"),
    ("network", "institution"),
    ("network", "site"),
    ("network", "membership"),
    ("network", "joinrequest"),
    ("catalog", "specialty"),
    ("catalog", "opportunity"),
    ("catalog", "session"),
    ("catalog", "savedsearch"),
    ("documents", "document"),
    ("documents", "documentversion"),
    ("documents", "documentaccess"),
    ("documents", "refereerequest"),
    ("applications", "application"),
    ("applications", "placement"),
    ("applications", "reviewcriterion"),
    ("applications", "lettertemplate"),
    ("applications", "letter"),
    ("agreements", "agreement"),
    ("matching", "matchcycle"),
    ("matching", "matchrun"),
    ("matching", "ranking"),
    ("scheduling", "rotationplan"),
    ("scheduling", "plansolve"),
    ("scheduling", "planpublication"),
    ("scheduling", "absencereport"),
    ("funding", "fund"),
    ("funding", "exchangerate"),
    ("funding", "donation"),
    ("funding", "pledge"),
    ("funding", "providerevent"),
    ("funding", "receipt"),
    ("funding", "commitment"),
    ("funding", "disbursement"),
    ("funding", "ledgerentry"),
    ("scholarships", "scholarshipcall"),
    ("scholarships", "scholarshiprequest"),
    ("scholarships", "allocationrun"),
    ("scholarships", "award"),
)

# What the superuser gets where it is not 200: the audit log is read-only.
ADMIN_MODEL_OVERRIDES: dict[tuple[str, str], dict[str, Outcome]] = {
    # Money is read-only in the admin: the services lock, write the ledger and audit.
    **{key: {"add": 403, "delete": 403} for key in FUNDING_ADMIN_OBJECTS},
    # Scholarships are read-only in the admin: the services hold eligibility and money.
    **{key: {"add": 403, "delete": 403} for key in SCHOLARSHIPS_ADMIN_OBJECTS},
    ("common", "auditentry"): {"add": 403, "delete": 403},
    # The vault is read-only in the admin: its writes go through the audited services.
    **{
        ("documents", model): {"add": 403, "delete": 403}
        for model in ("document", "documentversion", "documentaccess", "refereerequest")
    },
    # Applications are read-only in the admin: the services hold the state machine.
    **{
        ("applications", model): {"add": 403, "delete": 403}
        for model in ("application", "placement", "reviewcriterion", "lettertemplate", "letter")
    },
    # Agreements are read-only in the admin: the services hold the status flow.
    ("agreements", "agreement"): {"add": 403, "delete": 403},
    # Match cycles are read-only in the admin: the services hold rankings, runs, release.
    **{
        ("matching", model): {"add": 403, "delete": 403}
        for model in ("matchcycle", "matchrun", "ranking")
    },
    # Rotation plans are read-only in the admin: the services validate and audit.
    **{
        ("scheduling", model): {"add": 403, "delete": 403}
        for model in ("rotationplan", "plansolve", "planpublication", "absencereport")
    },
}


def admin_model_rows(model_key: tuple[str, str]) -> dict[str, Row]:
    """The changelist, add, change, delete and history pages of one admin model, plus
    the unnamed ``<object_id>/`` route that redirects to the change page."""
    app_label, model_name = model_key
    prefix = f"admin:{app_label}_{model_name}"
    overrides = ADMIN_MODEL_OVERRIDES.get(model_key, {})

    def object_id(world: World) -> dict[str, Any]:
        made = (
            DOCUMENTS_ADMIN_OBJECTS.get(model_key)
            or APPLICATIONS_ADMIN_OBJECTS.get(model_key)
            or AGREEMENTS_ADMIN_OBJECTS.get(model_key)
            or MATCHING_ADMIN_OBJECTS.get(model_key)
            or SCHEDULING_ADMIN_OBJECTS.get(model_key)
            or FUNDING_ADMIN_OBJECTS.get(model_key)
            or SCHOLARSHIPS_ADMIN_OBJECTS.get(model_key)
        )
        return {"object_id": (made(world) if made else world.admin_object(model_key)).pk}

    def change_page(world: World) -> str:
        return reverse(f"{prefix}_change", kwargs=object_id(world))

    return {
        f"{prefix}_changelist": admin_only(overrides.get("changelist", 200)),
        f"{prefix}_add": admin_only(overrides.get("add", 200)),
        **{
            f"{prefix}_{page}": admin_only(overrides.get(page, 200), kwargs=object_id)
            for page in ("change", "delete", "history")
        },
        f"admin/{app_label}/{model_name}/<path:object_id>/": admin_only(
            Redirect(change_page),
            path=lambda w: f"/admin/{app_label}/{model_name}/{object_id(w)['object_id']}/",
        ),
    }


ADMIN: dict[str, Row] = {
    "admin:index": admin_only(),
    # The admin must not have a sign-in form of its own: Django's asks for the password
    # only, so it would skip the second factor. Sign-in goes through allauth (see
    # KNOWN_VIOLATIONS); a signed-in person without admin access is refused.
    "admin:login": Row(LOGIN, 403, 403, 403, 403, Redirect("admin:index")),
    # Signing out is POST only; people without admin access are sent to the admin index.
    "admin:logout": Row(*(Redirect("admin:index"),) * 5, superuser=405),
    "admin:password_change": admin_only(),
    "admin:password_change_done": admin_only(),
    "admin:autocomplete": admin_only(
        query={
            "app_label": "network",
            "model_name": "site",
            "field_name": "institution",
            "term": "Institution",
        }
    ),
    "admin:jsi18n": admin_only(),
    "admin:view_on_site": admin_only(
        Redirect(lambda w: w.institution_a.get_absolute_url()),
        kwargs=lambda w: {
            "content_type_id": w.content_type_id(w.institution_a),
            "object_id": w.institution_a.pk,
        },
    ),
    "admin:app_list": admin_only(kwargs=lambda w: {"app_label": "network"}),
    "admin:auth_user_password_change": admin_only(kwargs=lambda w: {"id": w.user("applicant").pk}),
    # Django's final catch-all: unknown admin pages are 404 only to admin users.
    "admin/(?P<url>.*)$": admin_only(404, path=lambda w: "/admin/no-such-page/"),
}
for _model_key in ADMIN_MODELS:
    ADMIN.update(admin_model_rows(_model_key))

# --- The API ------------------------------------------------------------------------
# The public catalog and directory: reads open to everyone. The catalog's writes (POST,
# PUT, PATCH) are for the host's coordinators; the walk only GETs, so its POST-only
# actions are refused: 403 before sign-in (DRF, session authentication), 405 after.


def post_only_action(**extra: Any) -> Row:
    return Row(403, 405, 405, 405, 405, 405, **extra)


API: dict[str, Row] = {
    "schema": everyone(),
    "api-docs": everyone(),
    "api-v1:api-root": everyone(),
    "api-v1:institution-list": everyone(),
    "api-v1:institution-detail": everyone(kwargs=_institution_a),
    "api-v1:opportunity-list": everyone(),
    "api-v1:opportunity-detail": everyone(kwargs=_opportunity),
    "api-v1:session-list": everyone(),
    "api-v1:session-detail": everyone(kwargs=lambda w: {"pk": w.session.pk}),
    "api-v1:opportunity-publish": post_only_action(kwargs=_opportunity),
    "api-v1:opportunity-unpublish": post_only_action(kwargs=_opportunity),
    "api-v1:opportunity-duplicate": post_only_action(kwargs=_opportunity),
    "api-v1:session-cancel": post_only_action(kwargs=lambda w: {"pk": w.session.pk}),
    "api-v1:network-list": everyone(),
    "api-v1:network-detail": everyone(kwargs=lambda w: {"slug": w.network.slug}),
    "api-v1:country-list": everyone(),
    "api-v1:country-detail": everyone(kwargs=lambda w: {"code": w.country.code}),
    # Applications: never public (403 before sign-in, DRF's answer without credentials).
    # The list is each caller's own view; a file is the applicant's and the host's, 404 to
    # strangers; the host's review work is the host's alone. The walk GETs the POST-only
    # actions: 403 before sign-in, 405 after.
    "api-v1:application-list": Row(403, 200, 200, 200, 200, 200),
    # Match cycles: participants and organisers; runs are the organisers' alone.
    "api-v1:match-cycle-list": Row(403, 200, 200, 200, 200, 200),
    "api-v1:match-cycle-detail": Row(403, 200, 200, 404, 200, 200, kwargs=_cycle_pk),
    "api-v1:match-run-list": Row(403, 200, 200, 200, 200, 200),
    "api-v1:match-run-detail": Row(403, 404, 404, 404, 200, 200, kwargs=_run_pk),
    "api-v1:match-run-instance": Row(403, 404, 404, 404, 200, 200, kwargs=_run_pk),
    "api-v1:match-run-result": Row(403, 404, 404, 404, 200, 200, kwargs=_run_pk),
    # Rotation plans: the host's coordinators and reviewers (participants once published).
    "api-v1:rotation-plan-list": Row(403, 200, 200, 200, 200, 200),
    "api-v1:rotation-plan-detail": Row(403, 404, 200, 404, 404, 200, kwargs=_plan_pk),
    # Agreements: signed-in callers, each seeing their institutions' and networks' ones.
    "api-v1:agreement-list": Row(403, 200, 200, 200, 200, 200),
    "api-v1:agreement-detail": Row(403, 404, 200, 404, 200, 200, kwargs=_agreement_pk),
    # Scholarship calls: published ones to signed-in callers; the actions are POST only.
    "api-v1:scholarship-call-list": Row(403, 200, 200, 200, 200, 200),
    "api-v1:scholarship-call-detail": Row(403, 200, 200, 200, 200, 200, kwargs=_call_pk),
    **{
        f"api-v1:scholarship-call-{verb}": post_only_action(kwargs=_call_pk)
        for verb in ("status", "propose", "commit")
    },
    # Funds: public, active funds with their totals, to anyone (read-only).
    "api-v1:fund-list": everyone(),
    "api-v1:fund-detail": everyone(kwargs=lambda w: {"pk": _funding_object("policy_fund")(w).pk}),
    "api-v1:application-detail": Row(403, 200, 200, 404, 404, 200, kwargs=_application_pk),
    "api-v1:application-scores": Row(403, 404, 200, 404, 404, 200, kwargs=_application_pk),
    "api-v1:application-comments": Row(403, 404, 200, 404, 404, 200, kwargs=_application_pk),
    **{
        f"api-v1:application-{verb}": post_only_action(kwargs=_application_pk)
        for verb in (
            "submit",
            "withdraw",
            "endorse",
            "decline-endorsement",
            "offer",
            "waitlist",
            "decline",
            "accept",
            "decline-offer",
            "confirm",
        )
    },
}

POLICY: dict[str, Row] = {**SITE, **ALLAUTH, **ADMIN, **API}

# Cells where the application does not (yet) do what the policy says. The walk runs
# them as strict expected failures: the suite shows them, and once the application is
# fixed the cell passes, the xfail turns into a failure, and the entry must go.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}

# Patterns mounted only with DEBUG on (media files served by Django in development);
# they are neither required in nor walked from the table.
DEVELOPMENT_ONLY: frozenset[str] = frozenset({"^media/(?P<path>.*)$"})
