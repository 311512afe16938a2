"""Resilience pages, added to the `web` namespace by linewatch.web.urls.

`NAV` adds entries to the main navigation: (url name, label, capability); `SECTION_OF` maps a detail page
to the navigation entry it highlights."""

from __future__ import annotations

from django.urls import path

from linewatch.core.permissions import Cap
from linewatch.resilience import views

urlpatterns: list = [
    path("crises/", views.crisis_list, name="crises"),
    path("crises/<slug:uid>/", views.crisis_room, name="crisis"),
    path("crises/<slug:uid>/<slug:site>/unaccounted/", views.unaccounted, name="crisis_unaccounted"),
    path("crises/<slug:uid>/<slug:site>/kiosk/", views.kiosk, name="crisis_kiosk"),
    path("crises/<slug:uid>/<slug:site>/runbooks/<slug:slug>/", views.runbook, name="crisis_runbook"),
    path("r/<str:token>/", views.answer_page, name="rollcall_answer"),
]
NAV: list = [("crises", "Crises", Cap.VIEW_SITES)]
SECTION_OF: dict[str, str] = {"crisis": "crises", "crisis_unaccounted": "crises", "crisis_kiosk": "crises",
                              "crisis_runbook": "crises"}
