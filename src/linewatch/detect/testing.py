"""Stand-in detectors for tests of the worker processes.

A test that runs real `linewatch worker` subprocesses cannot hand them a detector object, so
the detector is chosen by name through `LINEWATCH_TEST_DETECTOR` (read by
`linewatch.detect.detectors.load_detectors`). The detectors here are deliberately trivial and
deterministic: a test must be able to compute the exact set of alerts a stream has to produce.
They are never enabled unless that variable is set.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from linewatch.detect.alerts import Detection
from linewatch.events.schema import ControllerActivity, Event, EventClass

CONTROLLER_WRITE_RULE = "test-controller-write"


class ControllerWrites:
    """Every write to an OT controller (after enrichment: `dst_endpoint.asset.domain == "ot"`) is
    one detection, so the expected alerts are exactly the writes aimed at OT assets.

    `delay` (seconds per batch, from LINEWATCH_TEST_DETECTOR_DELAY) slows the worker down, and
    `mark` (a file path, from LINEWATCH_TEST_DETECTOR_MARK) gets a line "<pid> <events>" as each
    batch starts — together they let a test kill a worker at a moment it provably holds
    unacknowledged messages, instead of hoping a timed kill lands mid-batch.
    """

    rule_id = CONTROLLER_WRITE_RULE

    def __init__(self, delay: float = 0.0, mark: str = "") -> None:
        self.delay = delay
        self.mark = mark

    def detect(self, events: Sequence[Event]) -> list[Detection]:
        if self.mark:
            with open(self.mark, "a") as f:
                f.write(f"{os.getpid()} {len(events)}\n")
        if self.delay:
            time.sleep(self.delay)
        return [Detection(self.rule_id, "Write to a controller", "medium", events=[e]) for e in events
                if e.class_uid == EventClass.CONTROLLER_ACTIVITY and e.activity_id == ControllerActivity.WRITE
                and e.attrs.get("dst_endpoint.asset.domain") == "ot"]


TEST_DETECTORS: dict[str, Callable[[], object]] = {
    "controller-writes": lambda: ControllerWrites(float(os.environ.get("LINEWATCH_TEST_DETECTOR_DELAY") or 0),
                                                  os.environ.get("LINEWATCH_TEST_DETECTOR_MARK", "")),
}


def detectors(names: str) -> list:
    """The test detectors named in a comma-separated list (the value of LINEWATCH_TEST_DETECTOR)."""
    out = []
    for name in (n.strip() for n in names.split(",")):
        if not name:
            continue
        if name not in TEST_DETECTORS:
            raise ValueError(f"unknown test detector {name!r}; known: {', '.join(sorted(TEST_DETECTORS))}")
        out.append(TEST_DETECTORS[name]())
    return out
