"""Segmentation API (under /api/v1): per site, the zone matrix, the check findings and the attack path from an IT
zone (or `source`: a zone or asset) to the most exposed line (or `target`: a line, asset or zone) with its
smallest fix, and the flow conformance of the conversations discovery stored. VIEW_PLANT at the site, else 403/404."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router

from linewatch.api.api import forbid
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.errors import InputError, InputErrors

router = Router(tags=["segmentation"])


@router.get("/segmentation/{slug}", response=dict[str, Any])
def site_segmentation(request, slug: str, source: str = "", target: str = ""):
    """Zone matrix, findings and attack paths of one site from its firewall configurations."""
    from linewatch.segmentation.views import site_analysis

    if not can(request.user, Cap.VIEW_PLANT):
        raise forbid()
    site = get_object_or_404(visible_sites(request.user, Cap.VIEW_PLANT), slug=slug)
    try:
        data = site_analysis(site.slug, source or None, target or None)
    except (InputError, InputErrors) as exc:
        return {"site": site.slug, "configured": True, "error": str(exc)}
    out: dict[str, Any] = {"site": site.slug, "configured": data["configured"]}
    if not data["configured"]:
        out["findings"] = data["report"]["findings"]  # from the plant model alone (SEG-10)
    else:
        report = data["report"]
        out |= {"matrix": report["matrix"], "counts": report["counts"], "findings": report["findings"],
                "unsupported": report["unsupported"], "attack": data["attack"], "conformance": data["conformance"]}
    return out
