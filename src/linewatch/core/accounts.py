"""Users, role assignments and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from linewatch.core.choices import Role
from linewatch.core.models import ApiToken, RoleAssignment, Site

TOKEN_PREFIX = "lw_"


@transaction.atomic
def create_user(username: str, password: str, role: str, *, sites: Iterable[str] = (), all_sites: bool = False,
                validate: bool = True):
    """Create a user holding `role` at the given sites (or all). Raises ValueError on bad input."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(Role.values)}")
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValueError("a user with that name exists")
    site_objs = list(Site.objects.filter(slug__in=list(sites)))
    missing = set(sites) - {s.slug for s in site_objs}
    if missing:
        raise ValueError(f"unknown site(s): {', '.join(sorted(missing))}")
    if validate:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None
    user = User.objects.create_user(username=username, password=password,
                                    is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    assignment = RoleAssignment.objects.create(user=user, role=role, all_sites=all_sites)
    assignment.sites.set(site_objs)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user, name: str, expires=None) -> str:
    """Make a token and store only its digest; the token itself is returned once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=token[:10], digest=_digest(token), expires=expires)
    return token


def user_for_token(token: str):
    """The active user a token belongs to, or None (unknown, expired or inactive)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    found = ApiToken.objects.select_related("user").filter(digest=_digest(token)).first()
    now = timezone.now()
    if found is None or not found.user.is_active or (found.expires and found.expires <= now):
        return None
    if found.last_used is None or (now - found.last_used).total_seconds() > 60:
        ApiToken.objects.filter(pk=found.pk).update(last_used=now)  # at most once a minute
    return found.user
