"""Visitor pages: the visit list, pre-registration by a host, the reception kiosk (a tablet) with
its check-in form, a visit (escort, check-out, cancel) and its printable badge.

Reading needs VIEW_PEOPLE; registering, checking in and out and assigning an escort need
EDIT_PEOPLE at the visit's site (a reception tablet signs in as such a user). Objects of other
sites answer 404, every form is a CSRF-protected POST.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from linewatch.core import audit
from linewatch.core.models import Area
from linewatch.core.permissions import Cap, can
from linewatch.errors import InputError
from linewatch.workforce import choices, visits
from linewatch.workforce.models import Visit
from linewatch.workforce.views import _sites


def _visit(request, code: str, cap: Cap = Cap.VIEW_PEOPLE) -> Visit:
    return get_object_or_404(Visit.objects.select_related("site", "visitor", "host", "escort", "badge"),
                             code=code, site__in=_sites(request, cap))


def visit_list(request):
    sites = _sites(request, Cap.VIEW_PEOPLE)
    since = timezone.now() - dt.timedelta(days=7)
    shown = Visit.objects.filter(site__in=sites, code__isnull=False, expected_end__gte=since).select_related(
        "site", "visitor", "host", "escort")
    editable = [s for s in sites.order_by("slug") if can(request.user, Cap.EDIT_PEOPLE, s)]
    return render(request, "workforce/visits.html", {"visits": shown.order_by("expected_start")[:300],
                                                     "editable": editable})


@require_http_methods(["GET", "POST"])
def visit_new(request, site: str):
    where = get_object_or_404(_sites(request, Cap.EDIT_PEOPLE), slug=site)
    staff = visits.staff(where)
    areas = Area.objects.filter(site=where).order_by("name")
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            host = visits.staff_member(where, request.POST.get("host", ""), "host")
            chosen = visits.areas_at(where, request.POST.getlist("areas"))
            with audit.acting_as(request):
                visit = visits.register(
                    where, name=request.POST.get("name", ""), company=request.POST.get("company", ""),
                    host=host, purpose=request.POST.get("purpose", ""),
                    expected_start=visits.local_time(request.POST.get("expected_start", ""), where, "expected_start"),
                    expected_end=visits.local_time(request.POST.get("expected_end", ""), where, "expected_end"),
                    escort_required=bool(request.POST.get("escort_required")), areas=chosen,
                    by=request.user.get_username())
        except InputError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{visit.visitor.name} is expected; the kiosk will check them in.")
            return redirect("web:workforce_visit", code=visit.code)
    return render(request, "workforce/visit_new.html", {"site": where, "staff": staff, "areas": areas,
                                                        "form": form}, status=400 if form else 200)


def kiosk(request, site: str):
    """The reception tablet: today's expected visitors, each a big button to check in."""
    where = get_object_or_404(_sites(request, Cap.EDIT_PEOPLE), slug=site)
    expected, on_site = visits.at_desk(where)
    return render(request, "workforce/kiosk.html", {"site": where, "expected": expected, "on_site": on_site})


@require_http_methods(["GET", "POST"])
def check_in(request, code: str):
    visit = _visit(request, code, Cap.EDIT_PEOPLE)
    if request.method == "POST":
        try:
            with audit.acting_as(request):
                visits.check_in(visit, id_document=request.POST.get("id_document", ""),
                                id_last_digits=request.POST.get("id_last_digits", ""),
                                id_seen=bool(request.POST.get("id_seen")), nda=bool(request.POST.get("nda")),
                                safety=bool(request.POST.get("safety")), by=request.user.get_username())
        except InputError as exc:
            messages.error(request, exc.message)
            return render(request, "workforce/checkin.html", {"visit": visit, "documents": choices.IdDocument.choices,
                                                              "form": request.POST}, status=400)
        told = "the host has been told" if visit.host_notified_at else "the host has no contact path: call them"
        messages.success(request, f"Welcome, {visit.visitor.name}: {told}.")
        return redirect("web:workforce_visit", code=visit.code)
    return render(request, "workforce/checkin.html", {"visit": visit, "documents": choices.IdDocument.choices,
                                                      "form": {}})


@require_http_methods(["GET", "POST"])
def visit(request, code: str):
    found = _visit(request, code)
    editable = can(request.user, Cap.EDIT_PEOPLE, found.site)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("Your role does not allow changing visits at this site.")
        action, by = request.POST.get("action", ""), request.user.get_username()
        try:
            with audit.acting_as(request):
                if action == "escort":
                    visits.assign_escort(found, visits.staff_member(found.site, request.POST.get("escort", ""),
                                                                    "escort"), by)
                elif action == "check_out":
                    visits.check_out(found, by)
                elif action == "cancel":
                    visits.cancel(found, by)
                else:
                    raise InputError("visit", found.code, f"unknown action {action!r}")
        except InputError as exc:
            messages.error(request, exc.message)
        return redirect("web:workforce_visit", code=found.code)
    return render(request, "workforce/visit.html", {
        "visit": found, "editable": editable, "areas": found.areas.all(),
        "staff": visits.staff(found.site) if editable else []})


def badge(request, code: str):
    found = _visit(request, code)
    response = HttpResponse(visits.badge_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="visitor-badge-{found.code}.pdf"'
    return response
