"""The domains that contribute pages, navigation entries, API routers and CLI commands of their own.

Each listed package may hold `urls.py` (urlpatterns, NAV, SECTION_OF), `api.py` (router) and `cli.py`
(`register(app)`); linewatch.web.urls, linewatch.web.context, linewatch.api.api and linewatch.cli read them
from here, so adding a domain's page never means editing another domain's file.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

DOMAINS = ("discovery", "vulns", "segmentation", "workforce", "resilience", "patrols", "evidence", "nodes",
           "response")


def modules(kind: str) -> list[ModuleType]:
    """The `linewatch.<domain>.<kind>` modules that exist, in DOMAINS order."""
    found = []
    for domain in DOMAINS:
        try:
            found.append(import_module(f"linewatch.{domain}.{kind}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"linewatch.{domain}.{kind}":
                raise
    return found
