"""Watchlist pages: the entries, adding one, an entry (edit, retire, reinstate, its hits), and the
hits at the user's sites. Who may do what is decided in workforce.watchlists; forms are
CSRF-protected POSTs, entries of other organisations and other plants' own entries answer 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from linewatch.core import audit
from linewatch.core.permissions import Cap
from linewatch.errors import InputError
from linewatch.workforce import watchlists
from linewatch.workforce.views import _sites


def _form_values(post) -> dict:
    return {"name": post.get("name", ""), "reason": post.get("reason", ""), "company": post.get("company", ""),
            "aliases": post.get("aliases", ""), "source": post.get("source", ""),
            "expires_on": post.get("expires_on", ""), "banned": bool(post.get("banned"))}


def watchlist(request):
    _sites(request, Cap.VIEW_PEOPLE)
    q = request.GET.get("q", "").strip()
    retired = request.GET.get("retired") == "1"
    shown = watchlists.entries(request.user).filter(active=not retired)
    if q:
        shown = shown.filter(Q(name__icontains=q) | Q(aliases__icontains=q) | Q(company__icontains=q))
    counts: dict[str, int] = {}
    for hit in watchlists.hits(_sites(request, Cap.VIEW_PEOPLE)):
        counts[str(hit.get("entry"))] = counts.get(str(hit.get("entry")), 0) + 1
    rows = [{"entry": e, "hits": counts.get(str(e.pk), 0)} for e in shown.order_by("name", "pk")[:1000]]
    return render(request, "workforce/watchlist.html", {
        "rows": rows, "q": q, "retired": retired,
        "may_add": watchlists.organisations(request.user, Cap.EDIT_PEOPLE).exists()})


@require_http_methods(["GET", "POST"])
def watchlist_new(request):
    _sites(request, Cap.EDIT_PEOPLE)
    choices = watchlists.organisations(request.user, Cap.EDIT_PEOPLE)
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            organisation, site = watchlists.scope_to_add(request.user, request.POST.get("organisation", ""),
                                                         request.POST.get("site", ""))
            with audit.acting_as(request):
                entry = watchlists.add(organisation, _form_values(request.POST), request.user.get_username(), site)
        except InputError as exc:
            messages.error(request, exc.message)
        else:
            where = f"at {site.name}" if site else "at every site"
            messages.success(request, f"{entry.name} is on the watchlist {where}; registrations and sign-ins are "
                             "checked.")
            return redirect("web:workforce_watchlist")
    return render(request, "workforce/watchlist_form.html", {
        "form": form, "organisations": choices, "entry": None, "sites": watchlists.sites_to_add(request.user)},
        status=400 if form else 200)


@require_http_methods(["GET", "POST"])
def watchlist_entry(request, entry_id: int):
    _sites(request, Cap.VIEW_PEOPLE)
    entry = get_object_or_404(watchlists.entries(request.user), pk=entry_id)
    editable = watchlists.may_change(request.user, entry)
    form = {}
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_needs(entry))
        action = request.POST.get("action", "save")
        values = {"save": {**_form_values(request.POST), "site": request.POST.get("site", "")},
                  "retire": {"active": False}, "reinstate": {"active": True}}.get(action)
        try:
            if values is None:
                raise InputError("watchlist", str(entry.pk), f"unknown action {action!r}")
            with audit.acting_as(request):
                watchlists.change(entry, values, request.user)
        except InputError as exc:
            messages.error(request, exc.message)
            form = request.POST
        else:
            done = {"save": "saved", "retire": "retired: no longer checked", "reinstate": "reinstated"}[action]
            messages.success(request, f"{entry.name}: {done}.")
            return redirect("web:workforce_watchlist_entry", entry_id=entry.pk)
    return render(request, "workforce/watchlist_entry.html", {
        "entry": entry, "editable": editable, "form": form or None, "needs": _needs(entry),
        "sites": watchlists.sites_to_add(request.user).filter(organisation=entry.organisation),
        "hits": watchlists.hits(_sites(request, Cap.VIEW_PEOPLE), entry)}, status=400 if form else 200)


def _needs(entry) -> str:
    if entry.site_id:
        return f"Changing or retiring this entry needs people rights at {entry.site.name}."
    return f"Changing or retiring an entry needs people rights at every site of {entry.organisation.name}."


def watchlist_hits(request):
    sites = _sites(request, Cap.VIEW_PEOPLE)
    return render(request, "workforce/watchlist_hits.html", {"hits": watchlists.hits(sites)})
