"""Django admin: every model of the domain apps has a page, and an administrator can open each."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin

DOMAIN_APPS = ("core", "workforce", "events", "detect", "response")


def test_every_domain_model_is_in_the_admin():
    missing = [m.__name__ for app in DOMAIN_APPS for m in apps.get_app_config(app).get_models()
               if m not in admin.site._registry and not m._meta.auto_created]
    assert missing == [], missing


def test_admin_changelists_open(client, role_users):
    client.force_login(role_users["admin"])
    for model in admin.site._registry:
        if model._meta.app_label in DOMAIN_APPS:
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            assert client.get(url).status_code == 200, url
    client.force_login(role_users["analyst"])
    assert client.get("/admin/core/asset/").status_code == 302  # not staff: back to the admin login
