from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fresh_reuse_index():
    """Each test's database starts empty: the in-process photo index must too."""
    from linewatch.patrols.services import reset_reuse_index

    reset_reuse_index()
    yield
    reset_reuse_index()


@pytest.fixture
def tours(role_users):
    from tests.patrols.matrix import load_test_tours

    load_test_tours("alpha")
    load_test_tours("beta")
    return role_users
