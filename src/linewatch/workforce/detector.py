"""The workforce detections as a stateful detector of the event pipeline (detect.worker).

It keeps one `WorkforceDetector` (who is where, recent denials, last reads) across batches and
gives it the current directory of people, credentials, authorisations, work orders, training and
visits (rebuilt when the model changes). A rule that fires on every event of a pattern (a night
worker outside their window) alerts once per person, site and day; the alert's description says
why (rule, window, authorisation or work order consulted)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from linewatch.detect.detection import Detection
from linewatch.events.schema import Event
from linewatch.workforce.engine.detections import Finding, WorkforceDetector

TAGS = {
    "wf-decoy-credential": ("attack.t1078",), "wf-credential-invalid": ("attack.t1078",),
    "wf-credential-superseded": ("attack.t1078",), "wf-two-live-credentials": ("attack.t1078",),
    "wf-impossible-travel": ("attack.t1078",), "wf-remote-no-work-order": ("attack.t0822", "attack.t0886"),
    "wf-access-outlives-work-order": ("attack.t0859",), "wf-remote-while-on-site": ("attack.t0859",),
    "wf-after-offboarding": ("attack.t0859",), "wf-zone-probing": ("attack.t1595",),
    "wf-dormant-credential": ("attack.t1078",), "wf-generic-account": ("attack.t1078.001",),
    "wf-shared-account": ("attack.t1078",), "wf-privilege-outside-process": ("attack.t1098",),
}
MEMORY = 50_000  # (rule, subject, day) keys remembered to alert once a day
WARM_UP_HOURS = 12
DAY_MS = 86400_000


class WorkforcePipelineDetector:
    def __init__(self) -> None:
        self.engine: WorkforceDetector | None = None
        self.seen: dict[tuple[str, str, str, str], None] = {}
        self.stored: dict[str, int] = {}  # credential id -> last use written to the database

    def detect(self, events: Sequence[Event]) -> list[Detection]:
        from linewatch.workforce.services import directory

        current = directory()
        if self.engine is None:
            self.engine = WorkforceDetector(current)
            if events:
                self.warm_up(min(e.time for e in events))
        elif self.engine.directory is not current:
            self.engine.directory = current
        found = [d for f in self.engine.process(events) if (d := self.to_detection(f)) is not None]
        self.persist_last_use()
        return found

    def persist_last_use(self) -> int:
        """Store credentials' last use (at most once a day each) so dormancy is known after a
        restart; a queryset update, so no audit entry and no directory rebuild."""
        from django.db.models import Q

        from linewatch.workforce.models import Credential

        written = 0
        for cid, at in self.engine.last_use.items():
            known = self.stored.get(cid)
            if known is None:
                record = self.engine.directory.credentials.get(cid)
                known = record.last_used if record and record.last_used is not None else -DAY_MS
            if at - known < DAY_MS or not cid.isdigit():
                continue
            when = dt.datetime.fromtimestamp(at / 1000, dt.UTC)
            written += Credential.objects.filter(pk=int(cid)).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=when)).update(last_used_at=when)
            self.stored[cid] = at
        return written

    def warm_up(self, before_ms: int) -> None:
        """After a restart, replay the last WARM_UP_HOURS of badge events before the first batch, so
        who is on site (and where) is known again; what that replay finds was alerted already."""
        import msgspec

        from linewatch.events.models import StoredEvent
        from linewatch.events.schema import EventClass

        since = dt.datetime.fromtimestamp(before_ms / 1000 - WARM_UP_HOURS * 3600, dt.UTC)
        until = dt.datetime.fromtimestamp(before_ms / 1000, dt.UTC)
        bodies = StoredEvent.objects.filter(class_uid=EventClass.PHYSICAL_ACCESS, time__gte=since,
                                            time__lt=until).values_list("body", flat=True)
        self.engine.process([msgspec.convert(b, Event) for b in bodies.iterator(chunk_size=2000)])

    def to_detection(self, finding: Finding) -> Detection | None:
        day = dt.datetime.fromtimestamp(finding.events[-1].time / 1000, dt.UTC).date().isoformat()
        key = (finding.rule, finding.credential or finding.person or "?", finding.site, day)
        if key in self.seen:
            return None
        self.seen[key] = None
        if len(self.seen) > MEMORY:
            for old in list(self.seen)[: MEMORY // 2]:
                del self.seen[old]
        who = f" — {finding.person}" if finding.person else ""
        return Detection(rule_id=f"lw-{finding.rule}", title=f"{finding.title}{who}", level=finding.level,
                         description=f"Why: {finding.explain()}", tags=TAGS.get(finding.rule, ()),
                         confidence=90 if finding.cross_domain else 80, events=tuple(finding.events))
