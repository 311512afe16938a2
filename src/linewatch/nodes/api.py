"""The headquarters side of plant-node sync: a node pushes its outbox and pulls what headquarters recorded.

A node authenticates with a bearer token of a user holding the `node` role for the sites it serves; the user's
name is the node's name, so a node can forward only records it made itself, and only for its own sites.
"""

from __future__ import annotations

import json

from ninja import Router

from linewatch.api.api import forbid
from linewatch.core.permissions import Cap, can, visible_sites
from linewatch.errors import InputError

router = Router(tags=["nodes"])

MAX_RECORDS = 5000


def _node_sites(user) -> set[str]:
    if not can(user, Cap.SYNC_NODE):
        raise forbid()
    return set(visible_sites(user, Cap.SYNC_NODE).values_list("slug", flat=True))


@router.post("/nodes/push", summary="A plant node forwards its outbox; answers what was applied and acknowledged")
def push(request):
    from linewatch.nodes.replication import RecordError, check_records, node_name, receive

    user = request.auth
    sites = _node_sites(user)
    try:
        payload = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("body", "", f"not JSON: {exc}") from None
    records = payload.get("records") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        raise InputError("body", "records", "expected an object with a list of records")
    if len(records) > MAX_RECORDS:
        raise InputError("body", "records", f"more than {MAX_RECORDS} records: send smaller batches")
    try:
        check_records(user.get_username(), records)
        foreign = sorted({r["site"] for r in records} - sites)
        if foreign:
            raise forbid(f"node {user.get_username()} does not serve site(s) {', '.join(foreign)}")
        result = receive(user.get_username(), records)
    except RecordError as exc:
        raise InputError("body", "records", str(exc)) from None
    return {"node": node_name() or "hq", **result.as_dict()}


@router.get("/nodes/pull", summary="What headquarters recorded for a node's site after a sequence number")
def pull(request, site: str, after: int = 0, limit: int = 500):
    from linewatch.nodes.models import OutboxRecord
    from linewatch.nodes.replication import as_wire, node_name

    user = request.auth
    if site not in _node_sites(user):
        raise forbid(f"node {user.get_username()} does not serve site {site!r}")
    limit = max(1, min(limit, MAX_RECORDS))
    me = node_name()
    rows = list(OutboxRecord.objects.filter(origin=me, site_slug=site, seq__gt=after).order_by("seq")[: limit + 1])
    return {"node": me or "hq", "records": [as_wire(r) for r in rows[:limit]], "more": len(rows) > limit}
