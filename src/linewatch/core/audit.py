"""The audit trail: every create, update and delete of a model object, with who, when, how,
and the object before and after.

Signals catch every write path (site import, web, API, admin, shell) in one place. The actor
comes from a context variable: the middleware sets it per request, the CLI per command.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

AUDITED_APPS = {"core", "workforce", "segmentation"}
NOT_AUDITED = {"AuditEntry", "ApiToken"}  # the trail itself; tokens only carry a digest and last use


@dataclass(frozen=True)
class Actor:
    user: Any = None
    name: str = "system"
    via: str = "system"


SYSTEM = Actor()
_actor: contextvars.ContextVar[Actor | Any] = contextvars.ContextVar("linewatch_actor", default=SYSTEM)  # noqa: B039


@contextlib.contextmanager
def acting_as(actor: Actor | Any) -> Iterator[None]:
    """Attribute changes made inside the block to `actor` (an Actor, or a request)."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> Actor:
    actor = _actor.get()
    if isinstance(actor, Actor):
        return actor
    # A request: its user is read when the change happens, since API token authentication
    # runs after the middleware and sets request.user then.
    user = getattr(actor, "user", None)
    if user is None or not user.is_authenticated:
        return Actor(name="anonymous", via="web")
    path = actor.path
    via = getattr(actor, "linewatch_via", None) or (
        "admin" if path.startswith("/admin/") else "api" if path.startswith("/api/") else "web")
    return Actor(user=user, name=user.get_username(), via=via)


class AuditActorMiddleware:
    """Attributes changes made during a request to its user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting_as(request):
            return self.get_response(request)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The object's own fields as JSON-able values (foreign keys as ids)."""
    return {f.attname: _jsonable(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}


def _site_slug(obj: models.Model) -> str:
    """The slug of the site an object belongs to ('' for organisation-wide objects).

    A slug, not a foreign key: the trail must outlive the site it describes.
    """
    from linewatch.core.models import Site

    if isinstance(obj, Site):
        return obj.slug
    site_id = getattr(obj, "site_id", None)
    for parent in ("asset", "area"):  # interfaces; zone owners and training requirements
        if site_id is None and hasattr(obj, f"{parent}_id"):
            site_id = getattr(type(obj), parent).field.related_model.objects.filter(
                pk=getattr(obj, f"{parent}_id")).values_list("site_id", flat=True).first()
    if site_id is None:
        return ""
    return Site.objects.filter(pk=site_id).values_list("slug", flat=True).first() or ""


def _audited(sender: type[models.Model]) -> bool:
    return sender._meta.app_label in AUDITED_APPS and sender.__name__ not in NOT_AUDITED


def _record(obj: models.Model, action: str, before: dict | None, after: dict | None) -> None:
    from linewatch.core.models import AuditEntry

    actor = current_actor()
    AuditEntry.objects.create(
        actor=actor.user if getattr(actor.user, "pk", None) else None,
        actor_name=actor.name,
        via=actor.via[:200],
        action=action,
        object_type=f"{obj._meta.app_label}.{obj._meta.model_name}",
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        site_slug=_site_slug(obj),
        before=before,
        after=after,
    )


def _pre_save(sender, instance, raw=False, **kwargs):
    if raw or not _audited(sender) or instance.pk is None:
        return
    old = sender._base_manager.filter(pk=instance.pk).first()
    instance._audit_before = snapshot(old) if old is not None else None


def _post_save(sender, instance, created, raw=False, **kwargs):
    if raw or not _audited(sender):
        return
    before = None if created else getattr(instance, "_audit_before", None)
    after = snapshot(instance)
    if before == after:
        return  # a save that changed nothing is not a change
    _record(instance, "create" if created or before is None else "update", before, after)


def _post_delete(sender, instance, **kwargs):
    if _audited(sender):
        _record(instance, "delete", snapshot(instance), None)


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if reverse or action not in {"post_add", "post_remove", "post_clear"} or not _audited(type(instance)):
        return
    if action != "post_clear" and not pk_set:
        return
    field = next(
        f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender
    )
    change = {"field": field, action.removeprefix("post_"): sorted(pk_set or [])}
    _record(instance, "update", None, change)


def connect_signals() -> None:
    pre_save.connect(_pre_save, dispatch_uid="linewatch-audit-pre")
    post_save.connect(_post_save, dispatch_uid="linewatch-audit-post")
    post_delete.connect(_post_delete, dispatch_uid="linewatch-audit-delete")
    m2m_changed.connect(_m2m_changed, dispatch_uid="linewatch-audit-m2m")
