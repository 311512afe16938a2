"""Web UI routes, in the `web` namespace. Every route but login is behind LoginRequiredMiddleware;
tests/web/test_roles_pages.py holds the capability each one needs and fails on a route it lacks."""

from django.contrib.auth import views as auth_views
from django.urls import path

from linewatch.detect import views as detect_views
from linewatch.discovery import views as discovery_views
from linewatch.response import views as response_views
from linewatch.web import views
from linewatch.web.domains import modules

app_name = "web"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("sites/", views.site_list, name="sites"),
    path("sites/<slug:slug>/", views.site_detail, name="site"),
    path("zones/", views.zone_index, name="zones"),
    path("sites/<slug:slug>/zones/", views.site_zones, name="site_zones"),
    path("assets/", views.asset_list, name="assets"),
    path("assets/<slug:site>/<slug:name>/", views.asset_detail, name="asset"),
    path("lines/", views.line_list, name="lines"),
    path("lines/<slug:site>/<slug:slug>/", views.line_detail, name="line"),
    path("ownership/", views.ownership, name="ownership"),
    path("alerts/", detect_views.alert_list, name="alerts"),
    path("alerts/stream/", detect_views.alert_stream, name="alert_stream"),  # before alerts/<uid>/
    path("alerts/<str:uid>/", detect_views.alert_detail, name="alert"),
    path("cases/", detect_views.case_list, name="cases"),
    path("cases/<str:uid>/", detect_views.case_detail, name="case"),
    path("incidents/", response_views.queue, name="incidents"),
    path("discovered/", discovery_views.discovered_list, name="discovered"),
    path("discovered/<slug:site>/<str:key>/", discovery_views.discovered_device, name="discovered_device"),
]

for _domain_urls in modules("urls"):
    urlpatterns += _domain_urls.urlpatterns
