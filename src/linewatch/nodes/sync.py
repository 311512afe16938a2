"""The plant side of sync: push the outbox to headquarters, pull what headquarters recorded for our sites.

Headquarters acknowledges the highest sequence it applied per site, and only then does the `sent` cursor move, so
a push cut off half-way is simply sent again (headquarters skips what it already has). A pull applies records in
one transaction with the `received` cursor. Any network failure leaves both where they were.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from linewatch.nodes.models import Cursor, OutboxRecord
from linewatch.nodes.replication import as_wire, node_name, receive

BATCH = 500
HQ = "upstream"  # the peer name of headquarters in this node's cursors


class Unreachable(Exception):
    """Headquarters did not answer (link down, DNS, TLS, timeout): try again later, nothing is lost."""


class Refused(Exception):
    """Headquarters answered with an error: a configuration problem (token, role, sites) to fix, not to retry."""


@dataclass
class SiteSync:
    site: str
    pushed: int = 0
    acked: int = 0
    pending: int = 0
    pulled: int = 0
    applied: int = 0
    gaps: list[dict] = field(default_factory=list)


@dataclass
class Upstream:
    url: str
    token: str
    timeout: float = 20.0

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url.rstrip("/") + "/api/v1" + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode(errors="replace")
            raise Refused(f"headquarters refused {method} {path}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            raise Unreachable(f"headquarters at {self.url} unreachable: {getattr(exc, 'reason', exc)}") from None


def pending(site: str) -> int:
    sent = Cursor.objects.filter(peer=HQ, site_slug=site, direction=Cursor.Direction.SENT).first()
    return OutboxRecord.objects.filter(origin=node_name(), site_slug=site,
                                       seq__gt=sent.last_seq if sent else 0).count()


def sync_site(upstream: Upstream, site: str, progress: Callable[[int], None] | None = None) -> SiteSync:
    """Push then pull one site until both sides are level."""
    me = node_name()
    if not me:
        raise Refused("this installation has no node name: set LINEWATCH_NODE to the node's account name")
    report = SiteSync(site)
    sent, _ = Cursor.objects.get_or_create(peer=HQ, site_slug=site, direction=Cursor.Direction.SENT)
    try:
        while True:
            batch = list(OutboxRecord.objects.filter(origin=me, site_slug=site, seq__gt=sent.last_seq)
                         .order_by("seq")[:BATCH])
            if not batch:
                break
            answer = upstream.call("POST", "/nodes/push", {"records": [as_wire(r) for r in batch]})
            acked = int(answer.get("acked", {}).get(site, sent.last_seq))
            if acked < batch[-1].seq:
                raise Refused(f"headquarters acknowledged {site} up to {acked}, not {batch[-1].seq}")
            report.pushed += len(batch)
            sent.last_seq = acked
            sent.last_error = ""
            sent.save(update_fields=["last_seq", "last_error", "updated"])
            if progress:
                progress(len(batch))
        received = Cursor.objects.filter(peer=HQ, site_slug=site, direction=Cursor.Direction.RECEIVED).first()
        after = received.last_seq if received else 0
        while True:
            answer = upstream.call("GET", f"/nodes/pull?site={site}&after={after}&limit={BATCH}")
            records = answer.get("records", [])
            if not records:
                break
            # headquarters' records carry its own node name as origin; our cursor for it is kept under HQ
            result = receive(HQ, [{**r, "origin": HQ} for r in records])
            report.pulled += len(records)
            report.applied += result.applied
            report.gaps.extend(result.gaps)
            after = result.last.get(site, after)
            if not answer.get("more"):
                break
    except (Unreachable, Refused) as exc:
        sent.last_error = str(exc)[:500]
        sent.save(update_fields=["last_error", "updated"])
        raise
    report.acked = sent.last_seq
    report.pending = pending(site)
    return report
