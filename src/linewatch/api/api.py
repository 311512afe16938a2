"""The NinjaAPI instance, its error handling, and the routers of each domain."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError

from linewatch import __version__
from linewatch.api.auth import AUTH
from linewatch.errors import InputError, InputErrors

api = NinjaAPI(
    title="Linewatch API",
    version=__version__,
    description="Cyber-physical security operations for manufacturers. Authenticate with a bearer token "
                "(`linewatch token create USER`) or the web session.",
    auth=AUTH,
    urls_namespace="api",
    docs_decorator=login_required,  # the OpenAPI document and its viewer need a login too
)


@api.exception_handler(InputError)
def _input_error(request, exc: InputError):
    return api.create_response(request, {"detail": str(exc), "errors": [exc.as_dict()]}, status=400)


@api.exception_handler(InputErrors)
def _input_errors(request, exc: InputErrors):
    return api.create_response(request, {"detail": "invalid input", "errors": exc.as_list()}, status=422)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": "not found"}, status=404)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(request, {"detail": "authentication required"}, status=401)


def forbid(message: str = "your role does not allow this") -> HttpError:
    return HttpError(403, message)


def _register() -> None:
    from linewatch.core.api import router as core_router
    from linewatch.detect.api import router as detect_router
    from linewatch.events.api import router as events_router
    from linewatch.web.domains import modules

    api.add_router("", core_router)
    api.add_router("", events_router)
    api.add_router("", detect_router)
    for domain_api in modules("api"):  # discovery, vulns, segmentation, workforce, … (linewatch.web.domains)
        api.add_router("", domain_api.router)


_register()
