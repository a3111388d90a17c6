"""One small, fixed world that every security test walks: two institutions, their
coordinators, network staff, a superuser and one object of each kind a URL can name."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings

from medexchange.accounts.choices import InstitutionRoleKind
from medexchange.accounts.models import (
    ApplicantProfile,
    InstitutionRole,
    Invitation,
    NetworkStaffRole,
)
from medexchange.catalog.models import SavedSearch, Specialty
from medexchange.common.models import Notification
from medexchange.common.services import audit_record
from medexchange.network.choices import MembershipStatus
from medexchange.network.models import CountryProfile, Membership
from tests import factories

ROLES = ("anonymous", "applicant", "coordinator", "other_coordinator", "network_staff", "superuser")


@dataclass
class World:
    network: Any  # the global network
    africa: Any  # a regional network
    institution_a: Any  # member of the global network, coordinated by ``coordinator``
    institution_b: Any  # member of the global network, coordinated by ``other_coordinator``
    institution_c: Any  # member of the Africa network only: not run by ``network_staff``
    institution_unlisted: Any  # applied to the global network, not yet a member
    site_a: Any
    join_request: Any  # to the global network
    join_request_africa: Any
    invitation: Any  # to institution A
    country: Any
    group: Any
    audit_entry: Any
    opportunity: Any  # published, hosted by institution A
    session: Any  # of ``opportunity``
    saved_search: Any  # the applicant's
    email_confirmation_key: str  # for an unconfirmed second address of the applicant
    users: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)

    def user(self, role: str) -> Any:
        return self.users[role]

    def sign_in(self, client: Any, role: str) -> None:
        """What ``client.force_login`` does, with a session made once for the whole world."""
        if role != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]

    def admin_object(self, model_key: tuple[str, str]) -> Any:
        """The object whose admin change/delete/history pages the walk opens."""
        return {
            ("auth", "group"): self.group,
            ("account", "emailaddress"): EmailAddress.objects.get(
                user=self.users["applicant"], primary=True
            ),
            ("mfa", "authenticator"): Authenticator.objects.get(
                user=self.users["network_staff"], type=Authenticator.Type.TOTP
            ),
            ("common", "auditentry"): self.audit_entry,
            ("common", "notification"): Notification.objects.get_or_create(
                user=self.users["applicant"], message="A notification for the admin walk"
            )[0],
            ("accounts", "user"): self.users["applicant"],
            ("accounts", "institutionrole"): InstitutionRole.objects.get(
                user=self.users["coordinator"]
            ),
            ("accounts", "networkstaffrole"): NetworkStaffRole.objects.get(
                user=self.users["network_staff"]
            ),
            ("accounts", "invitation"): self.invitation,
            ("accounts", "applicantprofile"): ApplicantProfile.objects.get_or_create(
                user=self.users["applicant"]
            )[0],
            ("network", "countryprofile"): self.country,
            ("network", "network"): self.network,
            ("network", "institution"): self.institution_a,
            ("network", "site"): self.site_a,
            ("network", "membership"): Membership.objects.get(
                institution=self.institution_a, network=self.network
            ),
            ("network", "joinrequest"): self.join_request,
            ("catalog", "specialty"): Specialty.objects.get(code="emergency-medicine"),
            ("catalog", "opportunity"): self.opportunity,
            ("catalog", "session"): self.session,
            ("catalog", "savedsearch"): self.saved_search,
        }[model_key]

    def content_type_id(self, model: Any) -> int:
        return ContentType.objects.get_for_model(model).pk


def with_totp(user: Any) -> Any:
    TOTP.activate(user, generate_totp_secret())
    return user


def with_recovery_codes(user: Any) -> Any:
    """Activating TOTP through allauth's pages also generates recovery codes."""
    RecoveryCodes.activate(user)
    return user


def _session_for(user: Any) -> str:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return str(store.session_key)


# The world's people never sign in with their password: a fast hash keeps building it
# quick (Argon2 takes half a second a user). Sign-in tests make their own users.
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def build_world() -> World:
    network = factories.NetworkFactory(name="Global Exchange Network", slug="global")
    africa = factories.RegionalNetworkFactory(name="Africa Network", slug="africa")
    institution_a = factories.InstitutionFactory(name="Institution A", slug="institution-a")
    institution_b = factories.InstitutionFactory(name="Institution B", slug="institution-b")
    institution_c = factories.InstitutionFactory(name="Institution C", slug="institution-c")
    factories.MembershipFactory(institution=institution_a, network=network)
    factories.MembershipFactory(institution=institution_b, network=network)
    factories.MembershipFactory(institution=institution_c, network=africa)
    institution_unlisted = factories.InstitutionFactory(name="Unlisted", slug="unlisted")
    factories.MembershipFactory(
        institution=institution_unlisted,
        network=network,
        status=MembershipStatus.APPLIED,
        joined_on=None,
    )
    site_a = factories.SiteFactory(institution=institution_a, name="Site A")

    users = {
        "anonymous": AnonymousUser(),
        "applicant": factories.UserFactory(email="applicant@example.org"),
        "coordinator": factories.coordinator_of(institution_a, email="coordinator@example.org"),
        "other_coordinator": factories.coordinator_of(institution_b, email="other@example.org"),
        "network_staff": with_recovery_codes(
            factories.staff_of(network, email="staff@example.org")
        ),
        "superuser": with_recovery_codes(
            with_totp(
                factories.UserFactory(email="root@example.org", is_staff=True, is_superuser=True)
            )
        ),
    }
    invitation = Invitation.objects.create(
        email="invitee@example.org",
        institution=institution_a,
        role=InstitutionRoleKind.COORDINATOR,
        invited_by=users["coordinator"],
    )
    join_request = factories.JoinRequestFactory(network=network)
    opportunity = factories.OpportunityFactory(host=institution_a)
    unconfirmed = EmailAddress.objects.create(
        user=users["applicant"], email="applicant.new@example.org", verified=False
    )
    return World(
        network=network,
        africa=africa,
        institution_a=institution_a,
        institution_b=institution_b,
        institution_c=institution_c,
        institution_unlisted=institution_unlisted,
        site_a=site_a,
        join_request=join_request,
        join_request_africa=factories.JoinRequestFactory(network=africa),
        invitation=invitation,
        country=CountryProfile.objects.get(code="KE"),
        group=Group.objects.create(name="Reviewers"),
        audit_entry=audit_record(
            actor=users["network_staff"],
            action="join_request.submitted",
            target=join_request,
            to_state="submitted",
        ),
        opportunity=opportunity,
        session=factories.SessionFactory(opportunity=opportunity),
        saved_search=SavedSearch.objects.create(
            user=users["applicant"], name="Emergency electives", query="q=emergency"
        ),
        email_confirmation_key=EmailConfirmationHMAC(unconfirmed).key,
        users=users,
        sessions={role: _session_for(user) for role, user in users.items() if role != "anonymous"},
    )
