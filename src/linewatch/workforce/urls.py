"""Workforce pages, added to the `web` namespace by linewatch.web.urls.

`NAV` adds entries to the main navigation: (url name, label, capability); `SECTION_OF` maps a detail page
to the navigation entry it highlights."""

from __future__ import annotations

from django.urls import path

from linewatch.core.permissions import Cap
from linewatch.workforce import views, visit_views, watchlist_views

urlpatterns: list = [
    path("people/", views.people, name="workforce_people"),
    path("people/<slug:key>/", views.person, name="workforce_person"),
    path("people/<slug:key>/offboard/", views.offboard, name="workforce_offboard"),
    path("companies/<slug:slug>/", views.company, name="workforce_company"),
    path("access/", views.access, name="workforce_access"),
    path("roster/", views.rosters, name="workforce_rosters"),
    path("roster/<slug:slug>/", views.roster, name="workforce_roster"),
    path("reviews/", views.reviews, name="workforce_reviews"),
    path("reviews/<slug:site>/<slug:slug>/", views.review, name="workforce_review"),
    path("visits/", visit_views.visit_list, name="workforce_visits"),
    path("visits/<slug:site>/new/", visit_views.visit_new, name="workforce_visit_new"),
    path("visits/<slug:site>/kiosk/", visit_views.kiosk, name="workforce_kiosk"),
    path("visits/v/<slug:code>/", visit_views.visit, name="workforce_visit"),
    path("visits/v/<slug:code>/check-in/", visit_views.check_in, name="workforce_visit_checkin"),
    path("visits/v/<slug:code>/badge.pdf", visit_views.badge, name="workforce_visit_badge"),
    path("watchlist/", watchlist_views.watchlist, name="workforce_watchlist"),
    path("watchlist/new/", watchlist_views.watchlist_new, name="workforce_watchlist_new"),
    path("watchlist/hits/", watchlist_views.watchlist_hits, name="workforce_watchlist_hits"),
    path("watchlist/<int:entry_id>/", watchlist_views.watchlist_entry, name="workforce_watchlist_entry"),
]
NAV: list = [
    ("workforce_rosters", "On site", Cap.VIEW_SITES), ("workforce_people", "People", Cap.VIEW_PEOPLE),
    ("workforce_access", "Access", Cap.VIEW_PEOPLE), ("workforce_reviews", "Reviews", Cap.VIEW_PEOPLE),
    ("workforce_visits", "Visitors", Cap.VIEW_PEOPLE),
]
SECTION_OF: dict[str, str] = {
    "workforce_person": "workforce_people", "workforce_offboard": "workforce_people",
    "workforce_company": "workforce_people", "workforce_review": "workforce_reviews",
    "workforce_roster": "workforce_rosters", "workforce_visit_new": "workforce_visits",
    "workforce_kiosk": "workforce_visits", "workforce_visit": "workforce_visits",
    "workforce_visit_checkin": "workforce_visits", "workforce_visit_badge": "workforce_visits",
    "workforce_watchlist": "workforce_visits", "workforce_watchlist_new": "workforce_visits",
    "workforce_watchlist_hits": "workforce_visits", "workforce_watchlist_entry": "workforce_visits",
}
