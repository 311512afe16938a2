"""Discovered-device pages: the per-site list (shadow devices first) and one device with its
observations, posture findings with their evidence, and the reviewer's Promote / Dismiss forms and
finding review (verified as fixed, risk accepted, reopened).

Like every page (see linewatch.web.views): VIEW_PLANT anywhere or 403, then devices only from the
sites where the user holds it (another site's device is a 404). Promote and dismiss need
EDIT_PLANT at the device's site and go through `discovery.services`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from linewatch.core.choices import AssetKind, RaciRole
from linewatch.core.models import Site
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.discovery import services
from linewatch.discovery.models import DeviceStatus, DiscoveredDevice, FindingStatus
from linewatch.errors import InputError

PAGE_SIZE = 50
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2, "info": 3}
# Shadow devices first: they are the ones nobody has decided about.
STATUS_ORDER = {DeviceStatus.SHADOW: 0, DeviceStatus.DISCOVERED: 1, DeviceStatus.CMDB: 2, DeviceStatus.MATCHED: 3,
                DeviceStatus.PROMOTED: 4, DeviceStatus.DISMISSED: 5}


def _sites(request) -> QuerySet[Site]:
    if not can(request.user, Cap.VIEW_PLANT):
        raise PermissionDenied(f"Your role does not allow this page ({Cap.VIEW_PLANT.value}).")
    return visible_sites(request.user, Cap.VIEW_PLANT)


def discovered_scope(user) -> QuerySet[DiscoveredDevice]:
    return DiscoveredDevice.objects.filter(site__in=visible_sites(user, Cap.VIEW_PLANT)).select_related(
        "site", "asset")


def ordered(devices: QuerySet[DiscoveredDevice]) -> QuerySet[DiscoveredDevice]:
    rank = Case(*(When(status=s, then=Value(n)) for s, n in STATUS_ORDER.items()), output_field=IntegerField())
    return devices.annotate(rank=rank).order_by("rank", "site__slug", "-last_seen", "key")


def discovered_list(request):
    sites = _sites(request)
    filters = {k: request.GET.get(k, "").strip() for k in ("site", "status")}
    devices = discovered_scope(request.user)
    if filters["site"]:
        devices = devices.filter(site__slug=filters["site"])
    if filters["status"]:
        devices = devices.filter(status=filters["status"])
    counts = {s: 0 for s in DeviceStatus.values}
    for status in discovered_scope(request.user).filter(
            **({"site__slug": filters["site"]} if filters["site"] else {})).values_list("status", flat=True):
        counts[status] += 1
    open_findings = Count("posture_findings", filter=Q(posture_findings__status=FindingStatus.OPEN))
    page = Paginator(ordered(devices).annotate(open_findings=open_findings), PAGE_SIZE).get_page(
        request.GET.get("page"))
    owners = services.suggested_owners(d for d in page if d.status in (DeviceStatus.SHADOW, DeviceStatus.DISCOVERED))
    return render(request, "discovery/discovered.html", {
        "page": page,
        "rows": [(d, owners.get(d.pk)) for d in page],
        "filters": filters,
        "filtered": any(filters.values()),
        "site_choices": sites.order_by("slug"),
        "status_choices": [(v, label, counts[v]) for v, label in DeviceStatus.choices],
    })


@require_http_methods(["GET", "POST"])
def discovered_device(request, site: str, key: str):
    _sites(request)
    device = get_object_or_404(discovered_scope(request.user), site__slug=site, key=key)
    may_review = can(request.user, Cap.EDIT_PLANT, device.site)
    error, status = "", 200
    if request.method == "POST":
        if not may_review:
            raise PermissionDenied("Your role does not allow changing the plant model at this site.")
        action = request.POST.get("action", "")
        try:
            if action == "promote":
                services.promote(device, request.user, request.POST.get("name", ""),
                                 kind=request.POST.get("kind", ""), via="web")
            elif action == "dismiss":
                services.dismiss(device, request.user, request.POST.get("why", ""), via="web")
            elif action == "finding":
                finding = device.posture_findings.filter(pk=request.POST.get("finding") or 0).first()
                if finding is None:
                    raise InputError("finding", request.POST.get("finding", ""), "no such finding on this device")
                services.review_finding(finding, request.user, request.POST.get("status", ""),
                                        request.POST.get("note", ""), via="web")
            else:
                raise InputError("action", action, "one of promote, dismiss, finding")
        except InputError as exc:
            error, status = str(exc), 400
        else:
            return redirect(reverse("web:discovered_device", args=[device.site.slug, device.key]))
        device.refresh_from_db()
    owners = services.suggested_owners([device])[device.pk]
    observations = list(device.observations.order_by("attribute", "-confidence", "time", "id"))
    return render(request, "discovery/device.html", {
        "device": device,
        "observations": observations,
        "posture": list(device.posture_findings.order_by(
            Case(*(When(severity=s, then=Value(n)) for s, n in SEVERITY_RANK.items()), default=Value(9),
                 output_field=IntegerField()), "check_name", "id")),
        "may_review_findings": may_review,
        "finding_statuses": [(v, label) for v, label in FindingStatus.choices if v != FindingStatus.GONE],
        "owners": owners,
        "owner_rows": [(role, label, owners.teams.get(role, []), owners.scope.get(role, ""))
                       for role, label in RaciRole.choices],
        "may_review": may_review and device.status not in (DeviceStatus.MATCHED, DeviceStatus.PROMOTED),
        "may_dismiss": may_review and device.status in (DeviceStatus.SHADOW, DeviceStatus.DISCOVERED),
        "kind_choices": AssetKind.choices,
        "suggested_name": (device.hostname.split(".")[0] if device.hostname else ""),
        "error": error,
        "posted": request.POST if error else {},
    }, status=status)
