"""Delivery reports over the API: an SMS gateway, a display or a siren controller says what became of a message."""

from __future__ import annotations

import json

from ninja import Router

from linewatch.api.api import forbid
from linewatch.core.permissions import Cap, can

router = Router(tags=["response"])


@router.post("/notifications/receipts", summary="A channel reports delivery (or failure) of a message we sent")
def delivery_report(request):
    """Gateways post `{"ref": "LW-123", "status": "delivered", "source": "…"}` with a machine token (ingest
    capability); `ref` is the reference sent at the end of the subject or in an MQTT payload. A failure moves the
    message to its next rung at once; a report naming no message of ours is refused with the reason and changes
    nothing."""
    from linewatch.errors import InputError
    from linewatch.response.notify import DeliveryReportRefused, record_delivery

    user = request.auth
    if not can(user, Cap.INGEST_EVENTS):
        raise forbid()
    try:
        report = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("body", "", f"not JSON: {exc}") from None
    if not isinstance(report, dict) or not isinstance(report.get("ref"), str) \
            or not isinstance(report.get("status"), str):
        raise InputError("body", "", 'expected {"ref": "LW-<number>", "status": "delivered|failed|…"}')
    try:
        receipt = record_delivery(report["ref"], report["status"], str(report.get("source") or user.get_username()))
    except DeliveryReportRefused as exc:
        raise InputError("body", "ref", str(exc)) from None
    return {"ref": report["ref"], "recorded": "delivered" if receipt else "failed: next rung due now"}
