"""Event ingestion over HTTP: `POST /api/v1/events` with NDJSON."""

from __future__ import annotations

from ninja import Router

from linewatch.api.api import forbid
from linewatch.core.permissions import Cap, can, visible_sites

router = Router(tags=["events"])

MAX_BODY = 32 * 1024 * 1024


@router.post("/events", summary="Ingest NDJSON: raw records with `source`, or normalized events")
def post_events(request, site: str = ""):
    user = request.auth
    if not can(user, Cap.INGEST_EVENTS):
        raise forbid()
    from linewatch.errors import InputError
    from linewatch.events.services import ingest_ndjson

    if len(request.body) > MAX_BODY:
        raise InputError("body", "", f"larger than {MAX_BODY // (1024 * 1024)} MiB: split it into batches")
    allowed = set(visible_sites(user, Cap.INGEST_EVENTS).values_list("slug", flat=True))
    if site and site not in allowed:
        raise forbid(f"you may not send events for site {site!r}")
    everywhere = can(user, Cap.MANAGE_USERS)
    return ingest_ndjson(request.body, default_site=site,
                         allowed_site=lambda s: everywhere or s in allowed or (not s and bool(allowed)))
