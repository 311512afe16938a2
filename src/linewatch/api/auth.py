"""API authentication: bearer tokens for machines, the session (with CSRF) for the browser."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from linewatch.core import accounts


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = accounts.user_for_token(token)
        if user is None:
            return None
        request.user = user  # the audit trail reads the request's user when a change happens
        request.linewatch_via = "api token"
        return user


class ActiveSessionAuth(SessionAuth):
    """The browser session; ninja checks the CSRF token on unsafe methods."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


AUTH = [TokenAuth(), ActiveSessionAuth()]
