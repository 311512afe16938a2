"""Crisis pages: the crisis list with the declare form, the crisis room (status board, roll-call
tallies as live bars, runbook progress, message delivery and acknowledgement per channel), the
printable unaccounted list and runbook, the muster-point kiosk, and the public answer page.

Like every page: the capability anywhere or 403, then crises only at sites where the user holds it
(another site's crisis is a 404). Changing anything (declaring, phases, site status, runbook steps)
needs HANDLE_ALERTS at the site. The answer page is the one page without a login: the personal,
single-use, expiring link *is* the credential, checked on every request.
"""

from __future__ import annotations

import base64
from collections import Counter

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.resilience import cap, printing, services
from linewatch.resilience.models import Answer, Crisis, CrisisKind, Phase, RollCall, RunbookRun, SiteState
from linewatch.resilience.services import ReplyRefused
from linewatch.response.models import DeliveryAttempt, Receipt


def _scope(request, capability: Cap) -> QuerySet[Crisis]:
    if not can(request.user, capability):
        raise PermissionDenied(f"Your role does not allow this page ({capability.value}).")
    return Crisis.objects.filter(sites__in=visible_sites(request.user, capability)).distinct()


def _who(request) -> str:
    return request.user.get_username()


@require_http_methods(["GET", "POST"])
def crisis_list(request):
    crises = _scope(request, Cap.VIEW_SITES).prefetch_related("sites")
    sites = visible_sites(request.user, Cap.VIEW_SITES).order_by("slug")
    may_declare = [s for s in sites if can(request.user, Cap.HANDLE_ALERTS, s)]
    error, status = "", 200
    if request.method == "POST":
        chosen = [s for s in may_declare if s.slug in request.POST.getlist("sites")]
        title = request.POST.get("title", "").strip()
        kind = request.POST.get("kind", "")
        if not chosen:
            error = "Choose at least one site where you may handle incidents."
        elif not title or kind not in CrisisKind.values:
            error = "A crisis needs a title and a type."
        else:
            crisis = services.declare(title=title[:200], kind=kind, sites=chosen, by=_who(request),
                                      exercise=request.POST.get("exercise") == "on",
                                      description=request.POST.get("description", "").strip())
            return redirect("web:crisis", uid=crisis.uid)
        status = 400
    return render(request, "resilience/crises.html", {
        "crises": crises, "board": services.status_board(sites), "may_declare": may_declare,
        "kinds": CrisisKind.choices, "error": error}, status=status)


def _rows(crisis: Crisis, user) -> dict:
    sites = list(crisis.sites.filter(pk__in=visible_sites(user, Cap.VIEW_SITES)).order_by("slug"))
    tallies = []
    for rc in crisis.roll_calls.filter(site__in=sites).select_related("site"):
        counts = services.tally(rc)
        total = counts["total"] or 1
        bars = [(k, label, counts[k], round(100 * counts[k] / total, 1))
                for k, label in [*Answer.choices, ("no_answer", "No answer")]]
        tallies.append({"rc": rc, "counts": counts, "bars": bars,
                        "people": can(user, Cap.VIEW_PEOPLE, rc.site)})
    return {"sites": sites, "board": services.status_board(sites), "tallies": tallies}


def _deliveries(crisis: Crisis) -> list[dict]:
    """Per channel: messages tried, accepted by the transport, failed, deferred, and receipts."""
    attempts = DeliveryAttempt.objects.filter(notification__created__gte=crisis.declared,
                                              notification__exercise=crisis.exercise).exclude(channel="ack")
    attempts = attempts.filter(notification__person__roll_calls__roll_call__crisis=crisis) | attempts.filter(
        notification__team__site__in=crisis.sites.all(), notification__alert=None)
    per: dict[str, Counter] = {}
    for channel, outcome in attempts.distinct().values_list("channel", "outcome"):
        per.setdefault(channel, Counter())[outcome] += 1
    receipts = Receipt.objects.filter(attempt__in=attempts.distinct()).values_list("attempt__channel", "kind")
    for channel, kind in receipts:
        per.setdefault(channel, Counter())[kind] += 1
    return [{"channel": c, **counts} for c, counts in sorted(per.items())]


@require_http_methods(["GET", "POST"])
def crisis_room(request, uid: str):
    crisis = get_object_or_404(_scope(request, Cap.VIEW_SITES), uid=uid)
    fmt = request.GET.get("format", "")
    seen = visible_sites(request.user, Cap.VIEW_SITES)  # a multi-site crisis: only the sites the reader sees
    if fmt == "cap":
        response = HttpResponse(cap.crisis_cap(crisis, sites=seen), content_type="application/cap+xml")
        response["Content-Disposition"] = f'attachment; filename="{crisis.uid}-sitrep.cap.xml"'
        return response
    if fmt == "pdf":
        response = HttpResponse(printing.sitrep_pdf(crisis, sites=seen), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{crisis.uid}-sitrep.pdf"'
        return response
    rows = _rows(crisis, request.user)
    manage = [s for s in rows["sites"] if can(request.user, Cap.HANDLE_ALERTS, s)]
    error, status = "", 200
    if request.method == "POST":
        if not manage:
            raise PermissionDenied("Changing a crisis needs the handle_alerts capability at one of its sites.")
        action = request.POST.get("action")
        try:
            if action == "phase":
                services.set_phase(crisis, request.POST.get("phase", ""), _who(request), request.POST.get("note", ""))
            elif action == "status":
                site = next((s for s in manage if s.slug == request.POST.get("site")), None)
                if site is None:
                    raise ValueError("choose one of the crisis's sites you may handle")
                services.confirm_status(site, request.POST.get("state", ""), int(request.POST.get("capacity") or -1),
                                        _who(request), reason=request.POST.get("reason", ""), crisis=crisis)
            else:
                raise ValueError("unknown action")
            return redirect("web:crisis", uid=crisis.uid)
        except ValueError as exc:
            error, status = str(exc), 400
    runs = [services.run_progress(run) for run in crisis.runbook_runs.filter(runbook__site__in=rows["sites"])
            .select_related("runbook__site")]
    template = "resilience/_live.html" if request.GET.get("part") == "live" else "resilience/crisis.html"
    return render(request, template, {
        "crisis": crisis, **rows, "runs": runs, "deliveries": _deliveries(crisis), "manage": manage,
        "phases": Phase.choices, "states": SiteState.choices, "error": error,
        "phase_changes": crisis.phase_changes.all(), "now": timezone.now()}, status=status)


def _roll_call(request, uid: str, site: str, capability: Cap) -> RollCall:
    crisis = get_object_or_404(_scope(request, capability), uid=uid)
    return get_object_or_404(RollCall.objects.select_related("site", "crisis"), crisis=crisis, site__slug=site,
                             site__in=visible_sites(request.user, capability))


def unaccounted(request, uid: str, site: str):
    rc = _roll_call(request, uid, site, Cap.VIEW_PEOPLE)
    if request.GET.get("format") == "pdf":
        response = HttpResponse(printing.unaccounted_pdf(rc), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{rc.crisis.uid}-{rc.site.slug}-unaccounted.pdf"'
        return response
    rows = services.current(rc)
    return render(request, "resilience/unaccounted.html", {
        "rc": rc, "crisis": rc.crisis, "counts": services.tally(rc), "missing": services.unaccounted(rc),
        "help": [r for r in rows if r["answer"] == Answer.NEED_HELP], "now": timezone.now()})


@require_http_methods(["GET", "POST"])
def kiosk(request, uid: str, site: str):
    rc = _roll_call(request, uid, site, Cap.VIEW_SITES)
    message, error, status = "", "", 200
    if request.method == "POST":
        try:
            row = services.answer_at_kiosk(rc, request.POST.get("code", ""), request.POST.get("answer", ""),
                                           _who(request), text=request.POST.get("text", ""))
            message = f"Thank you, {row.participant.person.name}: {row.get_answer_display().lower()} recorded."
        except ReplyRefused as exc:
            error, status = exc.reason, 400
    return render(request, "resilience/kiosk.html", {
        "rc": rc, "crisis": rc.crisis, "answers": Answer.choices, "message": message, "error": error,
        "counts": services.tally(rc)}, status=status)


@require_http_methods(["GET", "POST"])
def runbook(request, uid: str, site: str, slug: str):
    crisis = get_object_or_404(_scope(request, Cap.VIEW_SITES), uid=uid)
    run = get_object_or_404(RunbookRun.objects.select_related("runbook__site", "crisis"), crisis=crisis,
                            runbook__site__slug=site, runbook__slug=slug,
                            runbook__site__in=visible_sites(request.user, Cap.VIEW_SITES))
    may_complete = can(request.user, Cap.HANDLE_ALERTS, run.runbook.site)
    error, status = "", 200
    if request.method == "POST":
        if not may_complete:
            raise PermissionDenied("Completing a runbook step needs handle_alerts at the site.")
        step = run.runbook.steps.filter(pk=request.POST.get("step") or 0).first()
        upload = request.FILES.get("photo")
        try:
            if step is None:
                raise ValueError("unknown step")
            services.complete_step(run, step, _who(request), note=request.POST.get("note", "").strip(),
                                   photo=upload.read() if upload else None,
                                   photo_type=upload.content_type if upload else "")
            return redirect(reverse("web:crisis_runbook", args=[uid, site, slug]) + f"#step-{step.order}")
        except ValueError as exc:
            error, status = str(exc), 400
    progress = services.run_progress(run)
    for s in progress["steps"]:
        c = s["completion"]
        s["photo_uri"] = (f"data:{c.photo_type};base64,{base64.b64encode(bytes(c.photo)).decode()}"
                          if c and c.photo else "")
    return render(request, "resilience/runbook.html", {
        "crisis": crisis, "run": run, "progress": progress, "may_complete": may_complete, "error": error},
        status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def answer_page(request, token: str):
    """The personal answer link. No login and no rate limit: the signed, single-use, expiring token is
    checked on every request and a refused one says why (and changes nothing)."""
    refused, done = "", None
    try:
        link = services.check_link(token)
    except ReplyRefused as exc:
        link, refused = None, exc.reason
    status = 200
    if request.method == "POST" and link is not None:
        try:
            done = services.answer_by_link(token, request.POST.get("answer", ""), request.POST.get("text", "")[:500],
                                           via=f"personal link from {request.META.get('REMOTE_ADDR', '?')}")
        except ReplyRefused as exc:
            refused, status = exc.reason, 400
    elif request.method == "POST":
        status = 400
    participant = link.participant if link else None
    return render(request, "resilience/answer.html", {
        "participant": participant, "rc": participant.roll_call if participant else None,
        "answers": Answer.choices, "refused": refused, "done": done}, status=status)

