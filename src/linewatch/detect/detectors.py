"""Which detectors a worker runs: the Linewatch rule pack plus any rule folders named in
`LINEWATCH_RULES` (paths separated by the OS path separator, e.g. a SigmaHQ checkout).
`LINEWATCH_TEST_DETECTOR` selects a test detector instead (the distributed-mode tests)."""

from __future__ import annotations

import os
from pathlib import Path


def rule_paths() -> list[Path]:
    from linewatch.detect.sigma import PACK

    extra = [Path(p) for p in os.environ.get("LINEWATCH_RULES", "").split(os.pathsep) if p]
    return [PACK, *extra]


def load_detectors(correlations: bool = True) -> list:
    """`correlations=False` for the distributed mode's stateless stage: there the correlation
    engine runs as a partition operator (`detect.sigma.SigmaCorrelationOperator`) instead."""
    test = os.environ.get("LINEWATCH_TEST_DETECTOR")
    if test:
        from linewatch.detect import testing

        return testing.detectors(test)
    from linewatch.detect.sigma import SigmaDetector

    detectors: list = [SigmaDetector.from_paths(rule_paths(), run_correlations=correlations)]
    if correlations:  # stateful: in the distributed mode it would see one worker's share of a person's events
        from linewatch.workforce.detector import WorkforcePipelineDetector

        detectors.append(WorkforcePipelineDetector())
    return detectors
