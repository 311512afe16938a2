"""Which detectors a worker runs. `LINEWATCH_TEST_DETECTOR` selects a test detector instead
(for the distributed-mode tests), otherwise the built-in rule packs load."""

from __future__ import annotations

import os


def load_detectors() -> list:
    test = os.environ.get("LINEWATCH_TEST_DETECTOR")
    if test:
        from linewatch.detect import testing

        return testing.detectors(test)
    return []
