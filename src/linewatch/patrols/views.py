"""Patrol pages: the guard's mobile page (tours, scans, photos, notes; offline queue synced through
`POST /api/v1/patrols/sync`), the NFC tag landing page, the guard incident report form, the supervisor's
runs with exceptions and completion, one run, photos, and the printable QR sheet.

Guard pages need PATROL, supervisor pages VIEW_PEOPLE, the QR sheet EDIT_PLANT (printing codes is
minting checkpoints); objects at sites the user does not hold the capability at are 404."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from linewatch.core.models import Site
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.errors import InputError
from linewatch.patrols import services
from linewatch.patrols.choices import EXCEPTION_LABELS, INCIDENT_CATEGORIES, SEVERITIES
from linewatch.patrols.models import IncidentReport, PatrolRun, Photo, Tour

STATIC = Path(__file__).resolve().parent / "static" / "patrols"


def _sites(request, cap: Cap) -> QuerySet[Site]:
    if not can(request.user, cap):
        raise PermissionDenied(f"Your role does not allow this page ({cap.value}).")
    return visible_sites(request.user, cap)


def guard_page(request):
    sites = _sites(request, Cap.PATROL)
    return render(request, "patrols/guard.html", {"tours": services.tours_for(sites), "nfc": None})


def nfc_landing(request, site: str, code: str):
    """Where a tapped tag's URL lands: the guard page, with the tap queued as a scan of `code`."""
    sites = _sites(request, Cap.PATROL)
    site_obj = get_object_or_404(sites, slug=site)
    return render(request, "patrols/guard.html", {"tours": services.tours_for(sites), "nfc": {
        "site": site_obj.slug, "code": code, "url": request.build_absolute_uri()}})


def service_worker(request):
    _sites(request, Cap.PATROL)
    response = HttpResponse((STATIC / "sw.js").read_bytes(), content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/patrol/"
    response["Cache-Control"] = "no-cache"
    return response


@require_http_methods(["GET", "POST"])
def report_form(request):
    sites = _sites(request, Cap.PATROL)
    error, status, posted = "", 200, {}
    if request.method == "POST":
        posted = request.POST
        site = sites.filter(slug=request.POST.get("site", "")).first()
        try:
            if site is None:
                raise InputError("report", "site", "choose a site you patrol")
            when = request.POST.get("when", "")
            parsed = dt.datetime.fromisoformat(when) if when else None
            if parsed is not None and parsed.tzinfo is None:
                # a datetime-local field has no offset: it is the site's wall-clock time
                from zoneinfo import ZoneInfo

                when = parsed.replace(tzinfo=ZoneInfo(site.timezone)).isoformat()
            fields = {k: request.POST.get(k, "") for k in ("category", "severity", "what", "where", "who", "actions")}
            fields["when"] = when
            data = [f.read() for f in request.FILES.getlist("photos")[:10]]
            uid = uuid.UUID(request.POST.get("id") or str(uuid.uuid4()))
            report, _ = services.file_report(request.user, site, uid, fields, data)
        except (InputError, ValueError) as exc:
            error, status = str(exc), 400
        else:
            return redirect(reverse("web:patrol_report") + f"?filed={report.uid}")
    filed = IncidentReport.objects.filter(uid=request.GET.get("filed") or None, site__in=sites).first() \
        if _is_uuid(request.GET.get("filed")) else None
    return render(request, "patrols/report.html", {
        "sites": sites.order_by("slug"), "categories": INCIDENT_CATEGORIES, "severities": SEVERITIES,
        "error": error, "posted": posted, "filed": filed,
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}, status=status)


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


def runs(request):
    sites = _sites(request, Cap.VIEW_PEOPLE)
    site = request.GET.get("site", "")
    qs = PatrolRun.objects.filter(tour__site__in=sites).select_related("tour__site")
    if site:
        qs = qs.filter(tour__site__slug=site)
    qs = qs.annotate(n_exceptions=Count("exceptions", distinct=True))
    rows = list(qs.order_by("-started")[:200])
    by_kind: dict[str, int] = {}
    exceptions = services.PatrolException.objects.filter(site__in=sites, **({"site__slug": site} if site else {}))
    for kind in exceptions.values_list("kind", flat=True):
        by_kind[kind] = by_kind.get(kind, 0) + 1
    done = qs.filter(status="done")
    total = done.count()
    average = round(sum(r.completion for r in done) / total, 1) if total else None
    reports = IncidentReport.objects.filter(site__in=sites, **({"site__slug": site} if site else {}))[:20]
    return render(request, "patrols/runs.html", {
        "rows": rows, "site": site, "site_choices": sites.order_by("slug"), "average": average, "total": total,
        "by_kind": sorted(((EXCEPTION_LABELS.get(k, k), n) for k, n in by_kind.items()), key=lambda x: -x[1]),
        "recent": exceptions.select_related("run__tour", "photo").order_by("-at")[:30], "labels": EXCEPTION_LABELS,
        "reports": reports, "full_runs": qs.filter(status="done", completion__gte=100).count(),
        "skipped": qs.filter(Q(status="done") & Q(completion__lt=100)).count()})


def run_detail(request, uid: uuid.UUID):
    sites = _sites(request, Cap.VIEW_PEOPLE)
    run = get_object_or_404(PatrolRun.objects.select_related("tour__site"), uid=uid, tour__site__in=sites)
    scans = run.scans.select_related("checkpoint").prefetch_related("photos")
    stops = run.tour.stops.select_related("checkpoint").order_by("position")
    first = {}
    for s in scans:
        if s.verified and s.checkpoint_id:
            first.setdefault(s.checkpoint_id, s)
    return render(request, "patrols/run.html", {
        "run": run, "scans": scans, "labels": EXCEPTION_LABELS,
        "stops": [(st, first.get(st.checkpoint_id), run.started + dt.timedelta(minutes=st.offset_min)) for st in stops],
        "exceptions": run.exceptions.select_related("photo").order_by("at")})


def photo(request, uid: uuid.UUID):
    sites = _sites(request, Cap.VIEW_PEOPLE)
    row = get_object_or_404(Photo, uid=uid, site__in=sites)
    try:
        data = services.photo_bytes(row)
    except FileNotFoundError:
        raise Http404("photo bytes are missing from the data folder") from None
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


def qr_sheet(request, site: str, tour: str):
    """A printable sheet: each checkpoint's signed QR code (SVG, made here by segno) and its typed code."""
    import segno

    sites = _sites(request, Cap.EDIT_PLANT)
    tour_obj = get_object_or_404(Tour.objects.select_related("site"), site__in=sites, site__slug=site, slug=tour)
    cards = []
    others = []
    for stop in tour_obj.stops.select_related("checkpoint").order_by("position"):
        cp = stop.checkpoint
        if cp.kind != "qr":
            others.append(stop)
            continue
        token = services.qr_token(cp)
        svg = segno.make(token, error="m").svg_inline(scale=4, dark="#111", light="#fff")
        cards.append({"stop": stop, "cp": cp, "svg": svg, "typed": services.typed_code(cp), "token": token})
    return render(request, "patrols/sheet.html", {"tour": tour_obj, "cards": cards, "others": others})
