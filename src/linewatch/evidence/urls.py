"""Evidence pages, added to the `web` namespace by linewatch.web.urls.

`NAV` adds entries to the main navigation: (url name, label, capability); `SECTION_OF` maps a detail page
to the navigation entry it highlights."""

from __future__ import annotations

from django.urls import path

from linewatch.core.permissions import Cap
from linewatch.evidence import views

urlpatterns: list = [
    path("evidence/", views.home, name="evidence"),
    path("evidence/partners/", views.partner_list, name="evidence_partners"),
    path("evidence/<slug:slug>/", views.site, name="evidence_site"),
    path("evidence/<slug:slug>/partners/", views.site_partners, name="evidence_site_partners"),
]
NAV: list = [("evidence", "Evidence", Cap.VIEW_AUDIT), ("evidence_partners", "Partners", Cap.VIEW_AUDIT)]
SECTION_OF: dict[str, str] = {"evidence_site": "evidence", "evidence_site_partners": "evidence_partners"}
