"""The embedded detection worker reads the store as a log and resumes where it stopped."""

from __future__ import annotations

import pytest

from linewatch.detect.alerts import Detection
from linewatch.detect.models import Alert
from linewatch.detect.worker import DetectionWorker
from linewatch.events.models import ConsumerPosition
from linewatch.events.schema import Event, EventClass, event_uid
from linewatch.events.store import store_events


class ControllerWrites:
    """A stand-in detector: every controller write to an OT asset is a detection."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def detect(self, events):
        out = []
        for e in events:
            self.seen.append(e.uid)
            if e.class_uid == EventClass.CONTROLLER_ACTIVITY and e.attrs.get("dst_endpoint.asset.domain") == "ot":
                out.append(Detection("test-write", "Write to a controller", "medium", events=[e]))
        return out


def write(n: int, target: str = "10.1.11.10") -> Event:
    return Event(uid=event_uid("t", str(n)), time=1764000000000 + n, class_uid=EventClass.CONTROLLER_ACTIVITY,
                 activity_id=6, source="test", attrs={"src_endpoint.ip": "10.1.4.50", "dst_endpoint.ip": target})


@pytest.mark.usefixtures("alpha_beta")
def test_worker_enriches_detects_and_resumes_without_repeating():
    detector = ControllerWrites()
    worker = DetectionWorker([detector], batch=2)
    store_events([write(1), write(2), write(3, "192.0.2.9")])
    assert worker.run_once() == 2
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    assert Alert.objects.count() == 2
    alert = Alert.objects.first()
    assert alert.site_slug == "alpha" and alert.asset.name == "plc-line1" and alert.cost_per_hour == 42000
    # A new worker with the same name continues from the stored position.
    store_events([write(4)])
    again = ControllerWrites()
    assert DetectionWorker([again], batch=10).run_once() == 1
    assert again.seen == [write(4).uid]
    assert ConsumerPosition.objects.get(name="detect").position > 0


@pytest.mark.usefixtures("alpha_beta")
def test_a_failing_batch_keeps_its_position(monkeypatch):
    store_events([write(1)])

    class Broken:
        def detect(self, events):
            raise RuntimeError("rule crashed")

    with pytest.raises(RuntimeError):
        DetectionWorker([Broken()]).run_once()
    assert not ConsumerPosition.objects.filter(name="detect", position__gt=0).exists()
    assert DetectionWorker([ControllerWrites()]).run_once() == 1
    assert Alert.objects.count() == 1
