"""Patrols pages, added to the `web` namespace by linewatch.web.urls.

`NAV` adds entries to the main navigation: (url name, label, capability); `SECTION_OF` maps a detail page
to the navigation entry it highlights."""

from __future__ import annotations

from django.urls import path

from linewatch.core.permissions import Cap
from linewatch.patrols import views

urlpatterns: list = [
    path("patrol/", views.guard_page, name="patrol"),
    path("patrol/sw.js", views.service_worker, name="patrol_sw"),
    path("patrol/report/", views.report_form, name="patrol_report"),
    path("patrol/nfc/<slug:site>/<slug:code>/", views.nfc_landing, name="patrol_nfc"),
    path("patrols/", views.runs, name="patrol_runs"),
    path("patrols/runs/<uuid:uid>/", views.run_detail, name="patrol_run"),
    path("patrols/photos/<uuid:uid>/", views.photo, name="patrol_photo"),
    path("patrols/sheet/<slug:site>/<slug:tour>/", views.qr_sheet, name="patrol_sheet"),
]
NAV: list = [
    ("patrol", "Patrol", Cap.PATROL),
    ("patrol_report", "Report", Cap.PATROL),
    ("patrol_runs", "Patrols", Cap.VIEW_PEOPLE),
]
SECTION_OF: dict[str, str] = {"patrol_run": "patrol_runs", "patrol_nfc": "patrol", "patrol_sheet": "patrol_runs"}
