"""Segmentation pages: per site, the zones-and-conduits diagram with reachability from the real firewall configs
overlaid, the attack path from an IT zone to the most exposed line drawn on it, its smallest fix, the zone matrix,
the check list with drill-down to rules (file:line) and witness flows, and the flow conformance of the conversations
passive discovery stored (reported only here: `segmentation conformance --from-discovery` publishes the events).
VIEW_PLANT at the site, else 403/404."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.errors import InputError, InputErrors
from linewatch.web import diagram, queries

DISPOSITION_CLASS = {"ACCEPTED": "open", "NO_RETURN": "oneway", "DENIED_IN": "denied", "NO_ROUTE": "noroute",
                     "INSUFFICIENT_INFO": "unknown"}


def _sites(request):
    if not can(request.user, Cap.VIEW_PLANT):
        raise PermissionDenied(f"Your role does not allow this page ({Cap.VIEW_PLANT.value}).")
    return visible_sites(request.user, Cap.VIEW_PLANT)


def segmentation_index(request):
    from linewatch.segmentation import analysis

    sites = list(_sites(request).order_by("name"))
    return render(request, "segmentation/index.html", {
        "rows": [(s, analysis.has_configs(s.slug)) for s in sites]})


def default_question(site: str, model) -> tuple[str | None, str | None]:
    """From the first IT zone (Purdue 4/5) to the most expensive line a direct IT -> control finding exposes."""
    from linewatch.segmentation.checks import IT_LEVELS
    from linewatch.segmentation.demo import exposed_line

    it = sorted(z for z, spec in model.zones.items() if spec.level in IT_LEVELS and spec.cidrs)
    for z in it:
        line = exposed_line(site, z, model)
        if line:
            return z, line
    return (it[0] if it else None), None


def site_analysis(site: str, from_: str | None, to: str | None) -> dict:
    """Everything the page shows, as plain data (the API returns the same). Kept until the plant model, a stored
    configuration (both move the audit trail) or the site's vulnerability facts change: the analysis takes seconds."""
    import hashlib
    import json

    from linewatch.core.services import cached
    from linewatch.segmentation import analysis
    from linewatch.segmentation.services import discovery_stamp

    facts = hashlib.sha256(json.dumps([analysis.vulnerability_facts(site), discovery_stamp(site)], sort_keys=True,
                                      default=str).encode()).hexdigest()
    return cached(f"segmentation:{site}:{from_}:{to}:{facts}", lambda: _site_analysis(site, from_, to))


def discovery_conformance(site: str, model) -> dict:
    """The stored discovery conversations against the policy, without publishing (the page only reports)."""
    import datetime as dt

    from linewatch.segmentation import analysis
    from linewatch.segmentation.services import discovery_stamp

    if not discovery_stamp(site)[0]:
        return {"conversations": 0}
    doc = analysis.conformance(site, [], model, publish=False, from_discovery=True)
    for v in doc["reported"]:
        d = v.get("detail") or {}
        for k in ("first_seen", "last_seen"):
            d[k + "_at"] = dt.datetime.fromtimestamp(d[k] / 1000, dt.UTC) if d.get(k) else None
    return {"conversations": doc["discovery"]["conversations"], "counts": doc["counts"],
            "reported": doc["reported"], "errors": doc["errors"]}


def _site_analysis(site: str, from_: str | None, to: str | None) -> dict:
    from linewatch.segmentation import analysis, checks, plant

    if not analysis.has_configs(site):  # what the plant model alone shows: dual-homed assets (SEG-10)
        model = plant.build(site, {"site": site, "devices": {}, "source": "plant model only"})
        findings = [f for f in checks.run_checks(model, plant.impact_function(plant.site_currency(site)),
                                                 ["SEG-10"]) if f.check == "SEG-10"]
        return {"configured": False, "report": {"findings": [f.as_dict() for f in findings]}, "attack": None}
    model = analysis.site_model(site)
    report = analysis.check_report(site, model)
    if not from_ or not to:
        d_from, d_to = default_question(site, model)
        from_, to = from_ or d_from, to or d_to
    paths = analysis.attack_paths(site, from_, to, 3, model=model) if from_ and to else None
    return {"configured": True, "report": report, "attack": paths, "from": from_, "to": to,
            "conformance": discovery_conformance(site, model)}


def site_segmentation(request, slug: str):
    site = get_object_or_404(_sites(request), slug=slug)
    zones = queries.zones_top_down(site)
    conduits = queries.conduits_of(site)
    dia = diagram.layout(zones, conduits)
    error = ""
    try:
        data = site_analysis(site.slug, request.GET.get("from") or None, request.GET.get("to") or None)
    except (InputError, InputErrors) as exc:
        data, error = {"configured": True, "report": None, "attack": None}, str(exc)
    ctx = {"site": site, "zones": zones, "conduits": conduits, "diagram": dia, "data": data, "error": error}
    if data.get("report") and "matrix" in data["report"]:
        ctx.update(overlay(dia, zones, conduits, data))
    return render(request, "segmentation/site.html", ctx)


def overlay(dia, zones, conduits, data: dict) -> dict:
    """Matrix rows, undeclared open zone pairs as extra arrows, and the attack path as segments between boxes."""
    boxes = {b.zone.slug: b for b in dia.boxes}
    declared = {(c.from_zone.slug, c.to_zone.slug) for c in conduits}
    declared |= {(c.to_zone.slug, c.from_zone.slug) for c in conduits if c.direction == "both"}
    matrix = data["report"]["matrix"]
    order = [z.slug for z in zones if z.slug in matrix]
    rows = []
    for a in order:
        cells = []
        for b in order:
            disp = "" if a == b else matrix[a].get(b, "")
            cls = DISPOSITION_CLASS.get(disp, "")
            if disp in ("ACCEPTED", "NO_RETURN") and (a, b) not in declared:
                cls += " undeclared"
            cells.append({"zone": b, "disposition": disp, "cls": cls})
        rows.append({"zone": a, "cells": cells})
    extra = []
    for a in order:
        for b in order:
            if a != b and matrix[a].get(b) == "ACCEPTED" and (a, b) not in declared and a in boxes and b in boxes:
                extra.append(_segment(boxes[a], boxes[b], f"{a} → {b}: open, no conduit declares it"))
    path_segments = []
    attack = data.get("attack")
    if attack and attack["paths"]:
        zs = attack["paths"][0]["zones"]
        for i, (a, b) in enumerate(zip(zs, zs[1:], strict=False)):
            if a != b and a in boxes and b in boxes:
                step = attack["paths"][0]["steps"][i]
                path_segments.append(_segment(boxes[a], boxes[b], f"{step['from']} → {step['to']}: "
                                              f"{step['privilege']} via {', '.join(step['services'][:3])}"))
    return {"matrix_zones": order, "matrix_rows": rows, "undeclared": extra, "path_segments": path_segments}


def _segment(a, b, title: str) -> dict:
    x1, x2 = a.cx, b.cx
    if a.y == b.y:
        y1 = y2 = a.y
        cy = a.y - 50
        return {"d": f"M{x1},{y1} C{x1},{cy} {x2},{cy} {x2},{y2}", "title": title}
    y1 = a.y + a.h if a.y < b.y else a.y
    y2 = b.y if a.y < b.y else b.y + b.h
    return {"d": f"M{x1},{y1} C{x1},{(y1 + y2) // 2} {x2},{(y1 + y2) // 2} {x2},{y2}", "title": title}
