"""Evidence pages: the sites' ledgers, a site's ledger with the forms that build an evidence pack and the standard
exports (downloads), partner scorecards, and a site's partners with the upload form for their packs and incident
reports.

Every page needs VIEW_AUDIT (anywhere, or 403), and shows only the sites where the user holds it (another site is a
404). Uploading on a partner's behalf needs EDIT_PEOPLE at the site (partners are third parties, like companies)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.errors import InputError, InputErrors
from linewatch.evidence import exports, partners, services
from linewatch.evidence.engine.controls import CONTROLS
from linewatch.evidence.models import Checkpoint, Entry, Partner, SiteLog, Submission, SubmissionKind

RECENT = 50


def _sites(request):
    if not can(request.user, Cap.VIEW_AUDIT):
        raise PermissionDenied(f"Your role does not allow this page ({Cap.VIEW_AUDIT.value}).")
    return visible_sites(request.user, Cap.VIEW_AUDIT)


def _site(request, slug: str):
    site = _sites(request).select_related("organisation").filter(slug=slug).first()
    if site is None:
        raise Http404("no such site")
    return site


def home(request):
    rows = []
    for site in _sites(request).order_by("slug"):
        head = SiteLog.objects.filter(site_slug=site.slug).first()
        latest = services.latest_checkpoint(head) if head else None
        rows.append({"site": site, "head": head, "latest": latest,
                     "witnessed": bool(latest and latest.cosignatures.exists()),
                     "behind": (head.size - latest.size) if head and latest else (head.size if head else 0)})
    return render(request, "evidence/home.html", {"rows": rows, "controls": CONTROLS})


def _period(request) -> tuple[dt.date, dt.date]:
    try:
        end = dt.date.fromisoformat(request.POST.get("to") or dt.date.today().isoformat())
        start = dt.date.fromisoformat(request.POST.get("from") or (end - dt.timedelta(days=30)).isoformat())
    except ValueError:
        raise InputError("from/to", "", "dates as YYYY-MM-DD") from None
    return start, end


@require_http_methods(["GET", "POST"])
def site(request, slug: str):
    site = _site(request, slug)
    head = services.get_log(site)
    head.refresh_from_db()
    error = ""
    if request.method == "POST":
        try:
            start, end = _period(request)
            if request.POST.get("action") == "export":
                fmt = request.POST.get("format", "")
                if fmt not in exports.FORMATS:
                    raise InputError("format", fmt, f"one of {', '.join(exports.FORMATS)}")
                content, media, name = exports.export(
                    site, fmt, dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC),
                    dt.datetime.combine(end, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=1))
            else:
                from linewatch.evidence.packs import site_pack_bytes

                with tempfile.TemporaryDirectory() as folder:
                    content = site_pack_bytes(site, start, end, Path(folder) / "pack.zip").read_bytes()
                media, name = "application/zip", f"evidence-{site.slug}-{start}-{end}.zip"
            response = HttpResponse(content, content_type=media)
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        except InputError as exc:
            error = str(exc)
    checkpoints = list(Checkpoint.objects.filter(log=head).order_by("-size").prefetch_related(
        "cosignatures", "timestamps")[:20])
    from linewatch.evidence.packs import trusted_keys

    today = dt.date.today()
    return render(request, "evidence/site.html", {
        "site": site, "head": head, "checkpoints": checkpoints, "error": error,
        "entries": Entry.objects.filter(log=head).order_by("-seq")[:RECENT],
        "keys": [v.vkey for v in trusted_keys(site)], "formats": exports.FORMATS,
        "default_from": (today - dt.timedelta(days=30)).isoformat(), "default_to": today.isoformat(),
    }, status=400 if error else 200)


def partner_list(request):
    sites = _sites(request)
    cards = [partners.scorecard(p) for p in Partner.objects.filter(sites__in=sites).distinct().order_by("name")]
    return render(request, "evidence/partners.html", {"cards": cards})


@require_http_methods(["GET", "POST"])
def site_partners(request, slug: str):
    site = _site(request, slug)
    served = Partner.objects.filter(sites=site).order_by("name")
    may_upload = can(request.user, Cap.EDIT_PEOPLE, site)
    errors: list[str] = []
    if request.method == "POST":
        if not may_upload:
            raise PermissionDenied("Receiving partner submissions needs edit_people at this site.")
        partner = served.filter(slug=request.POST.get("partner", "")).first()
        if partner is None:
            errors.append("partner: choose a partner that serves this site")
        elif request.POST.get("kind") == SubmissionKind.INCIDENT:
            fields = {k: request.POST.get(k, "") for k in ("category", "severity", "what", "where", "when", "who",
                                                           "actions", "status", "closed_at", "reference")}
            try:
                partners.submit_incident(partner, fields, by=request.user.get_username(), user=request.user)
                messages.success(request, f"Incident report from {partner.name} received.")
                return redirect(reverse("web:evidence_site_partners", kwargs={"slug": site.slug}))
            except InputErrors as exc:
                errors += [str(e) for e in exc.errors]
        else:
            upload = request.FILES.get("pack")
            if upload is None:
                errors.append("pack: choose the pack file (.zip)")
            else:
                try:
                    s = partners.submit_pack(partner, upload.read(partners.MAX_PACK_BYTES + 1), upload.name,
                                             by=request.user.get_username(), user=request.user)
                    if s.verified:
                        messages.success(request, f"Pack from {partner.name} verified.")
                    else:
                        messages.error(request, f"Pack from {partner.name} FAILED verification: "
                                       f"{len(s.result.get('failures', []))} problem(s).")
                    return redirect(reverse("web:evidence_site_partners", kwargs={"slug": site.slug}))
                except InputError as exc:
                    errors.append(str(exc))
    submissions = Submission.objects.filter(partner__in=served).select_related("partner")[:100]
    return render(request, "evidence/site_partners.html", {
        "site": site, "served": served, "may_upload": may_upload, "errors": errors, "submissions": submissions,
        "categories": partners.INCIDENT_CATEGORIES, "severities": partners.SEVERITIES,
        "cards": [partners.scorecard(p) for p in served],
    }, status=400 if errors else 200)
