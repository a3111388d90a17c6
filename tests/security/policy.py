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


SITE: dict[str, Row] = {
    "home": everyone(),
    "healthz": everyone(),
    "set_language": everyone(405),  # POST only
    "notifications": signed_in(),  # each person's own
    # accounts
    "accounts:preferences": signed_in(),
    "accounts:profile": signed_in(),  # each person's own applicant profile
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
}

# --- allauth: sign-in, sign-up, e-mail, passwords, two-factor -----------------------

ALLAUTH: dict[str, Row] = {
    "account_login": anonymous_only(Redirect("home")),
    "account_signup": anonymous_only(Redirect("home")),
    "account_logout": Row(Redirect("home"), 200, 200, 200, 200, 200),
    "account_inactive": everyone(),
    "account_reauthenticate": signed_in(),
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
)

# What the superuser gets where it is not 200: the audit log is read-only.
ADMIN_MODEL_OVERRIDES: dict[tuple[str, str], dict[str, Outcome]] = {
    ("common", "auditentry"): {"add": 403, "delete": 403},
}


def admin_model_rows(model_key: tuple[str, str]) -> dict[str, Row]:
    """The changelist, add, change, delete and history pages of one admin model, plus
    the unnamed ``<object_id>/`` route that redirects to the change page."""
    app_label, model_name = model_key
    prefix = f"admin:{app_label}_{model_name}"
    overrides = ADMIN_MODEL_OVERRIDES.get(model_key, {})

    def object_id(world: World) -> dict[str, Any]:
        return {"object_id": world.admin_object(model_key).pk}

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
}

POLICY: dict[str, Row] = {**SITE, **ALLAUTH, **ADMIN, **API}

# Cells where the application does not (yet) do what the policy says. The walk runs
# them as strict expected failures: the suite shows them, and once the application is
# fixed the cell passes, the xfail turns into a failure, and the entry must go.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}

# Patterns mounted only with DEBUG on (media files served by Django in development);
# they are neither required in nor walked from the table.
DEVELOPMENT_ONLY: frozenset[str] = frozenset({"^media/(?P<path>.*)$"})
