from pathlib import Path

import pytest

from tests.conftest import CORPUS

DATA = Path(__file__).resolve().parent.parent / "data" / "vulns"
VULN_CORPUS = CORPUS / "discovery" / "vuln"


@pytest.fixture
def data() -> Path:
    return DATA
