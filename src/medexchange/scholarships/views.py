"""Pages of scholarships: calls, applying, reviewing, the allocation, awards and payments.
Thin: a form, one service call, a template.

Every object comes from a queryset method (``visible_to``, ``managed_by``,
``reviewable_by``, ``owned_by``): anything else is a 404, like what does not exist. A
service's ``PermissionDenied`` (for example a reviewer who is not finance staff trying to
commit) is a 404 too: the page does not say what exists.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Avg, Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medexchange.applications.models import Application
from medexchange.applications.views.host import add_service_errors
from medexchange.common.models import AuditEntry
from medexchange.common.runs import json_attachment
from medexchange.network.models import Network
from medexchange.scholarships import selectors, services
from medexchange.scholarships.choices import PENDING_REQUESTS, AwardStatus, CallStatus, Cover
from medexchange.scholarships.forms import (
    AdjustForm,
    CallForm,
    PayForm,
    PlanForm,
    ReasonForm,
    RequestForm,
    ReturnForm,
    ReviewForm,
    WithdrawForm,
)
from medexchange.scholarships.models import (
    AllocationRun,
    Award,
    RequestReview,
    ScholarshipCall,
    ScholarshipRequest,
)
from medexchange.scholarships.permissions import can_manage, can_move_money, can_review

C = CallStatus
LIST_LIMIT = 200


def _call(queryset: Any, pk: int) -> ScholarshipCall:
    return get_object_or_404(queryset.select_related("network"), pk=pk)


def _staffed_networks(user: Any) -> Any:
    if not user.is_network_staff:
        return Network.objects.none()
    staffed = user.staffed_network_ids()
    networks = Network.objects.all() if staffed is None else Network.objects.filter(pk__in=staffed)
    return networks.order_by("name")


# --------------------------------------------------------------------------- calls


@login_required
@require_GET
def call_list(request: HttpRequest) -> HttpResponse:
    """Open calls, my requests, and (staff, reviewers) the calls I run or review."""
    user = request.user
    now = timezone.now()
    visible = ScholarshipCall.objects.visible_to(user).select_related("network")
    return render(
        request,
        "scholarships/list.html",
        {
            "open_calls": list(visible.taking_requests(now).order_by("closes_at", "pk")),
            "my_requests": list(
                ScholarshipRequest.objects.owned_by(user)
                .select_related("call", "application__session__opportunity", "award")
                .order_by("-created_at", "-pk")[:LIST_LIMIT]
            ),
            "managed": list(
                ScholarshipCall.objects.managed_by(user)
                .select_related("network")
                .annotate(request_count=Count("requests"))
                .order_by("-opens_at", "-pk")[:LIST_LIMIT]
            ),
            "reviewing": list(
                ScholarshipCall.objects.reviewable_by(user)
                .exclude(pk__in=ScholarshipCall.objects.managed_by(user).values("pk"))
                .filter(status__in=[C.OPEN, C.REVIEWING])
                .select_related("network")
            ),
            "networks": list(_staffed_networks(user)),
        },
    )


def _save_call(
    request: HttpRequest, network: Network, call: ScholarshipCall | None
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = CallForm(data, network=network, call=call)
    if data is not None and form.is_valid():
        try:
            if call is None:
                saved = services.call_create(
                    network=network,
                    actor=request.user,
                    values=form.values(),
                    funds=form.chosen_funds(),
                    reviewers=form.cleaned_data["reviewers"],
                )
            else:
                saved = services.call_update(
                    call=call,
                    actor=request.user,
                    values=form.values(),
                    funds=form.chosen_funds(),
                    reviewers=form.cleaned_data["reviewers"],
                )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The call is saved."))
            return redirect(saved)
    return render(
        request,
        "scholarships/call_form.html",
        {"form": form, "call": call, "network": network},
        status=400 if data is not None else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def call_create(request: HttpRequest, slug: str) -> HttpResponse:
    network = get_object_or_404(_staffed_networks(request.user), slug=slug)
    return _save_call(request, network, None)


@login_required
@require_http_methods(["GET", "POST"])
def call_edit(request: HttpRequest, pk: int) -> HttpResponse:
    call = _call(ScholarshipCall.objects.managed_by(request.user), pk)
    if call.status not in {C.DRAFT, C.OPEN}:
        messages.error(request, _("Only a draft or an open call can be changed."))
        return redirect(call)
    return _save_call(request, call.network, call)


def _my_applications(user: Any) -> list[Application]:
    from medexchange.scholarships.eligibility import REQUESTABLE_STATES

    return list(
        Application.objects.owned_by(user)
        .filter(state__in=REQUESTABLE_STATES)
        .select_related("session__opportunity__host", "home_country")
        .order_by("-submitted_at", "-pk")
    )


def _timeline(model: Any, pk: int) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            target_type=ContentType.objects.get_for_model(model), target_id=str(pk)
        )
        .select_related("actor")
        .order_by("created_at", "pk")
    )


@login_required
@require_GET
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The call as applicants read it, with whether each of my applications may ask; for
    its staff, the status buttons and the numbers."""
    call = _call(ScholarshipCall.objects.visible_to(request.user), pk)
    manages = can_manage(request.user, call)
    now = timezone.now()
    mine = [
        (application, services.eligibility_reasons(call, application, now=now))
        for application in _my_applications(request.user)
    ]
    context: dict[str, Any] = {
        "call": call,
        "labels": selectors.rule_labels(call),
        "funds": list(call.funds.order_by("name")),
        "manages": manages,
        "reviews": ScholarshipCall.objects.reviewable_by(request.user).filter(pk=call.pk).exists(),
        "mine": mine,
        "my_requests": list(
            ScholarshipRequest.objects.owned_by(request.user).filter(call=call).order_by("-pk")
        ),
        "taking_requests": call.status == C.OPEN and call.opens_at <= now < call.closes_at,
    }
    if manages:
        context |= {
            "counts": selectors.request_counts(call),
            "totals": selectors.call_money(call),
            "timeline": _timeline(ScholarshipCall, call.pk),
            "reason_form": ReasonForm(),
        }
    return render(request, "scholarships/call_detail.html", context)


STATUS_MESSAGES: dict[str, Any] = {
    C.OPEN: gettext_lazy("The call is open: applicants can ask for scholarships."),
    C.REVIEWING: gettext_lazy("The call stopped taking requests; reviewers score what came in."),
    C.CLOSED: gettext_lazy("The call is closed."),
}


@login_required
@require_POST
def call_status(request: HttpRequest, pk: int) -> HttpResponse:
    call = _call(ScholarshipCall.objects.managed_by(request.user), pk)
    to = request.POST.get("to", "")
    if to not in STATUS_MESSAGES:
        messages.error(request, _("Unknown action."))
        return redirect(call)
    try:
        services.call_move(
            call=call, to=to, actor=request.user, reason=request.POST.get("reason", "")
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, str(STATUS_MESSAGES[to]))
    return redirect(call)


# --------------------------------------------------------------------------- applying


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request: HttpRequest, pk: int, application_id: int) -> HttpResponse:
    """Ask the call for money for one of my applications: why it is (not) possible first."""
    call = _call(ScholarshipCall.objects.visible_to(request.user), pk)
    application = get_object_or_404(
        Application.objects.owned_by(request.user).select_related(
            "session__opportunity__host", "home_country"
        ),
        pk=application_id,
    )
    reasons = services.eligibility_reasons(call, application)
    form = RequestForm(request.POST if request.method == "POST" else None, call=call)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                created = services.scholarship_request_create(
                    call=call,
                    application=application,
                    actor=request.user,
                    need_statement=form.cleaned_data["need_statement"],
                    amount=form.cleaned_data["amount"],
                    covers=form.cleaned_data["covers"],
                    consent_public_name=form.cleaned_data["consent_public_name"],
                    least_amount=form.cleaned_data.get("least_amount"),
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Your request is sent. You will hear once the committee has decided."),
                )
                return redirect(created)
    return render(
        request,
        "scholarships/apply.html",
        {"call": call, "application": application, "reasons": reasons, "form": form},
        status=status,
    )


def _visible_request(request: HttpRequest, pk: int) -> ScholarshipRequest:
    return get_object_or_404(
        ScholarshipRequest.objects.visible_to(request.user).select_related(
            "call__network",
            "application__applicant",
            "application__home_country",
            "application__session__opportunity__host",
        ),
        pk=pk,
    )


def _request_context(
    request: HttpRequest, item: ScholarshipRequest, **forms: Any
) -> dict[str, Any]:
    user = request.user
    is_mine = item.application.applicant_id == user.pk
    reviewer = can_review(user, item)
    manages = can_manage(user, item.call)
    own_review = (
        RequestReview.objects.filter(request=item, reviewer_id=user.pk).first()
        if reviewer
        else None
    )
    award = Award.objects.filter(request=item).first()
    context: dict[str, Any] = {
        "item": item,
        "call": item.call,
        "covers": selectors.labels(Cover, item.covers),
        "is_mine": is_mine,
        "award": award,
        "can_withdraw": is_mine and (item.status in PENDING_REQUESTS or item.status == "awarded"),
        "can_review": reviewer and item.status in PENDING_REQUESTS,
        "manages": manages,
        "review_form": forms.get("review_form")
        or ReviewForm(
            initial={"score": own_review.score, "comment": own_review.comment}
            if own_review
            else None
        ),
    }
    if reviewer or manages:
        reviews = RequestReview.objects.filter(request=item).select_related("reviewer")
        context |= {
            "reviews": list(reviews.order_by("pk")),
            "mean": reviews.aggregate(mean=Avg("score"))["mean"],
        }
    return context


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _visible_request(request, pk)
    return render(request, "scholarships/request_detail.html", _request_context(request, item))


@login_required
@require_POST
def request_review(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        ScholarshipRequest.objects.reviewable_by(request.user).select_related(
            "call", "application__session__opportunity__host"
        ),
        pk=pk,
    )
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.request_review_save(
                request=item,
                actor=request.user,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your score is saved."))
            return redirect("scholarships:requests", pk=item.call_id)
    item = _visible_request(request, pk)
    return render(
        request,
        "scholarships/request_detail.html",
        _request_context(request, item, review_form=form),
        status=400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        ScholarshipRequest.objects.owned_by(request.user).select_related("call"), pk=pk
    )
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.scholarship_request_withdraw(
                request=item, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your request is withdrawn."))
            return redirect(item)
    return render(
        request,
        "scholarships/withdraw.html",
        {"item": item, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def call_requests(request: HttpRequest, pk: int) -> HttpResponse:
    """The reviewers' queue: every request of the call, mean score, my own score."""
    call = _call(ScholarshipCall.objects.reviewable_by(request.user), pk)
    rows = (
        call.requests.select_related(
            "application__applicant",
            "application__home_country",
            "application__session__opportunity__host",
        )
        .annotate(mean=Avg("reviews__score"), review_count=Count("reviews"))
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=RequestReview.objects.filter(reviewer_id=request.user.pk),
                to_attr="my_reviews",
            )
        )
        .order_by("status", "-mean", "pk")
    )
    return render(
        request,
        "scholarships/requests.html",
        {"call": call, "rows": list(rows[:2000]), "manages": can_manage(request.user, call)},
    )


# --------------------------------------------------------------------------- allocation


@login_required
@require_GET
def allocation(request: HttpRequest, pk: int) -> HttpResponse:
    call = _call(ScholarshipCall.objects.managed_by(request.user), pk)
    return render(
        request, "scholarships/allocation.html", _allocation_context(request, call), status=200
    )


def _allocation_context(
    request: HttpRequest, call: ScholarshipCall, **extra: Any
) -> dict[str, Any]:
    run = services.latest_run(call)
    return {
        "call": call,
        "run": run,
        "rows": selectors.allocation_rows(call, run),
        "conflicts": selectors.run_conflicts(run, call.currency),
        "funds": selectors.call_funds(call),
        "can_commit": can_move_money(request.user, call),
        "allocating": call.status in {C.REVIEWING, C.ALLOCATED},
        "stale": run is not None and selectors.run_is_stale(call, run),
        **extra,
    }


@login_required
@require_POST
def allocation_propose(request: HttpRequest, pk: int) -> HttpResponse:
    call = _call(ScholarshipCall.objects.managed_by(request.user), pk)
    try:
        run = services.allocation_propose(call=call, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if run.status == "failed":
            messages.error(
                request, _("The allocation could not be solved: %(error)s") % {"error": run.error}
            )
        else:
            count = run.awards.count()
            messages.success(
                request,
                ngettext(
                    "%(count)d award is proposed. Check the reasoning, adjust, then commit.",
                    "%(count)d awards are proposed. Check the reasoning, adjust, then commit.",
                    count,
                )
                % {"count": count},
            )
    return redirect("scholarships:allocation", pk=call.pk)


@login_required
@require_POST
def request_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        ScholarshipRequest.objects.managed_by(request.user).select_related("call__network"),
        pk=pk,
    )
    form = AdjustForm(request.POST, prefix=f"r{item.pk}")
    if form.is_valid():
        try:
            services.scholarship_request_adjust(
                request=item,
                actor=request.user,
                pin=form.cleaned_data["pin"] or "",
                amount=form.cleaned_data["amount"],
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Request #%(id)s is adjusted. Propose awards again to see the effect.")
                % {"id": item.pk},
            )
            return redirect("scholarships:allocation", pk=item.call_id)
    return render(
        request,
        "scholarships/allocation.html",
        _allocation_context(request, item.call, bad_form=form, bad_request_id=item.pk),
        status=400,
    )


@login_required
@require_POST
def awards_commit(request: HttpRequest, pk: int) -> HttpResponse:
    call = _call(ScholarshipCall.objects.managed_by(request.user), pk)
    try:
        outcome = services.awards_commit(call=call, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("scholarships:allocation", pk=call.pk)
    return render(
        request,
        "scholarships/allocation.html",
        _allocation_context(request, call, outcome=outcome),
    )


@login_required
@require_GET
def run_data(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """A run's exact engine input or result, as JSON (for audits and the engine's CLI)."""
    run = get_object_or_404(AllocationRun.objects.visible_to(request.user), pk=pk)
    if kind not in {"input", "result"}:
        raise Http404
    content = run.input if kind == "input" else run.result
    return json_attachment(content, f"allocation-run-{run.pk}-{kind}.json")


# --------------------------------------------------------------------------- awards


def _visible_award(request: HttpRequest, pk: int) -> Award:
    return get_object_or_404(
        Award.objects.visible_to(request.user).select_related(
            "request__call__network", "request__application__applicant"
        ),
        pk=pk,
    )


def _award_context(request: HttpRequest, award: Award, **forms: Any) -> dict[str, Any]:
    money = can_move_money(request.user, award.request.call)
    context: dict[str, Any] = {
        "award": award,
        "item": award.request,
        "call": award.request.call,
        "money": money,
        "is_mine": award.request.application.applicant_id == request.user.pk,
    }
    if money or can_manage(request.user, award.request.call):
        context |= {
            "shares": selectors.award_shares(award),
            "disbursements": selectors.award_disbursements(award),
            "timeline": _timeline(Award, award.pk),
        }
    if money:
        context |= {
            "plan_form": forms.get("plan_form") or PlanForm(award=award, prefix="plan"),
            "today": timezone.localdate(),
            "cancel_form": forms.get("cancel_form") or ReasonForm(prefix="cancel"),
            "disbursement_errors": forms.get("disbursement_errors") or [],
            "can_plan": award.status in {AwardStatus.COMMITTED, AwardStatus.PAID},
            "can_cancel": award.status in {AwardStatus.COMMITTED, AwardStatus.PAID},
        }
    return context


@login_required
@require_GET
def award_detail(request: HttpRequest, pk: int) -> HttpResponse:
    award = _visible_award(request, pk)
    return render(request, "scholarships/award_detail.html", _award_context(request, award))


@login_required
@require_POST
def award_disbursement(request: HttpRequest, pk: int) -> HttpResponse:
    """Plan a payment, or pay, return or cancel one (finance staff)."""
    award = get_object_or_404(
        Award.objects.managed_by(request.user).select_related("request__call__network"), pk=pk
    )
    action = request.POST.get("action", "")
    forms: dict[str, Any] = {}
    try:
        if action == "plan":
            form: Any = PlanForm(request.POST, award=award, prefix="plan")
            forms["plan_form"] = form
            if form.is_valid():
                services.award_disbursement_plan(
                    award=award,
                    actor=request.user,
                    amount=form.cleaned_data["amount"],
                    commitment=form.cleaned_data["commitment"],
                    note=form.cleaned_data["note"],
                )
                messages.success(request, _("The payment is planned."))
                return redirect(award)
        elif action in {"pay", "return", "cancel"}:
            disbursement = selectors.award_disbursement(award, request.POST.get("disbursement"))
            if disbursement is None:
                raise Http404
            if action == "pay":
                form = PayForm(request.POST, prefix="pay")
                forms["pay_form"] = form
                if form.is_valid():
                    services.award_disbursement_pay(
                        award=award,
                        disbursement=disbursement,
                        actor=request.user,
                        paid_on=form.cleaned_data["paid_on"],
                        reference=form.cleaned_data["reference"],
                    )
                    messages.success(request, _("The payment is recorded as paid."))
                    return redirect(award)
            elif action == "return":
                form = ReturnForm(request.POST, prefix="return")
                forms["return_form"] = form
                if form.is_valid():
                    services.award_disbursement_return(
                        award=award,
                        disbursement=disbursement,
                        actor=request.user,
                        returned_on=form.cleaned_data["returned_on"],
                        reason=form.cleaned_data["note"],
                    )
                    messages.success(request, _("The money is back in the fund."))
                    return redirect(award)
            else:
                services.award_disbursement_cancel(
                    award=award, disbursement=disbursement, actor=request.user
                )
                messages.success(request, _("The planned payment is cancelled."))
                return redirect(award)
        else:
            messages.error(request, _("Unknown action."))
            return redirect(award)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        if action == "plan":
            add_service_errors(forms["plan_form"], error)
        else:
            forms["disbursement_errors"] = error.messages
    for name in ("pay_form", "return_form"):
        form = forms.pop(name, None)
        if form is not None and form.errors:
            forms["disbursement_errors"] = [
                f"{form.fields[field].label if field in form.fields else ''}: {message}".lstrip(
                    ": "
                )
                for field, messages_ in form.errors.items()
                for message in messages_
            ]
    award.refresh_from_db()
    return render(
        request,
        "scholarships/award_detail.html",
        _award_context(request, award, **forms),
        status=400,
    )


@login_required
@require_POST
def award_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    award = get_object_or_404(
        Award.objects.managed_by(request.user).select_related("request__call__network"), pk=pk
    )
    form = ReasonForm(request.POST, prefix="cancel")
    if form.is_valid():
        try:
            services.award_cancel(
                award=award, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The award is cancelled; its money is back in the funds."))
            return redirect(award)
    return render(
        request,
        "scholarships/award_detail.html",
        _award_context(request, award, cancel_form=form),
        status=400,
    )
