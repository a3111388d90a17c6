"""Directory, institution pages, the join workflow and the partner map."""

from __future__ import annotations

from typing import Any

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_http_methods
from django_countries import countries

from medexchange.accounts.forms import InvitationForm
from medexchange.accounts.models import InstitutionRole, Invitation
from medexchange.accounts.services import invitation_send
from medexchange.catalog.permissions import catalog_hosts
from medexchange.common.http import HtmxHttpRequest
from medexchange.common.selectors import audit_trail_for
from medexchange.network import selectors, services
from medexchange.network.choices import InstitutionKind, JoinRequestStatus
from medexchange.network.filters import InstitutionFilter
from medexchange.network.forms import (
    CountryProfileForm,
    InstitutionForm,
    JoinDecisionForm,
    JoinQueueFilterForm,
    JoinRequestForm,
    SiteForm,
)
from medexchange.network.models import (
    CountryProfile,
    Institution,
    JoinRequest,
    Network,
    Site,
)
from medexchange.network.permissions import can_edit_institution, is_network_staff

DIRECTORY_PAGE_SIZE = 24


def _require_staff(request: HttpRequest) -> None:
    if not is_network_staff(request.user):
        raise PermissionDenied(_("Only network staff can open this page."))


@require_GET
def directory(request: HtmxHttpRequest) -> HttpResponse:
    filterset = InstitutionFilter(
        request.GET or None, queryset=selectors.directory_queryset(request.user)
    )
    if filterset.is_bound and not filterset.is_valid():
        # Keep the valid filters; show the invalid ones as field errors.
        valid = request.GET.copy()
        for field in filterset.errors:
            valid.pop(field, None)
        institutions = InstitutionFilter(valid, queryset=filterset.queryset).qs
    else:
        institutions = filterset.qs
    page = Paginator(institutions, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "query": query.urlencode()}
    template = "network/_directory_results.html" if request.htmx else "network/directory.html"
    return render(request, template, context)


@require_GET
def institution_detail(request: HttpRequest, slug: str) -> HttpResponse:
    institution = get_object_or_404(
        Institution.objects.visible_to(request.user)
        .select_related("country")
        .prefetch_related(selectors.active_memberships_prefetch(), "sites"),
        slug=slug,
    )
    return render(
        request,
        "network/institution_detail.html",
        {
            "institution": institution,
            "can_edit": can_edit_institution(request.user, institution),
            "can_manage_catalog": catalog_hosts(request.user).filter(pk=institution.pk).exists(),
        },
    )


def _editable_institution(request: HttpRequest, slug: str) -> Institution:
    return get_object_or_404(Institution.objects.editable_by(request.user), slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def institution_edit(request: HttpRequest, slug: str) -> HttpResponse:
    institution = _editable_institution(request, slug)
    form = InstitutionForm(request.POST or None, instance=institution)
    if request.method == "POST" and form.is_valid():
        # Validate on a copy: the service applies the changes to the real row.
        fresh = Institution.objects.get(pk=institution.pk)
        services.institution_update(
            institution=fresh,
            actor=request.user,
            values={name: form.cleaned_data[name] for name in form.Meta.fields},
        )
        messages.success(request, _("The institution's details are saved."))
        return redirect(fresh.get_absolute_url())
    return render(
        request, "network/institution_form.html", {"form": form, "institution": institution}
    )


@login_required
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    institution = _editable_institution(request, slug)
    site = (
        get_object_or_404(Site.objects.editable_by(request.user), pk=pk, institution=institution)
        if pk
        else None
    )
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        try:
            services.site_save(
                institution=institution,
                actor=request.user,
                values={name: form.cleaned_data[name] for name in form.Meta.fields},
                site=Site.objects.get(pk=site.pk) if site else None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The site is saved."))
            return redirect(institution.get_absolute_url())
    return render(
        request, "network/site_form.html", {"form": form, "institution": institution, "site": site}
    )


@login_required
@require_http_methods(["GET", "POST"])
def institution_people(request: HttpRequest, slug: str) -> HttpResponse:
    institution = _editable_institution(request, slug)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation_send(
                email=form.cleaned_data["email"],
                institution=institution,
                role=form.cleaned_data["role"],
                actor=request.user,
                language=get_language() or "en",
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("network:institution-people", slug=institution.slug)
    roles = InstitutionRole.objects.filter(institution=institution).select_related("user")
    invitations = (
        Invitation.objects.visible_to(request.user).filter(institution=institution).pending()
    )
    return render(
        request,
        "network/institution_people.html",
        {"institution": institution, "roles": roles, "invitations": invitations, "form": form},
    )


@require_GET
def network_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "network/network_list.html", {"networks": selectors.networks_with_member_counts()}
    )


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    initial = {}
    if request.GET.get("network"):
        initial["network"] = Network.objects.filter(slug=request.GET["network"]).first()
    form = JoinRequestForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        # Only complete applications count towards the limit, not corrections.
        if not ratelimit.consume(request, action="join_request"):
            message = _(
                "Too many applications were sent from your address. Please try again in an hour."
            )
            form.add_error(None, message)
            status = 429
        else:
            values = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                join_request = services.join_request_submit(
                    values=values, language=get_language() or "en"
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                request.session["join_request_network"] = join_request.network.name
                return redirect("network:join-thanks")
    return render(
        request,
        "network/join_form.html",
        {"form": form, "networks": Network.objects.all()},
        status=status,
    )


@require_GET
def join_thanks(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "network/join_thanks.html",
        {"network_name": request.session.get("join_request_network", "")},
    )


@login_required
@require_GET
def join_queue(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    form = JoinQueueFilterForm(request.GET or None)
    requests = JoinRequest.objects.visible_to(request.user).select_related("network", "country")
    status = form.cleaned_data["status"] if form.is_valid() else JoinRequestStatus.SUBMITTED
    if not request.GET:
        status = JoinRequestStatus.SUBMITTED
    if status:
        requests = requests.filter(status=status)
    page = Paginator(requests, 50).get_page(request.GET.get("page"))
    return render(
        request, "network/join_queue.html", {"form": form, "page": page, "status": status}
    )


@login_required
@require_http_methods(["GET", "POST"])
def join_detail(request: HttpRequest, pk: int) -> HttpResponse:
    join_request = get_object_or_404(
        JoinRequest.objects.visible_to(request.user).select_related(
            "network", "country", "decided_by"
        ),
        pk=pk,
    )
    form = JoinDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == JoinDecisionForm.APPROVE:
                institution = services.join_request_approve(
                    join_request=join_request, actor=request.user, note=form.cleaned_data["reason"]
                )
                messages.success(
                    request,
                    _("%(name)s is now a member; its contact was invited as coordinator.")
                    % {"name": institution.name},
                )
            else:
                services.join_request_decline(
                    join_request=join_request,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, _("The request was declined and the contact informed."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("network:join-queue")
    return render(
        request,
        "network/join_detail.html",
        {"join_request": join_request, "form": form, "audit_trail": audit_trail_for(join_request)},
    )


@login_required
@require_GET
def country_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    profiles = list(CountryProfile.objects.editable_by(request.user))
    profiles.sort(key=lambda profile: profile.name)
    return render(request, "network/country_list.html", {"profiles": profiles})


@login_required
@require_http_methods(["GET", "POST"])
def country_edit(request: HttpRequest, code: str) -> HttpResponse:
    profile = get_object_or_404(CountryProfile.objects.editable_by(request.user), code=code.upper())
    form = CountryProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.country_profile_update(
            profile=CountryProfile.objects.get(pk=profile.pk),
            actor=request.user,
            values={name: form.cleaned_data[name] for name in form.Meta.fields},
        )
        messages.success(request, _("%(country)s is saved.") % {"country": profile.name})
        return redirect("network:countries")
    return render(request, "network/country_form.html", {"form": form, "profile": profile})


def _map_filters(request: HttpRequest) -> InstitutionFilter:
    return InstitutionFilter(
        request.GET or None, queryset=Institution.objects.visible_to(request.user).members()
    )


@require_GET
def partner_map(request: HttpRequest) -> HttpResponse:
    return render(request, "network/map.html", _map_context(request))


@require_GET
def partner_list(request: HttpRequest) -> HttpResponse:
    """The map's content as an accessible, script-free list grouped by country."""
    context = _map_context(request)
    filterset = context["filter"]
    invalid = filterset.is_bound and not filterset.is_valid()
    institutions = Institution.objects.none() if invalid else filterset.qs
    context["institutions"] = (
        institutions.select_related("country")
        .prefetch_related(selectors.active_memberships_prefetch())
        .order_by("country__code", "name")
    )
    return render(request, "network/map_list.html", context)


def _map_context(request: HttpRequest) -> dict[str, Any]:
    networks = list(selectors.networks_with_member_counts())
    chosen_networks = request.GET.getlist("network") or [n.slug for n in networks]
    chosen_kinds = request.GET.getlist("kind") or [k for k, _label in InstitutionKind.choices]
    member_countries = set(selectors.member_country_codes())
    return {
        "filter": _map_filters(request),
        "networks": networks,
        "kinds": InstitutionKind.choices,
        "chosen_networks": chosen_networks,
        "chosen_kinds": chosen_kinds,
        "kind_labels": dict(InstitutionKind.choices),
        "country_names": {code: name for code, name in countries if code in member_countries},
    }


@gzip_page  # 1.4 MB → 150 KB for 5,000 institutions; it holds nothing secret (no BREACH risk).
@require_GET
def map_geojson(request: HttpRequest) -> HttpResponse:
    filterset = _map_filters(request)
    if filterset.is_bound and not filterset.is_valid():
        return JsonResponse({"errors": filterset.errors.get_json_data()}, status=400)
    body = selectors.map_feature_collection(filterset.qs)
    response = HttpResponse(body, content_type="application/geo+json")
    response["Cache-Control"] = "public, max-age=300"
    return response
