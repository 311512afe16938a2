"""URL map: the web UI at /, the API at /api/v1/, Django admin at /admin/."""

from django.contrib import admin
from django.urls import include, path

from linewatch.api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("linewatch.web.urls")),
]
