"""Partners (contract manufacturers, 3PL warehouses, guard contractors): their tokens, the keys they sign packs
with, what they submit (evidence packs and incident reports), verification on arrival, and the scorecard.

A partner token can only submit for its partner: it resolves to the partner, never to a user. Packs are verified
with the keys registered for that partner (never keys the pack carries); the result is kept with the submission,
and the submission itself is recorded in the evidence ledger of every site the partner serves."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import secrets
import statistics
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from linewatch.core import accounts
from linewatch.core.models import Site
from linewatch.errors import InputError, InputErrors
from linewatch.evidence.engine.checkpoint import CheckpointError, Verifier
from linewatch.evidence.engine.verify import verify_pack
from linewatch.evidence.models import (
    KeyRole,
    Partner,
    PartnerKind,
    PartnerToken,
    SigningKey,
    Submission,
    SubmissionKind,
)
from linewatch.evidence.records import attach_blob, record

TOKEN_PREFIX = "lwp_"
MAX_PACK_BYTES = 200 * 1024 * 1024
INCIDENT_CATEGORIES = ("intrusion", "theft", "tampering", "damage", "safety", "fire", "cyber", "access-violation",
                       "suspicious-activity", "other")
SEVERITIES = ("low", "medium", "high", "critical")
INCIDENT_FIELDS = ("category", "severity", "what", "where", "when", "status")


def create_partner(slug: str, name: str, kind: str, sites: Iterable[str] = ()) -> Partner:
    if kind not in PartnerKind.values:
        raise InputError("--kind", kind, f"one of {', '.join(PartnerKind.values)}")
    partner, _ = Partner.objects.update_or_create(slug=slug, defaults={"name": name, "kind": kind})
    found = list(Site.objects.filter(slug__in=list(sites)))
    missing = set(sites) - {s.slug for s in found}
    if missing:
        raise InputError("--site", ", ".join(sorted(missing)), "no such site")
    partner.sites.set(found)
    return partner


def create_token(partner: Partner, name: str, expires: dt.datetime | None = None) -> str:
    """A partner token (shown once; only its SHA-256 digest is stored, as for user tokens)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    PartnerToken.objects.create(partner=partner, name=name, prefix=token[:10], digest=accounts._digest(token),
                                expires=expires)
    return token


def partner_for_token(token: str) -> Partner | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    found = PartnerToken.objects.select_related("partner").filter(digest=accounts._digest(token)).first()
    now = timezone.now()
    if found is None or (found.expires and found.expires <= now):
        return None
    if found.last_used is None or (now - found.last_used).total_seconds() > 60:
        PartnerToken.objects.filter(pk=found.pk).update(last_used=now)
    return found.partner


def register_key(partner: Partner, vkey: str) -> SigningKey:
    """Register a verifier key (C2SP vkey) the partner's packs are signed with (its log key, its exporter)."""
    try:
        verifier = Verifier.from_vkey(vkey)
    except CheckpointError as exc:
        raise InputError("vkey", vkey[:40], str(exc)) from None
    key, _ = SigningKey.objects.get_or_create(vkey=verifier.vkey, defaults={
        "name": verifier.name, "role": KeyRole.PARTNER, "partner": partner})
    if key.partner_id != partner.pk:
        raise InputError("vkey", verifier.name, "this key is registered for another partner")
    return key


def partner_keys(partner: Partner) -> list[Verifier]:
    return [Verifier.from_vkey(k.vkey) for k in partner.keys.filter(retired__isnull=True)]


def _ledger(partner: Partner, submission: Submission) -> None:
    for site in partner.sites.select_related("organisation"):
        record(site, "partner.submission", {
            "partner": partner.slug, "submission": submission.pk, "kind": submission.kind,
            "sha256": submission.sha256, "verified": submission.verified,
            "failures": len(submission.result.get("failures", [])) if submission.kind == SubmissionKind.PACK
            else len(submission.result.get("errors", [])),
        }, at=submission.received)


def submit_pack(partner: Partner, data: bytes, filename: str = "", by: str = "", user=None) -> Submission:
    """Keep a partner's evidence pack (content-addressed) and verify it with the partner's registered keys."""
    if not data:
        raise InputError(filename or "pack", "", "empty upload")
    if len(data) > MAX_PACK_BYTES:
        raise InputError(filename or "pack", "", f"larger than {MAX_PACK_BYTES // (1024 * 1024)} MiB")
    digest = attach_blob(data, "application/zip")
    keys = partner_keys(partner)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pack.zip"
        path.write_bytes(data)
        report = verify_pack(path, keys)
    result = report.as_dict()
    result["pack"] = filename or "upload"
    if not keys:
        result["failures"].insert(0, {"file": "", "place": "", "message": "no verifier key is registered for this "
                                      "partner: nothing it sends can be trusted"})
    period_start, period_end = _period(data)
    with transaction.atomic():
        submission = Submission.objects.create(
            partner=partner, kind=SubmissionKind.PACK, received=timezone.now(), submitted_by=by[:150],
            sha256=digest, size=len(data), filename=filename[:200], verified=report.ok and bool(keys),
            result=result, period_start=period_start, period_end=period_end, user=user if getattr(
                user, "pk", None) else None)
        _ledger(partner, submission)
    return submission


def _period(data: bytes) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The period a pack's manifest claims (for coverage and timeliness; the claim is signed when it verifies)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            period = json.loads(zf.read("manifest.json")).get("period") or {}
        return (dt.datetime.fromisoformat(period["from"]) if period.get("from") else None,
                dt.datetime.fromisoformat(period["to"]) if period.get("to") else None)
    except (KeyError, ValueError, TypeError, AttributeError, OSError, zipfile.BadZipFile):
        return None, None


def check_incident(report: Any) -> tuple[dict[str, Any], list[InputError]]:
    """The standard incident form: every problem named by field, the report normalised."""
    errors: list[InputError] = []
    if not isinstance(report, dict):
        return {}, [InputError("incident", "", "an incident report is a JSON object")]
    clean: dict[str, Any] = {}
    for name in ("what", "where"):
        value = str(report.get(name) or "").strip()
        if not value:
            errors.append(InputError("incident", name, "required"))
        clean[name] = value[:8000]
    category = str(report.get("category") or "")
    if category not in INCIDENT_CATEGORIES:
        errors.append(InputError("incident", "category", f"one of {', '.join(INCIDENT_CATEGORIES)}"))
    severity = str(report.get("severity") or "")
    if severity not in SEVERITIES:
        errors.append(InputError("incident", "severity", f"one of {', '.join(SEVERITIES)}"))
    status = str(report.get("status") or "open")
    if status not in ("open", "closed"):
        errors.append(InputError("incident", "status", "open or closed"))
    when = None
    for name in ("when", "closed_at"):
        text = report.get(name)
        if text in (None, "") and name == "closed_at":
            continue
        try:
            moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("no time zone")
            clean[name] = moment.isoformat()
            if name == "when":
                when = moment
        except ValueError:
            errors.append(InputError("incident", name, "an ISO 8601 time with its zone, e.g. 2026-03-02T06:10:00Z"))
    if when and when > timezone.now() + dt.timedelta(minutes=5):
        errors.append(InputError("incident", "when", "is in the future"))
    if status == "closed" and "closed_at" not in clean:
        errors.append(InputError("incident", "closed_at", "required when the status is closed"))
    photos = report.get("photos") or []
    if not isinstance(photos, list) or not all(isinstance(p, str) and len(p) == 64 for p in photos):
        errors.append(InputError("incident", "photos", "a list of hex SHA-256 digests"))
    clean.update({"category": category, "severity": severity, "status": status, "who": str(report.get("who") or
                                                                                          "")[:4000],
                  "actions": str(report.get("actions") or "")[:8000], "photos": photos if isinstance(photos, list)
                  else [], "reference": str(report.get("reference") or "")[:200]})
    return clean, errors


def submit_incident(partner: Partner, report: Any, by: str = "", user=None) -> Submission:
    """Keep a partner's incident report. A report that does not follow the standard form is kept too (it counts
    against the partner's standardisation) and InputErrors naming each field is raised after it is stored."""
    clean, errors = check_incident(report)
    raw = json.dumps(report, sort_keys=True, default=str).encode()
    with transaction.atomic():
        submission = Submission.objects.create(
            partner=partner, kind=SubmissionKind.INCIDENT, received=timezone.now(), submitted_by=by[:150],
            sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), verified=not errors,
            result={"errors": [e.as_dict() for e in errors]}, incident=clean if not errors else report
            if isinstance(report, dict) else {"raw": str(report)[:4000]},
            incident_open=not errors and clean["status"] == "open",
            period_start=dt.datetime.fromisoformat(clean["when"]) if "when" in clean else None,
            user=user if getattr(user, "pk", None) else None)
        _ledger(partner, submission)
    if errors:
        raise InputErrors(errors)
    return submission


# -- the scorecard ----------------------------------------------------------------------------------------------


def _kpi(result: dict, control: str, name: str) -> Any:
    for c in result.get("controls", []):
        if c.get("id") == control:
            for k in c.get("kpis", []):
                if k.get("name") == name:
                    return k.get("display")
    return None


def _problem(failure: dict) -> str:
    where = ":".join(p for p in (failure.get("file", ""), failure.get("place", "")) if p)
    return f"{where}: {failure.get('message', '')}" if where else str(failure.get("message", ""))


def scorecard(partner: Partner, now: dt.datetime | None = None, days: int = 90) -> dict[str, Any]:
    """Reporting standardisation, patrol verification coverage, timeliness, open incidents and the monthly trend
    over the last `days`, with the verification failures called out. Figures with nothing behind them are None."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    subs = list(partner.submissions.filter(received__gte=since).order_by("received"))
    packs = [s for s in subs if s.kind == SubmissionKind.PACK]
    reports = [s for s in subs if s.kind == SubmissionKind.INCIDENT]
    standard = [s for s in subs if s.verified or (s.kind == SubmissionKind.PACK and s.result.get("origin"))]
    verified = [s for s in packs if s.verified]
    covered: set[dt.date] = set()
    for s in verified:
        if s.period_start and s.period_end:
            day = max(s.period_start, since).date()
            while day < min(s.period_end, now).date() + dt.timedelta(days=1) and day <= now.date():
                covered.add(day)
                day += dt.timedelta(days=1)
    delays = [(s.received - s.period_end).total_seconds() / 3600 for s in packs if s.period_end]
    report_delays = [(s.received - s.period_start).total_seconds() / 3600 for s in reports if s.period_start]
    months: dict[str, dict[str, int]] = {}
    for s in subs:
        m = months.setdefault(f"{s.received:%Y-%m}", {"submissions": 0, "verified": 0, "failed": 0})
        m["submissions"] += 1
        m["verified" if s.verified else "failed"] += 1
    latest = verified[-1] if verified else None
    return {
        "partner": partner.slug, "name": partner.name, "kind": partner.get_kind_display(),
        "sites": [s.slug for s in partner.sites.all()], "days": days,
        "submissions": len(subs),
        "standardisation_pct": round(100 * len(standard) / len(subs), 1) if subs else None,
        "packs": len(packs), "packs_verified": len(verified),
        "coverage_pct": round(100 * len(covered) / days, 1) if packs else None,
        "patrol_completion": _kpi(latest.result, "physical-patrols", "patrol completion") if latest else None,
        "timeliness_hours": {"median": round(statistics.median(delays), 1), "worst": round(max(delays), 1)}
        if delays else None,
        "report_delay_hours": round(statistics.median(report_delays), 1) if report_delays else None,
        "open_incidents": sum(1 for s in reports if s.incident_open),
        "incident_reports": len(reports),
        "trend": [{"month": k, **v} for k, v in sorted(months.items())],
        "failures": [{"submission": s.pk, "kind": s.kind, "received": s.received.isoformat(),
                      "filename": s.filename, "problems": [
                          _problem(f) for f in (s.result.get("failures") or s.result.get("errors") or [])][:5]}
                     for s in reversed(subs) if not s.verified],
    }
