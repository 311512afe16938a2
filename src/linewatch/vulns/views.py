"""The risk register: vulnerability findings (and discovery's posture findings) ranked by risk, and one
subject's page with every finding's evidence, risk parts and consequence, and the status forms.

Like every page: VIEW_PLANT anywhere or 403, then only the sites where the user holds it (another site's
subject is a 404). A status change needs HANDLE_ALERTS at the subject's site and goes through
`vulns.services.set_status`, which writes the audit trail.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from linewatch.core.models import Asset
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.discovery.models import DiscoveredDevice
from linewatch.errors import InputError
from linewatch.vulns import services
from linewatch.vulns.models import Confidence, Finding, FindingStatus

PAGE_SIZE = 50
KINDS = (("vulnerability", "Vulnerabilities"), ("posture", "Posture"))


def _sites(request):
    if not can(request.user, Cap.VIEW_PLANT):
        raise PermissionDenied(f"Your role does not allow this page ({Cap.VIEW_PLANT.value}).")
    return visible_sites(request.user, Cap.VIEW_PLANT)


def register(request):
    sites = _sites(request)
    filters = {k: request.GET.get(k, "").strip() for k in ("site", "tier", "kev", "status", "kind")}
    findings = Finding.objects.filter(site__in=sites).select_related("site", "asset", "device")
    error = ""
    try:
        findings = services.filter_findings(findings, filters["site"], filters["tier"], filters["kev"],
                                            filters["status"])
    except InputError as exc:
        error, findings = str(exc), findings.none()
    show_vulns = filters["kind"] in ("", "vulnerability")
    page = Paginator(services.ranked(findings) if show_vulns else findings.none(), PAGE_SIZE).get_page(
        request.GET.get("page"))
    posture = None
    # tier and KEV say nothing about posture; a status posture findings do not have shows none of them
    if filters["kind"] in ("", "posture") and not (filters["tier"] or filters["kev"]) and filters["status"] in (
            "", FindingStatus.OPEN, FindingStatus.ACCEPTED):
        scope = sites.filter(slug=filters["site"]) if filters["site"] else sites
        posture = services.posture(scope, filters["status"])
    counts = {"kev": findings.filter(kev=True).count() if show_vulns else 0,
              "confirmed": findings.filter(confidence=Confidence.CONFIRMED).count() if show_vulns else 0}
    return render(request, "vulns/register.html", {
        "page": page, "filters": filters, "filtered": any(filters.values()), "error": error, "counts": counts,
        "posture": posture, "site_choices": sites.order_by("slug"), "tier_choices": Confidence.choices,
        "status_choices": FindingStatus.choices, "kind_choices": KINDS,
    }, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def subject(request, site: str, kind: str, key: str):
    """One asset or discovered device: its findings with evidence and risk parts, and its consequence."""
    sites = _sites(request)
    if kind == "asset":
        thing = get_object_or_404(Asset.objects.filter(site__in=sites).select_related("site", "zone"),
                                  site__slug=site, name=key)
    elif kind == "device":
        thing = get_object_or_404(DiscoveredDevice.objects.filter(site__in=sites).select_related("site"),
                                  site__slug=site, key=key)
    else:
        raise Http404("no such kind of subject")
    findings = services.ranked(Finding.objects.filter(site=thing.site, subject=f"{kind}:{key}").select_related(
        "site", "asset", "device"))
    may_triage = can(request.user, Cap.HANDLE_ALERTS, thing.site)
    error, status = "", 200
    if request.method == "POST":
        if not may_triage:
            raise PermissionDenied("Your role does not allow triaging findings at this site.")
        finding = get_object_or_404(findings, pk=request.POST.get("finding") or 0)
        try:
            services.set_status(finding, request.user, request.POST.get("status", ""), request.POST.get("why", ""),
                                via="web")
        except InputError as exc:
            error, status = str(exc), 400
        else:
            return redirect(reverse("web:vuln_subject", args=[site, kind, key]) + f"#finding-{finding.pk}")
    rows = list(findings)
    consequence = next((f.consequence for f in rows if f.consequence), None)
    return render(request, "vulns/subject.html", {
        "thing": thing, "kind": kind, "key": key, "site": thing.site, "findings": rows,
        "active": [f for f in rows if f.active], "inactive": [f for f in rows if not f.active],
        "consequence": consequence, "may_triage": may_triage, "status_choices": FindingStatus.choices,
        "error": error, "posted": request.POST if error else {},
    }, status=status)
