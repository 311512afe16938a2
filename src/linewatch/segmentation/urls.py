"""Segmentation pages, added to the `web` namespace by linewatch.web.urls.

`NAV` adds entries to the main navigation: (url name, label, capability); `SECTION_OF` maps a detail page
to the navigation entry it highlights."""

from __future__ import annotations

from django.urls import path

from linewatch.core.permissions import Cap
from linewatch.segmentation import views

urlpatterns: list = [
    path("segmentation/", views.segmentation_index, name="segmentation"),
    path("sites/<slug:slug>/segmentation/", views.site_segmentation, name="site_segmentation"),
]
NAV: list = [("segmentation", "Segmentation", Cap.VIEW_PLANT)]
SECTION_OF: dict[str, str] = {"site_segmentation": "segmentation"}
