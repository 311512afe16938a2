"""Workforce pages: people, a person (with the offboard button), companies, expiring and orphaned
access, the live roster per site, access reviews.

As everywhere (linewatch.web.views): the capability first (403 without it anywhere), then only
objects of the user's sites (404 otherwise). A person belongs to the sites of their affiliations;
offboarding touches every site, so it needs EDIT_PEOPLE at each of them. The roster needs only
VIEW_SITES: guards read the muster list in an evacuation.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from linewatch.core import audit
from linewatch.core.models import Company, Person, Site, SiteAffiliation
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.errors import InputError
from linewatch.workforce import services
from linewatch.workforce.models import (
    Authorisation,
    Credential,
    PersonState,
    ReviewCampaign,
    Training,
    Visit,
    WorkOrder,
)


def _sites(request, cap: Cap) -> QuerySet[Site]:
    if not can(request.user, cap):
        raise PermissionDenied(f"Your role does not allow this page ({cap.value}).")
    return visible_sites(request.user, cap)


def _person(request, key: str, cap: Cap = Cap.VIEW_PEOPLE) -> tuple[Person, QuerySet[Site]]:
    sites = _sites(request, cap)
    person = Person.objects.filter(key=key, affiliations__site__in=sites).select_related("company").distinct().first()
    if person is None:
        raise Http404("no such person at your sites")
    return person, sites


def _stamp(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def people(request):
    sites = _sites(request, Cap.VIEW_PEOPLE)
    q = request.GET.get("q", "").strip()
    affiliations = SiteAffiliation.objects.filter(site__in=sites).select_related("person__company", "site", "sponsor")
    if q:
        affiliations = affiliations.filter(Q(person__name__icontains=q) | Q(person__key__icontains=q))
    states = dict(PersonState.objects.values_list("person_id", "status"))
    rows: dict[int, dict] = {}
    for a in affiliations.order_by("person__name"):
        row = rows.setdefault(a.person_id, {"person": a.person, "affiliations": [], "status": states.get(
            a.person_id, "active")})
        row["affiliations"].append(a)
    return render(request, "workforce/people.html", {"rows": list(rows.values()), "q": q})


def person(request, key: str):
    who, sites = _person(request, key)
    now = timezone.now()
    affiliations = list(who.affiliations.filter(site__in=sites).select_related("site", "sponsor"))
    all_sites = {a.site_id for a in who.affiliations.all()}
    may_offboard = all(can(request.user, Cap.EDIT_PEOPLE, s) for s in all_sites)
    credentials = Credential.objects.filter(person=who).filter(Q(site__isnull=True) | Q(site__in=sites)).select_related(
        "site", "replaces")
    grants = Authorisation.objects.filter(person=who, site__in=sites).select_related("site", "area", "work_order",
                                                                                      "granted_by")
    orders = WorkOrder.objects.filter(assignee=who, site__in=sites).select_related("site").prefetch_related("assets")
    timeline = [{"time": _stamp(e.time), "event": e} for e in services.person_timeline(who, sites, limit=50)]
    alerts = []
    if can(request.user, Cap.VIEW_ALERTS):
        from linewatch.detect.cases import alert_scope

        alerts = list(alert_scope(request.user).filter(
            Q(finding__unmapped__actor__key=who.key) | Q(title__endswith=f"— {who.key}")).order_by("-time")[:30])
    return render(request, "workforce/person.html", {
        "who": who, "affiliations": affiliations, "credentials": credentials, "grants": grants, "orders": orders,
        "trainings": Training.objects.filter(person=who), "visits": Visit.objects.filter(visitor=who, site__in=sites)
        .select_related("site", "host", "escort"), "timeline": timeline, "alerts": alerts, "now": now,
        "state": PersonState.objects.filter(person=who).first(), "may_offboard": may_offboard,
        "reports": who.revocation_reports.all()[:5],
    })


@require_http_methods(["GET", "POST"])
def offboard(request, key: str):
    who, _ = _person(request, key, Cap.EDIT_PEOPLE)
    every = {a.site for a in who.affiliations.select_related("site")}
    missing = sorted(s.slug for s in every if not can(request.user, Cap.EDIT_PEOPLE, s))
    if request.method == "POST":
        if missing:
            raise PermissionDenied(f"Offboarding revokes at every site; you may not change people at {missing}.")
        with audit.acting_as(request):
            report = services.offboard(who, request.user.get_username(), request.POST.get("reason", "")[:300])
        level = messages.SUCCESS if report.proven else messages.ERROR
        messages.add_message(request, level, f"{who.name} offboarded: {len(report.items)} grants revoked"
                                             f"{', proven by re-query' if report.proven else ' — NOT proven'}.")
        return redirect("web:workforce_person", key=who.key)
    live = Credential.objects.filter(person=who).exclude(status__in=("revoked", "replaced", "lost", "stolen"))
    grants = Authorisation.objects.filter(person=who, revoked_at__isnull=True).select_related("site", "area")
    return render(request, "workforce/offboard.html", {"who": who, "credentials": live, "grants": grants,
                                                       "sites": sorted(s.slug for s in every), "missing": missing})


def company(request, slug: str):
    sites = _sites(request, Cap.VIEW_PEOPLE)
    firm = Company.objects.filter(slug=slug, people__affiliations__site__in=sites).distinct().first()
    if firm is None:
        raise Http404("no such company at your sites")
    staff = Person.objects.filter(company=firm, affiliations__site__in=sites).distinct().order_by("name")
    orders = WorkOrder.objects.filter(assignee__in=staff, site__in=sites, status__in=("approved", "in_progress",
                                                                                      "requested")).select_related(
        "site", "assignee")
    alerts = []
    if can(request.user, Cap.VIEW_ALERTS):
        from linewatch.detect.cases import alert_scope

        keys = list(staff.values_list("key", flat=True))
        query = Q(finding__unmapped__actor__key__in=keys)
        for key in keys:
            query |= Q(title__endswith=f"— {key}")
        alerts = list(alert_scope(request.user).filter(query).order_by("-time")[:30]) if keys else []
    return render(request, "workforce/company.html", {"firm": firm, "staff": staff, "orders": orders,
                                                      "alerts": alerts})


def access(request):
    sites = _sites(request, Cap.VIEW_PEOPLE)
    issues = services.access_issues(sites)
    order = {"revocation_overdue": 0, "outlives_work_order": 1, "overstay": 2, "orphaned": 3, "open_ended": 4,
             "expiring": 5}
    issues.sort(key=lambda i: (order[i.kind], i.site, i.person.name))
    return render(request, "workforce/access.html", {"issues": issues, "days": services.EXPIRING_DAYS})


def rosters(request):
    """Every visible site with how many people are badged in now: the way to each muster list."""
    sites = _sites(request, Cap.VIEW_SITES)
    rows = [{"site": site, "count": len(services.roster(site))} for site in sites.order_by("slug")]
    return render(request, "workforce/rosters.html", {"rows": rows})


def roster(request, slug: str):
    site = get_object_or_404(_sites(request, Cap.VIEW_SITES), slug=slug)
    entries = services.roster(site)
    names = dict(Person.objects.filter(organisation=site.organisation).values_list("key", "name"))
    rows = [{"entry": e, "name": names.get(e.person, e.person), "known": e.person in names, "since": _stamp(e.since),
             "last": _stamp(e.last_seen)} for e in entries]
    areas: dict[str, int] = {}
    for e in entries:
        areas[e.area] = areas.get(e.area, 0) + 1
    return render(request, "workforce/roster.html", {"site": site, "rows": rows, "areas": sorted(areas.items()),
                                                     "show_people_links": can(request.user, Cap.VIEW_PEOPLE, site)})


def reviews(request):
    sites = _sites(request, Cap.VIEW_PEOPLE)
    campaigns = ReviewCampaign.objects.filter(site__in=sites).select_related("site")
    return render(request, "workforce/reviews.html", {"campaigns": campaigns})


@require_http_methods(["GET", "POST"])
def review(request, site: str, slug: str):
    sites = _sites(request, Cap.VIEW_PEOPLE)
    campaign = get_object_or_404(ReviewCampaign.objects.select_related("site"), site__in=sites, site__slug=site,
                                 slug=slug)
    editable = can(request.user, Cap.EDIT_PEOPLE, campaign.site)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("Your role does not allow reviewing access at this site.")
        item = get_object_or_404(campaign.items, pk=request.POST.get("item"))
        try:
            with audit.acting_as(request):
                services.decide(item, request.POST.get("decision", ""), request.user.get_username())
        except InputError as exc:
            messages.error(request, exc.message)
        return redirect("web:workforce_review", site=site, slug=slug)
    items = campaign.items.select_related("person", "reviewer", "authorisation__area")
    return render(request, "workforce/review.html", {"campaign": campaign, "items": items, "editable": editable})
