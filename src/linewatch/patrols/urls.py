"""Patrols pages, added to the `web` namespace by linewatch.web.urls.

`NAV` adds entries to the main navigation: (url name, label, capability); `SECTION_OF` maps a detail page
to the navigation entry it highlights."""

from __future__ import annotations

urlpatterns: list = []
NAV: list = []
SECTION_OF: dict[str, str] = {}
