"""Where Linewatch keeps its data: one folder, chosen by LINEWATCH_DATA.

Every command honours LINEWATCH_DATA (the data folder) and DATABASE_URL (the database;
default an SQLite file inside the data folder).
"""

from __future__ import annotations

import functools
import os
import secrets
import tempfile
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """The data folder, created on first use."""
    if not os.environ.get("LINEWATCH_DATA") and os.environ.get("PYTEST_VERSION"):
        return _test_data_dir()  # a test run never touches the user's data
    path = Path(os.environ.get("LINEWATCH_DATA") or platformdirs.user_data_dir("linewatch"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.cache
def _test_data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="linewatch-test-"))


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir() / 'linewatch.sqlite3'}"


def secret_key() -> str:
    """The Django secret key: from the environment, else generated once per data folder.

    Never in the repository: each installation makes its own, readable only by its owner.
    """
    if key := os.environ.get("LINEWATCH_SECRET_KEY"):
        return key
    path = data_dir() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()
