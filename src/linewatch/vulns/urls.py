"""Vulns pages, added to the `web` namespace by linewatch.web.urls: the risk register and one subject's
findings (an asset, or a discovered device that no asset stands for)."""

from __future__ import annotations

from django.urls import path

from linewatch.core.permissions import Cap
from linewatch.vulns import views

urlpatterns: list = [
    path("risk/", views.register, name="risk_register"),
    path("risk/<slug:site>/<str:kind>/<str:key>/", views.subject, name="vuln_subject"),
]
NAV: list = [("risk_register", "Risk register", Cap.VIEW_PLANT)]
SECTION_OF: dict[str, str] = {"vuln_subject": "risk_register"}
